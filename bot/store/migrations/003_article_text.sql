-- 003: what /news preview, subscribe and why need to look back at recent articles.

ALTER TABLE articles ADD COLUMN text TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN canonical_url TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN quiet INTEGER NOT NULL DEFAULT 0;   -- recorded as history, never alerted
CREATE INDEX articles_by_canonical_url ON articles (canonical_url);

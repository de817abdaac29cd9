-- 005: a subscription may post each alert in a thread of its own.

ALTER TABLE subscriptions ADD COLUMN thread INTEGER NOT NULL DEFAULT 0;

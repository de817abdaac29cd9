-- 007: article ids scoped by where they come from (bot/core/identity.py). Until now a feed item's id was
-- its bare GUID, global across feeds: an item of a second feed reusing a GUID of the first (opaque
-- numbers such as 12345 are common) was taken for an update of the other outlet's article, never alerted,
-- and overwrote its row. Every row is kept, under the id the current code gives the same item, so what
-- was seen stays seen after the upgrade (an item whose feed repeated its GUID is the exception: the
-- parser now suffixes those ids; its story key, link or headline, keeps it from alerting again):
-- - a pushed article (no feed): push:<id>;
-- - a feed item whose id is its canonical web link, or a sha256: hash of title and date: unchanged;
-- - a feed item whose GUID is its own web link (once canonicalised): that canonical link;
-- - any other feed item, whose id is its GUID (or a link that is no web URL, such as the copy feedparser
--   makes of a GUID 12345): <feed scope>#<id>, scoped to the URL it was fetched under (articles.feed_url,
--   the feed's URL as configured).
-- The newsbot_* functions are bot.core.identity's, registered on the connection before migrating
-- (bot/store/sqlite/__init__.py), so the new ids are the ones the parser makes. A row whose new id is
-- taken already keeps its old one (OR IGNORE): its item is seen through the other row. Story ids and
-- alert ids are names given once, not article ids, and stay; a row without a story, its own story by
-- its id, is given that name first.

UPDATE articles SET story_id = id WHERE story_id IS NULL;

UPDATE OR IGNORE articles
SET id = CASE
    WHEN feed_url = '' THEN newsbot_pushed_id(id)
    WHEN newsbot_is_web_url(canonical_url) AND newsbot_canonical_url(id) = canonical_url THEN canonical_url
    ELSE newsbot_feed_scoped_id(feed_url, id)
END
WHERE feed_url = ''
   OR NOT (substr(id, 1, 7) = 'sha256:' OR (id = canonical_url AND newsbot_is_web_url(canonical_url)));

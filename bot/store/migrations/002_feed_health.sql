-- 002: no-flood and age settings per feed, feed health, the channels that added a feed.

ALTER TABLE feeds ADD COLUMN backfill INTEGER NOT NULL DEFAULT 0;   -- newest items alerted on first fetch
ALTER TABLE feeds ADD COLUMN max_age REAL;                          -- seconds; NULL = polling.max_age, 0 = none
ALTER TABLE feeds ADD COLUMN failing_since REAL;
ALTER TABLE feeds ADD COLUMN health_stage INTEGER NOT NULL DEFAULT 0;  -- 0 ok, 1 notified, 2 paused
ALTER TABLE feeds ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;

CREATE TABLE feed_channels (
    feed_url  TEXT NOT NULL,
    platform  TEXT NOT NULL,
    workspace TEXT NOT NULL DEFAULT '',
    channel   TEXT NOT NULL,
    added_by  TEXT NOT NULL DEFAULT '',
    added_at  REAL NOT NULL,
    PRIMARY KEY (feed_url, platform, workspace, channel)
);

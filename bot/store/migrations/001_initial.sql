-- 001: subscriptions, feeds with fetch state, seen articles, stories, the outbox and sent message refs.

CREATE TABLE subscriptions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    platform    TEXT    NOT NULL,
    workspace   TEXT    NOT NULL DEFAULT '',
    channel     TEXT    NOT NULL,
    query       TEXT    NOT NULL,           -- canonical form
    raw_query   TEXT    NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT '',
    mention     TEXT    NOT NULL DEFAULT '',
    mode        TEXT    NOT NULL DEFAULT 'instant',
    paused      INTEGER NOT NULL DEFAULT 0,
    created_at  REAL    NOT NULL,
    UNIQUE (platform, workspace, channel, query)
);
CREATE INDEX subscriptions_by_query ON subscriptions (query);

CREATE TABLE feeds (
    url             TEXT PRIMARY KEY,
    name            TEXT    NOT NULL DEFAULT '',
    interval        REAL,                   -- per-feed override, seconds
    etag            TEXT    NOT NULL DEFAULT '',
    last_modified   TEXT    NOT NULL DEFAULT '',
    body_hash       TEXT    NOT NULL DEFAULT '',
    next_fetch_at   REAL    NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    last_success_at REAL,
    added_at        REAL    NOT NULL
);

CREATE TABLE articles (
    id           TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    title        TEXT NOT NULL DEFAULT '',
    url          TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL DEFAULT '',
    feed_url     TEXT NOT NULL DEFAULT '',
    published    TEXT,
    story_id     TEXT,
    seen_at      REAL NOT NULL
);
CREATE INDEX articles_by_seen ON articles (seen_at);

CREATE TABLE story_keys (
    key      TEXT PRIMARY KEY,
    story_id TEXT NOT NULL,
    seen_at  REAL NOT NULL
);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,       -- one alert per (channel, story)
    platform        TEXT    NOT NULL,
    channel_key     TEXT    NOT NULL,
    payload         TEXT    NOT NULL,       -- the Alert as JSON
    status          TEXT    NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      REAL    NOT NULL,
    sent_at         REAL,
    message_id      TEXT    NOT NULL DEFAULT '',
    message_channel TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_channel ON outbox (channel_key, status);

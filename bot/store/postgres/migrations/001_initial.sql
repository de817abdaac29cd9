-- 001: the whole schema as SQLite has it after its migration 010, in PostgreSQL's types. Times are
-- seconds since the epoch (double precision), as in SQLite, so both stores hand the code the same values.

CREATE TABLE feeds (
    url             TEXT PRIMARY KEY,
    name            TEXT    NOT NULL DEFAULT '',
    interval        DOUBLE PRECISION,
    etag            TEXT    NOT NULL DEFAULT '',
    last_modified   TEXT    NOT NULL DEFAULT '',
    body_hash       TEXT    NOT NULL DEFAULT '',
    next_fetch_at   DOUBLE PRECISION NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    last_success_at DOUBLE PRECISION,
    added_at        DOUBLE PRECISION NOT NULL,
    backfill        INTEGER NOT NULL DEFAULT 0,
    max_age         DOUBLE PRECISION,
    failing_since   DOUBLE PRECISION,
    health_stage    INTEGER NOT NULL DEFAULT 0,
    paused          BOOLEAN NOT NULL DEFAULT FALSE,
    claimed_by      TEXT    NOT NULL DEFAULT '',
    claimed_until   DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX feeds_due ON feeds (next_fetch_at) WHERE NOT paused;

CREATE TABLE feed_channels (
    feed_url  TEXT NOT NULL,
    platform  TEXT NOT NULL,
    workspace TEXT NOT NULL DEFAULT '',
    channel   TEXT NOT NULL,
    added_by  TEXT NOT NULL DEFAULT '',
    added_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (feed_url, platform, workspace, channel)
);
CREATE INDEX feed_channels_by_channel ON feed_channels (platform, workspace, channel);

CREATE TABLE subscriptions (
    id          BIGSERIAL PRIMARY KEY,
    platform    TEXT    NOT NULL,
    workspace   TEXT    NOT NULL DEFAULT '',
    channel     TEXT    NOT NULL,
    query       TEXT    NOT NULL,
    raw_query   TEXT    NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT '',
    mention     TEXT    NOT NULL DEFAULT '',
    mode        TEXT    NOT NULL DEFAULT 'instant',
    paused      BOOLEAN NOT NULL DEFAULT FALSE,
    user_paused BOOLEAN NOT NULL DEFAULT FALSE,
    thread      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  DOUBLE PRECISION NOT NULL,
    UNIQUE (platform, workspace, channel, query)
);
CREATE INDEX subscriptions_by_query ON subscriptions (query);

CREATE TABLE subscription_changes (
    seq             BIGSERIAL PRIMARY KEY,
    subscription_id BIGINT NOT NULL,
    at              DOUBLE PRECISION NOT NULL DEFAULT extract(epoch FROM clock_timestamp())
);
CREATE INDEX subscription_changes_at ON subscription_changes (at);

CREATE FUNCTION log_subscription_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO subscription_changes (subscription_id)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
    RETURN NULL;
END $$;
CREATE TRIGGER subscription_changed AFTER INSERT OR UPDATE OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION log_subscription_change();

CREATE TABLE articles (
    seq           BIGSERIAL,
    id            TEXT PRIMARY KEY,
    content_hash  TEXT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    url           TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    feed_url      TEXT NOT NULL DEFAULT '',
    published     TEXT,
    story_id      TEXT,
    seen_at       DOUBLE PRECISION NOT NULL,
    text          TEXT NOT NULL DEFAULT '',
    canonical_url TEXT NOT NULL DEFAULT '',
    quiet         BOOLEAN NOT NULL DEFAULT FALSE,
    story_entry   TEXT NOT NULL DEFAULT '',
    story_why     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX articles_by_seen ON articles (seen_at, seq);
CREATE INDEX articles_by_canonical_url ON articles (canonical_url);
CREATE INDEX articles_by_feed ON articles (feed_url);

CREATE TABLE story_keys (
    key      TEXT PRIMARY KEY,
    story_id TEXT NOT NULL,
    seen_at  DOUBLE PRECISION NOT NULL
);

CREATE TABLE outbox (
    seq             BIGSERIAL,
    id              TEXT PRIMARY KEY,
    platform        TEXT    NOT NULL,
    channel_key     TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      DOUBLE PRECISION NOT NULL,
    sent_at         DOUBLE PRECISION,
    message_id      TEXT    NOT NULL DEFAULT '',
    message_channel TEXT    NOT NULL DEFAULT '',
    needs_edit      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX outbox_pending_queue ON outbox (seq) WHERE status = 'pending';
CREATE INDEX outbox_by_channel ON outbox (channel_key, status, seq);
CREATE INDEX outbox_backing_off ON outbox (channel_key, next_attempt_at) WHERE status = 'pending' AND attempts > 0;
CREATE INDEX outbox_recent_sends ON outbox (channel_key, sent_at) WHERE status = 'sent';
CREATE INDEX outbox_edits ON outbox (seq) WHERE status = 'sent' AND needs_edit;

CREATE TABLE channel_settings (
    platform    TEXT NOT NULL,
    workspace   TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL,
    muted_until DOUBLE PRECISION NOT NULL DEFAULT 0,
    digest      TEXT NOT NULL DEFAULT 'off',
    timezone    TEXT NOT NULL DEFAULT 'UTC',
    PRIMARY KEY (platform, workspace, channel)
);

CREATE TABLE leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until DOUBLE PRECISION NOT NULL
);
CREATE INDEX leases_by_owner ON leases (owner);

-- 004: per-channel mute and digest, edits of posted alerts when a story gains sources.

ALTER TABLE outbox ADD COLUMN needs_edit INTEGER NOT NULL DEFAULT 0;

CREATE TABLE channel_settings (
    platform    TEXT NOT NULL,
    workspace   TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL,
    muted_until REAL NOT NULL DEFAULT 0,
    digest      TEXT NOT NULL DEFAULT 'off',   -- off | hourly | daily
    PRIMARY KEY (platform, workspace, channel)
);

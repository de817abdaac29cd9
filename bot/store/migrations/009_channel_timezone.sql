-- 009: a channel's time zone (an IANA name: its digests keep its clock, and times are shown in it), and a
-- subscription paused by /news pause (it matches nothing until /news resume; `paused` stays the pause of
-- a channel the bot lost).

ALTER TABLE channel_settings ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE subscriptions ADD COLUMN user_paused INTEGER NOT NULL DEFAULT 0;

-- 010: work shared by several workers (bot/store/work.py): a feed's claim, named leases (a channel's
-- alerts, a Discord shard), and the log of subscription changes every worker follows.

ALTER TABLE feeds ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE feeds ADD COLUMN claimed_until REAL NOT NULL DEFAULT 0;
CREATE INDEX feeds_due ON feeds (next_fetch_at) WHERE paused = 0;

CREATE TABLE leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL
);

CREATE TABLE subscription_changes (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id INTEGER NOT NULL,
    at              REAL    NOT NULL
);
CREATE INDEX subscription_changes_at ON subscription_changes (at);

-- Every change to a subscription is logged by the database itself, whichever code made it.
CREATE TRIGGER subscription_added AFTER INSERT ON subscriptions BEGIN
    INSERT INTO subscription_changes (subscription_id, at) VALUES (NEW.id, (julianday('now') - 2440587.5) * 86400.0);
END;
CREATE TRIGGER subscription_changed AFTER UPDATE ON subscriptions BEGIN
    INSERT INTO subscription_changes (subscription_id, at) VALUES (NEW.id, (julianday('now') - 2440587.5) * 86400.0);
END;
CREATE TRIGGER subscription_removed AFTER DELETE ON subscriptions BEGIN
    INSERT INTO subscription_changes (subscription_id, at) VALUES (OLD.id, (julianday('now') - 2440587.5) * 86400.0);
END;

-- 011: the Slack app's installations, one row per (enterprise, team, installing user), as the JSON the
-- OAuth flow produced (it holds the bot token and any user token: secrets). '' stands for no enterprise
-- and, for an enterprise-wide install, no team.

CREATE TABLE slack_installations (
    enterprise_id TEXT NOT NULL DEFAULT '',
    team_id       TEXT NOT NULL DEFAULT '',
    user_id       TEXT NOT NULL DEFAULT '',
    data          TEXT NOT NULL,
    installed_at  REAL NOT NULL,
    PRIMARY KEY (enterprise_id, team_id, user_id)
);

CREATE INDEX slack_installations_team ON slack_installations (team_id, installed_at);

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import get_args, get_type_hints

import pytest

from bot.config import Config, PlatformsConfig, load_config, parse_config
from bot.core.errors import ConfigError
from bot.platforms import PlatformSettings
from tests.conftest import REPO


def problems(source: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(source, env=env or {})
    return [str(p) for p in info.value.problems]


def test_shipped_config_is_valid_and_runs_on_the_bundled_samples() -> None:
    config = load_config(REPO / "config.yaml", env={})
    assert [f.url for f in config.feeds] == ["examples/world-news.rss", "examples/europe-desk.atom"]
    assert {s.query for s in config.subscriptions} == {"Ukraine", "NATO"}
    assert config.platforms.enabled() == ["console"]
    assert config.store_location() == str(REPO / "data" / "newsbot.db")


def test_defaults_need_no_file_content() -> None:
    config = parse_config("", env={})
    assert config == Config(base_dir=".")
    assert config.polling.interval == 900


def test_durations_accept_units() -> None:
    config = parse_config("polling:\n  interval: 90s\n  max_backoff: 6h\n  timeout: 1.5\n", env={})
    assert (config.polling.interval, config.polling.max_backoff, config.polling.timeout) == (90, 21600, 1.5)


def test_unknown_key_is_named_with_its_path_and_line() -> None:
    found = problems("store:\n  path: x.db\npolling:\n  intervall: 5m\n")
    assert found == ["polling.intervall (line 4): unknown key"]


def test_every_problem_is_reported_at_once() -> None:
    found = problems("polling:\n  interval: soon\n  concurrency: -1\nfeeds:\n  - name: no url\nbogus: 1\n")
    text = "\n".join(found)
    assert "polling.interval (line 2): not a duration: 'soon'" in text
    assert "polling.concurrency (line 3)" in text
    assert "feeds[0].url" in text and "required key is missing" in text
    assert "bogus (line 6): unknown key" in text
    assert len(found) == 4


def test_wrong_type_names_the_key() -> None:
    found = problems("summary:\n  max_sentences: three\n")
    assert len(found) == 1 and found[0].startswith("summary.max_sentences (line 2):")


def test_malformed_yaml_gives_its_line() -> None:
    found = problems("store:\n  path: [unclosed\nfeeds: []\n")
    assert len(found) == 1 and "malformed YAML" in found[0] and "line" in found[0]


def test_top_level_must_be_a_mapping() -> None:
    assert problems("- just\n- a list\n") == ["(file) (line 1): the top level must be a mapping of keys"]


def test_environment_variables_are_expanded() -> None:
    config = parse_config("feeds:\n  - url: https://example.com/${FEED_KEY}.xml\n", env={"FEED_KEY": "k1"})
    assert config.feeds[0].url == "https://example.com/k1.xml"


def test_missing_environment_variable_is_named() -> None:
    assert problems("feeds:\n  - url: https://example.com/${FEED_KEY}.xml\n") == [
        "feeds[0].url (line 2): environment variable FEED_KEY is not set"
    ]


def test_enabled_platform_without_its_token_is_an_error_naming_the_variable() -> None:
    found = problems("platforms:\n  discord:\n    enabled: true\n")
    assert found == ["platforms.discord.token_env (line 2): environment variable DISCORD_TOKEN is not set"]
    found = problems("platforms:\n  slack:\n    enabled: true\n", env={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert found == [
        "platforms.slack.app_token_env (line 2): environment variable SLACK_APP_TOKEN is not set"
    ]


def test_disabled_platform_needs_no_token_and_enabled_one_with_token_passes() -> None:
    parse_config("platforms:\n  discord:\n    enabled: false\n", env={})
    config = parse_config("platforms:\n  discord:\n    enabled: true\n", env={"DISCORD_TOKEN": "t"})
    assert config.platforms.enabled() == ["discord"]


def test_discord_has_one_shard_unless_told_and_never_none() -> None:
    config = parse_config("platforms:\n  discord:\n    enabled: true\n", env={"DISCORD_TOKEN": "t"})
    assert config.platforms.discord.shards == 1
    found = problems("platforms:\n  discord:\n    enabled: true\n    shards: 0\n", env={"DISCORD_TOKEN": "t"})
    assert found == ["platforms.discord.shards (line 4): Input should be greater than or equal to 1"]


def run_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


def test_check_command_exit_codes_and_no_traceback(tmp_path: Path) -> None:
    ok = run_check(REPO / "config.yaml")
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text("polling:\n  interval: often\nsubscriptions:\n  - query: '\"unclosed'\nextra: 1\n")
    result = run_check(bad)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "polling.interval (line 2)" in result.stderr
    assert "extra (line 5): unknown key" in result.stderr
    # in the same pass
    assert 'subscriptions[0].query (line 4): the `"` at column 1 is never closed' in result.stderr

    queries = tmp_path / "queries.yaml"
    queries.write_text(
        "subscriptions:\n  - query: '\"unclosed'\n  - query: x\n    platform: irc\n"
        "safety:\n  allow_hosts: ['10.0.0.0/33']\n"
    )
    result = run_check(queries)
    assert result.returncode == 2, result.stderr
    assert 'subscriptions[0].query (line 2): the `"` at column 1 is never closed' in result.stderr
    assert (
        "subscriptions[1].platform (line 4): unknown platform (known: console, discord, slack)"
        in result.stderr
    )
    assert "safety.allow_hosts (line 6): '10.0.0.0/33' is not a hostname" in result.stderr

    missing = run_check(tmp_path / "nope.yaml")
    assert missing.returncode == 2 and "cannot read config file" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_config_that_is_not_utf8_is_one_line_error_not_a_traceback(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(
        "feeds:\n  - url: examples/world-news.rss\n    name: Caf\u00e9 Wire\n".encode("latin-1")
    )
    result = run_check(latin1)
    assert result.returncode == 2
    assert result.stderr.splitlines()[1:] == [
        f"  {latin1} (line 3): not UTF-8 text: byte 0xe9 cannot be decoded; save the file as UTF-8"
    ]


def test_slack_http_mode_needs_the_web_server() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb", "SLACK_SIGNING_SECRET": "s"}
    found = problems("platforms:\n  slack:\n    enabled: true\n    mode: http\n", env=env)
    assert found == ["platforms.slack.mode (line 4): http mode needs the web server: set web.enabled: true"]
    parse_config(
        "web:\n  enabled: true\nplatforms:\n  slack:\n    enabled: true\n    mode: http\n",
        env={**env, "NEWSBOT_WEBHOOK_SECRET": "w"},
    )


OAUTH_ENV = {
    "SLACK_SIGNING_SECRET": "s",
    "SLACK_CLIENT_ID": "1.2",
    "SLACK_CLIENT_SECRET": "c",
    "NEWSBOT_WEBHOOK_SECRET": "w",
}
OAUTH = "web:\n  enabled: true\nplatforms:\n  slack:\n    enabled: true\n    mode: http\n    oauth:\n"


def test_slack_oauth_makes_the_bot_token_optional_and_needs_the_apps_credentials() -> None:
    config = parse_config(OAUTH + "      scopes: [commands, chat:write]\n", env=OAUTH_ENV)
    oauth = config.platforms.slack.oauth
    assert oauth is not None and (oauth.install_path, oauth.redirect_path) == (
        "/slack/install",
        "/slack/oauth_redirect",
    )
    assert problems(OAUTH + "      state_secret_env: STATE\n", env={"SLACK_SIGNING_SECRET": "s"}) == [
        "platforms.slack.oauth.client_id_env (line 7): environment variable SLACK_CLIENT_ID is not set",
        "platforms.slack.oauth.client_secret_env (line 7): environment variable SLACK_CLIENT_SECRET is not "
        "set",
        "platforms.slack.oauth.state_secret_env (line 8): environment variable STATE is not set",
    ]


def test_slack_oauth_settings_are_checked_with_reasons_an_admin_can_act_on() -> None:
    found = problems(
        OAUTH + "      scopes: [chat:write, 'read everything']\n      install_path: install\n"
        "      authorize_url: slack.com/oauth\n",
        env=OAUTH_ENV,
    )
    assert found == [
        "platforms.slack.oauth.scopes (line 8): not a Slack scope: read everything "
        "(scopes look like chat:write)",
        "platforms.slack.oauth.install_path (line 9): a path on the bot's web server, such as "
        "/slack/install, not 'install'",
        "platforms.slack.oauth.authorize_url (line 10): an http(s) URL, not 'slack.com/oauth'",
    ]
    assert problems(OAUTH + "      scopes: [chat:write]\n", env=OAUTH_ENV) == [
        "platforms.slack.oauth.scopes (line 8): the bot needs commands: add it to the scopes"
    ]
    assert problems(OAUTH + "      redirect_path: /slack/install\n", env=OAUTH_ENV) == [
        "platforms.slack.oauth (line 7): install_path and redirect_path must differ"
    ]
    socket = "platforms:\n  slack:\n    enabled: true\n    oauth: {}\n"
    assert problems(socket, env={**OAUTH_ENV, "SLACK_APP_TOKEN": "xapp"}) == [
        "platforms.slack.oauth (line 4): the install pages are served by the bot's web server: "
        "set web.enabled: true"
    ]


def test_the_readme_documents_every_section_and_key_of_the_config() -> None:
    """The README's configuration table is where users look: a new key must appear there too."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration") : readme.index("## How it works")]
    rows = {
        row.split("`")[1].split(".")[0].removesuffix("[]"): row
        for row in table.splitlines()
        if row[:3] == "| `"
    }
    missing = []
    for name, kind in get_type_hints(Config).items():
        if name == "base_dir":
            continue
        if name not in rows:
            missing.append(name)
            continue
        section = next(iter(get_args(kind)), kind)  # feeds: tuple[FeedConfig, ...]
        for key in getattr(section, "__dataclass_fields__", {}):
            if f"`{key}`" not in rows[name] and f"`{name}.{key}`" not in rows[name]:
                missing.append(f"{name}.{key}")
    assert missing == []


def test_the_platform_settings_union_names_every_platform_of_the_config() -> None:
    sections = [kind for name, kind in get_type_hints(PlatformsConfig).items()]
    assert set(get_args(PlatformSettings)) == set(sections)
    assert [name for name, _ in PlatformsConfig().sections()] == ["console", "discord", "slack"]


def test_a_replaced_key_names_its_replacement() -> None:
    assert problems("delivery:\n  max_attempts: 8\n") == [
        "delivery (line 1): max_attempts was replaced by give_up_after: how long to keep retrying an alert, "
        "e.g. 24h"
    ]
    assert parse_config("delivery:\n  give_up_after: 2d\n", env={}).delivery.give_up_after == 172800


def test_article_text_is_kept_at_least_as_long_as_the_story_window() -> None:
    assert parse_config("", env={}).store.keep_text == 30 * 86400
    assert parse_config("store:\n  keep_text: 0\n", env={}).store.keep_text == 0  # forever
    found = problems("store:\n  keep_text: 2d\n")
    assert found == [
        "store.keep_text (line 2): 48h is shorter than stories.window (72h): the story window is rebuilt "
        "from the articles it holds; keep text at least that long, or 0 to keep it forever"
    ]
    assert (
        parse_config("store:\n  keep_text: 2d\nstories:\n  window: 1d\n", env={}).store.keep_text == 2 * 86400
    )

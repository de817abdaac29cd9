"""Rendering alerts across platforms: golden renders of the seed article for Discord, Slack and the
terminal, and what they agree on. Platform specifics are in test_render_discord.py and
test_render_slack.py, the shared text helpers in test_render_text.py.

Set REGENERATE_GOLDEN=1 to rewrite tests/golden/ from the current renderers; review the diff by eye."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.models import Alert
from bot.ingest.clean import clean_article
from bot.summarise.extractive import ExtractiveSummariser
from handlers.console import render_console
from handlers.discord.render import render_discord
from handlers.slack.render import render_slack
from tests.conftest import SEED
from tests.render_support import alert

GOLDEN = Path(__file__).parent / "golden"
SEED_TITLE = "Russia threatened with war as US declares Ukraine could be invaded at ‘any point’"
SEED_URL = "https://london-defender.example/news/world/russia-ukraine-any-point"


@pytest.fixture(scope="module")
def seed_alert() -> Alert:
    body = clean_article(SEED_TITLE, SEED.read_text(encoding="utf-8"))
    summary = ExtractiveSummariser().summarise_text(SEED_TITLE, body, ["Ukraine", "NATO"]).text
    return alert(
        title=SEED_TITLE,
        url=SEED_URL,
        source="London Defender",
        published=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        summary=summary,
        terms=("Ukraine", "NATO"),
        queries=("ukraine", "NATO"),
    )


def check_golden(name: str, rendered: str) -> None:
    path = GOLDEN / name
    if os.environ.get("REGENERATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8"), f"{name} changed; REGENERATE_GOLDEN=1 to accept"


def as_json(message: object) -> str:
    return json.dumps(message, indent=2, ensure_ascii=False) + "\n"


# --- golden renders of the seed article --------------------------------------------------------------


def test_seed_renders_for_discord_as_reviewed(seed_alert: Alert) -> None:
    check_golden("seed.discord.json", as_json(render_discord(seed_alert)))


def test_seed_renders_for_slack_as_reviewed(seed_alert: Alert) -> None:
    check_golden("seed.slack.json", as_json(render_slack(seed_alert)))


def test_seed_renders_for_the_console_as_reviewed(seed_alert: Alert) -> None:
    check_golden("seed.console.txt", render_console(seed_alert))


def test_every_platform_bolds_the_same_words_of_the_seed(seed_alert: Alert) -> None:
    description = render_discord(seed_alert)["embed"].get("description", "")
    section = render_slack(seed_alert)["blocks"][1]["text"]["text"]
    assert re.findall(r"\*\*(.+?)\*\*", description) == ["Ukraine", "Ukraine"]
    assert re.findall(r"\*(.+?)\*", section) == ["Ukraine", "Ukraine"]
    assert "Ukrainian" in description and "**Ukrainian" not in description  # whole words only

"""JSON Feed 1.0/1.1 (https://jsonfeed.org), which feedparser does not read, mapped onto the same entry
shape feedparser produces so that one code path turns entries into articles."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.core.errors import FeedError


def parse_json_feed(body: bytes) -> tuple[str, list[dict[str, Any]]]:
    """Returns the feed title and feedparser-shaped entries. Raises :class:`FeedError` when the body is
    not a JSON Feed."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"not a feed: invalid JSON: {exc}", retryable=False) from exc
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedError("not a feed: JSON without a jsonfeed.org version", retryable=False)
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError('not a feed: JSON Feed without an "items" list', retryable=False)
    return str(data.get("title") or ""), [_entry(item) for item in items if isinstance(item, dict)]


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    body = item.get("content_html") or item.get("content_text") or ""
    entry: dict[str, Any] = {
        "id": str(item.get("id") or ""),
        "link": str(item.get("url") or item.get("external_url") or ""),
        "title": str(item.get("title") or ""),
        "content": [{"value": str(body)}],
        "summary": str(item.get("summary") or ""),
    }
    for key, target in (("date_published", "published_parsed"), ("date_modified", "updated_parsed")):
        when = _date(item.get(key))
        if when is not None:
            entry[target] = when.utctimetuple()
    image = item.get("image") or item.get("banner_image")
    if image:
        entry["image"] = {"href": str(image)}
    return entry


def _date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None

"""Pushed articles: JSON in, cleaned :class:`Article` s out, or a :class:`PushError` naming the field.

One validator for every JSON article the bot accepts: ``POST /articles`` and ``python -m bot replay``
both go through :func:`article_from_json`, so a pushed article and a replayed one obey the same rules:

- ``id``: required, a non-blank string (an integer is accepted and turned into its decimal string).
  A pushed article is stored as ``push:<id>`` (:func:`bot.core.identity.pushed_id`): the ids are the
  sender's, scoped to the push intake, so they never meet a feed's GUIDs or links. Replay reports the
  ids as given;
- ``title``, ``text``, ``html``, ``url``, ``source``, ``published``: optional strings (``null`` is the
  same as absent); unknown keys are ignored so senders can carry extra data;
- ``html`` wins over ``text`` when both are given; either is cleaned like a polled feed body (captions,
  credits such as "(Image: Getty)", link teasers and branding removed);
- ``url``: empty or an absolute ``http``/``https`` URL (it becomes a link in chat);
- ``published``: ISO 8601; without a UTC offset it is taken as UTC.

Everything here is pure (no I/O) and CPU-bound: callers run :func:`parse_push` in a worker thread.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from bot.core.errors import ArticleError
from bot.core.identity import is_web_url, pushed_id
from bot.core.models import Article
from bot.ingest.clean import clean_article

_STRING_FIELDS = ("title", "text", "html", "url", "source", "published")
LIST_NAME = "items"
"""How error paths name the elements of a pushed list: ``items[2].title``."""


class Intake(Protocol):
    """Where validated articles go (the pipeline). Returns how many of them were new."""

    async def __call__(self, articles: Sequence[Article]) -> int: ...


class PushError(ArticleError):
    """A pushed (or replayed) article is malformed. ``field`` is the path of the offending value
    (``"title"``, ``"items[1].id"``), or ``None`` when the body as a whole is at fault; ``reason`` is
    the message without the path. ``str()`` is the reason alone, so line-oriented callers can prefix
    their own location."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(reason)


def decode_json(raw: str | bytes) -> object:
    """Decode a JSON document (bytes must be UTF-8, -16 or -32). Raises :class:`PushError`."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        raise PushError(f"not valid JSON: {exc.msg} at {where}") from exc
    except UnicodeDecodeError as exc:
        raise PushError(f"not valid JSON: the body is not UTF-8 text ({exc.reason})") from exc
    except RecursionError as exc:
        raise PushError("not valid JSON: nested too deeply") from exc


def parse_push(body: str | bytes) -> list[Article]:
    """A ``POST /articles`` body: one article object, or a list of them, with their ids scoped to the push
    intake (``push:<id>``). A list is validated entirely before anything is returned, so a caller never
    stores half of it; the first bad item's path is ``items[<index>]...``."""
    data = decode_json(body)
    if isinstance(data, list):
        articles = [article_from_json(item, path=f"{LIST_NAME}[{i}]") for i, item in enumerate(data)]
    elif isinstance(data, dict):
        articles = [article_from_json(data)]
    else:
        raise PushError("expected a JSON object (one article) or a list of objects")
    return [dataclasses.replace(a, id=pushed_id(a.id)) for a in articles]


def article_from_json(data: object, *, path: str = "") -> Article:
    """Validate one decoded JSON value into a cleaned :class:`Article`, its id as the sender gave it.
    ``path`` prefixes the field names in errors (``items[3]`` gives ``items[3].title``). Raises
    :class:`PushError`."""
    if not isinstance(data, dict):
        raise PushError("expected a JSON object", path or None)

    def at(key: str) -> str:
        return f"{path}.{key}" if path else key

    raw_id = data.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        raise PushError('missing "id"', at("id"))
    if not isinstance(raw_id, str):
        raise PushError('"id" must be a string', at("id"))
    fields: dict[str, str] = {}
    for key in _STRING_FIELDS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise PushError(f'"{key}" must be a string', at(key))
        fields[key] = (value or "").strip()
    url = fields["url"]
    if url and not is_web_url(url):
        raise PushError(f'"url" must be an absolute http or https URL: {url!r}', at("url"))
    title, source = fields["title"], fields["source"]
    if fields["html"]:
        text = clean_article(title, fields["html"], is_html=True, source=source)
    else:
        text = clean_article(title, fields["text"], is_html=False, source=source)
    return Article(
        id=raw_id.strip(),
        title=title,
        text=text,
        url=url,
        source=source,
        published=parse_published(fields["published"], field=at("published")),
    )


def parse_published(value: str, *, field: str = "published") -> datetime | None:
    """ISO 8601 to an aware datetime (UTC when no offset is given); empty is ``None``."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PushError(f'"published" is not an ISO 8601 date: {value!r}', field) from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)

"""What every HTTP client of the bot shares (feeds, article pages, hubs, the LLM, the chat platforms)
and the bot's own server: reading a body with a size cap, and reading ``Retry-After``."""

from __future__ import annotations

import email.utils
import math
import time

import aiohttp

from bot.core.errors import NewsBotError

CHUNK = 65536


class BodyTooLarge(NewsBotError):
    """A body is over its limit. Callers turn it into their own error (a FeedError, a 413, ...)."""


async def read_capped(content: aiohttp.StreamReader, declared: int | None, limit: int) -> bytes:
    """The whole body, refusing more than ``limit`` bytes: a declared Content-Length over the limit is
    refused before reading; otherwise reading stops as soon as the limit is passed."""
    if declared is not None and declared > limit:
        raise BodyTooLarge(f"body of {declared} bytes is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds (``120``; a fraction such as ``1.5``, which
    some APIs send, is taken too) or an HTTP date (0 when it is past). ``None`` when the header is absent
    or unreadable; each caller chooses its own default."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP date is GMT; a date without a zone is not one
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    return seconds if seconds >= 0 and math.isfinite(seconds) else None

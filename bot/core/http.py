"""Reading an HTTP body with a size cap, for every client (feeds, article pages, hubs, the LLM) and for
the bot's own server. The cap counts decompressed bytes, so a gzip bomb stops at the limit too."""

from __future__ import annotations

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

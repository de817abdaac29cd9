"""Full text for items that carry only a teaser: their article page is fetched and extracted."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from typing import Protocol

from bot.core.errors import FeedError
from bot.core.models import Article
from bot.ingest.extract import needs_full_text

log = logging.getLogger(__name__)


class PageText(Protocol):
    async def fetch_text(self, url: str) -> str:
        """The main text of the page at ``url`` ("" when none is found). Raises :class:`FeedError`."""
        ...


class FullText:
    """Replaces a teaser with the article's full text when the page has more to say. Any failure
    keeps the teaser: a slow or broken site never costs an alert."""

    def __init__(self, pages: PageText, *, min_chars: int, concurrency: int = 8) -> None:
        self.pages = pages
        self.min_chars = min_chars
        self._gate = asyncio.Semaphore(concurrency)

    async def fill(self, articles: Sequence[Article]) -> list[Article]:
        return list(await asyncio.gather(*(self._one(a) for a in articles)))

    async def _one(self, article: Article) -> Article:
        if not article.url or not needs_full_text(article.text, self.min_chars):
            return article
        async with self._gate:
            try:
                text = await self.pages.fetch_text(article.url)
            except FeedError as exc:
                log.info("full text of %s not fetched (%s); keeping its teaser", article.url, exc)
                return article
        if len(text) <= len(article.text):
            return article
        return dataclasses.replace(article, text=text)

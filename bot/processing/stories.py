"""Which story an article belongs to. Pure: the pipeline looks the keys up in the store.

This first version groups exact re-publications: the same canonical link, or the same headline
(normalised, five words or more) within a window. Near-duplicate detection deepens it later.
"""

from __future__ import annotations

import re
import unicodedata

from bot.core.identity import canonical_url
from bot.core.models import Article

STORY_WINDOW = 3 * 86400.0
_WORD = re.compile(r"\w+")


def story_keys(article: Article) -> tuple[str, ...]:
    keys = []
    if article.url:
        keys.append("url:" + canonical_url(article.url))
    words = _WORD.findall(unicodedata.normalize("NFKC", article.title).casefold())
    if len(words) >= 5:
        keys.append("title:" + " ".join(words))
    return tuple(keys)


def assign_story(article: Article, existing: str | None) -> str:
    """The story of an earlier article sharing a key, else a new story named after this article."""
    return existing or article.id

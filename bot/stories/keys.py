"""Exact re-publications: the same canonical link, or the same headline (normalised, five words or
more). The pipeline looks these keys up in the store before it compares words: such an article is the
same story whatever its text (an updated body, a teaser, a copy under a tracking link)."""

from __future__ import annotations

import re
import unicodedata

from bot.core.identity import canonical_url, is_web_url
from bot.core.models import Article

_WORD = re.compile(r"\w+")


def story_keys(article: Article) -> tuple[str, ...]:
    keys = []
    if is_web_url(article.url):  # a relative link ("/2026/a") names a page only within its own site
        keys.append("url:" + canonical_url(article.url))
    words = _WORD.findall(unicodedata.normalize("NFKC", article.title).casefold())
    if len(words) >= 5:
        keys.append("title:" + " ".join(words))
    return tuple(keys)

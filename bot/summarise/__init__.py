"""Summaries, written once per article: the :class:`Summariser` seam, extractive summaries (the default)
and the optional LLM summariser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.core.models import Article, Summary


class Summariser(Protocol):
    async def summarise(self, article: Article, focus_terms: Sequence[str] = ()) -> Summary:
        """A short summary of ``article``, preferring sentences that mention ``focus_terms`` (the words
        that made a subscription fire). Raises nothing for any article text: an implementation that can
        fail (an LLM behind a network) catches its own errors and falls back to the extractive summary."""
        ...

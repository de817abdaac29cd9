"""``python -m bot replay``: articles from a JSONL file through cleaning, story assignment, matching and
summarising, with no network, no store and no chat. For evaluating queries and for the checks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.errors import ArticleError, QueryError
from bot.core.models import Article, Span, unique_terms
from bot.ingest.push import article_from_json, decode_json
from bot.matching import AliasTable, Document, SubscriptionIndex, parse_query
from bot.stories import StoryDetector, story_keys
from bot.summarise.extractive import ExtractiveSummariser


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def read_queries(lines: Iterable[str]) -> list[str]:
    """One query a line; blank lines and lines starting with ``#`` are skipped."""
    return [q.strip() for q in lines if q.strip() and not q.lstrip().startswith("#")]


class Replayer:
    def __init__(self, queries: Sequence[str], aliases: AliasTable, summariser: ExtractiveSummariser) -> None:
        """Raises :class:`QueryError` naming the first query that does not parse (1-based)."""
        self.index = SubscriptionIndex(aliases)
        self.queries = list(queries)
        for n, text in enumerate(self.queries):
            try:
                self.index.add(str(n), parse_query(text, aliases))
            except QueryError as exc:
                raise QueryError(f"query {n + 1} ({text!r}): {exc}") from exc
        self.summariser = summariser
        self._stories: dict[str, str] = {}
        self._detector = StoryDetector()
        self._clock = 0.0
        """Replay time: the latest publication date read so far (the window slides with the file)."""

    def run(self, lines: Iterable[str]) -> Iterator[dict[str, Any] | LineError]:
        """One result per non-blank input line, in order: the output object, or the line's error."""
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                article = parse_article_line(line)
            except ArticleError as exc:
                yield LineError(number, str(exc))
                continue
            yield self.process(article)

    def process(self, article: Article) -> dict[str, Any]:
        keys = story_keys(article)
        known = next((self._stories[k] for k in keys if k in self._stories), None)
        now = article.published.timestamp() if article.published else self._clock
        self._clock = max(self._clock, now)
        decision, _ = self._detector.assign(article, self._clock, known)
        story = decision.story_id
        self._stories.update(dict.fromkeys(keys, story))
        hits = self.index.match(Document.from_article(article))
        ordered = sorted(hits.items(), key=lambda kv: int(kv[0]))
        matches = [
            {"query": self.queries[int(key)], "spans": [[s.start, s.end, s.text] for s in spans]}
            for key, spans in ordered
        ]
        all_spans: list[Span] = [span for _, spans in ordered for span in spans]
        terms = unique_terms(all_spans)
        summary = self.summariser.summarise_text(article.title, article.text, terms)
        return {"id": article.id, "matches": matches, "summary": summary.text, "story": story}


def parse_article_line(line: str) -> Article:
    """One JSONL input line to a cleaned Article. Raises :class:`ArticleError` saying what is wrong."""
    return article_from_json(decode_json(line))

"""Subscription matching: the presearcher index vs a naive per-subscription regex loop.

Usage: python bench/matching.py [--sizes 1000,10000,100000] [--seed 1]

Articles: the 100 CNN/DailyMail articles of ../shared/eval/cnndm-realsumm-100 (body = the article text,
lower-cased and PTB-tokenised as published; title = the first cased reference highlight, so headlines
have real capitals).

Subscriptions: distinct canonical queries in a mix like real alert bots see: single words, phrases, AND,
OR, NOT and prefixes, a few title:/site: terms and acronyms. Terms are drawn from the articles' topical
vocabulary (words in at most 3 of the 100 articles: names, places, topics) or, more often, from
generated name-like words standing for the long tail of topics these 100 articles do not mention. The
table reports how many subscriptions match per article, so the mix can be judged.

Measured, all in one run: per-article match time p50/p99 (Document built beforehand) and tokenising time
(Document construction, once per article whatever the number of subscriptions), articles/second end to
end, bytes per subscription (tracemalloc: traced memory after parsing and indexing all queries minus
before, divided by their number), build time, add/remove time per subscription, and the naive loop
(every subscription compiled to regexes, each tested against each article) at 1k and 10k.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.matching import Document, Query, SubscriptionIndex, parse_query

DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "eval"
    / "cnndm-realsumm-100"
    / "cnndm_realsumm_100.jsonl"
)
# A plain stopword list of the bench's own (the index's selectivity prior is not used to make the data).
STOPWORDS = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "a",
        "in",
        "is",
        "that",
        "for",
        "it",
        "was",
        "on",
        "with",
        "he",
        "as",
        "be",
        "at",
        "by",
        "this",
        "had",
        "not",
        "are",
        "but",
        "from",
        "or",
        "have",
        "an",
        "they",
        "which",
        "you",
        "were",
        "her",
        "she",
        "there",
        "been",
        "his",
        "one",
        "all",
        "we",
        "their",
        "has",
        "would",
        "when",
        "if",
        "so",
        "no",
        "will",
        "can",
        "more",
        "out",
        "do",
        "who",
        "about",
        "up",
        "said",
        "what",
        "its",
        "than",
        "then",
        "them",
        "into",
        "some",
        "could",
        "him",
        "only",
        "other",
        "also",
        "may",
        "over",
        "after",
        "most",
        "these",
        "just",
        "any",
        "because",
        "now",
        "very",
        "being",
        "our",
        "even",
        "many",
        "should",
        "before",
        "where",
        "between",
        "while",
        "those",
        "both",
        "did",
        "off",
        "still",
        "against",
        "since",
        "under",
        "during",
        "including",
        "says",
        "told",
        "year",
        "years",
        "time",
        "people",
    ]
)
NAIVE_ARTICLES = {1000: 100, 10000: 25}


def load_articles() -> list[tuple[str, str]]:
    records = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["reference_cased_sentences"][0], r["source"]) for r in records]


class Vocabulary:
    def __init__(self, articles: list[tuple[str, str]], rng: random.Random) -> None:
        df: Counter[str] = Counter()
        bigrams: list[str] = []
        for title, body in articles:
            tokens = re.findall(r"[a-z]+", body.lower())
            df.update(set(tokens))
            bigrams.extend(
                f"{a} {b}"
                for a, b in zip(tokens, tokens[1:], strict=False)
                if len(a) > 3 and len(b) > 3 and a not in STOPWORDS and b not in STOPWORDS
            )
        self.topical = sorted(w for w, n in df.items() if n <= 3 and len(w) >= 4 and w not in STOPWORDS)
        self.bigrams = sorted(set(bigrams))
        self.rng = rng
        syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
        self.names = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(60000)})

    def word(self) -> str:
        pool = self.topical if self.rng.random() < 0.15 else self.names
        return self.rng.choice(pool)

    def query(self) -> str:
        r, w = self.rng.random(), self.word
        if r < 0.33:
            return w()
        if r < 0.45:
            return f'"{self.rng.choice(self.bigrams)}"' if self.rng.random() < 0.3 else f'"{w()} {w()}"'
        if r < 0.63:
            return " ".join(w() for _ in range(self.rng.randint(2, 3)))
        if r < 0.73:
            return " OR ".join(w() for _ in range(self.rng.randint(2, 3)))
        if r < 0.83:
            return f"{w()} -{w()}"
        if r < 0.91:
            base = w()
            return base[: self.rng.randint(5, max(5, len(base) - 1))] + "*"
        if r < 0.94:
            return f"title:{w()}"
        if r < 0.97:
            return f"{w()} site:{w()}.com"
        return f"{self.rng.choice(['US', 'UK', 'EU', 'NATO', 'FBI'])} {w()}"


def generate(vocab: Vocabulary, n: int, taken: set[str]) -> list[Query]:
    out: list[Query] = []
    while len(out) < n:
        query = parse_query(vocab.query())
        if query.canonical not in taken:
            taken.add(query.canonical)
            out.append(query)
    return out


def naive_predicate(query: Query) -> Callable[[str], bool]:
    """A straightforward implementation: one case-insensitive regex per term, boolean logic in Python."""
    from bot.matching import query as q

    def build(node: q.Node) -> Callable[[str], bool]:
        if isinstance(node, q.Word):
            rx = re.compile(rf"\b{re.escape(node.key)}\w*", re.I)
            return lambda t: rx.search(t) is not None
        if isinstance(node, q.Phrase):
            rx = re.compile(r"\b" + r"\W+".join(re.escape(w.key) for w in node.words) + r"\w*", re.I)
            return lambda t: rx.search(t) is not None
        if isinstance(node, q.Prefix):
            rx = re.compile(rf"\b{re.escape(node.prefix)}", re.I)
            return lambda t: rx.search(t) is not None
        if isinstance(node, q.And):
            parts = [build(c) for c in node.children]
            return lambda t: all(p(t) for p in parts)
        if isinstance(node, q.Or):
            parts = [build(c) for c in node.children]
            return lambda t: any(p(t) for p in parts)
        if isinstance(node, q.Not):
            part = build(node.child)
            return lambda t: not part(t)
        return lambda t: True  # site:, source:, NEAR: not in the naive mix's hot path

    return build(query.root)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def measure_memory(queries: list[Query], texts: list[str]) -> float:
    del queries  # parsed again below so that the Query objects are counted too
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = SubscriptionIndex()
    for text in texts:
        query = parse_query(text)
        index.add(query.canonical, query)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(args.seed)
    articles = load_articles()
    vocab = Vocabulary(articles, rng)

    t0 = time.perf_counter()
    docs = [Document(title, body, "CNN", "https://edition.cnn.com/article") for title, body in articles]
    tokenise_ms = []
    for title, body in articles:
        t = time.perf_counter()
        Document(title, body, "CNN", "https://edition.cnn.com/article")
        tokenise_ms.append((time.perf_counter() - t) * 1000)
    print(f"loaded {len(docs)} articles in {time.perf_counter() - t0:.1f}s", file=sys.stderr)

    rows = []
    taken: set[str] = set()
    queries: list[Query] = []
    for size in sizes:
        queries += generate(vocab, size - len(queries), taken)
        texts = [q.canonical for q in queries]
        t = time.perf_counter()
        parsed = [parse_query(text) for text in texts]
        parse_s = time.perf_counter() - t
        index = SubscriptionIndex()
        t = time.perf_counter()
        for query in parsed:
            index.add(query.canonical, query)
        add_s = time.perf_counter() - t

        match_ms, matched = [], 0
        for doc in docs:
            t = time.perf_counter()
            found = index.match(doc)
            match_ms.append((time.perf_counter() - t) * 1000)
            matched += len(found)
        per_article = statistics.mean(match_ms) + statistics.mean(tokenise_ms)

        extra = generate(vocab, 1000, set(taken))
        t = time.perf_counter()
        for query in extra:
            index.add(query.canonical, query)
        add_one = (time.perf_counter() - t) / len(extra) * 1000
        t = time.perf_counter()
        for query in extra:
            index.remove(query.canonical)
        remove_one = (time.perf_counter() - t) / len(extra) * 1000

        bytes_per = measure_memory(parsed, texts)
        row = {
            "size": size,
            "p50": pct(match_ms, 50),
            "p99": pct(match_ms, 99),
            "aps": 1000 / per_article,
            "bytes": bytes_per,
            "build": parse_s + add_s,
            "parse": parse_s,
            "add": add_one,
            "remove": remove_one,
            "matches": matched / len(docs),
            "naive": None,
        }
        if size in NAIVE_SIZES:
            predicates = [(q.canonical, naive_predicate(q)) for q in parsed]
            subset = docs[: NAIVE_ARTICLES[size]]
            t = time.perf_counter()
            for doc in subset:
                lowered = doc.text
                _ = [key for key, pred in predicates if pred(lowered)]
            naive_ms = (time.perf_counter() - t) / len(subset) * 1000
            row["naive"] = naive_ms
            row["speedup"] = naive_ms / statistics.mean(match_ms)
            row["speedup_e2e"] = naive_ms / per_article
        rows.append(row)
        print(f"done {size}", file=sys.stderr)
        del index, parsed

    print(
        f"\nTokenising (Document construction), per article: p50 {pct(tokenise_ms, 50):.3f} ms, "
        f"p99 {pct(tokenise_ms, 99):.3f} ms; {statistics.mean(len(d.starts) for d in docs):.0f} tokens on average\n"
    )
    print(
        "| subscriptions | match p50 ms | match p99 ms | articles/s (tokenise+match) | matches/article "
        "| bytes/sub | build s | add ms | remove ms | naive ms/article | speedup (match) | speedup (tokenise+match) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        naive = f"{r['naive']:.1f}" if r["naive"] is not None else "–"
        speed = f"{r['speedup']:.0f}x" if r["naive"] is not None else "–"
        speed2 = f"{r['speedup_e2e']:.0f}x" if r["naive"] is not None else "–"
        print(
            f"| {r['size']:,} | {r['p50']:.3f} | {r['p99']:.3f} | {r['aps']:.0f} | {r['matches']:.1f} "
            f"| {r['bytes']:.0f} | {r['build']:.2f} | {r['add']:.4f} | {r['remove']:.4f} | {naive} | {speed} | {speed2} |"
        )


if __name__ == "__main__":
    main()

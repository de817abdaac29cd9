"""Subscription matching: the presearcher index vs a naive per-subscription regex loop.

Usage: python bench/matching.py [--sizes 1000,10000,100000] [--seed 1] [--topical-share 0.15]

Articles: the 100 CNN/DailyMail articles of ../shared/eval/cnndm-realsumm-100 (body = the article text,
lower-cased and PTB-tokenised as published; title = the first cased reference highlight, so that
headlines have real capitals).

Subscriptions: distinct canonical queries (the index key, as the bot uses it) in a mix like alert bots
see: 33% single words, 12% phrases, 18% AND, 10% OR, 10% word -word, 8% prefixes, 3% title:, 3% site:, 3%
acronym AND word. Terms come from the articles' topical vocabulary (words found in at most 3 of the 100
articles: names, places, topics) with probability --topical-share (0.15), otherwise from generated
name-like words standing for the long tail of topics these 100 articles do not mention. The table reports how
many subscriptions match per article, so the mix can be judged: the share of topical words sets it.

Measured in one run: per-article match time p50/p99 (each article tokenised, untimed, right before it is
matched, as the bot does; an article's time is the median of 7 runs), tokenising time (Document
construction, once per article whatever the number of subscriptions), articles/second end to end, bytes
per subscription (tracemalloc: traced memory after parsing and indexing every query minus before, over
their number), build time (parse + add), add/remove time per subscription into the full index, and the
naive loop (each query compiled to case-insensitive regexes, every one tried on every article) at 1k and
10k. Each size is measured in a fresh process, as a bot starts and loads its subscriptions (so that one
size's heap does not shape the next); after building, the index is compacted and the garbage collector
settled as the bot does after loading its subscriptions (SubscriptionIndex.compact: each slot's objects
copied together; bot/matching/heap.py: the index frozen out of collections, a larger young generation).
When the checkout's matching is compiled (make build), the largest size is also measured as pure
Python, from a copy of bot/ without the extensions, so the table shows what compiling buys. The largest size
runs in --processes processes (3), alternating with pure Python; the table shows the run with the median p50.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

sys.path.insert(
    0, os.environ.get("BENCH_BOT_ROOT") or str(Path(__file__).resolve().parents[1])
)  # see pure_python_copy()

from eval_data import CNNDM

from bot.matching import Document, Query, SubscriptionIndex, build, heap, parse_query
from bot.matching import query as ast

REPO = Path(__file__).resolve().parents[1]
DATA = CNNDM.path
NAIVE_ARTICLES = {1000: 100, 10000: 25}
REPEATS = 7
# The bench's own stopwords (the index's selectivity prior is not used to make the data).
_STOPWORDS = """
    the of and to a in is that for it was on with he as be at by this had not are but from or have an
    they which you were her she there been his one all we their has would when if so no will can
    more out do who about up said what its than then them into some could him only other also may
    over after most these just any because now very being our even many should before where between
    while those both did off still against since under during including says told year years time
    people
"""
STOPWORDS = frozenset(_STOPWORDS.split())


def load_articles() -> list[tuple[str, str]]:
    records = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["reference_cased_sentences"][0], r["source"]) for r in records]


class Vocabulary:
    def __init__(
        self, articles: list[tuple[str, str]], rng: random.Random, topical_share: float = 0.15
    ) -> None:
        self.topical_share = topical_share
        df: Counter[str] = Counter()
        bigrams: set[str] = set()
        for _title, body in articles:
            tokens = re.findall(r"[a-z]+", body.lower())
            df.update(set(tokens))
            bigrams.update(
                f"{a} {b}"
                for a, b in pairwise(tokens)
                if len(a) > 3 and len(b) > 3 and a not in STOPWORDS and b not in STOPWORDS
            )
        self.topical = sorted(w for w, n in df.items() if n <= 3 and len(w) >= 4 and w not in STOPWORDS)
        self.bigrams = sorted(bigrams)
        self.rng = rng
        syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
        self.names = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(60000)})

    def word(self) -> str:
        return self.rng.choice(self.topical if self.rng.random() < self.topical_share else self.names)

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
    """What one would write first: a case-insensitive regex per term, the boolean logic in Python."""

    def build(node: ast.Node) -> Callable[[str], bool]:
        if isinstance(node, ast.Word):
            rx = re.compile(rf"\b{re.escape(node.key)}\w*", re.I)
            return lambda t: rx.search(t) is not None
        if isinstance(node, ast.Phrase):
            rx = re.compile(r"\b" + r"\W+".join(re.escape(w.key) for w in node.words) + r"\w*", re.I)
            return lambda t: rx.search(t) is not None
        if isinstance(node, ast.Prefix):
            rx = re.compile(rf"\b{re.escape(node.prefix)}", re.I)
            return lambda t: rx.search(t) is not None
        if isinstance(node, ast.And):
            parts = [build(c) for c in node.children]
            return lambda t: all(p(t) for p in parts)
        if isinstance(node, ast.Or):
            parts = [build(c) for c in node.children]
            return lambda t: any(p(t) for p in parts)
        if isinstance(node, ast.Not):
            part = build(node.child)
            return lambda t: not part(t)
        return lambda t: True  # site:, title: scope and NEAR are not modelled: the naive loop gets a discount

    return build(query.root)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def traced_bytes(build: Callable[[], object]) -> int:
    """The memory what ``build`` returns holds: tracemalloc's traced memory once it is built (and the
    garbage of building it collected) minus before."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    return used


def bytes_per_query(texts: list[str]) -> float:
    def build() -> SubscriptionIndex:
        index = SubscriptionIndex()
        for text in texts:
            query = parse_query(text)
            index.add(query.canonical, query)
        return index

    return traced_bytes(build) / len(texts)


def time_matches(index: SubscriptionIndex, articles: list[tuple[str, str]]) -> tuple[list[float], float]:
    """Per-article match time in ms and matches per article. As in the bot, each article is tokenised
    (untimed) right before it is matched; an article's time is the median of REPEATS such runs."""
    runs: list[list[float]] = [[] for _ in articles]
    matched = 0
    for _ in range(REPEATS):
        matched = 0
        for i, (title, body) in enumerate(articles):
            doc = Document(title, body, "CNN", "https://edition.cnn.com/")
            start = time.perf_counter()
            found = index.match(doc)
            runs[i].append((time.perf_counter() - start) * 1000)
            matched += len(found)
    return [statistics.median(r) for r in runs], matched / len(articles)


def measure(args: argparse.Namespace, sizes: list[int], only: int) -> dict[str, float | str]:
    """The row of one size. Smaller sizes are generated first (their queries and the extra queries drawn
    for add/remove), so that each size's queries are the same whichever process measures it."""
    rng = random.Random(args.seed)
    articles = load_articles()
    vocab = Vocabulary(articles, rng, args.topical_share)
    tokenise_ms = time_tokenising(articles)
    taken: set[str] = set()
    queries: list[Query] = []
    for size in sizes:
        queries += generate(vocab, size - len(queries), taken)
        if size == only:
            break
        generate(vocab, 1000, set(taken))
    texts = [q.canonical for q in queries]
    start = time.perf_counter()
    index = SubscriptionIndex()
    for text in texts:
        query = parse_query(text)
        index.add(query.canonical, query)
    build_s = time.perf_counter() - start
    index.compact()
    heap.settle()

    match_ms, matches = time_matches(index, articles)
    extra = generate(vocab, 1000, set(taken))
    add_ms, remove_ms = [], []
    for query in extra:
        start = time.perf_counter()
        index.add(query.canonical, query)
        add_ms.append((time.perf_counter() - start) * 1000)
    for query in extra:
        start = time.perf_counter()
        index.remove(query.canonical)
        remove_ms.append((time.perf_counter() - start) * 1000)
    del index
    gc.unfreeze()

    row: dict[str, float | str] = {
        "size": f"{only:,}",
        "matching": build.describe(),
        "p50": pct(match_ms, 50),
        "p99": pct(match_ms, 99),
        "aps": 1000 / (statistics.mean(match_ms) + statistics.mean(tokenise_ms)),
        "matches": matches,
        "bytes": bytes_per_query(texts),
        "build": build_s,
        "add": statistics.mean(add_ms),
        "add99": pct(add_ms, 99),
        "remove": statistics.mean(remove_ms),
        "naive": "–",
        "speedup": "–",
        "speedup_e2e": "–",
        "tokenise_p50": pct(tokenise_ms, 50),
        "tokenise_p99": pct(tokenise_ms, 99),
        "tokens": statistics.mean(len(Document(t, b).keys) for t, b in articles),
    }
    if only in NAIVE_ARTICLES:
        predicates = [(q.canonical, naive_predicate(q)) for q in queries]
        subset = [f"{t}\n\n{b}" for t, b in articles[: NAIVE_ARTICLES[only]]]
        start = time.perf_counter()
        for text in subset:
            _ = [key for key, predicate in predicates if predicate(text)]
        naive_ms = (time.perf_counter() - start) / len(subset) * 1000
        ours = statistics.mean(match_ms[: len(subset)])
        row["naive"] = f"{naive_ms:.1f}"
        row["speedup"] = f"{naive_ms / ours:,.0f}x"
        row["speedup_e2e"] = f"{naive_ms / (ours + statistics.mean(tokenise_ms[: len(subset)])):,.0f}x"
    return row


def time_tokenising(articles: list[tuple[str, str]]) -> list[float]:
    """Per-article Document construction time in ms (median of REPEATS runs)."""
    runs: list[list[float]] = [[] for _ in articles]
    for _ in range(REPEATS):
        for i, (title, body) in enumerate(articles):
            start = time.perf_counter()
            Document(title, body, "CNN", "https://edition.cnn.com/")
            runs[i].append((time.perf_counter() - start) * 1000)
    return [statistics.median(r) for r in runs]


def pure_python_copy(into: Path) -> Path:
    """A copy of ``bot/`` without compiled extensions, so the largest size can also be measured as pure
    Python in the same run (Python would import the extensions of the checkout before its sources)."""
    shutil.copytree(REPO / "bot", into / "bot", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    return into


def run_size(size: int, root: Path | None = None) -> dict[str, float | str]:
    env = dict(os.environ) if root is None else {**os.environ, "BENCH_BOT_ROOT": str(root)}
    command = [sys.executable, __file__, *sys.argv[1:], "--only", str(size)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def median_row(runs: list[dict[str, float | str]]) -> dict[str, float | str]:
    """The run with the median p50 (all of its figures, so that they stay from one process)."""
    return sorted(runs, key=lambda r: float(r["p50"]))[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--topical-share", type=float, default=0.15, help="share of terms from the articles")
    parser.add_argument("--only", type=int, help="measure this one of --sizes here and print its row as JSON")
    parser.add_argument("--processes", type=int, default=3, help="runs of the largest size (median shown)")
    args = parser.parse_args()
    CNNDM.require()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.only is not None:
        print(json.dumps(measure(args, sizes, args.only)))
        return

    rows = []
    for size in sizes[:-1]:  # each in a fresh process, as a bot starts and loads its subscriptions
        rows.append(run_size(size))
        print(f"measured {size:,} subscriptions", file=sys.stderr)
    # The largest size in several processes (this VM's speed drifts: a median says more than one run),
    # alternating with pure Python when the checkout is compiled, so both meet the same conditions.
    largest: list[dict[str, float | str]] = []
    pure: list[dict[str, float | str]] = []
    with tempfile.TemporaryDirectory() as scratch:
        root = pure_python_copy(Path(scratch)) if build.compiled() else None
        for _ in range(args.processes):
            largest.append(run_size(sizes[-1]))
            if root is not None:
                pure.append(run_size(sizes[-1], root))
            print(f"measured {sizes[-1]:,} subscriptions", file=sys.stderr)
    rows.append(median_row(largest))
    if pure:
        rows.append(median_row(pure))
        rows[-1]["size"] = f"{rows[-1]['size']} ({rows[-1]['matching']})"

    first = rows[0]
    print(
        f"\nmatching {first['matching']}; topical share {args.topical_share}; "
        f"100 articles, {first['tokens']:.0f} tokens on average; "
        "tokenising (Document construction, once per article, in the first process): "
        f"p50 {first['tokenise_p50']:.3f} ms, p99 {first['tokenise_p99']:.3f} ms\n"
    )
    print(
        "| subscriptions | match p50 ms | match p99 ms | matches/article | articles/s (tokenise+match) "
        "| bytes/subscription | build s | add ms (mean / p99) | remove ms | naive loop ms/article "
        "| speedup (match) | speedup (tokenise+match) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['size']} | {r['p50']:.3f} | {r['p99']:.3f} | {r['matches']:.0f} | {r['aps']:,.0f} "
            f"| {r['bytes']:.0f} | {r['build']:.2f} | {r['add']:.3f} / {r['add99']:.3f} | {r['remove']:.3f} "
            f"| {r['naive']} | {r['speedup']} | {r['speedup_e2e']} |"
        )
    for label, runs in ((first["matching"], largest), ("pure Python", pure)):
        if runs:
            p50s = ", ".join(f"{float(r['p50']):.3f}" for r in runs)
            print(f"\n{sizes[-1]:,} subscriptions, {label}: p50 in {len(runs)} processes: {p50s} ms", end="")
    print()


if __name__ == "__main__":
    main()

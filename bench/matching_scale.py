"""Loading subscriptions at scale: build time, bytes per subscription and match time at 100k and 1M.

Usage: python bench/matching_scale.py [--sizes 100000,1000000] [--mixes plain,mixed] [--baseline-ref REF]

Two mixes of distinct canonical queries: ``plain``, plain keywords as issue #19 measured them (73% single
words, 27% two-word phrases; the words from the articles' topical vocabulary and generated name-like
words, enough of them for a million distinct queries), and ``mixed``, bench/matching.py's mix of every
shape (its generator, same seed). The articles are bench/matching.py's 100 CNN/DailyMail articles.

Each row is one fresh process, as a bot starts: the queries' canonical texts are made first (as the store
hands them over), then timed: the build as the bot loads subscriptions (``SubscriptionIndex.add_many``,
then the collector settled, bot/matching/heap.py), or, for the baseline, as the bot did before bulk
loading: ``parse_query`` and ``add`` per subscription, then ``compact``. Then the per-article match time
p50/p99 (bench/matching.py's ``time_matches``: each article tokenised untimed right before it is matched,
median of 7 runs), and bytes per subscription: tracemalloc's traced memory after building a second index
from the same texts minus before, over their number (the texts themselves are not counted: the store's
subscriptions hold them).

The baseline is the checkout at ``--baseline-ref`` (default: the commit before bulk loading), exported
with ``git archive`` into a scratch folder and compiled there with mypyc like this checkout (when this
checkout is compiled), each size and mix measured beside this checkout's in the same run. ``--baseline-ref
''`` skips it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_BOT_ROOT") or str(Path(__file__).resolve().parents[1]))

from eval_data import CNNDM
from matching import Vocabulary, generate, load_articles, pct, time_matches, traced_bytes

from bot.matching import SubscriptionIndex, build, heap, parse_query

REPO = Path(__file__).resolve().parents[1]
BASELINE_REF = "1230afd"
"""The last commit that loaded subscriptions one by one (parse_query, add, compact)."""


def plain_keywords(n: int, seed: int) -> list[str]:
    """``n`` distinct plain keyword queries: 73% single words, 27% two-word phrases."""
    rng = random.Random(seed)
    articles = load_articles()
    vocab = Vocabulary(articles, rng)
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
    names = {"".join(rng.choices(syllables, k=rng.randint(2, 5))) for _ in range(max(60000, n))}
    words = sorted(names | set(vocab.topical))
    taken: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        text = rng.choice(words) if rng.random() < 0.73 else f'"{rng.choice(words)} {rng.choice(words)}"'
        canonical = parse_query(text).canonical
        if canonical not in taken:
            taken.add(canonical)
            out.append(canonical)
    return out


def texts_of(mix: str, n: int, seed: int) -> list[str]:
    if mix == "plain":
        return plain_keywords(n, seed)
    rng = random.Random(seed)
    return [q.canonical for q in generate(Vocabulary(load_articles(), rng), n, set())]


def load(texts: list[str]) -> SubscriptionIndex:
    """The index as the bot loads it: in bulk where this checkout can, else one by one and compacted."""
    index = SubscriptionIndex()
    if hasattr(index, "add_many"):
        index.add_many([(text, text) for text in texts])
    else:
        for text in texts:
            query = parse_query(text)
            index.add(query.canonical, query)
        index.compact()
    return index


def measure(mix: str, size: int, seed: int) -> dict[str, float | str]:
    texts = texts_of(mix, size, seed)
    gc.collect()
    start = time.perf_counter()
    cpu = time.process_time()
    index = load(texts)
    heap.settle()
    build_s, build_cpu = time.perf_counter() - start, time.process_time() - cpu
    match_ms, matches = time_matches(index, load_articles())
    del index
    gc.unfreeze()
    used = traced_bytes(lambda: load(texts))
    return {
        "matching": build.describe(),
        "build": build_s,
        "build_cpu": build_cpu,
        "bytes": used / size,
        "p50": pct(match_ms, 50),
        "p99": pct(match_ms, 99),
        "matches": matches,
    }


def baseline_checkout(ref: str, into: Path) -> Path:
    """``ref``'s bot/ and setup.py in ``into``, its matching compiled when this checkout's is."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "bot", "setup.py"], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    if build.compiled():
        subprocess.run(
            [sys.executable, "setup.py", "--quiet", "build_ext", "--inplace"],
            cwd=into,
            check=True,
            capture_output=True,
        )
        for extension in (into / "bot" / "matching").glob("*.so"):
            extension.touch()
    return into


def run(mix: str, size: int, seed: int, root: Path | None) -> dict[str, float | str]:
    env = dict(os.environ) if root is None else {**os.environ, "BENCH_BOT_ROOT": str(root)}
    command = [sys.executable, __file__, "--only", f"{mix}:{size}", "--seed", str(seed)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--mixes", default="plain,mixed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-ref", default=BASELINE_REF, help="git ref measured beside ('' for none)")
    parser.add_argument("--only", help="measure MIX:SIZE here and print its row as JSON")
    args = parser.parse_args()
    CNNDM.require()
    if args.only is not None:
        mix, size = args.only.split(":")
        print(json.dumps(measure(mix, int(size), args.seed)))
        return
    rows: list[tuple[str, int, str, dict[str, float | str]]] = []
    with tempfile.TemporaryDirectory() as scratch:
        root = baseline_checkout(args.baseline_ref, Path(scratch)) if args.baseline_ref else None
        for mix in args.mixes.split(","):
            for size in map(int, args.sizes.split(",")):
                for label, where in (
                    ("bulk (this checkout)", None),
                    (f"one by one ({args.baseline_ref})", root),
                ):
                    if label.startswith("one by one") and where is None:
                        continue
                    rows.append((mix, size, label, run(mix, size, args.seed, where)))
                    print(f"measured {mix} {size:,} {label}", file=sys.stderr)
    print(f"\nmatching {rows[0][3]['matching']}; build: wall time (CPU time), collector settled\n")
    print(
        "| mix | subscriptions | load | build s | bytes/subscription | match p50 ms | match p99 ms "
        "| matches/article |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for mix, size, label, r in rows:
        print(
            f"| {mix} | {size:,} | {label} | {r['build']:.2f} ({r['build_cpu']:.2f}) | {r['bytes']:.0f} "
            f"| {r['p50']:.3f} | {r['p99']:.3f} | {r['matches']:.0f} |"
        )


if __name__ == "__main__":
    main()

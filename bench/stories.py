"""Same-story detection (bot/stories) beside a plain TF-IDF cosine, on public data with ground truth.

1. story-chains-energy: the 100 articles go through the bot's StoryDetector in publication order, with
   the shipped settings (window 72 h, join 0.45); two articles are "same story" when they got the same
   story id. Pairwise precision / recall / F1 over the pairs published within the window. Baseline, same
   run: TF-IDF cosine of each pair (words of two letters or more, lower-cased, smoothed idf over the 100
   articles, l2), at its best threshold for this set (an oracle choice the bot does not get).
2. semeval2022-task8-sample, English pairs: Pearson between the bot's similarity and the annotators'
   overall rating (sign flipped: 1 is "very similar"), beside the same TF-IDF cosine's Pearson.
3. Speed and memory: a window of ``--window-size`` (100,000) articles made of sentences drawn at random
   from both datasets' texts, then the time to assign each of the 100 energy articles (p50 / p99)
   beside one brute-force scan of the window (the cosine with every article, what an index saves),
   the bytes a window article costs (tracemalloc), and the time to rebuild the window from stored
   entries (a restart).

    python bench/stories.py [--window-size 100000]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.eval_data import SEMEVAL, STORY_CHAINS  # noqa: E402
from bot.core.models import Article  # noqa: E402
from bot.stories import StoryDetector, encode  # noqa: E402
from bot.stories.decide import JOIN, score  # noqa: E402
from bot.stories.fingerprint import fingerprint  # noqa: E402
from bot.stories.index import Entry  # noqa: E402

WINDOW = 72 * 3600.0
TARGET_F1 = 0.95
TARGET_PEARSON = 0.75
TARGET_P50_MS = 2.0
_BASELINE_WORD = re.compile(r"\b\w\w+\b")


# ---- the baseline ---------------------------------------------------------------------------------


def tfidf_vectors(texts: Sequence[str]) -> list[dict[str, float]]:
    bags = [Counter(_BASELINE_WORD.findall(t.lower())) for t in texts]
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag.keys())
    n = len(texts)
    vectors = []
    for bag in bags:
        v = {w: c * (math.log((1 + n) / (1 + df[w])) + 1) for w, c in bag.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors.append({w: x / norm for w, x in v.items()})
    return vectors


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(w, 0.0) for w, x in a.items())


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    vx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    vy = math.sqrt(sum((y - my) ** 2 for y in ys))
    return cov / (vx * vy)


def prf(predicted: Sequence[bool], gold: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    fp = sum(p and not g for p, g in zip(predicted, gold, strict=True))
    fn = sum(g and not p for p, g in zip(predicted, gold, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# ---- 1. story chains ------------------------------------------------------------------------------


def energy_articles(folder: Path) -> list[Article]:
    articles = []
    for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        articles.append(
            Article(
                id=row["id"],
                title=row["title"],
                text=row["text"],
                url=row["url"],
                source=row["outlet"],
                published=datetime.fromisoformat(
                    row["date"] + "+00:00" if "+" not in row["date"] else row["date"]
                ),
            )
        )
    return sorted(articles, key=lambda a: (a.published.timestamp() if a.published else 0.0, a.id))


def story_chains(folder: Path) -> None:
    articles = energy_articles(folder)
    when = {a.id: a.published.timestamp() for a in articles if a.published}
    detector = StoryDetector(WINDOW, JOIN)
    story: dict[str, str] = {}
    for article in articles:
        decision, _ = detector.assign(article, when[article.id])
        story[article.id] = decision.story_id
    pairs = []
    for line in (folder / "pairs.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        a, b, label, _ = line.split("\t")
        if abs(when[a] - when[b]) <= WINDOW:
            pairs.append((a, b, label == "1"))
    gold = [g for _, _, g in pairs]
    p, r, f1 = prf([story[a] == story[b] for a, b, _ in pairs], gold)
    vectors = dict(
        zip([a.id for a in articles], tfidf_vectors([f"{a.title} {a.text}" for a in articles]), strict=True)
    )
    sims = [cosine(vectors[a], vectors[b]) for a, b, _ in pairs]
    best = max((prf([s >= t for s in sims], gold)[2], t) for t in [i / 100 for i in range(5, 80)])
    print(f"story-chains-energy: {len(pairs)} pairs within {WINDOW / 3600:g} h, {sum(gold)} same-story")
    print(f"  bot (shipped settings)     P {p:.3f}  R {r:.3f}  F1 {f1:.3f}   target F1 >= {TARGET_F1}")
    print(f"  TF-IDF cosine, best thresh F1 {best[0]:.3f} (at {best[1]:.2f}, chosen on this set)")


# ---- 2. semeval -----------------------------------------------------------------------------------


def semeval(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["lang1"] == "en" and r["lang2"] == "en"]
    texts = list(dict.fromkeys(t for r in rows for t in (r["text1"], r["text2"])))
    detector = StoryDetector(window=math.inf)
    entries: dict[str, Entry] = {}
    fps = {}
    for i, text in enumerate(texts):  # every text in the window first: the document frequencies of the set
        title, _, body = text.partition("  ")
        article = Article(id=str(i), title=title, text=body, url="", source="")
        fps[text] = fingerprint(title, body)
        _, entries[text] = detector.assign(article, 0.0)
    ours = []
    for r in rows:
        fp = fps[r["text1"]]
        ours.append(score(detector.index.vector(fp), fp.names, entries[r["text2"]]).score)
    vectors = dict(zip(texts, tfidf_vectors(texts), strict=True))
    baseline = [cosine(vectors[r["text1"]], vectors[r["text2"]]) for r in rows]
    gold = [-float(r["overall"]) for r in rows]
    print(f"semeval2022 task 8, {len(rows)} English pairs: Pearson with the overall rating")
    print(f"  bot similarity {pearson(ours, gold):.3f}   target >= {TARGET_PEARSON}")
    print(f"  TF-IDF cosine  {pearson(baseline, gold):.3f}")


# ---- 3. speed and memory --------------------------------------------------------------------------


def synthetic(pool: Sequence[str], n: int, rng: random.Random, start: float, span: float) -> list[Article]:
    out = []
    for i in range(n):
        sentences = rng.sample(pool, 6)
        out.append(
            Article(
                id=f"w{i}",
                title=sentences[0][:90],
                text=" ".join(sentences[1:]),
                url="",
                source="Synthetic",
                published=datetime.fromtimestamp(start + span * i / n).astimezone(),
            )
        )
    return out


def speed(energy: Path, semeval_path: Path, size: int) -> None:
    rng = random.Random(7)
    texts = [json.loads(line)["text"] for line in (energy / "articles.jsonl").read_text().splitlines()]
    for line in semeval_path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["lang1"] == "en":
            texts.append(row["text1"])
    pool = [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if 40 <= len(s) <= 300]
    probes = energy_articles(energy)
    now = max(a.published.timestamp() for a in probes if a.published)
    window = synthetic(pool, size, rng, now - WINDOW * 0.9, WINDOW * 0.85)
    detector = StoryDetector(WINDOW, JOIN)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    stored = []
    build = time.perf_counter()
    for article in window:
        at = article.published.timestamp() if article.published else now
        _, entry = detector.assign(article, at)
        stored.append((entry, encode(entry)))
    build = time.perf_counter() - build
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    # `stored` (the encoded copies) is counted in `grown`: take it out.
    encoded = sum(sys.getsizeof(text) for _, text in stored) + sys.getsizeof(stored) + 64 * len(stored)
    per_article = (grown - encoded) / size

    timings = []
    for article in probes:
        started = time.perf_counter()
        detector.assign(article, now)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    fp = fingerprint(probes[0].title, probes[0].text)
    vector = detector.index.vector(fp)
    started = time.perf_counter()
    for entry in detector.index.entries():
        score(vector, fp.names, entry)
    scan = (time.perf_counter() - started) * 1000

    class Row:
        def __init__(self, entry: Entry, text: str) -> None:
            self.article_id, self.story_id, self.at = entry.article_id, entry.story_id, entry.at
            self.title, self.source, self.entry = entry.title, entry.source, text

    rows = [Row(e, t) for e, t in stored]
    restored = StoryDetector(WINDOW, JOIN)
    started = time.perf_counter()
    taken = restored.restore(rows, now)
    rebuild = time.perf_counter() - started
    p50 = timings[len(timings) // 2]
    p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
    print(
        f"speed: {len(detector.index):,} articles in the window ({size:,} synthetic, built in {build:.1f} s)"
    )
    print(f"  assign one article  p50 {p50:.2f} ms  p99 {p99:.2f} ms   target p50 <= {TARGET_P50_MS} ms")
    print(f"  brute-force scan of the window (cosine with every article): {scan:.0f} ms ({scan / p50:,.0f}x)")
    print(f"  memory per article in the window: {per_article:,.0f} B")
    print(f"  rebuild from stored entries (a restart): {taken:,} articles in {rebuild:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--window-size", type=int, default=100_000)
    args = parser.parse_args()
    energy = STORY_CHAINS.require()
    semeval_path = SEMEVAL.require()
    story_chains(energy)
    semeval(semeval_path)
    speed(energy, semeval_path, args.window_size)


if __name__ == "__main__":
    main()

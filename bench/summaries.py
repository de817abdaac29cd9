"""Extractive summaries vs Lead-3 on 100 CNN/DailyMail articles with human-written highlights.

Usage: python bench/summaries.py [--limit N]

Both systems see the same sentences (the dataset's `source_sentences`, one per paragraph, so our splitter
does not change the units) and produce 3 sentences. Scores: ROUGE-1 / ROUGE-2 / ROUGE-Lsum F1 (x100) from
the rouge-score package with stemming, references and candidates one sentence per line, as in the
dataset README. Time: median milliseconds per article for each system, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rouge_score import rouge_scorer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_data import CNNDM

from bot.summarise.extractive import ExtractiveSummariser

DATA = CNNDM.path
METRICS = ("rouge1", "rouge2", "rougeLsum")
METRIC_LABELS = ("R1", "R2", "RLsum")


def lead3(sentences: list[str]) -> list[str]:
    return sentences[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=0, help="score only the first N documents")
    args = parser.parse_args()
    CNNDM.require()
    docs = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.limit:
        docs = docs[: args.limit]

    ours = ExtractiveSummariser(max_sentences=3, max_chars=100_000)  # the sentence count is the budget here

    def extractive(sentences: list[str]) -> list[str]:
        return list(ours.summarise_text("", "\n\n".join(sentences)).sentences)

    systems: dict[str, Callable[[list[str]], list[str]]] = {
        "Lead-3": lead3,
        "ExtractiveSummariser": extractive,
    }
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    rows: list[tuple[str, list[float], float]] = []  # (system, [R1, R2, RLsum], median ms)
    for name, summarise in systems.items():
        totals = dict.fromkeys(METRICS, 0.0)
        times = []
        for doc in docs:
            started = time.perf_counter()
            summary = summarise(doc["source_sentences"])
            times.append((time.perf_counter() - started) * 1000)
            scores = scorer.score("\n".join(doc["reference_sentences"]), "\n".join(summary))
            for metric in METRICS:
                totals[metric] += scores[metric].fmeasure
        rows.append((name, [100 * totals[m] / len(docs) for m in METRICS], statistics.median(times)))

    print(f"{len(docs)} CNN/DailyMail articles (REALSumm subset), 3 sentences, ROUGE F1 with stemming\n")
    print("| system | R1 | R2 | RLsum | median ms/article |")
    print("|---|---:|---:|---:|---:|")
    for name, means, ms in rows:
        print(f"| {name} | {' | '.join(f'{m:.2f}' for m in means)} | {ms:.3f} |")
    (_, base, _), (_, mine, _) = rows
    deltas = ", ".join(f"{label} {b - a:+.2f}" for label, a, b in zip(METRIC_LABELS, base, mine, strict=True))
    print(f"\nExtractiveSummariser - Lead-3: {deltas}")


if __name__ == "__main__":
    main()

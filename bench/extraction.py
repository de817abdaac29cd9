"""Article extractors on the Zyte/Scrapinghub extraction benchmark: 181 real pages, human-cleaned bodies.

Usage: python bench/extraction.py [--limit N] [--only NAME ...]

First the scorer is checked: it implements the benchmark README's metric (upstream ``evaluate.py``: 4-token
shingles over ``\\w+`` tokens, multiset tp/fp/fn normalised per document, precision and recall averaged over
documents, F1 of the averages; plus accuracy, the share of documents whose token sequence equals the truth)
and must reproduce the published numbers for the upstream reference outputs, printed beside the README's
anchors. Then every candidate extractor runs on the same pages in the same run, each in a fresh process so
that its peak memory is its own: F1, precision, recall, accuracy, median milliseconds per page (one
untimed warm-up page first, so import and initialisation are not counted) and peak RSS of the process
(its growth over the process before extraction in brackets). The candidates are maintained extractors from
PyPI, our cleaner on the whole page (what the bot did without an extractor), and the production path,
``bot.ingest.extract.extract_article``: the chosen extractor plus our cleaner, shown beside the same
extractor with ``clean_text`` applied to its whole output, to measure what the cleaner costs.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import multiprocessing
import re
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_data import EXTRACTION

DATA = EXTRACTION.path
TARGET_F1 = 0.95

# README anchors (upstream README, latest run): F1, precision, recall; None where not published.
ANCHORS: dict[str, tuple[float, float | None, float | None]] = {
    "trafilatura": (0.958, 0.938, 0.978),
    "readability": (0.922, 0.913, 0.931),
    "newspaper": (0.949, 0.964, 0.934),
    "news_please": (0.948, None, None),
    "goose3": (0.896, 0.940, 0.856),
    "justext": (0.804, 0.858, 0.756),
    "html-text": (0.665, 0.500, 0.994),
}

# --- the metric ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+", re.UNICODE)
Shingle = tuple[str, ...]


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str, n: int = 4) -> Counter[Shingle]:
    """Multiset of n-token shingles; a text shorter than n tokens is one shorter shingle (none if empty)."""
    toks = tokens(text)
    return Counter(tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1)) if toks[i : i + n])


def match(truth: str, prediction: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over shingle multisets, normalised to sum to 1 (all zero when both are empty)."""
    expected, predicted = shingles(truth), shingles(prediction)
    tp = sum((expected & predicted).values())
    fp = sum((predicted - expected).values())
    fn = sum((expected - predicted).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


@dataclass(frozen=True, slots=True)
class Score:
    f1: float
    precision: float
    recall: float
    accuracy: float


def score(truths: list[str], predictions: list[str]) -> Score:
    """As upstream: precision is averaged over documents with a non-empty prediction (tp + fp > 0),
    recall over documents with a non-empty truth (tp + fn > 0)."""
    counts = [match(t, p) for t, p in zip(truths, predictions, strict=True)]
    precision = statistics.mean([_precision(*c) for c in counts if c[0] + c[1] > 0] or [0.0])
    recall = statistics.mean([_recall(*c) for c in counts if c[0] + c[2] > 0] or [0.0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = statistics.mean(
        float(tokens(t) == tokens(p)) for t, p in zip(truths, predictions, strict=True)
    )
    return Score(f1, precision, recall, accuracy)


# --- data ---------------------------------------------------------------------------------------------


def load_truth() -> dict[str, dict[str, str]]:
    truth: dict[str, dict[str, str]] = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    return truth


def load_page(doc_id: str) -> str:
    with gzip.open(DATA / "html" / f"{doc_id}.html.gz", "rt", encoding="utf-8") as f:
        return f.read()


def load_reference(path: Path) -> dict[str, str]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    items = raw.get("output", raw) if isinstance(raw, dict) and "version" in raw else raw
    return {key: (value or {}).get("articleBody") or "" for key, value in items.items()}


# --- candidates ---------------------------------------------------------------------------------------
# Each takes (html, url) and returns text; imports are local so a worker loads only its own extractor.


def whole_page_cleaned(html: str, url: str) -> str:
    from bot.ingest.clean import clean_article

    return clean_article("", html, is_html=True)


def trafilatura_default(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False) or ""


def trafilatura_precision(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False, favor_precision=True) or ""


def trafilatura_precision_whole_clean(html: str, url: str) -> str:
    from bot.ingest.clean import clean_text

    return clean_text("\n\n".join(trafilatura_precision(html, url).splitlines()))


def readability_lxml(html: str, url: str) -> str:
    import lxml.html  # type: ignore[import-untyped]
    from readability import Document  # type: ignore[import-untyped]

    summary = Document(html, url=url or None).summary(html_partial=True)
    text: str = lxml.html.fromstring(summary).text_content()
    return text


def justext_english(html: str, url: str) -> str:
    import justext  # type: ignore[import-untyped]

    stoplist = justext.get_stoplist("English")
    paragraphs = justext.justext(html, stoplist, 50, 200, 0.1, 0.2, 0.2, 200, True)  # upstream's settings
    return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def resiliparse_main(html: str, url: str) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(html, main_content=True)


def production(html: str, url: str) -> str:
    from bot.ingest.extract import extract_article

    return extract_article(html, url)


CANDIDATES: dict[str, tuple[str, Callable[[str, str], str]]] = {
    "whole-page": ("our cleaner on the whole page (no extractor)", whole_page_cleaned),
    "trafilatura": ("trafilatura 2.x, defaults", trafilatura_default),
    "trafilatura-precision": ("trafilatura 2.x, favor_precision", trafilatura_precision),
    "readability": ("readability-lxml, text_content of summary", readability_lxml),
    "justext": ("justext, English stoplist", justext_english),
    "resiliparse": ("resiliparse, main_content", resiliparse_main),
    "trafilatura-precision+clean_text": (
        "trafilatura favor_precision, clean_text on all of it",
        trafilatura_precision_whole_clean,
    ),
    "production": ("**extract_article** (trafilatura favor_precision + our cleaner per block)", production),
}
EXTRACTORS = ("trafilatura", "trafilatura-precision", "readability", "justext", "resiliparse")


@dataclass(frozen=True, slots=True)
class Run:
    outputs: list[str]
    ms: list[float]
    peak_mib: float
    growth_mib: float
    errors: int


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def run_candidate(name: str, doc_ids: list[str], urls: list[str]) -> Run:
    """In a fresh worker process: load the pages, warm up on one, then time each page."""
    extract = CANDIDATES[name][1]
    pages = [load_page(doc_id) for doc_id in doc_ids]
    with contextlib.suppress(Exception):  # a page that raises is scored as empty and counted below
        extract(pages[0], urls[0])
    before = _rss_mib()
    outputs: list[str] = []
    ms: list[float] = []
    errors = 0
    for html, url in zip(pages, urls, strict=True):
        start = time.perf_counter()
        try:
            text = extract(html, url)
        except Exception:
            text, errors = "", errors + 1
        ms.append((time.perf_counter() - start) * 1000)
        outputs.append(text)
    peak = _rss_mib()
    return Run(outputs, ms, peak, peak - before, errors)


# --- report -------------------------------------------------------------------------------------------


def check_scorer(truth: dict[str, dict[str, str]]) -> bool:
    print("## Scorer check: upstream reference outputs, our scorer vs the README anchors\n")
    print("| reference output | ours F1 / P / R | README F1 / P / R | reproduced |")
    print("|---|---|---|---|")
    ok = True
    keys = sorted(truth)
    for path in sorted((DATA / "reference-outputs").glob("*.json")):
        predictions = load_reference(path)
        s = score([truth[k]["articleBody"] for k in keys], [predictions.get(k, "") for k in keys])
        anchor = ANCHORS.get(path.stem)
        ours = f"{s.f1:.3f} / {s.precision:.3f} / {s.recall:.3f}"
        if anchor is None:
            print(f"| {path.name} | {ours} | (none published) | |")
            continue
        shown = " / ".join("-" if a is None else f"{a:.3f}" for a in anchor)
        same = all(
            a is None or f"{a:.3f}" == f"{v:.3f}"
            for a, v in zip(anchor, (s.f1, s.precision, s.recall), strict=True)
        )
        if path.stem in ("trafilatura", "readability"):
            ok = ok and same
        print(f"| {path.name} | {ours} | {shown} | {'yes' if same else 'NO'} |")
    print()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=0, help="score only the first N pages (by id)")
    parser.add_argument("--only", nargs="*", choices=sorted(CANDIDATES), help="run only these candidates")
    args = parser.parse_args()
    EXTRACTION.require()

    truth = load_truth()
    if not check_scorer(truth):
        print("The scorer does not reproduce the published numbers; not scoring candidates.")
        raise SystemExit(1)

    doc_ids = sorted(truth)[: args.limit or None]
    urls = [truth[k].get("url", "") for k in doc_ids]
    expected = [truth[k]["articleBody"] for k in doc_ids]
    names = args.only or list(CANDIDATES)

    print(f"## Candidates on {len(doc_ids)} pages, each in a fresh process, one after another\n")
    print("| extractor | F1 | P | R | accuracy | median ms/page | peak RSS MiB (growth) |")
    print("|---|---|---|---|---|---|---|")
    scores: dict[str, Score] = {}
    context: Any = multiprocessing.get_context("spawn")
    for name in names:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            run = pool.submit(run_candidate, name, doc_ids, urls).result()
        s = scores[name] = score(expected, run.outputs)
        label = CANDIDATES[name][0] + (f" ({run.errors} pages raised)" if run.errors else "")
        print(
            f"| {label} | {s.f1:.3f} | {s.precision:.3f} | {s.recall:.3f} | {s.accuracy:.3f} "
            f"| {statistics.median(run.ms):.1f} | {run.peak_mib:.0f} (+{run.growth_mib:.0f}) |",
            flush=True,
        )
    print()
    ranked = sorted((n for n in names if n in EXTRACTORS), key=lambda n: scores[n].f1, reverse=True)
    if ranked:
        print(f"Best extractor by F1: {CANDIDATES[ranked[0]][0]} ({scores[ranked[0]].f1:.3f}).")
    if "production" in scores:
        f1 = scores["production"].f1
        verdict = "met" if f1 >= TARGET_F1 else "NOT met"
        print(f"Production path F1 {f1:.3f}: the issue's target F1 >= {TARGET_F1} is {verdict}.")


if __name__ == "__main__":
    main()

"""Where the benches find the public datasets: ``../shared/eval`` beside the checkout."""

from pathlib import Path

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
CNNDM = EVAL / "cnndm-realsumm-100" / "cnndm_realsumm_100.jsonl"
"""100 CNN/DailyMail articles with reference summaries (summaries and matching benches)."""
EXTRACTION = EVAL / "article-extraction-benchmark"
FEEDPARSER_CORPUS = EVAL / "feedparser-corpus"

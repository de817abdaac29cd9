"""Where the benches find their datasets. The large public ones are not in the repository (size, and
some licences): they are read from ``../shared/eval`` beside the checkout, or from the folder named by
``$NEWSBOT_EVAL``. feedparser's corpus is small and BSD-licensed, so the benches use the copy the tests
keep in ``tests/fixtures``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL = Path(os.environ.get("NEWSBOT_EVAL") or REPO.parent / "shared" / "eval")


@dataclass(frozen=True)
class Dataset:
    root: Path
    """The folder of datasets it lives in (``NEWSBOT_EVAL`` names the one of the large datasets)."""
    path: Path
    origin: str
    """What it is and where it comes from, for the one line printed when it is missing."""

    def require(self) -> Path:
        """The dataset's path; when it is absent, one line on stderr and exit 2 (never a traceback)."""
        if not self.path.exists():
            bench = Path(sys.argv[0]).name
            print(
                f"{bench}: missing {self.path}: {self.origin}; "
                f"set NEWSBOT_EVAL to the folder that holds {self.path.relative_to(self.root).parts[0]}/",
                file=sys.stderr,
            )
            raise SystemExit(2)
        return self.path


CNNDM = Dataset(
    EVAL,
    EVAL / "cnndm-realsumm-100" / "cnndm_realsumm_100.jsonl",
    "100 CNN/DailyMail articles with reference summaries, from github.com/neulab/REALSumm "
    "(selected_docs_for_human_eval, CC BY 4.0)",
)
EXTRACTION = Dataset(
    EVAL,
    EVAL / "article-extraction-benchmark",
    "181 pages with hand-cleaned bodies, from github.com/scrapinghub/article-extraction-benchmark (MIT)",
)
STORY_CHAINS = Dataset(
    EVAL,
    EVAL / "story-chains-energy",
    "100 energy news articles with same-story-chain pairs, from github.com/fatih-gedikli/"
    "news_story_chains-2021-06 (CC BY-NC 4.0)",
)
SEMEVAL = Dataset(
    EVAL,
    EVAL / "semeval2022-task8-sample" / "pairs.jsonl",
    "2,432 news article pairs rated for similarity, SemEval-2022 task 8, from github.com/GeekDream-x/"
    "SemEval2022-Task8-TonyX (Apache-2.0)",
)
FEEDPARSER_CORPUS = Dataset(
    REPO / "tests" / "fixtures",
    REPO / "tests" / "fixtures" / "feedparser-corpus",
    "feedparser's test feeds and manifest (BSD-2-Clause), kept in the repository for the tests",
)

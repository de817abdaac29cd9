"""Feed parsers: feedparser (in production, the robustness reference) against the maintained faster ones.

Usage: python bench/parsers.py [--repeats 3] [--items 500]

Candidates (each skipped with a note when not installed): fastfeedparser (lxml-based, Kagi) and
feedparser-rs (Rust, feedparser-compatible API). For JSON Feed the baseline is the bot's own reader
(bot/ingest/jsonfeed.py), since feedparser does not read JSON.

Data: the 2,106 XML files of ../shared/eval/feedparser-corpus (feedparser's own test suite), the
bundled examples/ feeds, and synthetic RSS 2.0, Atom 1.0 and JSON feeds of --items items each
(a headline, a guid, a date, a 1.5 kB HTML body, a media:content image: the shape of a news feed).

Speed: each file is parsed --repeats times and its best time kept; a data set's time is the sum over its
files. The input is bytes, as the poller has them, with the options production uses (feedparser:
sanitize_html=False, resolve_relative_uris=True; feedparser-rs: sanitize_html=False). "x feedparser" is
feedparser's time over the candidate's, on the same files in the same run. Items/s counts feedparser's
items, so every parser is credited with the same work.

Correctness, against feedparser on every corpus file:
- "crashed": the candidate raised where feedparser returned a result (feedparser never raises).
- "same count": the same number of items. "same ids / links / titles": item by item, over files where
  the counts match too; an id is the guid, else the link (what bot.core.identity keys an article on).
  "raw titles" compares the strings the library returns; "titles as shown" compares them as the bot
  shows and matches them (markup turned into text, white space collapsed), so that a different but
  equivalent rendering of the same markup is not counted against a parser.
- "all same": count, ids, links and titles as shown all equal: the files where switching changes
  nothing the bot sees of an item's identity.
- "manifest": the corpus's own expectations (upstream's `Expect:` expressions, non-HTTP cases, input as
  the manifest says, library defaults) evaluated on each parser's result; feedparser's figure is the
  anchor in the corpus README (1,947/1,957). A parser with another result shape (fastfeedparser has no
  `bozo`, no `*_detail`) fails expectations for API reasons, so read this column as "feedparser
  compatibility", not as correctness.

The recommendation is computed: a candidate replaces feedparser only if it agrees on "all same" for at
least 99.5% of the corpus files, never crashes where feedparser parses, and is at least 1.5x faster on
the realistic feeds; otherwise feedparser stays.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser
from eval_data import FEEDPARSER_CORPUS

from bot.ingest.clean import html_to_text
from bot.ingest.feeds import parse_feed
from bot.ingest.jsonfeed import parse_json_feed

ROOT = Path(__file__).resolve().parents[1]
CORPUS = FEEDPARSER_CORPUS.path
EXAMPLES = ROOT / "examples"
MIN_AGREEMENT = 0.995
MIN_SPEEDUP = 1.5
_SPACE = re.compile(r"\s+")

Item = tuple[str, str, str]  # (id, link, title)
_TAG = re.compile(r"<[a-zA-Z/!]")


@dataclass(frozen=True)
class Parser:
    name: str
    parse: Callable[[bytes], Any]
    """Bytes to the library's own result, with production options."""
    defaults: Callable[[bytes | str], Any]
    """The library's defaults, for the manifest's expectations."""


def _feedparser(body: bytes) -> Any:
    return feedparser.parse(body, sanitize_html=False, resolve_relative_uris=True, response_headers={})


def parsers() -> tuple[list[Parser], list[str]]:
    found = [Parser("feedparser", _feedparser, feedparser.parse)]
    missing = []
    if importlib.util.find_spec("fastfeedparser"):
        import fastfeedparser  # type: ignore[import-untyped,import-not-found,unused-ignore]

        found.append(Parser("fastfeedparser", fastfeedparser.parse, fastfeedparser.parse))
    else:
        missing.append("fastfeedparser")
    if importlib.util.find_spec("feedparser_rs"):
        import feedparser_rs  # type: ignore[import-not-found,unused-ignore]

        found.append(
            Parser(
                "feedparser-rs",
                lambda body: feedparser_rs.parse(body, sanitize_html=False),
                feedparser_rs.parse,
            )
        )
    else:
        missing.append("feedparser-rs")
    return found, missing


def items(result: Any) -> list[Item]:
    out = []
    for entry in _get(result, "entries") or []:
        link = str(_get(entry, "link") or "")
        guid = str(_get(entry, "id") or "").strip()
        out.append((guid or link.strip(), link, str(_get(entry, "title") or "")))
    return out


def seen_title(title: str) -> str:
    """A headline as the bot shows and matches it: markup turned into text, white space collapsed
    (what bot.ingest.feeds does), so that ``<b>&#38;</b>`` and ``<div><b>&amp;</b></div>`` agree."""
    text = html_to_text(title) if _TAG.search(title) else title
    return _SPACE.sub(" ", text).strip()


def _get(obj: Any, key: str) -> Any:
    getter = getattr(obj, "get", None)
    if getter is not None:
        try:
            return getter(key)
        except (KeyError, TypeError):
            pass
    return getattr(obj, key, None)


def _seen(found: list[Item]) -> list[Item]:
    return [(guid, link, seen_title(title)) for guid, link, title in found]


def json_items(body: bytes) -> list[Item]:
    _, entries = parse_json_feed(body)
    return [(e["id"] or e["link"], e["link"], e["title"]) for e in entries]


# Data.


def synthetic(kind: str, n: int) -> bytes:
    body = "".join(
        f"<p>Paragraph {p} of story {{i}}: officials in Kyiv and Brussels said on Tuesday that talks on air "
        "defence would resume, &amp; that NATO ministers would meet again next week.</p>"
        for p in range(8)
    )
    if kind == "json":
        feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Synthetic wire",
            "items": [
                {
                    "id": f"tag:wire.example,2026:{i}",
                    "url": f"https://wire.example/news/{i}",
                    "title": f"Story {i}: talks on air defence resume",
                    "content_html": body.replace("{i}", str(i)).replace("&amp;", "&"),
                    "date_published": f"2026-11-{1 + i % 28:02d}T08:00:00Z",
                    "image": f"https://wire.example/img/{i}.jpg",
                }
                for i in range(n)
            ],
        }
        return json.dumps(feed).encode()
    if kind == "rss":
        entries = "".join(
            f"<item><title>Story {i}: talks on air defence resume</title>"
            f"<link>https://wire.example/news/{i}</link>"
            f'<guid isPermaLink="false">wire-{i}</guid>'
            f"<pubDate>Tue, {1 + i % 28:02d} Nov 2026 08:00:00 GMT</pubDate>"
            f'<media:content url="https://wire.example/img/{i}.jpg" medium="image"/>'
            f"<content:encoded><![CDATA[{body.replace('{i}', str(i))}]]></content:encoded></item>"
            for i in range(n)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Synthetic wire</title>'
            f"<link>https://wire.example/</link>{entries}</channel></rss>"
        ).encode()
    entries = "".join(
        f"<entry><title>Story {i}: talks on air defence resume</title>"
        f'<link rel="alternate" href="https://wire.example/news/{i}"/>'
        f"<id>tag:wire.example,2026:{i}</id><updated>2026-11-{1 + i % 28:02d}T08:00:00Z</updated>"
        f'<content type="html">{_escape(body.replace("{i}", str(i)))}</content></entry>'
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Synthetic wire</title><id>tag:wire.example,2026:feed</id>"
        f"<updated>2026-11-30T08:00:00Z</updated>{entries}</feed>"
    ).encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def corpus_files() -> list[Path]:
    return sorted(p for p in (CORPUS / "feeds").rglob("*.xml") if p.is_file())


# Speed.


@dataclass
class Timing:
    seconds: float = 0.0
    per_feed: list[float] = field(default_factory=list)
    failed: int = 0


def time_parser(parse: Callable[[bytes], Any], bodies: Sequence[bytes], repeats: int) -> Timing:
    timing = Timing()
    gc.collect()
    for body in bodies:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            try:
                parse(body)
            except Exception:
                timing.failed += 1
                best = min(best, time.perf_counter() - start)
                break
            best = min(best, time.perf_counter() - start)
        timing.seconds += best
        timing.per_feed.append(best)
    return timing


# Correctness.


@dataclass
class Agreement:
    files: int = 0
    crashed: int = 0
    same_count: int = 0
    same_ids: int = 0
    same_links: int = 0
    same_raw_titles: int = 0
    same_titles: int = 0
    all_same: int = 0
    examples: list[str] = field(default_factory=list)


def agreement(parser: Parser, bodies: dict[str, bytes], reference: dict[str, list[Item]]) -> Agreement:
    score = Agreement()
    for name, body in bodies.items():
        score.files += 1
        want = reference[name]
        try:
            got = items(parser.parse(body))
        except Exception as exc:
            score.crashed += 1
            if len(score.examples) < 3:
                score.examples.append(f"{name}: raised {type(exc).__name__}")
            continue
        if len(got) != len(want):
            if len(score.examples) < 3:
                score.examples.append(f"{name}: {len(got)} items, feedparser {len(want)}")
            continue
        score.same_count += 1
        ids = [g[0] for g in got] == [w[0] for w in want]
        links = [g[1] for g in got] == [w[1] for w in want]
        score.same_raw_titles += [g[2] for g in got] == [w[2] for w in want]
        titles = [seen_title(g[2]) for g in got] == [seen_title(w[2]) for w in want]
        score.same_ids += ids
        score.same_links += links
        score.same_titles += titles
        score.all_same += ids and links and titles
    return score


def manifest_pass(parser: Parser) -> tuple[int, int]:
    passed = total = 0
    for line in (CORPUS / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        if case["is_http"] or not _runnable(case):
            continue
        total += 1
        raw = (CORPUS / case["path"]).read_bytes()
        data: bytes | str = _decode_per_bom(raw) if case["feedparser_input"] == "text" else raw
        try:
            result = parser.defaults(data)
            names = {k: _get(result, k) for k in ("bozo", "bozo_exception", "encoding", "version")}
            names |= {
                "feed": _get(result, "feed"),
                "entries": _get(result, "entries"),
                "feedparser": feedparser,
                "datetime": datetime,
            }
            ok = bool(eval(case["expect"], {}, names))
            if case["implicit_assert"]:
                ok = ok and bool(eval(case["implicit_assert"], {}, names))
        except Exception:
            ok = False
        passed += ok
    return passed, total


def _runnable(case: dict[str, Any]) -> bool:
    if not case["skip_unless"]:
        return True
    try:
        eval(case["skip_unless"], {"feedparser": feedparser})
    except Exception:
        return False
    return True


def _decode_per_bom(raw: bytes) -> bytes | str:
    for bom, codec in (
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xfe\xff", "utf-16-be"),
        (b"\xff\xfe", "utf-16-le"),
    ):
        if raw.startswith(bom):
            return (
                raw[len(bom) :].decode(codec.removesuffix("-sig"))
                if codec != "utf-8-sig"
                else raw.decode(codec)
            )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


# Report.


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    cli.add_argument("--repeats", type=int, default=3)
    cli.add_argument("--items", type=int, default=500)
    args = cli.parse_args()
    FEEDPARSER_CORPUS.require()

    found, missing = parsers()
    corpus = {str(p.relative_to(CORPUS)): p.read_bytes() for p in corpus_files()}
    examples = {p.name: p.read_bytes() for p in sorted(EXAMPLES.glob("*.*")) if p.suffix in {".rss", ".atom"}}
    rss, atom, jsonfeed = (synthetic(kind, args.items) for kind in ("rss", "atom", "json"))
    reference = {name: items(_feedparser(body)) for name, body in corpus.items()}
    sets: dict[str, list[bytes]] = {
        f"corpus ({len(corpus)} files)": list(corpus.values()),
        f"examples/ ({len(examples)} feeds)": list(examples.values()),
        f"synthetic RSS 2.0 ({args.items} items)": [rss],
        f"synthetic Atom 1.0 ({args.items} items)": [atom],
    }
    counts = {label: sum(len(items(_feedparser(b))) for b in bodies) for label, bodies in sets.items()}
    print(f"# Feed parsers ({', '.join(f'{p.name}' for p in found)}; best of {args.repeats} per file)\n")
    if missing:
        print(f"Not installed, skipped: {', '.join(missing)}\n")

    print("| data | parser | total ms | median ms/feed | items/s | x feedparser | raised |")
    print("|---|---|---:|---:|---:|---:|---:|")
    speedups: dict[str, list[float]] = {p.name: [] for p in found}
    for label, bodies in sets.items():
        base = None
        for parser in found:
            t = time_parser(parser.parse, bodies, args.repeats)
            base = base or t.seconds
            ratio = base / t.seconds if t.seconds else float("inf")
            if "synthetic" in label or "examples" in label:
                speedups[parser.name].append(ratio)
            print(
                f"| {label} | {parser.name} | {t.seconds * 1000:.1f} | "
                f"{statistics.median(t.per_feed) * 1000:.3f} | {counts[label] / t.seconds:,.0f} | "
                f"{ratio:.2f} | {t.failed} |"
            )
    json_label = f"synthetic JSON Feed ({args.items} items)"
    t_ours = time_parser(parse_json_feed, [jsonfeed], args.repeats)
    print(
        f"| {json_label} | bot jsonfeed (baseline) | {t_ours.seconds * 1000:.1f} | | "
        f"{args.items / t_ours.seconds:,.0f} | 1.00 | 0 |"
    )
    json_same: dict[str, bool] = {}
    for parser in found[1:]:
        t = time_parser(parser.parse, [jsonfeed], args.repeats)
        got = _seen(items(parser.parse(jsonfeed)))
        json_same[parser.name] = t.failed == 0 and got == _seen(json_items(jsonfeed))
        print(
            f"| {json_label} | {parser.name} | {t.seconds * 1000:.1f} | | {args.items / t.seconds:,.0f} | "
            f"{t_ours.seconds / t.seconds:.2f} | {t.failed} |"
        )

    whole = time_parser(lambda b: parse_feed(b), [rss], args.repeats).seconds
    alone = time_parser(_feedparser, [rss], args.repeats).seconds
    print(
        f"\nfeedparser is {alone / whole:.0%} of the bot's parse_feed time on the synthetic RSS feed "
        f"(the rest is HTML cleaning); a parser N times faster saves at most that share.\n"
    )

    print(
        "| parser (vs feedparser, corpus) | crashed | same count | same ids | same links | same raw titles "
        "| same titles as shown | all same | examples/ + synthetic same | JSON Feed same as ours | manifest |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|---:|")
    verdicts = []
    fp_pass, fp_total = manifest_pass(found[0])
    print(
        "| feedparser | - | - | - | - | - | - | - | - | n/a | "
        f"{fp_pass}/{fp_total} ({fp_pass / fp_total:.1%}) |"
    )
    small = {**examples, "synthetic.rss": rss, "synthetic.atom": atom}
    small_ref = {name: items(_feedparser(body)) for name, body in small.items()}
    for parser in found[1:]:
        score = agreement(parser, corpus, reference)
        small_score = agreement(parser, small, small_ref)
        passed, total = manifest_pass(parser)
        n = score.files

        def pct(value: int, n: int = n) -> str:
            return f"{value / n:.1%}"

        print(
            f"| {parser.name} | {score.crashed} | {pct(score.same_count)} | {pct(score.same_ids)} | "
            f"{pct(score.same_links)} | {pct(score.same_raw_titles)} | {pct(score.same_titles)} | "
            f"{pct(score.all_same)} | "
            f"{'yes' if small_score.all_same == small_score.files else 'NO'} | "
            f"{'yes' if json_same.get(parser.name) else 'NO'} | {passed}/{total} ({passed / total:.1%}) |"
        )
        for example in score.examples:
            print(f"|   e.g. {example} | | | | | | | | | | |")
        fast = min(speedups[parser.name], default=0.0)
        agrees = score.all_same / n
        if score.crashed == 0 and agrees >= MIN_AGREEMENT and fast >= MIN_SPEEDUP:
            verdicts.append(
                f"**switch to {parser.name}**: {fast:.1f}x faster, agrees on {agrees:.1%} of files"
            )
        else:
            why = []
            if score.crashed:
                why.append(f"raises on {score.crashed} feeds feedparser parses")
            if agrees < MIN_AGREEMENT:
                why.append(f"agrees on only {agrees:.1%} of corpus files (needs {MIN_AGREEMENT:.1%})")
            if fast < MIN_SPEEDUP:
                why.append(f"only {fast:.2f}x faster on realistic feeds (needs {MIN_SPEEDUP}x)")
            verdicts.append(f"{parser.name}: not a replacement: {'; '.join(why)}")

    print("\n## Recommendation\n")
    for verdict in verdicts:
        print(f"- {verdict}")
    if not any(v.startswith("**switch") for v in verdicts):
        print(
            "- **keep feedparser** in production: no faster parser kept correctness on its own test corpus."
        )


if __name__ == "__main__":
    main()

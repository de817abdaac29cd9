"""The command line: ``run``, ``check``, ``health``, ``replay``, ``feed``, ``feeds``, ``store``. The only
place that exits the process.

Exit codes: 0 success, 2 a user error (bad config, bad query, unreadable input), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO, TypeVar

from bot.app import App
from bot.assembly import build_aliases
from bot.config import Config, load_config
from bot.core.errors import ConfigError, FeedError, InputError, NewsBotError, QueryError, StoreOpenError
from bot.ingest.fetch import HttpLimits
from bot.ingest.inspect import inspect_feed, item_line, plain_text, summary_line
from bot.ingest.opml import OpmlFeed, new_feeds, parse_opml, render_opml
from bot.ingest.safety import UrlPolicy
from bot.logs import setup_logging
from bot.processing.replay import LineError, Replayer, read_queries
from bot.store import open_store, transfer
from bot.store.base import Store
from bot.store.location import describe, scheme
from bot.summarise.extractive import ExtractiveSummariser

log = logging.getLogger("bot")

USER_ERROR = 2
T = TypeVar("T")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if hasattr(args, "config_path"):
        if args.config_path and args.config and args.config_path != args.config:
            parser.error(f"two config files given ({args.config_path} and --config {args.config}): give one")
        args.config = args.config_path or args.config or default_config()
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print(f"config error in {args.config}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return USER_ERROR
    except (QueryError, InputError, StoreOpenError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR
    except NewsBotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description="News alerts for Slack, Discord and the terminal."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot")
    _config_arguments(run)
    run.add_argument("--once", action="store_true", help="run one full cycle (poll, match, deliver) and exit")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="validate a config file")
    _config_arguments(check)
    check.set_defaults(func=cmd_check)

    health = sub.add_parser("health", help="ask a running bot's GET /healthz (exit 0 healthy, 1 not)")
    _config_arguments(health)
    health.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (default: 5)")
    health.set_defaults(func=cmd_health)

    replay = sub.add_parser(
        "replay", help="run articles from a JSONL file through cleaning, matching, summaries"
    )
    replay.add_argument("articles", help="JSONL file, one article a line ('-' for stdin)")
    replay.add_argument("--query", action="append", default=[], help="a query (repeatable)")
    replay.add_argument("--queries", help="file with one query a line")
    replay.add_argument("--config", default=None, help="config file for aliases and summary settings")
    replay.add_argument("--out", help="output JSONL file (default: stdout)")
    replay.set_defaults(func=cmd_replay)

    feed = sub.add_parser("feed", help="print what the bot sees in a feed, one JSON object an item")
    feed.add_argument("location", metavar="PATH_OR_URL", help="a feed file, or an http(s) URL to fetch once")
    feed.add_argument(
        "--config", default=None, help="config file for the polling timeout, body cap and allowed hosts"
    )
    feed.set_defaults(func=cmd_feed)

    feeds = sub.add_parser("feeds", help="import or export the stored feeds as OPML")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    opml_in = feeds_sub.add_parser(
        "import", help="add every feed of an OPML file (already known ones are kept)"
    )
    opml_in.add_argument("file", metavar="FILE.opml")
    _config_arguments(opml_in, positional=False)
    opml_in.set_defaults(func=cmd_feeds_import)
    opml_out = feeds_sub.add_parser("export", help="write every stored feed as OPML 2.0")
    opml_out.add_argument("--out", help="output file (default: stdout)")
    _config_arguments(opml_out, positional=False)
    opml_out.set_defaults(func=cmd_feeds_export)

    store = sub.add_parser("store", help="migrate, back up, or move the store to PostgreSQL")
    store_sub = store.add_subparsers(dest="store_command", required=True)
    migrate = store_sub.add_parser("migrate", help="apply the schema migrations now (run does it at start)")
    _config_arguments(migrate, positional=False)
    migrate.set_defaults(func=cmd_store_migrate)
    backup = store_sub.add_parser("backup", help="write a consistent copy of the store (SQLite or pg_dump)")
    backup.add_argument("out", metavar="FILE", help="a new file")
    _config_arguments(backup, positional=False)
    backup.set_defaults(func=cmd_store_backup)
    copy = store_sub.add_parser(
        "copy", help="copy a SQLite store into PostgreSQL (only what is missing: run it again at will)"
    )
    copy.add_argument("sqlite_path", metavar="SQLITE_PATH")
    copy.add_argument("postgres_url", metavar="POSTGRES_URL")
    copy.set_defaults(func=cmd_store_copy)
    return parser


def cmd_store_migrate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    asyncio.run(_with_store(config, lambda store: asyncio.sleep(0)))
    print(f"{describe(config.store_location())}: schema up to date")
    return 0


def cmd_store_backup(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    transfer.backup(config.store_location(), Path(args.out))
    print(f"{describe(config.store_location())}: copied to {args.out}")
    return 0


def cmd_store_copy(args: argparse.Namespace) -> int:
    if scheme(args.postgres_url) == "sqlite":
        raise InputError(f"{args.postgres_url!r} is not a postgresql:// URL")
    reports = asyncio.run(transfer.copy_sqlite_to_postgres(args.sqlite_path, args.postgres_url))
    for report in reports:
        print(f"{report.table}: {report.read} read, {report.added} added")
    print(f"{args.sqlite_path} copied to {describe(args.postgres_url)}; point store.url at it")
    return 0


def default_config() -> str:
    """``$NEWSBOT_CONFIG``, else ``config.yaml``: what a container sets once for its CMD and HEALTHCHECK."""
    return os.environ.get("NEWSBOT_CONFIG") or "config.yaml"


def _config_arguments(parser: argparse.ArgumentParser, *, positional: bool = True) -> None:
    """``newsbot check config.yaml`` and ``newsbot check --config config.yaml`` are the same."""
    where = "config file (default: $NEWSBOT_CONFIG, else config.yaml)"
    if positional:
        parser.add_argument("config_path", nargs="?", metavar="CONFIG", help=where)
        parser.add_argument("--config", help="the same, as an option")
    else:
        parser.add_argument("--config", help=where)
        parser.set_defaults(config_path=None)


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(f"{args.config}: OK ({len(config.feeds)} feeds, {len(config.subscriptions)} subscriptions)")
    secret_env = config.web.webhook_secret_env
    if config.web.enabled and not os.environ.get(secret_env):
        print(f"note: {secret_env} is not set, so push intake (POST /articles) will be off", file=sys.stderr)
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """The container's HEALTHCHECK: asks the bot's own web server, at the address in its config. Every
    failure exits 1, a bad config included: Docker reserves exit code 2 of a health check."""
    try:
        web_config = load_config(args.config).web
    except ConfigError as exc:
        print(f"unhealthy: config error in {args.config}: {exc.problems[0]}", file=sys.stderr)
        return 1
    if not web_config.enabled or not web_config.port:
        print(
            f"unhealthy: {args.config} turns the web server off (web.enabled, web.port), so there is "
            "no /healthz to ask",
            file=sys.stderr,
        )
        return 1
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(web_config.host, web_config.host)
    url = f"http://{f'[{host}]' if ':' in host else host}:{web_config.port}/healthz"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with direct.open(url, timeout=args.timeout) as response:
            status = json.load(response).get("status")
    except urllib.error.HTTPError as exc:
        reasons = _reasons(exc)
        print(f"unhealthy: {url} answered HTTP {exc.code}{': ' if reasons else ''}{reasons}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"unhealthy: {url}: {exc.reason}", file=sys.stderr)
        return 1
    except (OSError, ValueError, AttributeError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if status != "ok":
        print(f"unhealthy: {url} says status {status!r}", file=sys.stderr)
        return 1
    print(f"healthy: {url}")
    return 0


def _reasons(answer: urllib.error.HTTPError) -> str:
    """The ``reasons`` of an unhealthy bot's JSON answer, joined; empty when it gives none."""
    try:
        reasons = json.loads(answer.read(65536)).get("reasons")
    except (OSError, ValueError, AttributeError):
        return ""
    return "; ".join(str(r) for r in reasons) if isinstance(reasons, list) else ""


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    setup_logging(config.logging.level, config.logging.format)
    return asyncio.run(_run(config, once=args.once))


async def _run(config: Config, *, once: bool) -> int:
    app = await App.build(config)
    try:
        if once:
            await app.run_cycle(force=True)
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await app.start()
        log.info("running; press Ctrl-C to stop")
        await app.run_until_stopped(stop)
        return 0
    finally:
        await app.close()


def cmd_replay(args: argparse.Namespace) -> int:
    queries = list(args.query)
    if args.queries:
        queries += read_queries(_read_lines(args.queries))
    config = load_config(args.config) if args.config else Config()
    replayer = Replayer(
        queries,
        build_aliases(config),
        ExtractiveSummariser(max_sentences=config.summary.max_sentences, max_chars=config.summary.max_chars),
    )
    lines: Iterator[str] = iter(sys.stdin) if args.articles == "-" else _read_lines(args.articles)
    if sys.stderr.isatty():
        from tqdm import tqdm

        lines = iter(tqdm(lines, desc="replay", unit=" articles", file=sys.stderr))
    with _output(args.out) as out:
        bad = 0
        for result in replayer.run(lines):
            if isinstance(result, LineError):
                bad += 1
                print(f"{args.articles}: {result}; skipped", file=sys.stderr)
                continue
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
    if bad:
        print(f"{bad} bad line(s) skipped", file=sys.stderr)
    return 0


def cmd_feed(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else Config()
    try:
        limits = HttpLimits(config.polling.timeout, config.polling.max_body_bytes, config.polling.user_agent)
        policy = UrlPolicy(config.safety.allow_hosts)
        parsed = asyncio.run(inspect_feed(args.location, limits=limits, policy=policy))
    except FeedError as exc:
        if exc.retryable:  # the network or the server failed: not the user's mistake
            raise FeedError(f"{args.location}: {exc}") from exc
        raise InputError(f"{args.location}: {exc}") from exc
    for warning in parsed.warnings:
        print(f"warning: {plain_text(warning)}", file=sys.stderr)
    print(summary_line(args.location, parsed), file=sys.stderr)
    try:
        for article in parsed.articles:
            sys.stdout.write(item_line(article) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        _silence_stdout()
    return 0


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def cmd_feeds_import(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        body = Path(args.file).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {args.file}: {exc.strerror}") from exc
    try:
        feeds = parse_opml(body)
    except InputError as exc:
        raise InputError(f"{args.file}: {exc}") from exc
    added = asyncio.run(_with_store(config, lambda store: _import_feeds(store, feeds)))
    known = len(feeds) - len(added)
    print(f"{args.file}: {len(added)} feed(s) added, {known} already known")
    return 0


async def _import_feeds(store: Store, feeds: list[OpmlFeed]) -> list[OpmlFeed]:
    added = new_feeds(feeds, (feed.url for feed in await store.list_feeds()))
    for feed in added:
        await store.upsert_feed(feed.url, feed.title)
    return added


def cmd_feeds_export(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    stored = asyncio.run(_with_store(config, lambda store: store.list_feeds()))
    document = render_opml([OpmlFeed(url=f.url, title=f.name) for f in stored], title="newsbot feeds")
    if args.out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    else:
        try:
            Path(args.out).write_bytes(document)
        except OSError as exc:
            raise InputError(f"cannot write {args.out}: {exc.strerror}") from exc
        print(f"{args.out}: {len(stored)} feed(s) exported", file=sys.stderr)
    return 0


async def _with_store(config: Config, action: Callable[[Store], Awaitable[T]]) -> T:
    store = await open_store(config.store_location())
    try:
        return await action(store)
    finally:
        await store.close()


def _read_lines(path: str) -> Iterator[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            yield from handle
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        handle = Path(path).open("w", encoding="utf-8")  # noqa: SIM115 - closed below, error wrapped here
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from exc
    with handle:
        yield handle


if __name__ == "__main__":
    sys.exit(main())

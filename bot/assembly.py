"""The parts the composition root (:mod:`bot.app`) builds from the config besides the app itself: the
alias table, the summariser, the feed reader for HTTP, the poller, full text and the delivery worker."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping

import aiohttp

from bot.config import Config, SummaryConfig
from bot.core.errors import ConfigError, ConfigProblem
from bot.delivery.notify import NotifierRegistry
from bot.delivery.worker import DeliveryWorker, RetryPolicy, SendMetrics
from bot.ingest.extract import ArticlePageFetcher
from bot.ingest.fetch import HttpReader, ReaderRegistry
from bot.ingest.fulltext import FullText
from bot.ingest.poller import FeedPoller, PollPolicy
from bot.matching import AliasTable, default_aliases
from bot.store.base import Store
from bot.summarise import Summariser
from bot.summarise.extractive import ExtractiveSummariser
from bot.summarise.llm import LlmSummariser

log = logging.getLogger(__name__)


def build_aliases(config: Config) -> AliasTable:
    groups = [list(g) for g in config.matching.aliases]
    if config.matching.default_aliases:
        return default_aliases().extended(groups)
    return AliasTable.from_groups(groups)


def build_summariser(
    config: SummaryConfig, session: aiohttp.ClientSession | None, env: Mapping[str, str]
) -> Summariser:
    """The configured summariser: extractive, or (``llm.enabled``) an :class:`LlmSummariser` falling back
    to it. ``session`` is for the LLM requests; ``None`` lets the summariser own one (close it with
    :func:`close_summariser`). The API key is read from ``env[llm.api_key_env]``. Raises
    :class:`ConfigError` for a missing key or a base URL that is not http(s)."""
    extractive = ExtractiveSummariser(max_sentences=config.max_sentences, max_chars=config.max_chars)
    llm = config.llm
    if not llm.enabled:
        return extractive
    api_key = env.get(llm.api_key_env, "").strip()
    if not api_key:
        raise ConfigError(
            [ConfigProblem("summary.llm.api_key_env", f"environment variable {llm.api_key_env} is not set")]
        )
    try:
        summariser = LlmSummariser(
            session,
            llm.base_url,
            llm.model,
            api_key,
            llm.timeout,
            llm.max_input_chars,
            config.max_chars,
            extractive,
        )
    except ValueError as exc:
        raise ConfigError([ConfigProblem("summary.llm.base_url", str(exc))]) from exc
    if summariser.url.scheme == "http" and not _is_loopback(summariser.url.host or ""):
        log.warning(
            "summary.llm.base_url is plain http: the API key is sent to %s unencrypted", summariser.url.host
        )
    log.info("llm summaries from %s (model %s); extractive summary on any failure", summariser.url, llm.model)
    return summariser


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def http_reader(config: Config, session: aiohttp.ClientSession, *, timeout: float) -> HttpReader:
    """Feeds are fetched with the polling limits: by the poller, and for ``/news feeds add``."""
    return HttpReader(
        session,
        timeout=timeout,
        max_body_bytes=config.polling.max_body_bytes,
        user_agent=config.polling.user_agent,
        per_host=config.polling.per_host,
    )


def build_poller(config: Config, store: Store, readers: ReaderRegistry, worker: str) -> FeedPoller:
    polling = config.polling
    policy = PollPolicy(
        interval=polling.interval,
        min_interval=polling.min_interval,
        max_interval=polling.max_interval,
        max_backoff=polling.max_backoff,
        concurrency=polling.concurrency,
        max_age=polling.max_age,
        notify_after=config.feed_health.notify_after,
        pause_after=config.feed_health.pause_after,
    )
    return FeedPoller(store, readers, policy, owner=worker, lease=config.store.lease)


def build_full_text(config: Config, session: aiohttp.ClientSession) -> FullText | None:
    """Article pages fetched for teaser-only items, when ``extraction.enabled``."""
    if not config.extraction.enabled:
        return None
    pages = ArticlePageFetcher(
        session,
        timeout=config.extraction.timeout,
        max_body_bytes=config.polling.max_body_bytes,
        user_agent=config.polling.user_agent,
    )
    return FullText(pages, min_chars=config.extraction.min_body_chars)


def build_delivery(
    config: Config, store: Store, notifiers: NotifierRegistry, worker: str, metrics: SendMetrics | None
) -> DeliveryWorker:
    delivery = config.delivery
    return DeliveryWorker(
        store,
        notifiers,
        RetryPolicy(give_up_after=delivery.give_up_after, base=delivery.retry_base, cap=delivery.retry_max),
        batch=delivery.batch,
        channel_rate=delivery.channel_rate,
        paced={name for name, section in config.platforms.sections() if section.paced},
        owner=worker,
        lease=config.store.lease,
        metrics=metrics,
    )

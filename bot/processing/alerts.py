"""From matches to alerts: one alert per channel per story. Pure."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

from bot.core.models import MODES, Alert, Article, ChannelRef, Match, Summary, unique_terms


def alert_id(channel: ChannelRef, story_id: str) -> str:
    """Deterministic, so a second article of the same story maps onto the same outbox row."""
    return hashlib.sha256(f"{channel.key}\0{story_id}".encode()).hexdigest()[:32]


def focus_terms(matches: Sequence[Match]) -> tuple[str, ...]:
    return unique_terms([span for m in matches for span in m.spans])


def build_alerts(article: Article, story_id: str, matches: Sequence[Match], summary: Summary) -> list[Alert]:
    """Group the matches by channel; each channel gets one alert naming every query that fired there
    and every word that matched."""
    by_channel: dict[ChannelRef, list[Match]] = defaultdict(list)
    for match in matches:
        by_channel[match.subscription.channel].append(match)
    alerts = []
    for channel, group in by_channel.items():
        queries = tuple(dict.fromkeys(m.subscription.query for m in group))
        mention = next((m.subscription.mention for m in group if m.subscription.mention), "")
        mode = min((m.subscription.mode for m in group), key=MODES.index)
        alerts.append(
            Alert(
                id=alert_id(channel, story_id),
                channel=channel,
                story_id=story_id,
                title=article.title,
                url=article.url,
                source=article.source,
                summary=summary.text,
                terms=focus_terms(group),
                queries=queries,
                published=article.published,
                image_url=article.image_url,
                mention=mention,
                mode=mode,
                thread=any(m.subscription.thread for m in group),
            )
        )
    return alerts


def notice_alerts(
    feed_url: str, feed_name: str, message: str, channels: Sequence[ChannelRef], now: float
) -> list[Alert]:
    """A message about a feed (failing, paused, recovered) for each channel that added it."""
    label = feed_name or feed_url
    story = f"notice:{feed_url}:{now:.0f}"
    return [
        Alert(
            id=alert_id(channel, story),
            channel=channel,
            story_id=story,
            title=f"Feed {label} {message}",
            url=feed_url,
            source=label,
            summary=f"The feed {feed_url} {message}.",
            terms=(),
            queries=(),
            kind="notice",
        )
        for channel in channels
    ]

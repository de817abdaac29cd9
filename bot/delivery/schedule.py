"""When a channel's alerts go out: now, held while the channel is muted, or gathered into an hourly or
daily digest. Alerts held by a mute come out together as one digest when it ends, so unmuting never
floods a channel. Digests keep the channel's own clock (``/news timezone``): daily at 08:00 there, hourly
at the top of its hours (in Asia/Kolkata, half past the UTC hour). Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from bot.core.models import MODES, Alert, Headline, Mode, mode_named
from bot.core.zones import UTC_NAME, zone
from bot.store import ChannelSettings, OutboxItem

DAILY_HOUR = 8
"""The daily digest's hour, in the channel's time zone."""
DIGEST_LINES = 25
_STEP = timedelta(minutes=15)
"""Every UTC offset in use is a whole number of quarter hours (Asia/Kathmandu: +5:45)."""


def next_digest_time(schedule: str, after: float, timezone: str = UTC_NAME) -> float:
    """The first digest slot strictly after ``after`` in the zone named ``timezone`` (UTC when unknown):
    the next top of a local hour, or the next 08:00 local time."""
    tz = zone(timezone)
    if schedule == "hourly":
        # The first quarter hour, in UTC, whose local time is on the hour: right across DST changes.
        utc = datetime.fromtimestamp(after, tz=UTC).replace(second=0, microsecond=0)
        slot = utc + timedelta(minutes=15 - utc.minute % 15)
        for _ in range(4):
            if slot.astimezone(tz).minute == 0:
                return slot.timestamp()
            slot += _STEP
        # An offset off the quarter hours (none in use today): the top of the next UTC hour.
        return (utc.replace(minute=0) + timedelta(hours=1)).timestamp()
    day = datetime.fromtimestamp(after, tz=tz).date()
    slot = datetime.combine(day, time(DAILY_HOUR), tzinfo=tz)
    if slot.timestamp() <= after:
        slot = datetime.combine(day + timedelta(days=1), time(DAILY_HOUR), tzinfo=tz)
    return slot.timestamp()


def effective_mode(alert: Alert, settings: ChannelSettings) -> Mode:
    """A channel digest overrides instant subscriptions; otherwise the alert's own mode."""
    if alert.kind != "article":
        return "instant"
    channel = mode_named(settings.digest)
    if channel is not None and channel != "instant":
        return channel
    return alert.mode if alert.mode in MODES else "instant"


@dataclass(slots=True)
class Plan:
    send: list[OutboxItem] = field(default_factory=list)
    digests: list[list[OutboxItem]] = field(default_factory=list)
    """Per channel, what is ready to go together: a mute that has ended, a digest that is due. A group
    of one is sent as itself; the worker completes each group with the channel's other ready items that
    did not fit in the batch."""
    defer: list[tuple[OutboxItem, float]] = field(default_factory=list)
    folded: list[list[OutboxItem]] = field(default_factory=list)
    """Flood control's digests (:mod:`bot.delivery.flood`): the newest alerts of a channel, sent after
    its other messages."""


def plan(items: Sequence[OutboxItem], settings: Mapping[str, ChannelSettings], now: float) -> Plan:
    """Sort due items into sent now, gathered into per-channel digests, or held until a time."""
    result = Plan()
    gathered: dict[str, list[OutboxItem]] = {}
    for item in items:
        channel = item.alert.channel.key
        config = settings.get(channel, ChannelSettings())
        if item.alert.kind != "article":
            result.send.append(item)
            continue
        if config.muted_until > now:
            result.defer.append((item, config.muted_until))
            continue
        mode = effective_mode(item.alert, config)
        if mode != "instant":
            slot = next_digest_time(mode, item.created_at, config.timezone)
            if slot > now:
                result.defer.append((item, slot))
                continue
            gathered.setdefault(channel, []).append(item)
        elif item.created_at < config.muted_until:  # held by a mute that has ended
            gathered.setdefault(channel, []).append(item)
        else:
            result.send.append(item)
    result.digests.extend(gathered.values())
    return result


def digest_alert(items: Sequence[OutboxItem]) -> Alert:
    """One message standing for several alerts of one channel."""
    alerts = [i.alert for i in items]
    first = alerts[0]
    lines = [f"• {a.title} — {a.source}: {a.url}" if a.url else f"• {a.title} — {a.source}" for a in alerts]
    if len(lines) > DIGEST_LINES:
        lines = [*lines[:DIGEST_LINES], f"…and {len(lines) - DIGEST_LINES} more"]
    digest_id = hashlib.sha256("\0".join(a.id for a in alerts).encode()).hexdigest()[:32]
    return Alert(
        id=digest_id,
        channel=first.channel,
        story_id="digest:" + first.story_id,
        title=f"{len(alerts)} new articles",
        url="",
        source="digest",
        summary="\n".join(lines),
        terms=tuple(dict.fromkeys(t for a in alerts for t in a.terms)),
        queries=tuple(dict.fromkeys(q for a in alerts for q in a.queries)),
        mention=first.mention,
        kind="digest",
        headlines=tuple(Headline(a.title, a.url, a.source) for a in alerts),
    )

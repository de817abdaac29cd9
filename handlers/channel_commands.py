"""The /news commands about a whole channel's delivery: ``mute``, ``digest``, ``timezone`` and ``status``.
Each returns the reply's text (``status``: the reply) or raises :class:`CommandError`;
:class:`handlers.commands.CommandService` checks who may run it."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.core.durations import parse_duration
from bot.core.errors import CommandError
from bot.core.models import ChannelRef, digest_schedule_named
from bot.core.zones import UTC_NAME, local_time, similar_zones, zone_named
from bot.delivery.schedule import DAILY_HOUR, next_digest_time
from bot.store.base import Store
from handlers.replies import Line, Outside, Reply, Section, reply

MIN_MUTE = 60.0
MAX_MUTE = 30 * 86400.0
ZONE_EXAMPLE = "/news timezone Europe/Kyiv"


class ChannelCommands:
    def __init__(self, store: Store, wake: Callable[[], None]) -> None:
        self.store = store
        self.wake = wake

    async def mute(self, channel: ChannelRef, duration: str) -> tuple[str, bool]:
        """The reply, and whether the channel changed (the reply is then for the whole channel)."""
        duration = duration.strip().lower()
        settings = await self.store.channel_settings(channel)
        if duration in ("off", "0", "none", "unmute"):
            now = time.time()
            if settings.muted_until <= now:
                return "This channel is not muted.", False
            held = await self.store.end_mute(channel, now)
            self.wake()
            what = f"the {held} alert(s) held come now as one digest" if held else "nothing was held"
            return f"Alerts are back on for this channel; {what}.", True
        try:
            # A unit is required here ("mute 30" is not 30 seconds): the config's grammar, minus bare numbers.
            seconds = parse_duration(duration) if duration[-1:].isalpha() else 0.0
        except ValueError:
            seconds = 0.0
        if not MIN_MUTE <= seconds <= MAX_MUTE:
            raise CommandError(
                "Say how long to mute, e.g. /news mute 2h (90s, 30m, 2h, 1d; 1 minute to 30 days), "
                "or /news mute off."
            )
        until = time.time() + seconds
        await self.store.set_mute(channel, until)
        until_text = local_time(until, settings.timezone)
        return f"Muted until {until_text}. Alerts are kept and come as one digest then.", True

    async def digest(self, channel: ChannelRef, text: str) -> str:
        schedule = digest_schedule_named(text)
        if schedule is None:
            raise CommandError("Say off, hourly or daily, e.g. /news digest daily.")
        await self.store.set_digest(channel, schedule)
        if schedule == "off":
            return "Digest off: alerts are posted as they come."
        zone = (await self.store.channel_settings(channel)).timezone
        return f"This channel now gets one digest {digest_times(schedule, zone)}."

    async def timezone(self, channel: ChannelRef, text: str) -> str:
        name = zone_named(text)
        if name is None:
            close = similar_zones(text)
            hint = f"Did you mean {' or '.join(close)}? " if close else ""
            raise CommandError(
                f"I don't know the time zone {text.strip()!r}. {hint}Give its IANA name, e.g. "
                f"{ZONE_EXAMPLE} or /news timezone America/New_York (or UTC)."
            )
        await self.store.set_timezone(channel, name)
        return (
            f"This channel's time zone is now {name}: daily digests come at {DAILY_HOUR:02d}:00 there, "
            "hourly ones at the top of its hours, and times are shown in it."
        )

    async def current_timezone(self, channel: ChannelRef) -> str:
        name = (await self.store.channel_settings(channel)).timezone
        return (
            f"This channel's time zone is {name}. Change it with /news timezone <zone>, e.g. {ZONE_EXAMPLE}"
        )

    async def status(self, channel: ChannelRef) -> Reply:
        """What the channel's admins need when alerts do not arrive: what is queued, held and failed,
        with the last error and the last alert posted; and when its digests come, in its time zone."""
        now = time.time()
        outbox = await self.store.channel_outbox(channel, now)
        settings = await self.store.channel_settings(channel)
        zone = settings.timezone
        lines: list[Line] = [
            (
                f"Alerts for this channel: {outbox.due} going out now, {outbox.held} held for later, "
                f"{outbox.failed} could not be delivered.",
            )
        ]
        if settings.muted_until > now:
            lines.append((f"Muted until {local_time(settings.muted_until, zone)}.",))
        if settings.digest != "off":
            upcoming = local_time(next_digest_time(settings.digest, now, zone), zone)
            lines.append((f"Alerts come as a {settings.digest} digest; the next one at {upcoming}.",))
        if outbox.last_error:
            lines.append(("Last error: ", Outside(outbox.last_error)))
        posted = local_time(outbox.last_sent_at, zone) if outbox.last_sent_at else "none yet"
        lines.append((f"Last alert posted: {posted}.",))
        lines.append((f"Time zone: {zone}" + (" (set one with /news timezone)" if zone == UTC_NAME else ""),))
        return reply(Section(lines=tuple(lines)))


def digest_times(schedule: str, zone: str) -> str:
    """``every day at 08:00 Europe/Kyiv time``: when a digest comes, on the channel's clock."""
    where = "UTC" if zone == UTC_NAME else f"{zone} time"
    if schedule == "hourly":
        return "at the top of every hour" + ("" if zone == UTC_NAME else f" ({where})")
    return f"every day at {DAILY_HOUR:02d}:00 {where}"

"""Time zones by their IANA names (``Europe/Kyiv``, ``Asia/Kolkata``): what a person typed, checked
against zoneinfo's database, and a time shown in a zone. A channel keeps its zone's name; digests are
scheduled in it (:mod:`bot.delivery.schedule`)."""

from __future__ import annotations

import difflib
import functools
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UTC_NAME = "UTC"
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@functools.cache
def _names() -> dict[str, str]:
    """Every zone name, keyed by its case-folded self."""
    names = {
        n for n in available_timezones() if n not in _NOT_ZONES and not n.startswith(("posix/", "right/"))
    }
    return {n.casefold(): n for n in sorted(names | {UTC_NAME})}


@functools.cache
def _cities() -> dict[str, str]:
    """``kyiv`` -> ``Europe/Kyiv``: the last part of each name, where only one zone ends in it."""
    found: dict[str, list[str]] = {}
    for name in _names().values():
        if "/" in name:
            found.setdefault(name.rsplit("/", 1)[1].casefold(), []).append(name)
    return {city: names[0] for city, names in found.items() if len(names) == 1}


def zone_named(text: str) -> str | None:
    """The zone name a person meant: ``europe/kyiv``, ``Kyiv`` and ``new york`` are ``Europe/Kyiv`` and
    ``America/New_York``; None when no zone has that name."""
    key = "_".join(text.strip().split()).casefold()
    if not key:
        return None
    return _names().get(key) or _cities().get(key)


def similar_zones(text: str, n: int = 3) -> list[str]:
    """Zone names close to a mistyped one (``Europe/Kyev`` -> ``Europe/Kyiv``), best first."""
    key = "_".join(text.strip().split()).casefold()
    names, cities = _names(), _cities()
    close = difflib.get_close_matches(key, [*names, *cities], n=n, cutoff=0.75)
    return list(dict.fromkeys(names.get(k) or cities[k] for k in close))


def zone(name: str) -> ZoneInfo:
    """The zone of a stored name; UTC for an empty or unknown one (a database without it), so that a
    schedule is always computable. Its ``key`` is the name it was found by."""
    try:
        return ZoneInfo(name or UTC_NAME)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(UTC_NAME)


def local_time(when: float, name: str, *, year: bool = False) -> str:
    """``24 Nov 10:00 UTC``, ``24 Nov 12:00 Europe/Kyiv``: a moment as a channel reads it; with
    ``year``, ``24 Nov 2026 12:00 Europe/Kyiv`` (for what may be long past, such as an article)."""
    tz = zone(name)
    return (
        datetime.fromtimestamp(when, tz=tz).strftime("%d %b %Y %H:%M " if year else "%d %b %H:%M ") + tz.key
    )


def zones_matching(text: str, limit: int = 25) -> list[str]:
    """Zone names for autocomplete: those starting with ``text`` (or with a part after a ``/`` that does:
    ``kol`` finds ``Asia/Kolkata``), then those containing it; case-blind, at most ``limit``."""
    key = "_".join(text.strip().split()).casefold()
    names = _names()
    starts = [
        n for k, n in names.items() if k.startswith(key) or any(p.startswith(key) for p in k.split("/"))
    ]
    inside = [n for k, n in names.items() if key in k and n not in starts]
    return (starts + inside)[:limit]

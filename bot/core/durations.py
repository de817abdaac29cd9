"""Durations as people write them, one grammar for the config file and for chat commands: ``90s``,
``15m``, ``2h``, ``7d``, ``500ms``, or a bare number of seconds."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|m|min|mins|h|hr|hrs|d)?\s*$", re.IGNORECASE)
_SECONDS = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "d": 86400.0,
}
EXAMPLES = "90s, 15m, 6h or 7d"


def parse_duration(text: str) -> float:
    """Seconds. Raises :class:`ValueError` naming the text and the accepted forms."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (write e.g. {EXAMPLES})")
    unit = (match.group(2) or "s").lower()
    return float(match.group(1)) * _SECONDS[unit]

"""Reading the short durations people write in sources.yaml: `15m`, `1h30m`, `2d`, `90s`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)\s*([smhdw])")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[smhdw]\s*)+$")


def parse_duration(text: str) -> timedelta:
    """Parse `15m`, `1h30m`, `2d`, `1w`, `90s` into a positive timedelta.

    Raises ValueError with a message meant for a person writing the config.
    """
    cleaned = text.strip().lower()
    if not _WHOLE.match(cleaned):
        raise ValueError(
            f"cannot read {text!r} as a duration; write a number and a unit, e.g. 15m, 1h, 2d"
        )
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The inverse of parse_duration, for status lines: 5400s -> `1h30m`."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)

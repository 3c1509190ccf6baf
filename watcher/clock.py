"""Time, as watcher sees it: the wall clock for timestamps and schedules, and waiting.

Everything that asks the time or waits takes a `Clock`; the real one is `SystemClock`. Tests
hand in a clock they move by hand, so nothing in the suite waits for the wall clock to age.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from watcher import stopping


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> bool:
        """Wait up to `seconds`, waking early on a stop request; True if one came."""
        ...


class SystemClock:
    """The wall clock; waiting ends early when a stop is requested."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> bool:
        return stopping.wait(seconds)


SYSTEM = SystemClock()

"""When a source is due for `watcher run`. Pure functions."""

from __future__ import annotations

from datetime import datetime, timedelta


def is_due(last_check: datetime | None, every: timedelta | None, now: datetime) -> bool:
    """A source is due when it was never checked, has no `every:`, or `every` has passed.

    `last_check` counts failed checks too, so a failing source is not hammered faster than
    its schedule. A clock that went backwards makes a source due rather than stuck.
    """
    if last_check is None or every is None:
        return True
    elapsed = now - last_check
    return elapsed >= every or elapsed < timedelta(0)

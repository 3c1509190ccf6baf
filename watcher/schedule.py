"""When a source is due. Pure functions.

A source can say how often (`every: 15m`), at what times (`cron: "45 8 * * 1-5"`, in the
`schedule.timezone`, default America/New_York, where the Federal Register keeps its hours),
both, or neither. `watcher run` checks a source with neither every time; `watcher schedule`
gives it `schedule.every`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

FAR = timedelta(days=366)


def check_cron(expression: str) -> str:
    """Validate a five-field cron expression; raises ValueError for a person to read."""
    from cronsim import CronSim, CronSimError

    try:
        CronSim(expression, datetime(2026, 1, 1))
    except CronSimError as exc:
        raise ValueError(f"not a cron expression {expression!r}: {exc}") from None
    if len(expression.split()) != 5:
        raise ValueError(f"use five cron fields (minute hour day month weekday): {expression!r}")
    return expression


def _next_fire(expression: str, after: datetime, zone: tzinfo) -> datetime:
    from cronsim import CronSim

    local = after.astimezone(zone).replace(second=0, microsecond=0)
    return next(CronSim(expression, local))


def next_due(
    last_check: datetime | None,
    *,
    every: timedelta | None,
    crons: Sequence[str],
    zone: tzinfo,
    now: datetime,
) -> datetime:
    """When a source is next due: now if it never ran, else its earliest next time."""
    if last_check is None or last_check > now:
        return now  # never checked, or a clock that went backwards: check now
    candidates = []
    if every is not None:
        candidates.append(last_check + every)
    for expression in crons:
        candidates.append(_next_fire(expression, last_check, zone))
    if not candidates:
        return now
    return min(candidates)


def is_due(
    last_check: datetime | None,
    every: timedelta | None,
    now: datetime,
    *,
    crons: Sequence[str] = (),
    zone: tzinfo | None = None,
) -> bool:
    """A source is due when it never ran, has no schedule, or its next time has come.

    `last_check` counts failed checks too, so a failing source is not hammered faster than
    its schedule.
    """
    from datetime import UTC

    return next_due(last_check, every=every, crons=crons, zone=zone or UTC, now=now) <= now

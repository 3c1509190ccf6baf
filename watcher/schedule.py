"""When a source is due: the one answer `watcher run`, `watcher schedule` and the fast path
all use. Pure functions.

A source can say how often (`every: 15m`), at what times (`cron: "45 8 * * 1-5"`, in the
`schedule.timezone`, default America/New_York, where the Federal Register keeps its hours),
both, or neither. A source with neither takes the caller's `default_every`: `watcher run`
passes none (cron's own interval paces it: every run checks it), `watcher schedule` passes
`schedule.every`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watcher.settings import Config, SourceConfig


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
    crons: Sequence[str] = (),
    zone: tzinfo = UTC,
    now: datetime,
    default_every: timedelta | None = None,
) -> datetime:
    """When a source is next due: now if it never ran (or the clock went back), else the
    earliest of its `every` and `cron` times after its last check.

    `last_check` counts failed checks too, so a failing source is not hammered faster than
    its schedule."""
    if last_check is None or last_check > now:
        return now
    if every is None and not crons:
        every = default_every
    candidates = [last_check + every] if every is not None else []
    candidates += [_next_fire(expression, last_check, zone) for expression in crons]
    return min(candidates, default=now)


def is_due(
    last_check: datetime | None,
    *,
    every: timedelta | None,
    crons: Sequence[str] = (),
    zone: tzinfo = UTC,
    now: datetime,
    default_every: timedelta | None = None,
) -> bool:
    """Whether a source should be checked now (see `next_due`)."""
    when = next_due(
        last_check, every=every, crons=crons, zone=zone, now=now, default_every=default_every
    )
    return when <= now


def select_sources(
    config: Config,
    last_checks: Mapping[str, str | None],
    names: Sequence[str] | None,
    now: datetime,
) -> tuple[list[SourceConfig], list[str]]:
    """The sources to check: the named ones whatever their schedule, else every enabled one
    that is due (a source with no schedule is due on every run). Returns (to check, not due)."""
    if names:
        return [config.source(n) for n in dict.fromkeys(names)], []
    chosen: list[SourceConfig] = []
    waiting: list[str] = []
    for source in config.sources:
        if not source.enabled:
            continue
        stamp = last_checks.get(source.name)
        last = datetime.fromisoformat(stamp) if stamp else None
        if is_due(last, every=source.every, crons=source.crons, zone=config.schedule.zone, now=now):
            chosen.append(source)
        else:
            waiting.append(source.name)
    return chosen, waiting

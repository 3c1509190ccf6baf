"""`watcher schedule`: the long-running way to run watcher, for a container that stays up.

Each source is checked when its `every:` or `cron:` says (or every `schedule.every` when it
says neither); runs never overlap (one at a time in this process, and the state lock keeps out
any other process); pending alerts are retried every minute even when no source is due; a
SIGTERM finishes the step in hand and ends the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from watcher import stopping
from watcher.clock import SYSTEM, Clock
from watcher.deliver import Delivery, DeliveryReport, drain
from watcher.lock import RunLock
from watcher.posters import Poster
from watcher.reporting import RunReport
from watcher.runner import run
from watcher.schedule import next_due
from watcher.settings import Config, SourceConfig
from watcher.sources import Registry
from watcher.store import Store

MAX_SLEEP = 60.0  # seconds: wake at least this often to retry deliveries and notice changes
RETRY_DELIVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Plan:
    """What to run now, and when to look again."""

    due: tuple[str, ...]
    wake_at: datetime


def plan(
    sources: Sequence[SourceConfig],
    last_checks: Mapping[str, datetime | None],
    now: datetime,
    *,
    default_every: timedelta,
    zone: tzinfo,
) -> Plan:
    """The sources due now and the earliest time another one will be. Pure."""
    due: list[str] = []
    upcoming: list[datetime] = []
    for source in sources:
        if not source.enabled:
            continue
        when = next_due(
            last_checks.get(source.name),
            every=source.every,
            crons=source.crons,
            zone=zone,
            now=now,
            default_every=default_every,
        )
        if when <= now:
            due.append(source.name)
        else:
            upcoming.append(when)
    return Plan(tuple(due), min(upcoming, default=now + default_every))


def last_checks(state_dir: Path) -> tuple[dict[str, datetime | None], int]:
    """Each source's last check, and how many alerts wait in the outbox."""
    store = Store.open_readonly(state_dir)
    try:
        return store.last_checks(), store.outbox.counts().get("pending", 0)
    finally:
        store.close()


def loop(
    config: Config,
    state_dir: Path,
    *,
    registry: Registry,
    poster_factory: Callable[[], Poster],
    report: Callable[[RunReport], None],
    say: Callable[[str], None],
    clock: Clock = SYSTEM,
    max_runs: int | None = None,
) -> None:
    """Run due sources until asked to stop (or `max_runs` runs, for tests)."""
    now = clock.now
    runs = 0
    last_delivery = now() - RETRY_DELIVERY
    say(
        f"scheduling {len([s for s in config.sources if s.enabled])} sources "
        f"(times in {config.schedule.timezone})"
    )
    while not stopping.requested():
        checks, pending = last_checks(state_dir)
        current = now()
        next_plan = plan(
            config.sources,
            checks,
            current,
            default_every=config.schedule.every,
            zone=config.schedule.zone,
        )
        if next_plan.due:
            outcome = run(
                config,
                state_dir,
                registry=registry,
                names=next_plan.due,
                poster=poster_factory(),
                clock=clock,
                command="schedule",
            )
            report(outcome)
            last_delivery = now()
            runs += 1
            if outcome.busy:
                say("another run is in progress; waiting for it")
            if max_runs is not None and runs >= max_runs:
                return
            if outcome.busy:
                clock.sleep(5.0)
            continue
        if pending and current - last_delivery >= RETRY_DELIVERY:
            delivery = deliver_pending(config, state_dir, poster_factory(), clock=clock)
            last_delivery = now()
            if delivery is not None:
                say(
                    f"delivery: {delivery.sent} sent, {delivery.pending} pending, "
                    f"{delivery.failed} failed"
                )
        sleep = min(MAX_SLEEP, max(1.0, (next_plan.wake_at - now()).total_seconds()))
        clock.sleep(sleep)
    say(f"stopped by {stopping.reason() or 'request'}")


def deliver_pending(
    config: Config, state_dir: Path, poster: Poster, *, clock: Clock = SYSTEM
) -> DeliveryReport | None:
    """Retry the outbox without checking any source; None when another run holds the lock."""
    with RunLock(state_dir) as lock:
        if not lock.acquired:
            return None
        store = Store.open(state_dir, wait=config.limits.state_wait)
        try:
            return drain(store.outbox, Delivery.configured(config.slack, poster, clock))
        finally:
            store.close()

"""`watcher backfill`: record a past period of a source, announcing none of it.

For kinds that can (their `backfill` hook: the Federal Register's, which splits the period into
date windows the API will page through). The documents become known, so a later check never
announces them. On a source that has not had its first check, a back-fill up to now (no
`--until`) is that first check: the next one announces only what is newer. A back-fill of a
period that ends in the past leaves the first check to come, as a baseline of what was
published since, so the gap between the period and today never floods the channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path

from watcher.clock import SYSTEM, Clock
from watcher.decide import decide
from watcher.errors import UsageError
from watcher.http import CheckFetcher, Fetcher
from watcher.lock import RunLock
from watcher.models import Snapshot
from watcher.settings import Config, SourceConfig
from watcher.sources import Registry
from watcher.sources.base import BackfillFunction
from watcher.store import Store
from watcher.workers import Workers

Progress = Callable[[int, int], None]  # (requests so far, bytes so far)


@dataclass(frozen=True)
class BackfillReport:
    documents: int
    relevant: int
    new: int
    requests: int
    seconds: float
    busy: bool = False
    first_check_pending: bool = False  # the source's next check is its baseline (said so)


def backfill(
    config: Config,
    state_dir: Path,
    name: str,
    since: date,
    until: date | None,
    *,
    registry: Registry,
    clock: Clock = SYSTEM,
    progress: Progress | None = None,
) -> BackfillReport:
    """Record a source's documents of a past period, announcing none. `progress` hears the
    requests and bytes so far while the period is fetched (it can take a while)."""
    source = config.source(name)
    kind = registry[source.kind]
    if kind.backfill is None:
        raise UsageError(f"{name!r} is a {source.kind} source; that kind cannot back-fill")
    if until is not None and since > until:
        raise UsageError(f"--since {since} is after --until {until}")
    started = time.monotonic()
    with RunLock(state_dir) as lock:
        if not lock.acquired:
            return BackfillReport(0, 0, 0, 0, 0.0, busy=True)
        store = Store.open(state_dir, wait=config.limits.state_wait)
        try:
            with Fetcher(config.http) as fetcher:
                check = fetcher.for_check(source.url, source.fetch_hosts)
                snapshot = _fetch_period(kind.backfill, check, source, since, until, progress)
            memory = store.memory(source.name)
            baselined = memory.baseline_done or until is None
            previous = store.load_items(source.name, [i.key for i in snapshot.items])
            decision = decide(source, kind, snapshot, previous, baseline=True)
            cursor = dict(snapshot.cursor)
            if memory.cursor and kind.progress is not None:
                # Never move a source's reading position back in time.
                seen, filled = kind.progress(memory.cursor), kind.progress(cursor)
                if seen and (not filled or seen > filled):
                    cursor = dict(memory.cursor)
            store.record_check(
                source=source.name,
                kind=source.kind,
                snapshot=replace(snapshot, cursor=cursor),
                decision=replace(decision, alerts=()),
                now=clock.now(),
                run_id=None,
                baseline_done=baselined,
            )
        finally:
            store.close()
    return BackfillReport(
        documents=len(snapshot.items),
        relevant=decision.relevant,
        new=decision.new,
        requests=check.requests,
        seconds=time.monotonic() - started,
        first_check_pending=not baselined,
    )


def _fetch_period(
    fetch: BackfillFunction,
    check: CheckFetcher,
    source: SourceConfig,
    since: date,
    until: date | None,
    progress: Progress | None,
) -> Snapshot:
    """The kind's back-fill, in a worker while this thread reports how far it has got."""
    if progress is None:
        return fetch(check, source, since, until)
    workers = Workers(1, "backfill")
    try:
        workers.submit(("backfill", source.name), partial(fetch, check, source, since, until))
        while (finished := workers.next_finished(0.25)) is None:
            progress(check.tally.requests, check.tally.bytes_received)
        progress(check.tally.requests, check.tally.bytes_received)
    finally:
        workers.close()
    if finished.error is not None:
        raise finished.error
    snapshot: Snapshot = finished.value
    return snapshot

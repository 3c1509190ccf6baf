"""One pass down the pipeline: pick sources, check them concurrently, decide, record, deliver.

Fetching and parsing run in worker threads (they wait on the network); deciding and writing
state happen in the calling thread, one source at a time, each in its own transaction.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watcher import stopping
from watcher.config import Config, SourceConfig
from watcher.decide import Context, Decision, Related, decide, thread_key
from watcher.deliver import DeliveryReport, Poster, drain
from watcher.errors import SourceError
from watcher.health import judge_health
from watcher.lock import RunLock
from watcher.models import Alert, Snapshot, SourceMemory, StoredItem
from watcher.reminders import DEADLINES, Deadline, reminder_alert
from watcher.reminders import due as due_reminders
from watcher.routing import route
from watcher.schedule import is_due
from watcher.sources import REGISTRY
from watcher.sources.base import Role
from watcher.store import Store, parse_iso

if TYPE_CHECKING:
    from watcher.fulltext import TextFetcher
    from watcher.http import Fetcher

log = logging.getLogger(__name__)


Progress = Callable[[int, int], None]  # (sources fetched, sources in all)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SourceReport:
    """How one source's check went, for the one line the run prints about it."""

    name: str
    ok: bool
    error: str | None = None
    items: int = 0
    new: int = 0
    changed: int = 0
    alerts: int = 0
    baseline: bool = False
    unchanged: bool = False
    seconds: float = 0.0
    requests: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunReport:
    sources: tuple[SourceReport, ...] = ()
    delivery: DeliveryReport | None = None
    busy: bool = False
    holder: str | None = None
    not_due: tuple[str, ...] = ()
    alerts: tuple[Alert, ...] = field(default_factory=tuple)  # decided this run
    stopped: str | None = None  # the signal that stopped the run early
    run_id: int | None = None

    @property
    def failed(self) -> tuple[SourceReport, ...]:
        return tuple(s for s in self.sources if not s.ok)

    @property
    def exit_code(self) -> int:
        if self.busy:
            return 0
        undelivered = self.delivery is not None and (
            self.delivery.pending > 0 or self.delivery.failed > 0
        )
        return 1 if self.failed or undelivered or self.stopped else 0


def select_sources(
    config: Config, store: Store, names: Sequence[str] | None, now: datetime
) -> tuple[list[SourceConfig], list[str]]:
    """The sources to check: the named ones whatever their schedule, else every enabled one
    that is due. Returns (to check, not due)."""
    if names:
        return [config.source(n) for n in dict.fromkeys(names)], []
    chosen, waiting = [], []
    rows = store.all_sources()
    for source in config.sources:
        if not source.enabled:
            continue
        row = rows.get(source.name)
        last = parse_iso(row["last_check_at"] if row else None)
        if is_due(last, source.every, now, crons=source.crons, zone=config.schedule.zone):
            chosen.append(source)
        else:
            waiting.append(source.name)
    return chosen, waiting


def run(
    config: Config,
    state_dir: Path,
    *,
    names: Sequence[str] | None = None,
    dry_run: bool = False,
    poster: Poster | None = None,
    now: Callable[[], datetime] = utcnow,
    command: str = "run",
    progress: Progress | None = None,
) -> RunReport:
    """Check sources and deliver alerts; with dry_run, decide but record and post nothing."""
    if dry_run:
        store = Store.open_readonly(state_dir)
        try:
            return _check_all(
                config,
                store,
                names,
                dry_run=True,
                poster=None,
                now=now,
                command=command,
                progress=progress,
            )
        finally:
            store.close()
    with RunLock(state_dir) as lock:
        if not lock.acquired:
            return RunReport(busy=True, holder=lock.holder())
        store = Store.open(state_dir)
        try:
            return _check_all(
                config,
                store,
                names,
                dry_run=False,
                poster=poster,
                now=now,
                command=command,
                progress=progress,
            )
        finally:
            store.close()


@dataclass(frozen=True)
class BackfillReport:
    documents: int
    relevant: int
    new: int
    requests: int
    seconds: float
    busy: bool = False


def backfill(
    config: Config,
    state_dir: Path,
    name: str,
    since: date,
    until: date | None,
    *,
    now: Callable[[], datetime] = utcnow,
) -> BackfillReport:
    """Record a Federal Register source's documents of a past period, announcing none."""
    from watcher.http import Fetcher
    from watcher.sources import federal_register

    source = config.source(name)
    started = time.monotonic()
    with RunLock(state_dir) as lock:
        if not lock.acquired:
            return BackfillReport(0, 0, 0, 0, 0.0, busy=True)
        store = Store.open(state_dir)
        try:
            with Fetcher(config.http) as fetcher:
                snapshot = federal_register.backfill(fetcher, source, since, until)
            memory = store.memory(source.name)
            previous = store.load_items(source.name, [i.key for i in snapshot.items])
            kind = REGISTRY[source.kind]
            decision = decide(source, kind, snapshot, previous, baseline=True)
            seen = memory.cursor.get("newest_publication_date")
            cursor = dict(snapshot.cursor)
            if seen and (not cursor or str(seen) > str(cursor["newest_publication_date"])):
                cursor = dict(memory.cursor)
            store.record_check(
                source=source.name,
                kind=source.kind,
                snapshot=replace(snapshot, cursor=cursor),
                decision=replace(decision, alerts=()),
                now=now(),
                run_id=None,
            )
        finally:
            store.close()
    return BackfillReport(
        documents=len(snapshot.items),
        relevant=decision.relevant,
        new=decision.new,
        requests=snapshot.requests,
        seconds=time.monotonic() - started,
    )


def deliver_pending(
    config: Config, state_dir: Path, poster: Poster, *, now: Callable[[], datetime] = utcnow
) -> DeliveryReport | None:
    """Retry the outbox without checking any source; None when another run holds the lock."""
    with RunLock(state_dir) as lock:
        if not lock.acquired:
            return None
        store = Store.open(state_dir)
        try:
            return drain(
                store,
                poster,
                now=now,
                digest_threshold=config.slack.digest_threshold,
                ops_channel=config.slack.operations,
            )
        finally:
            store.close()


def _check_all(
    config: Config,
    store: Store,
    names: Sequence[str] | None,
    *,
    dry_run: bool,
    poster: Poster | None,
    now: Callable[[], datetime],
    command: str,
    progress: Progress | None = None,
) -> RunReport:
    sources, waiting = select_sources(config, store, names, now())
    run_id = None if dry_run else store.start_run(command, now(), dry_run=dry_run)
    reports: list[SourceReport] = []
    alerts: list[Alert] = []
    if sources:
        from watcher.fulltext import TextFetcher
        from watcher.http import Fetcher

        rows = store.all_sources()
        memories = {s.name: store.memory_of(rows.get(s.name)) for s in sources}
        with Fetcher(config.http) as fetcher:
            with ThreadPoolExecutor(
                max_workers=min(config.http.concurrency, len(sources)),
                thread_name_prefix="check",
            ) as pool:
                futures = [
                    (source, pool.submit(_fetch, fetcher, source, memories[source.name]))
                    for source in sources
                ]
                _wait_unless_stopped([f for _, f in futures], progress)
            texts = TextFetcher(fetcher)
            # Fetching ran concurrently; deciding runs in a fixed order, published Federal
            # Register sources first, so a document filed for public inspection that
            # published in the same run is known as published when its departure is judged.
            # A stop request still records every fetch that finished: it is the step in hand.
            for source, future in sorted(futures, key=lambda sf: _settle_order(sf[0])):
                if future.cancelled() or not future.done():
                    continue
                report, decided = _settle(
                    future,
                    source,
                    memories[source.name],
                    store,
                    config,
                    texts,
                    dry_run=dry_run,
                    now=now(),
                    run_id=run_id,
                )
                reports.append(report)
                alerts += decided
                _log_source(report)
            if not dry_run:
                _health(sources, store, config, now())
    order = {s.name: i for i, s in enumerate(sources)}
    reports.sort(key=lambda r: order[r.name])
    if not stopping.requested():
        alerts += _reminders(config, store, now(), dry_run=dry_run)

    delivery = None
    if not dry_run and poster is not None and not stopping.requested():
        delivery = drain(
            store,
            poster,
            now=now,
            digest_threshold=config.slack.digest_threshold,
            ops_channel=config.slack.operations,
        )
    outcome = RunReport(
        sources=tuple(reports),
        delivery=delivery,
        not_due=tuple(waiting),
        alerts=tuple(alerts),
        stopped=stopping.reason() if stopping.requested() else None,
        run_id=run_id,
    )
    if run_id is not None:
        store.finish_run(
            run_id,
            now(),
            sources_checked=len(reports),
            sources_failed=len(outcome.failed),
            alerts_queued=len(alerts),
            alerts_sent=delivery.sent if delivery else 0,
            exit_code=outcome.exit_code,
        )
    return outcome


def _fetch(fetcher: Fetcher, source: SourceConfig, memory: SourceMemory) -> tuple[Snapshot, float]:
    started = time.monotonic()
    snapshot = REGISTRY[source.kind].check(fetcher, source, memory)
    return snapshot, time.monotonic() - started


def _wait_unless_stopped(
    futures: list[Future[tuple[Snapshot, float]]], progress: Progress | None = None
) -> None:
    """Wait for every fetch; on a stop request, cancel those not started yet."""
    pending = set(futures)
    while pending:
        _, pending = wait(pending, timeout=0.2)
        if progress is not None:
            progress(len(futures) - len(pending), len(futures))
        if stopping.requested():
            for future in pending:
                future.cancel()
            return


def _health(sources: Sequence[SourceConfig], store: Store, config: Config, now: datetime) -> None:
    """Queue a notice for operations when a source starts failing, recovers or goes quiet."""
    rows = store.all_sources()
    for source in sources:
        health = store.health_of(rows.get(source.name))
        if health is None:
            continue
        decision = judge_health(
            health,
            ops_channel=config.slack.operations,
            failures_before_notice=config.health.failures_before_notice,
            expect=source.expect,
            now=now,
            label=source.label,
        )
        store.record_health(source.name, decision, now)


def _settle_order(source: SourceConfig) -> int:
    return 0 if REGISTRY[source.kind].role is Role.PUBLISHED else 1


def _settle(
    future: Future[tuple[Snapshot, float]],
    source: SourceConfig,
    memory: SourceMemory,
    store: Store,
    config: Config,
    texts: TextFetcher,
    *,
    dry_run: bool,
    now: datetime,
    run_id: int | None,
) -> tuple[SourceReport, list[Alert]]:
    """Turn one finished check into state and alerts, or into a recorded failure."""
    kind = REGISTRY[source.kind]
    try:
        snapshot, seconds = future.result()
    except SourceError as exc:
        return _failed(source, str(exc), store, dry_run=dry_run, now=now), []
    except Exception as exc:  # a bug in one parser costs that source this run, not the run
        log.debug("unexpected error checking %s", source.name, exc_info=True)
        message = f"unexpected {type(exc).__name__}: {exc}"
        return _failed(source, message, store, dry_run=dry_run, now=now), []

    baseline = not memory.baseline_done
    if snapshot.unchanged:
        decision = Decision((), (), ())
    else:
        keys = None
        if not snapshot.complete:
            keys = {i.key for i in snapshot.items} | {
                i.corrects for i in snapshot.items if i.corrects
            }
        previous = store.load_items(source.name, keys)
        context = _context(source, snapshot, previous, store, config, now)
        decision = decide(source, kind, snapshot, previous, baseline=baseline, context=context)
        alerts = _enrich(decision.alerts, texts, config)
        decision = replace(decision, alerts=tuple(route(a, config.slack.routes) for a in alerts))
    if not dry_run:
        store.record_check(
            source=source.name,
            kind=source.kind,
            snapshot=snapshot,
            decision=decision,
            now=now,
            run_id=run_id,
        )
    report = SourceReport(
        name=source.name,
        ok=True,
        items=len(snapshot.items),
        new=decision.new,
        changed=decision.changed,
        alerts=len(decision.alerts),
        baseline=baseline,
        unchanged=snapshot.unchanged,
        seconds=seconds,
        requests=snapshot.requests,
        notes=snapshot.notes,
    )
    return report, list(decision.alerts)


def _reminders(config: Config, store: Store, now: datetime, *, dry_run: bool) -> list[Alert]:
    """Queue the deadline reminders due today, each once."""
    if not config.slack.reminders:
        return []
    today = now.date()
    queued: list[tuple[Alert, list[tuple[str, str, str, str, int]]]] = []
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in store.deadline_rows(today.isoformat()):
        by_source.setdefault(row["source"], []).append(row)
    done = store.reminders_done() if by_source else set()
    for source in config.sources:
        kind = REGISTRY[source.kind]
        deadlines = []
        for row in by_source.get(source.name, []):
            record = json.loads(row["record"])
            for deadline_field in DEADLINES:
                due_on = _date(record.get(deadline_field))
                if due_on is None or due_on < today:
                    continue
                deadlines.append(
                    Deadline(
                        source=source.name,
                        source_kind=source.kind,
                        channel=source.channel,
                        key=row["key"],
                        title=row["title"] or "",
                        url=row["url"],
                        record=record,
                        field=deadline_field,
                        due=due_on,
                        thread_key=thread_key(kind, source.name, row["key"]),
                        label=source.label,
                    )
                )
        if not deadlines:
            continue
        for reminder in due_reminders(deadlines, done, today, config.slack.reminders):
            alert = route(reminder_alert(reminder, today), config.slack.routes)
            d = reminder.deadline
            settled = [(d.source, d.key, d.field, d.due.isoformat(), o) for o in reminder.covers]
            queued.append((alert, settled))
    if queued and not dry_run:
        store.record_reminders(queued, now)
    return [alert for alert, _ in queued]


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _enrich(alerts: Sequence[Alert], texts: TextFetcher, config: Config) -> tuple[Alert, ...]:
    from watcher.enrich import text_url, with_facts

    """Each alert with the trade facts of its document's text, fetched where worth it."""
    full_text_sources = [s.name for s in config.sources if getattr(s.options, "full_text", False)]
    out = []
    for alert in alerts:
        url = text_url(alert, full_text_sources)
        out.append(with_facts(alert, texts.text(url) if url else None))
    return tuple(out)


def _context(
    source: SourceConfig,
    snapshot: Snapshot,
    previous: Mapping[str, StoredItem],
    store: Store,
    config: Config,
    now: datetime,
) -> Context:
    """What the other sources of this source's family know about the keys in play."""
    kind = REGISTRY[source.kind]
    if kind.family is None:
        return Context(today=now.date().isoformat())
    keys = {i.key for i in snapshot.items} | set(previous)
    related: dict[str, list[Related]] = {}
    newest: str | None = None
    for other in config.sources:
        other_kind = REGISTRY[other.kind]
        if other.name == source.name or other_kind.family != kind.family:
            continue
        if other_kind.role is Role.PUBLISHED:
            seen = store.memory(other.name).cursor.get("newest_publication_date")
            if seen and (newest is None or seen > newest):
                newest = str(seen)
        for key, item in store.load_items(other.name, keys, include_removed=True).items():
            related.setdefault(key, []).append(
                Related(other.name, other_kind.role, item.relevant, not item.removed, item.record)
            )
    return Context(
        related={k: tuple(v) for k, v in related.items()},
        family_newest=newest,
        today=now.date().isoformat(),
    )


def _failed(
    source: SourceConfig, message: str, store: Store, *, dry_run: bool, now: datetime
) -> SourceReport:
    message = " ".join(message.split())  # one line, whatever the error said
    if not dry_run:
        store.record_failure(source=source.name, kind=source.kind, error=message, now=now)
    return SourceReport(name=source.name, ok=False, error=message)


def _log_source(report: SourceReport) -> None:
    if report.ok:
        log.debug("%s: ok in %.2fs (%d requests)", report.name, report.seconds, report.requests)
    else:
        log.debug("%s: failed: %s", report.name, report.error)

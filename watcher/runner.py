"""One run down the pipeline, in named phases:

  select   which sources are due (`schedule.is_due`), or the ones named by `watcher check`
  fetch    each source's check, in worker threads, each through its own counting fetcher
  decide   pure: diff against the state, judge relevance, route (`decide`, `routing`)
  enrich   the full texts of the alerts worth reading, in worker threads (`enrich`)
  commit   one transaction per source: its items, deadlines and alerts (the outbox)
  deliver  that source's alerts at once (`deliver`), then whatever is left at the end

The run's own thread hands out the network work and does everything that touches the state,
source by source as their checks finish: a slow or hanging source costs its own check,
never another source's alert. A check that outlives its deadline, or the run's, is abandoned.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path

from watcher import stopping
from watcher.clock import SYSTEM, Clock
from watcher.decide import Decision, Family, Related, decide
from watcher.deliver import Delivery, DeliveryReport, drain
from watcher.enrich import text_url, with_facts
from watcher.errors import SourceError
from watcher.fulltext import TextFetcher
from watcher.health import judge_health
from watcher.http import CheckFetcher, Fetcher
from watcher.lock import RunLock
from watcher.models import Alert, Snapshot, SourceMemory, StoredItem
from watcher.posters import Poster
from watcher.reminders import Deadline, reminder_alert
from watcher.reminders import due as due_reminders
from watcher.reporting import RunReport, SourceReport
from watcher.routing import route
from watcher.schedule import is_due
from watcher.settings import Config, SourceConfig
from watcher.sources import Registry
from watcher.sources.base import Role, SourceKind
from watcher.store import Store, parse_iso
from watcher.workers import Finished, Workers

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (sources settled, sources in all)

# A source filed ahead of publication (public inspection) is decided after its family's
# published source in the same run, which tells a withdrawn filing from a published one;
# it waits for it this long at most, then goes on with what the state knows (a filing that
# left the desk is then judged on the next check: never wrongly, at worst a check later).
FAMILY_WAIT = 10.0


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
        last = parse_iso(last_checks.get(source.name))
        if is_due(last, every=source.every, crons=source.crons, zone=config.schedule.zone, now=now):
            chosen.append(source)
        else:
            waiting.append(source.name)
    return chosen, waiting


def run(
    config: Config,
    state_dir: Path,
    *,
    registry: Registry,
    names: Sequence[str] | None = None,
    dry_run: bool = False,
    poster: Poster | None = None,
    clock: Clock = SYSTEM,
    command: str = "run",
    progress: Progress | None = None,
) -> RunReport:
    """Check sources and deliver alerts; with dry_run, decide but record and post nothing."""
    if dry_run:
        store = Store.open_readonly(state_dir)
        try:
            return _Run(config, store, registry, None, clock, dry_run=True).execute(
                names, command, progress
            )
        finally:
            store.close()
    with RunLock(state_dir) as lock:
        if not lock.acquired:
            return RunReport(busy=True, holder=lock.holder())
        store = Store.open(state_dir)
        try:
            delivery = (
                Delivery(
                    poster,
                    clock,
                    digest_threshold=config.slack.digest_threshold,
                    ops_channel=config.slack.operations,
                )
                if poster is not None
                else None
            )
            return _Run(config, store, registry, delivery, clock, dry_run=False).execute(
                names, command, progress
            )
        finally:
            store.close()


def deliver_pending(
    config: Config, state_dir: Path, poster: Poster, *, clock: Clock = SYSTEM
) -> DeliveryReport | None:
    """Retry the outbox without checking any source; None when another run holds the lock."""
    with RunLock(state_dir) as lock:
        if not lock.acquired:
            return None
        store = Store.open(state_dir)
        try:
            delivery = Delivery(
                poster,
                clock,
                digest_threshold=config.slack.digest_threshold,
                ops_channel=config.slack.operations,
            )
            return drain(store.outbox, delivery)
        finally:
            store.close()


@dataclass(frozen=True)
class _Decided:
    """A check decided and waiting for its full texts before it is committed."""

    source: SourceConfig
    snapshot: Snapshot
    decision: Decision
    fetcher: CheckFetcher
    seconds: float
    baseline: bool


class _Run:
    """One run's phases; see the module docstring."""

    def __init__(
        self,
        config: Config,
        store: Store,
        registry: Registry,
        delivery: Delivery | None,
        clock: Clock,
        *,
        dry_run: bool,
    ):
        self.config = config
        self.store = store
        self.registry = registry
        self.delivery = delivery
        self.clock = clock
        self.dry_run = dry_run
        self.reports: dict[str, SourceReport] = {}
        self.alerts: list[Alert] = []
        self.delivered: DeliveryReport | None = None
        self.stopped: str | None = None
        self.run_id: int | None = None
        self.decided: dict[str, _Decided] = {}
        self.parked: dict[str, tuple[Finished, float]] = {}  # waiting for a family sibling
        self.in_run: set[str] = set()

    def kind(self, source: SourceConfig) -> SourceKind:
        return self.registry[source.kind]

    # -- the whole run --------------------------------------------------------------------

    def execute(
        self, names: Sequence[str] | None, command: str, progress: Progress | None
    ) -> RunReport:
        rows = self.store.all_sources()
        last_checks = {name: row["last_check_at"] for name, row in rows.items()}
        sources, waiting = select_sources(self.config, last_checks, names, self.clock.now())
        if not self.dry_run:
            self.run_id = self.store.start_run(command, self.clock.now(), dry_run=False)
        if sources:
            memories = {s.name: self.store.memory_of(rows.get(s.name)) for s in sources}
            with Fetcher(self.config.http) as fetcher:
                self.texts = TextFetcher()
                workers = Workers(min(self.config.http.concurrency, len(sources)), "check")
                try:
                    self._fetch_and_settle(workers, fetcher, sources, memories, progress)
                finally:
                    workers.close()
        if not stopping.requested():
            self._queue_reminders()
            self._deliver(None)
        if stopping.requested():
            self.stopped = stopping.reason()
        order = {s.name: i for i, s in enumerate(sources)}
        report = RunReport(
            sources=tuple(sorted(self.reports.values(), key=lambda r: order[r.name])),
            delivery=self.delivered,
            not_due=tuple(waiting),
            alerts=tuple(self.alerts),
            stopped=self.stopped,
            run_id=self.run_id,
        )
        if self.run_id is not None:
            self.store.finish_run(
                self.run_id,
                self.clock.now(),
                sources_checked=len(report.sources),
                sources_failed=len(report.failed),
                alerts_queued=len(self.alerts),
                alerts_sent=self.delivered.sent if self.delivered else 0,
                exit_code=report.exit_code,
            )
        return report

    # -- fetch ----------------------------------------------------------------------------

    def _fetch_and_settle(
        self,
        workers: Workers,
        fetcher: Fetcher,
        sources: Sequence[SourceConfig],
        memories: Mapping[str, SourceMemory],
        progress: Progress | None,
    ) -> None:
        by_name = {s.name: s for s in sources}
        self.in_run = set(by_name)
        checks: dict[str, CheckFetcher] = {}
        for source in sources:
            checks[source.name] = fetcher.for_check()
            check = partial(
                self.kind(source).check, checks[source.name], source, memories[source.name]
            )
            workers.submit(("check", source.name), check)
        limits = self.config.limits
        run_ends = time.monotonic() + limits.run_deadline
        while workers.outstanding or self.parked:
            if stopping.requested():
                return  # what finished is recorded; the rest waits for the next run
            left = run_ends - time.monotonic()
            if left <= 0:
                self.stopped = f"the run's deadline ({limits.run_deadline:.0f}s)"
                break
            for name in self._unparked():
                waited, _ = self.parked.pop(name)
                self._fetched(by_name[name], waited, checks[name], memories[name], workers)
            finished = workers.next_finished(min(0.2, left))
            if finished is None:
                self._abandon_overdue(workers, by_name, checks)
                continue
            step, name = finished.tag
            source = by_name[name]
            if step == "enrich":
                self._enriched(source, finished)
            elif self._waits_for_family(source):
                self.parked[name] = (finished, time.monotonic())
            else:
                self._fetched(source, finished, checks[name], memories[name], workers)
            if progress is not None:
                progress(len(self.reports), len(sources))
        for name in list(self.parked):  # out of time: decide with what the state knows
            waited, _ = self.parked.pop(name)
            self._fetched(by_name[name], waited, checks[name], memories[name], workers)
        for step, name in sorted(workers.outstanding):
            workers.abandon((step, name))
            self._failed(
                by_name[name],
                f"still {'fetching' if step == 'check' else 'reading full texts'} when the run "
                f"reached its deadline ({limits.run_deadline:.0f}s); abandoned",
                checks[name],
            )

    def _waits_for_family(self, source: SourceConfig) -> bool:
        """A filed-ahead source whose family's published source is in this run, unsettled."""
        kind = self.kind(source)
        if kind.role is not Role.INSPECTION or kind.family is None:
            return False
        return any(
            other.name in self.in_run
            and other.name not in self.reports
            and self.registry[other.kind].family == kind.family
            and self.registry[other.kind].role is Role.PUBLISHED
            for other in self.config.sources
        )

    def _unparked(self) -> list[str]:
        """Parked sources whose sibling has settled, or that have waited long enough."""
        now = time.monotonic()
        return [
            name
            for name, (finished, since) in self.parked.items()
            if now - since >= FAMILY_WAIT or not self._waits_for_family(self.config.source(name))
        ]

    def _abandon_overdue(
        self,
        workers: Workers,
        sources: Mapping[str, SourceConfig],
        checks: Mapping[str, CheckFetcher],
    ) -> None:
        """A check past its deadline is given up on: it fails alone, the run goes on."""
        deadline = self.config.limits.check_deadline
        for tag in workers.outstanding:
            started = workers.running_since(tag)
            if started is None or time.monotonic() - started <= deadline:
                continue
            workers.abandon(tag)
            _, name = tag
            self._failed(
                sources[name],
                f"the check took longer than its deadline ({deadline:.0f}s); abandoned",
                checks[name],
            )

    # -- decide ---------------------------------------------------------------------------

    def _fetched(
        self,
        source: SourceConfig,
        finished: Finished,
        fetcher: CheckFetcher,
        memory: SourceMemory,
        workers: Workers,
    ) -> None:
        error = finished.error
        if isinstance(error, SourceError):
            self._failed(source, str(error), fetcher)
            return
        if error is not None:  # a bug in one parser costs that source this run, not the run
            log.debug("unexpected error checking %s", source.name, exc_info=error)
            self._failed(source, f"unexpected {type(error).__name__}: {error}", fetcher)
            return
        snapshot: Snapshot = finished.value
        baseline = not memory.baseline_done
        decision = self._decide(source, snapshot, baseline)
        decided = _Decided(source, snapshot, decision, fetcher, finished.seconds, baseline)
        if any(text_url(alert) for alert in decision.alerts):
            self.decided[source.name] = decided
            workers.submit(("enrich", source.name), partial(self._read_texts, decided))
            return
        self._commit(decided)

    def _decide(self, source: SourceConfig, snapshot: Snapshot, baseline: bool) -> Decision:
        if snapshot.unchanged:
            return Decision((), (), ())
        kind = self.kind(source)
        keys = None
        if not snapshot.complete:
            keys = {i.key for i in snapshot.items} | {
                i.corrects for i in snapshot.items if i.corrects
            }
        previous = self.store.load_items(source.name, keys)
        family = self._family(source, kind, snapshot, previous)
        decision = decide(source, kind, snapshot, previous, baseline=baseline, family=family)
        routes = self.config.slack.routes
        return replace(decision, alerts=tuple(route(a, routes) for a in decision.alerts))

    def _family(
        self,
        source: SourceConfig,
        kind: SourceKind,
        snapshot: Snapshot,
        previous: Mapping[str, StoredItem],
    ) -> Family:
        """What the other sources of this source's family know about the keys in play."""
        today = self.clock.now().date().isoformat()
        if kind.family is None:
            return Family(today=today)
        keys = {i.key for i in snapshot.items} | set(previous)
        related: dict[str, list[Related]] = {}
        progress: str | None = None
        rows = self.store.all_sources()
        for other in self.config.sources:
            other_kind = self.registry[other.kind]
            if other.name == source.name or other_kind.family != kind.family:
                continue
            if other_kind.role is Role.PUBLISHED and other_kind.progress is not None:
                seen = other_kind.progress(self.store.memory_of(rows.get(other.name)).cursor)
                if seen and (progress is None or seen > progress):
                    progress = seen
            for key, item in self.store.load_items(other.name, keys, include_removed=True).items():
                related.setdefault(key, []).append(
                    Related(other.name, other_kind.role, item.relevant, not item.removed)
                )
        return Family({k: tuple(v) for k, v in related.items()}, progress, today)

    # -- enrich (in a worker) -------------------------------------------------------------

    def _read_texts(self, decided: _Decided) -> tuple[Alert, ...]:
        """The decided alerts with the trade facts of their documents' full texts."""
        out = []
        for alert in decided.decision.alerts:
            url = text_url(alert)
            text = self.texts.text(url, decided.fetcher) if url else None
            out.append(with_facts(alert, text))
        return tuple(out)

    def _enriched(self, source: SourceConfig, finished: Finished) -> None:
        decided = self.decided.pop(source.name)
        alerts = decided.decision.alerts
        if finished.error is not None:  # the facts are a bonus: the alerts go out without
            log.debug("reading full texts for %s failed", source.name, exc_info=finished.error)
        else:
            alerts = finished.value
        decision = replace(decided.decision, alerts=alerts)
        self._commit(
            replace(decided, decision=decision, seconds=decided.seconds + finished.seconds)
        )

    # -- commit and deliver ---------------------------------------------------------------

    def _commit(self, decided: _Decided) -> None:
        source, snapshot, decision = decided.source, decided.snapshot, decided.decision
        now = self.clock.now()
        if not self.dry_run:
            self.store.record_check(
                source=source.name,
                kind=source.kind,
                snapshot=snapshot,
                decision=decision,
                now=now,
                run_id=self.run_id,
            )
            self._judge_health(source)
        self.alerts += decision.alerts
        self.reports[source.name] = SourceReport(
            name=source.name,
            ok=True,
            items=len(snapshot.items),
            new=decision.new,
            changed=decision.changed,
            alerts=len(decision.alerts),
            baseline=decided.baseline,
            unchanged=snapshot.unchanged,
            seconds=decided.seconds,
            requests=decided.fetcher.requests,
            notes=snapshot.notes,
        )
        if decision.alerts:
            self._deliver([source.name])

    def _failed(self, source: SourceConfig, message: str, fetcher: CheckFetcher) -> None:
        message = " ".join(message.split())  # one line, whatever the error said
        if not self.dry_run:
            self.store.record_failure(
                source=source.name, kind=source.kind, error=message, now=self.clock.now()
            )
            self._judge_health(source)
            self._deliver([source.name])  # a health notice, when this failure makes one
        self.reports[source.name] = SourceReport(
            name=source.name, ok=False, error=message, requests=fetcher.requests
        )

    def _judge_health(self, source: SourceConfig) -> None:
        """Queue a notice for operations when a source starts failing, recovers or goes quiet."""
        health = self.store.health_of(self.store.all_sources().get(source.name))
        if health is None:
            return
        decision = judge_health(
            health,
            ops_channel=self.config.slack.operations,
            failures_before_notice=self.config.health.failures_before_notice,
            expect=source.expect,
            now=self.clock.now(),
            label=source.label,
        )
        self.store.record_health(source.name, decision, self.clock.now())

    def _deliver(self, sources: Sequence[str] | None) -> None:
        """Drain these sources' alerts now (first-check lines wait for the end), or all."""
        if self.delivery is None or (self.delivered is not None and self.delivered.stopped):
            return  # a dry run, or Slack already said it is not taking messages this run
        report = drain(
            self.store.outbox,
            self.delivery,
            sources=sources,
            hold_baselines=sources is not None,
        )
        self.delivered = report if self.delivered is None else self.delivered + report

    # -- reminders ------------------------------------------------------------------------

    def _queue_reminders(self) -> None:
        """Queue the deadline reminders due today, each once."""
        offsets = self.config.slack.reminders
        if not offsets:
            return
        today = self.clock.now().date()
        rows = self.store.deadlines_from(today.isoformat())
        if not rows:
            return
        configured = {s.name: s for s in self.config.sources}
        deadlines = []
        for row in rows:
            source = configured.get(row["source"])
            if source is None:
                continue  # a source no longer in the configuration
            kind = self.kind(source)
            item = kind.restore(source, row["item_key"], json.loads(row["record"]))
            deadlines.append(
                Deadline(
                    source=source.name,
                    source_kind=source.kind,
                    channel=source.channel,
                    item=item,
                    field=row["field"],
                    due=date.fromisoformat(row["due"]),
                    thread_key=kind.thread_key(source.name, item.key),
                    label=source.label,
                )
            )
        queued = []
        for reminder in due_reminders(deadlines, self.store.reminders_done(), today, offsets):
            alert = route(reminder_alert(reminder, today), self.config.slack.routes)
            settled = [(*reminder.deadline.done_key, days) for days in reminder.covers]
            queued.append((alert, settled))
        if queued and not self.dry_run:
            self.store.record_reminders(queued, self.clock.now())
        self.alerts += [alert for alert, _ in queued]

"""One run down the pipeline, in named phases:

  select   which sources are due (`schedule.is_due`), or the ones named by `watcher check`
  fetch    each source's check, in worker threads, through its own counting fetcher
           (`fetching`: what finished comes back as it finishes; deadlines; family order)
  decide   pure: diff against the state, judge relevance (`decide`)
  enrich   the full texts of the alerts worth reading, in the same workers (`enrich`)
  link     each alert in its story: a stage of an action another source told first, or a
           new story (`linkphase`, deciding in `linking`); then routed (`routing`)
  commit   one transaction per source: its items, deadlines and alerts (the outbox)
  deliver  that source's alerts at once (`deliver`); at the end, what is left, reminders
           (`reminding`) and first-check lines included

The run's own thread does everything that touches the state, source by source as their
checks finish: a slow or hanging source costs its own check, never another source's alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watcher import stopping
from watcher.clock import SYSTEM, Clock
from watcher.decide import Decision, decide
from watcher.deliver import Delivery, DeliveryReport, drain
from watcher.errors import SourceError
from watcher.family import family_of
from watcher.fetching import Fetched, Fetching, GaveUp, TextsRead
from watcher.fulltext import TextFetcher
from watcher.health import judge_health
from watcher.http import CheckFetcher, Fetcher
from watcher.lock import RunLock
from watcher.models import FIRST_NEWS, Alert, Snapshot, SourceMemory
from watcher.posters import Poster
from watcher.reminding import queue_reminders
from watcher.reporting import RunReport, SourceReport
from watcher.schedule import select_sources
from watcher.settings import Config, SourceConfig
from watcher.sources import Registry
from watcher.sources.base import SourceKind
from watcher.store import Store
from watcher.timing import CpuClock
from watcher.turns import Turns

if TYPE_CHECKING:
    from watcher.watchlist import Watchlist

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (sources settled, sources in all)


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
    new_baseline: bool = False,
) -> RunReport:
    """Check sources and deliver alerts; with dry_run, decide but record and post nothing.
    `new_baseline`: the operator accepts starting the state afresh (see `statedir`)."""
    if dry_run:
        store = Store.open_readonly(state_dir)
        try:
            return _Run(config, store, registry, None, clock).execute(names, command, progress)
        finally:
            store.close()
    with RunLock(state_dir, clock.now()) as lock:
        if not lock.acquired:
            holder = lock.holder()
            stuck = holder.stuck(config.limits.run_deadline, clock.now())
            return RunReport(busy=True, holder=holder.describe(), stuck=stuck)
        store = Store.open(state_dir, wait=config.limits.state_wait, new_baseline=new_baseline)
        try:
            delivery = None if poster is None else Delivery.configured(config.slack, poster, clock)
            return _Run(config, store, registry, delivery, clock, dry_run=False).execute(
                names, command, progress
            )
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
        dry_run: bool = True,
    ):
        self.config = config
        self.store = store
        self.registry = registry
        self.delivery = delivery
        self.clock = clock
        self.dry_run = dry_run
        self.reports: dict[str, SourceReport] = {}
        self.alerts: list[Alert] = []  # a dry run's alerts, which it prints
        self.queued = 0  # alerts queued (a real run keeps no copies: they are in the outbox)
        self.delivered: DeliveryReport | None = None
        self.stopped: str | None = None
        self.run_id: int | None = None
        self.decided: dict[str, _Decided] = {}
        self.texts = TextFetcher()
        self.rows: dict[str, dict[str, Any]] = {}  # the sources' rows when the run began
        self.quiet: list[_Decided] = []  # unchanged checks, recorded together
        self.memories: dict[str, SourceMemory] = {}  # as the run began
        self.cpu = CpuClock()  # where the run's CPU goes, by phase (`--timings`)

    def kind(self, source: SourceConfig) -> SourceKind:
        return self.registry[source.kind]

    # -- the whole run --------------------------------------------------------------------

    def execute(
        self, names: Sequence[str] | None, command: str, progress: Progress | None
    ) -> RunReport:
        rows = self.rows = self.store.all_sources()
        last_checks = {name: row["last_check_at"] for name, row in rows.items()}
        sources, waiting = select_sources(self.config, last_checks, names, self.clock.now())
        if not self.dry_run:
            self.run_id = self.store.start_run(command, self.clock.now(), dry_run=False)
        if sources:
            self.memories = {s.name: self.store.memory_of(rows.get(s.name)) for s in sources}
            with Fetcher(self.config.http, cpu=self.cpu, turns=Turns(1)) as fetcher:
                fetching = Fetching(
                    fetcher,
                    sources,
                    self.memories,
                    self.registry,
                    self.config.limits,
                    everyone=self.config.sources,
                    settled=lambda name: name in self.reports,
                    concurrency=self.config.http.concurrency,
                )
                try:
                    self._settle(fetching, len(sources), progress)
                finally:
                    fetching.close()
                    self._record_quiet()
        if not stopping.requested():
            now = self.clock.now()
            with self.cpu.phase("commit"):
                reminders = queue_reminders(
                    self.store, self.config, self.registry, now, dry_run=self.dry_run
                )
            self._queued(reminders)
            self._deliver(None)
        if stopping.requested():
            self.stopped = stopping.reason()
        return self._report(sources, waiting)

    def _settle(self, fetching: Fetching, total: int, progress: Progress | None) -> None:
        """Decide, commit and deliver each source as its network work finishes."""
        for event in fetching.events():
            if isinstance(event, GaveUp):
                self._failed(event.source, event.reason, event.fetcher)
            elif isinstance(event, TextsRead):
                self._texts_read(event)
            else:
                decided = self._fetched(event)
                if decided is not None and _texts_to_read(decided.decision.alerts):
                    self.decided[decided.source.name] = decided
                    fetching.read_texts(decided.source, partial(self._read_texts, decided))
                elif decided is not None:
                    with self.cpu.phase("enrich"):
                        decided = _with_own_facts(decided, self.config.watchlist)
                    self._commit(decided)
            if progress is not None:
                progress(len(self.reports), total)
        if fetching.out_of_time:
            self.stopped = f"the run's deadline ({self.config.limits.run_deadline:g}s)"

    def _report(self, sources: Sequence[SourceConfig], waiting: Sequence[str]) -> RunReport:
        order = {s.name: i for i, s in enumerate(sources)}
        report = RunReport(
            sources=tuple(sorted(self.reports.values(), key=lambda r: order[r.name])),
            delivery=self.delivered,
            not_due=tuple(waiting),
            alerts=tuple(self.alerts),
            stopped=self.stopped,
            run_id=self.run_id,
            cpu=self.cpu.split(),
        )
        if self.run_id is not None:
            self.store.finish_run(
                self.run_id,
                self.clock.now(),
                sources_checked=len(report.sources),
                sources_failed=len(report.failed),
                alerts_queued=self.queued,
                alerts_sent=self.delivered.sent if self.delivered else 0,
                exit_code=report.exit_code,
            )
        return report

    # -- decide ---------------------------------------------------------------------------

    def _fetched(self, event: Fetched) -> _Decided | None:
        source, error = event.source, event.error
        if isinstance(error, SourceError):
            self._failed(source, str(error), event.fetcher)
            return None
        if error is not None or event.snapshot is None:
            # a bug in one parser costs that source this run, not the run
            log.debug("unexpected error checking %s", source.name, exc_info=error)
            self._failed(source, f"unexpected {type(error).__name__}: {error}", event.fetcher)
            return None
        with self.cpu.phase("decide"):
            # as the run began: only this check changes it
            memory = self.memories.get(source.name) or self.store.memory(source.name)
            baseline = not memory.baseline_done
            decision = self._decide(source, event.snapshot, baseline)
        return _Decided(source, event.snapshot, decision, event.fetcher, event.seconds, baseline)

    def _decide(self, source: SourceConfig, snapshot: Snapshot, baseline: bool) -> Decision:
        if snapshot.unchanged:
            return Decision((), (), ())
        kind = self.kind(source)
        keys = None
        if not snapshot.complete:
            keys = {i.key for i in snapshot.items}
            keys |= {i.corrects for i in snapshot.items if i.corrects}
            keys |= {i.updates for i in snapshot.items if i.updates}
        previous = self.store.load_items(source.name, keys)
        today = self.clock.now().date().isoformat()
        family = family_of(
            self.store, self.config, self.registry, source, snapshot, previous, today
        )
        return decide(source, kind, snapshot, previous, baseline=baseline, family=family)

    # -- enrich (reading runs in a worker) ------------------------------------------------

    def _read_texts(self, decided: _Decided) -> tuple[Alert, ...]:
        """The decided alerts with the trade facts of their documents' full texts."""
        from watcher.enrich import text_url, with_facts

        out = []
        with self.cpu.phase("enrich"):  # less its requests, which are `fetch`
            for alert in decided.decision.alerts:
                url = text_url(alert)
                text = self.texts.text(url, decided.fetcher) if url else None
                out.append(with_facts(alert, text, self.config.watchlist))
        return tuple(out)

    def _texts_read(self, event: TextsRead) -> None:
        decided = self.decided.pop(event.source.name)
        alerts = decided.decision.alerts
        from watcher.enrich import with_facts

        if event.error is not None:  # the full texts are a bonus: the alerts go out without them
            log.debug("reading full texts for %s failed", event.source.name, exc_info=event.error)
            with self.cpu.phase("enrich"):
                alerts = tuple(with_facts(a, None, self.config.watchlist) for a in alerts)
        else:
            alerts = event.value
        decision = replace(decided.decision, alerts=alerts)
        seconds = decided.seconds + event.seconds
        self._commit(replace(decided, decision=decision, seconds=seconds))

    # -- commit and deliver ---------------------------------------------------------------

    def _commit(self, decided: _Decided) -> None:
        source, snapshot, decision = decided.source, decided.snapshot, decided.decision
        if self._quiet(decided):
            return
        # link: each alert in its story (a stage of an action another source told first)
        from watcher.linkphase import link_alerts, pointers

        watchlist = self.config.watchlist
        with self.cpu.phase("link"):
            sent, placements = link_alerts(
                self.store,
                self.kind(source),
                decision.alerts,
                self.clock.now(),
                self.config.slack.routes,
                watchlist.mention if watchlist else None,
            )
        decision = replace(decision, alerts=sent)
        if not self.dry_run:
            with self.cpu.phase("commit"):
                self.store.record_check(
                    source=source.name,
                    kind=source.kind,
                    snapshot=snapshot,
                    decision=decision,
                    now=self.clock.now(),
                    run_id=self.run_id,
                    placements=placements,
                )
                self._judge_health(source)
        self._queued([*decision.alerts, *pointers(placements)])
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

    def _queued(self, alerts: Sequence[Alert]) -> None:
        self.queued += len(alerts)
        if self.dry_run:  # a real run's copies would pin memory all run long (in the outbox)
            self.alerts += alerts

    def _quiet(self, decided: _Decided) -> bool:
        """A healthy source that answered "not modified": recorded with the others like it
        in one transaction after the fetching (a run killed before then checks it again)."""
        source, snapshot = decided.source, decided.snapshot
        row = self.rows.get(source.name)
        if (
            self.dry_run
            or not snapshot.unchanged
            or decided.decision.alerts
            or source.expect is not None  # a quiet source may owe a notice
            or row is None
            or row["consecutive_failures"]
            or row["failure_notice"]
            or row["silence_notice"]
        ):
            return False
        self.quiet.append(decided)
        self.reports[source.name] = SourceReport(
            name=source.name,
            ok=True,
            items=0,
            unchanged=True,
            seconds=decided.seconds,
            requests=decided.fetcher.requests,
            notes=snapshot.notes,
        )
        return True

    def _record_quiet(self) -> None:
        if self.quiet:
            with self.cpu.phase("commit"):
                self.store.record_unchanged(
                    [(d.source.name, d.source.kind, d.snapshot) for d in self.quiet],
                    self.clock.now(),
                )
            self.quiet.clear()

    def _failed(self, source: SourceConfig, message: str, fetcher: CheckFetcher) -> None:
        message = " ".join(message.split())  # one line, whatever the error said
        self.decided.pop(source.name, None)
        if not self.dry_run:
            with self.cpu.phase("commit"):
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
        health = self.store.health_of(self.store.source_row(source.name))
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
        with self.cpu.phase("deliver"):
            report = drain(
                self.store.outbox,
                self.delivery,
                sources=sources,
                hold_baselines=sources is not None,
            )
        self.delivered = report if self.delivered is None else self.delivered + report


def _texts_to_read(alerts: Sequence[Alert]) -> bool:
    """Whether any alert has a full text worth reading (the enrich phase, in a worker)."""
    if not any(a.event in FIRST_NEWS for a in alerts):
        return False  # (a first check's line, say): the fact extractor is not even loaded
    from watcher.enrich import text_url

    return any(text_url(a) for a in alerts)


def _with_own_facts(decided: _Decided, watchlist: Watchlist | None) -> _Decided:
    """The decision's alerts with the trade facts their items' own text states (a CSMS
    message's body, a feed entry's summary), for sources with no full text to read."""
    if not any(a.event in FIRST_NEWS for a in decided.decision.alerts):
        return decided
    from watcher.enrich import with_facts

    alerts = tuple(with_facts(a, None, watchlist) for a in decided.decision.alerts)
    return replace(decided, decision=replace(decided.decision, alerts=alerts))

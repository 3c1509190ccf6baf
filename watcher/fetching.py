"""The network side of a run: every source's check (and later the full texts of its alerts)
handed to worker threads, and what finished handed back one at a time, as it finishes.

Two things bend the order. A source filed ahead of publication (the public inspection desk)
is given back after its family's published source in the same run, which tells a withdrawn
filing from a published one; it waits at most `FAMILY_WAIT`, then comes back anyway (a
filing that left the desk is then judged on the next check: never wrongly, at worst a check
later). And a check past its deadline, or everything still out when the run reaches its own,
comes back as given up: it costs its own source, nobody else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from watcher import stopping
from watcher.http import CheckFetcher, Fetcher
from watcher.models import Snapshot, SourceMemory
from watcher.settings import LimitSettings, SourceConfig
from watcher.sources import Registry
from watcher.sources.base import Role
from watcher.workers import Finished, Workers

FAMILY_WAIT = 10.0  # seconds a filed-ahead source waits for its published sibling
BACKLOG = 4  # parsed checks waiting for the run's thread before parsing pauses


@dataclass(frozen=True)
class Fetched:
    """A source's check finished: its snapshot, or the exception it raised."""

    source: SourceConfig
    fetcher: CheckFetcher
    seconds: float
    snapshot: Snapshot | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class TextsRead:
    """The full texts of a source's alerts were read (or reading them failed)."""

    source: SourceConfig
    seconds: float
    value: Any = None
    error: BaseException | None = None


@dataclass(frozen=True)
class GaveUp:
    """A source's check, or its reading, outlived its deadline or the run's."""

    source: SourceConfig
    fetcher: CheckFetcher
    reason: str


Event = Fetched | TextsRead | GaveUp


class Fetching:
    """One run's checks in flight. `events()` gives back what finished; `read_texts` hands a
    decided check's full-text reading to the same workers."""

    def __init__(
        self,
        fetcher: Fetcher,
        sources: Sequence[SourceConfig],
        memories: Mapping[str, SourceMemory],
        registry: Registry,
        limits: LimitSettings,
        *,
        everyone: Sequence[SourceConfig],
        settled: Callable[[str], bool],
        concurrency: int,
    ):
        self.registry = registry
        self.limits = limits
        self.cpu = fetcher.cpu
        self.turns = fetcher.turns
        self.everyone = everyone  # every configured source, to find a source's family
        self.settled = settled  # whether the run has settled a source (for family order)
        self.sources = {s.name: s for s in sources}
        self.fetchers: dict[str, CheckFetcher] = {}
        self.parked: dict[str, tuple[Fetched, float]] = {}
        self.out_of_time = False
        self.workers = Workers(min(concurrency, len(sources)), "check")
        # parsing waits while the run has BACKLOG parsed checks to write (memory stays flat)
        self.turns.watch(self.workers.finished_waiting, BACKLOG)
        for source in sources:  # each check under way as soon as it is handed out
            self.fetchers[source.name] = fetcher.for_check(
                source.url, source.fetch_hosts, limits.check_deadline
            )
            job = partial(self._check, source, memories[source.name])
            self.workers.submit(("check", source.name), job)

    def _check(self, source: SourceConfig, memory: SourceMemory) -> Snapshot:
        """A source's check, in a worker: its deadline counts from when it starts."""
        fetcher = self.fetchers[source.name]
        fetcher.begin()
        # one check parses at a time; its requests are `fetch`, and wait without the turn
        with self.turns.working(), self.cpu.phase("parse"):
            return self.registry[source.kind].check(fetcher, source, memory)

    def read_texts(self, source: SourceConfig, job: Callable[[], Any]) -> None:
        self.workers.submit(("texts", source.name), partial(self._taking_turns, job))

    def _taking_turns(self, job: Callable[[], Any]) -> Any:
        with self.turns.working():
            return job()

    def close(self) -> None:
        self.workers.close()

    # -- what finished, in order ----------------------------------------------------------

    def events(self) -> Iterator[Event]:
        """What finished, one at a time, until nothing is left, a stop is requested (what is
        still out is then left to the next run), or the run's deadline passes."""
        ends = time.monotonic() + self.limits.run_deadline
        while self.workers.outstanding or self.parked:
            if stopping.requested():
                return
            left = ends - time.monotonic()
            if left <= 0:
                self.out_of_time = True
                break
            for name in self._unparked():
                yield self.parked.pop(name)[0]
            if not self.workers.outstanding:
                continue  # nothing else to wait for: every sibling has settled
            finished = self.workers.next_finished(min(0.2, left))
            if finished is None:
                yield from self._overdue()
                continue
            self.turns.nudge()
            event = self._event(finished)
            if isinstance(event, Fetched) and self._waits_for_family(event.source):
                self.parked[event.source.name] = (event, time.monotonic())
            else:
                yield event
        for name in list(self.parked):  # out of time: decide with what the state knows
            yield self.parked.pop(name)[0]
        for step, name in sorted(self.workers.outstanding):
            self.workers.abandon((step, name))
            doing = "fetching" if step == "check" else "reading full texts"
            yield GaveUp(
                self.sources[name],
                self.fetchers[name],
                f"still {doing} when the run reached its deadline "
                f"({self.limits.run_deadline:.0f}s); abandoned",
            )

    def _event(self, finished: Finished) -> Event:
        step, name = finished.tag
        source = self.sources[name]
        if step == "texts":
            return TextsRead(source, finished.seconds, finished.value, finished.error)
        return Fetched(
            source,
            self.fetchers[name],
            finished.seconds,
            snapshot=finished.value if finished.error is None else None,
            error=finished.error,
        )

    def _overdue(self) -> Iterator[GaveUp]:
        """Checks past their deadline are given up on: each fails alone, the run goes on."""
        deadline = self.limits.check_deadline
        for tag in self.workers.outstanding:
            started = self.workers.running_since(tag)
            if started is None or time.monotonic() - started <= deadline:
                continue
            self.workers.abandon(tag)
            name = tag[1]
            yield GaveUp(
                self.sources[name],
                self.fetchers[name],
                f"the check took longer than its deadline ({deadline:g}s); abandoned",
            )

    # -- families -------------------------------------------------------------------------

    def _waits_for_family(self, source: SourceConfig) -> bool:
        """A filed-ahead source whose family's published source is in this run, unsettled."""
        kind = self.registry[source.kind]
        if kind.role is not Role.INSPECTION or kind.family is None:
            return False
        return any(
            other.name in self.sources
            and not self.settled(other.name)
            and self.registry[other.kind].family == kind.family
            and self.registry[other.kind].role is Role.PUBLISHED
            for other in self.everyone
        )

    def _unparked(self) -> list[str]:
        """Parked sources whose sibling has settled, or that have waited long enough."""
        now = time.monotonic()
        return [
            name
            for name, (event, since) in self.parked.items()
            if now - since >= FAMILY_WAIT or not self._waits_for_family(event.source)
        ]

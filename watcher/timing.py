"""Where a run's CPU goes, phase by phase, from the run's own clock (`watcher run --timings`).

Every thread charges the CPU it spends (`time.thread_time`) to the phase it is in: a worker's
check is `parse` except while it waits on a request, which is `fetch`; the run's thread moves
through decide, enrich, link, commit and deliver. Phases nest: entering one pauses the one
it was entered from, so no CPU second is counted twice. `start` is what the process spent
before the run began (the interpreter, imports, the configuration, and the child process
that prepared a first run: `watcher.preparing`); `other` is the rest of
the process's CPU (threads starting and ending, the report, what no phase claimed).
"""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

PHASES = ("start", "fetch", "parse", "decide", "enrich", "link", "commit", "deliver", "other")


@dataclass(frozen=True)
class CpuSplit:
    """A run's CPU seconds by phase (in `PHASES` order), and the most requests it had in
    flight at once."""

    seconds: tuple[tuple[str, float], ...]
    peak_in_flight: int

    @property
    def total(self) -> float:
        return sum(s for _, s in self.seconds)

    def as_dict(self) -> dict[str, float]:
        return {phase: round(s, 4) for phase, s in self.seconds}

    def line(self) -> str:
        """One line for a person: "CPU 0.36 s: start 0.17, fetch 0.08, ... ; peak ..."."""
        parts = ", ".join(f"{phase} {s:.3f}" for phase, s in self.seconds)
        return (
            f"CPU {self.total:.3f} s: {parts}; "
            f"at most {self.peak_in_flight} request(s) in flight at once"
        )


def _children_cpu() -> float:
    """CPU seconds of the child processes that ended (the run's preparing child)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class _Open:
    """A phase a thread is in, and the thread's CPU clock when it last charged it."""

    __slots__ = ("name", "since")

    def __init__(self, name: str, since: float):
        self.name = name
        self.since = since


class CpuClock:
    """Thread-safe tally of CPU seconds per phase for one run. The clocks are the calling
    thread's CPU time and the whole process's (a test passes its own)."""

    def __init__(
        self,
        thread_clock: Callable[[], float] = time.thread_time,
        process_clock: Callable[[], float] = time.process_time,
        children_clock: Callable[[], float] = _children_cpu,
    ) -> None:
        self._thread_clock = thread_clock
        self._process_clock = process_clock
        self._children_clock = children_clock
        self._lock = threading.Lock()
        self._spent = dict.fromkeys(PHASES, 0.0)
        self._local = threading.local()
        self._in_flight = 0
        self._peak = 0
        # what was spent before the run: the process, and the child that prepared it
        self._started = process_clock() + children_clock()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Charge this thread's CPU to `name` until the block ends (pausing any outer phase)."""
        stack: list[_Open] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        now = self._thread_clock()
        if stack:
            self._add(stack[-1].name, now - stack[-1].since)
        stack.append(_Open(name, now))
        try:
            yield
        finally:
            now = self._thread_clock()
            self._add(name, now - stack.pop().since)
            if stack:
                stack[-1].since = now

    @contextmanager
    def request(self) -> Iterator[None]:
        """A request in flight, for the peak."""
        with self._lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _add(self, name: str, seconds: float) -> None:
        with self._lock:
            self._spent[name] = self._spent.get(name, 0.0) + max(0.0, seconds)

    def split(self) -> CpuSplit:
        """The split so far; `other` is the process's CPU that no phase claimed."""
        total = self._process_clock() + self._children_clock()
        with self._lock:
            spent = dict(self._spent)
            peak = self._peak
        spent["start"] = self._started
        claimed = sum(s for phase, s in spent.items() if phase != "other")
        spent["other"] = max(0.0, total - claimed)
        return CpuSplit(tuple((phase, spent[phase]) for phase in PHASES), peak)


class _Idle(CpuClock):
    """A clock that counts nothing: for fetchers used outside a run (`watcher inspect`)."""

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        yield

    @contextmanager
    def request(self) -> Iterator[None]:
        yield


IDLE = _Idle()

"""Turns at the CPU for a run's worker threads: many threads wait on the network at once, but
only one at a time parses what came back.

Python runs one thread's bytecode at a time, so a second thread parsing alongside the first
adds nothing but the cost of passing the interpreter lock back and forth; with 64 threads
whose answers arrive together, that cost was about a tenth of a first run's CPU (and its
system time doubled). A worker takes a turn for its check and gives it up while it waits on
a request (`Fetcher.get`), so the network stays as busy as before.

A turn is also withheld while the run has `most` parsed checks waiting for it (`watch`):
the run's own thread writes each one to the state, and while it catches up, parsing more
would only hold more documents in memory at once. So a first run's memory stays flat in the
number of sources (bench.py: 50 to 800 sources). A run's thread held up for longer than
`stuck_after` (Slack asking it to wait, say) holds up nobody's parsing beyond that.

A turn held for longer than `stuck_after` seconds (a parser gone astray on a hostile page,
until its check's deadline abandons it) no longer makes anyone wait: the others work
without one, as they did before turns, so one bad source never holds up another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Turns:
    """At most `size` threads working at once (None: no limit, nothing to wait for)."""

    def __init__(
        self,
        size: int | None = 1,
        *,
        stuck_after: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._size = size
        self._free = size or 0
        self._stuck_after = stuck_after
        self._clock = clock
        self._changed = threading.Condition()
        self._held_since: dict[int, float] = {}  # holder's thread id -> when it took its turn
        self._local = threading.local()
        self._waiting: Callable[[], int] = lambda: 0  # results the run has yet to take
        self._most = 0

    def watch(self, waiting: Callable[[], int], most: int) -> None:
        """Withhold turns while `waiting()` (results the run has yet to take) is `most` or
        more; the run calls `nudge()` each time it takes one."""
        self._waiting, self._most = waiting, most

    def nudge(self) -> None:
        """The run took a result: a turn withheld for the backlog may be given."""
        with self._changed:
            self._changed.notify()

    @contextmanager
    def working(self) -> Iterator[None]:
        """This thread's CPU work: it waits for a turn, and holds it until the block ends
        (except while it waits on the network)."""
        if self._size is None or getattr(self._local, "holding", False):
            yield
            return
        self._take()
        try:
            yield
        finally:
            if self._local.holding:  # not when it worked without one
                self._give()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """This thread waits on something else than the CPU: its turn goes to another
        thread meanwhile, and comes back when the block ends."""
        if not getattr(self._local, "holding", False):
            yield
            return
        self._give()
        try:
            yield
        finally:
            self._take()

    def _take(self) -> None:
        """Wait for a turn; none when a holder has kept one past `stuck_after` (this thread
        works without one, then)."""
        with self._changed:
            since = self._clock()
            while True:
                if self._free > 0 and (
                    not self._backlogged() or self._clock() - since >= self._stuck_after
                ):
                    break  # a turn is free, and the run keeps up (or has kept us long enough)
                if self._free <= 0:
                    left = min(self._held_since.values()) + self._stuck_after - self._clock()
                    if left <= 0:
                        self._local.holding = False
                        return
                else:  # the run nudges as it takes a result; past stuck_after, parse anyway
                    left = since + self._stuck_after - self._clock()
                self._changed.wait(max(left, 0.001))
            self._free -= 1
            self._held_since[threading.get_ident()] = self._clock()
        self._local.holding = True

    def _backlogged(self) -> bool:
        return self._most > 0 and self._waiting() >= self._most

    def _give(self) -> None:
        self._local.holding = False
        with self._changed:
            self._free += 1
            self._held_since.pop(threading.get_ident(), None)
            self._changed.notify()


UNLIMITED = Turns(None)

"""A small pool of daemon threads that do a run's waiting on the network.

The run's own thread hands out jobs and takes results as they finish, in whatever order
they finish, so one slow source holds up nobody else. The threads are daemons: a job still
stuck when the run ends (past its deadline, or on a stop request) is abandoned with the
process, never waited on.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Job = Callable[[], Any]
Tag = tuple[str, str]  # (step, source name)


@dataclass(frozen=True)
class Finished:
    """A job's outcome: its value, or the exception it raised."""

    tag: Tag
    value: Any = None
    error: BaseException | None = None
    seconds: float = 0.0


class Workers:
    """Up to `size` jobs at once; `next_finished` returns them as they end."""

    def __init__(self, size: int, name: str = "worker"):
        self._jobs: queue.SimpleQueue[tuple[Tag, Job] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[Finished] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started: dict[Tag, float] = {}  # tag -> time.monotonic() it started
        self._outstanding: set[Tag] = set()
        self._size = max(1, size)
        self._name = name
        self._threads: list[threading.Thread] = []

    def submit(self, tag: Tag, job: Job) -> None:
        with self._lock:
            self._outstanding.add(tag)
        self._jobs.put((tag, job))
        # A thread per job, up to `size`, started as the jobs come: the first job is under
        # way while the others are handed out (starting 64 threads first took ~9 ms).
        if len(self._threads) < min(self._size, len(self._outstanding)):
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    @property
    def outstanding(self) -> set[Tag]:
        """Tags submitted and not yet taken by `next_finished`."""
        with self._lock:
            return set(self._outstanding)

    def finished_waiting(self) -> int:
        """Jobs finished and not yet taken by `next_finished`."""
        return self._done.qsize()

    def running_since(self, tag: Tag) -> float | None:
        """When the job started (time.monotonic()), or None if it has not."""
        with self._lock:
            return self._started.get(tag)

    def next_finished(self, timeout: float) -> Finished | None:
        """The next job to finish, waiting up to `timeout` seconds; None if none did."""
        try:
            finished = self._done.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        with self._lock:
            self._outstanding.discard(finished.tag)
            self._started.pop(finished.tag, None)
        return finished

    def abandon(self, tag: Tag) -> None:
        """Stop waiting for a job: its result, if it ever comes, is dropped."""
        with self._lock:
            self._outstanding.discard(tag)

    def close(self) -> None:
        """No more jobs; idle threads end. Threads still busy end with the process."""
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            entry = self._jobs.get()
            if entry is None:
                return
            self._run(*entry)
            # the job and its result go out of scope here, not when the next job comes: an
            # idle worker holds no parsed document

    def _run(self, tag: Tag, job: Job) -> None:
        started = time.monotonic()
        with self._lock:
            if tag not in self._outstanding:
                return  # abandoned before it started
            self._started[tag] = started
        try:
            finished = Finished(tag, value=job(), seconds=time.monotonic() - started)
        except BaseException as exc:  # handed to the run, which decides what it costs
            finished = Finished(tag, error=exc, seconds=time.monotonic() - started)
        with self._lock:
            wanted = tag in self._outstanding
        if wanted:
            self._done.put(finished)

"""How much a run asks of each host: the politeness gate every request passes, and the tally
of one check's requests and bytes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class HostGate:
    """Politeness: at most N requests in flight in all and per host, and a minimum gap
    between the starts of two requests to one host."""

    def __init__(self, concurrency: int, per_host: int, interval: float):
        self._overall = threading.BoundedSemaphore(concurrency)
        self._per_host = per_host
        self._interval = interval
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def enter(self, host: str, interval: float = 0.0) -> Iterator[None]:
        gap = max(self._interval, interval)
        with self._lock:
            slot = self._slots.setdefault(host, threading.BoundedSemaphore(self._per_host))
        with slot, self._overall:
            if gap:
                with self._lock:
                    now = time.monotonic()
                    start = max(now, self._next_start.get(host, now))
                    self._next_start[host] = start + gap
                if start > now:
                    time.sleep(start - now)
            yield


class Tally:
    """Requests made and bytes received, for one check's report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes_received = 0

    def add(self, *, requests: int = 0, bytes_received: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.bytes_received += bytes_received

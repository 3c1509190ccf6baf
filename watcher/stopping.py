"""Stopping cleanly on SIGTERM (and Ctrl-C): finish the current step, start nothing new.

The runner and the outbox drain look at `requested()` between steps. Requests already in
flight finish (bounded by the HTTP timeouts); a check whose fetch finished is still recorded
with its alerts; an alert Slack is posting is recorded once Slack answers. What was not done
waits for the next run, so nothing is lost.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_requested = threading.Event()
_signal_name: list[str] = []


def requested() -> bool:
    return _requested.is_set()


def reason() -> str | None:
    return _signal_name[0] if _signal_name else None


def request(name: str = "a stop request") -> None:
    if not _signal_name:
        _signal_name.append(name)
    _requested.set()


def wait(seconds: float) -> bool:
    """Sleep up to `seconds`, waking early on a stop request; True if one came."""
    return _requested.wait(max(0.0, seconds))


def reset() -> None:
    _requested.clear()
    _signal_name.clear()


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within this block, SIGTERM and SIGINT ask for a clean stop instead of killing."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread (e.g. under a test runner)
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        request(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)

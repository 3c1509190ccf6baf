"""Stopping cleanly on SIGTERM (and Ctrl-C), within a few seconds whatever is in hand.

A stop request is noticed between steps: fetches in flight are abandoned (their worker
threads end with the process), a check already fetched is not started on, and what was
committed stays committed. If the run's own thread is inside something that blocks (a post
Slack is slow to answer), `GRACE` seconds after the request, or at a second signal, it is
interrupted with `Stopped`, which unwinds like Ctrl-C: any open transaction rolls back, the
run lock is released. Nothing is lost: what was not done is done by the next run.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

GRACE = 5.0  # seconds between a stop request and interrupting whatever blocks

_requested = threading.Event()
_signal_name: list[str] = []


class Stopped(BaseException):
    """The stop could not wait for the step in hand any longer."""


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
def stop_on_signals(grace: float = GRACE) -> Iterator[None]:
    """Within this block, SIGTERM and SIGINT ask for a stop; the step in hand gets `grace`
    seconds (or until a second signal) before it is interrupted with `Stopped`."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread (e.g. under a test runner)
        return

    def asked(signum: int, frame: FrameType | None) -> None:
        if requested():
            raise Stopped(reason())
        request(signal.Signals(signum).name)
        signal.setitimer(signal.ITIMER_REAL, grace)

    def out_of_patience(signum: int, frame: FrameType | None) -> None:
        raise Stopped(reason())

    previous = {
        sig: signal.signal(sig, handler)
        for sig, handler in (
            (signal.SIGTERM, asked),
            (signal.SIGINT, asked),
            (signal.SIGALRM, out_of_patience),
        )
    }
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, old in previous.items():
            signal.signal(sig, old)

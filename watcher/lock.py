"""One run at a time per state directory: an advisory file lock the kernel drops when the
process dies, so a killed run never blocks the next one.

The lock file says who holds it and since when. Runs end by their deadline, so a run still
holding the lock well past it is stuck (a process hung where no deadline reaches): the next
run and `status --health` say so and exit 1, instead of "another run is in progress".
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from watcher.errors import StateError

LOCK_NAME = "watcher.lock"
STUCK_MARGIN = timedelta(minutes=5)  # past the run's deadline, a holder is stuck


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as its file says."""

    pid: str | None
    since: datetime | None

    def stuck(self, run_deadline: float, now: datetime) -> bool:
        return self.since is not None and now - self.since > (
            timedelta(seconds=run_deadline) + STUCK_MARGIN
        )

    def describe(self) -> str:
        since = f" since {self.since:%Y-%m-%d %H:%M:%S}Z" if self.since else ""
        return f"pid {self.pid or '?'}{since}"


class RunLock:
    """`with RunLock(state_dir) as lock:`; `lock.acquired` says whether we hold it."""

    def __init__(self, state_dir: Path, now: datetime | None = None):
        self.path = state_dir / LOCK_NAME
        self.acquired = False
        self._now = now
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(f"cannot create the lock file {self.path}: {exc}") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return self
        self.acquired = True
        since = (self._now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n{since}\n".encode())
        return self

    def holder(self) -> Holder:
        """Who holds the lock, for the message to the user."""
        return read_holder(self.path)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            if self.acquired:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def read_holder(path: Path) -> Holder:
    try:
        lines = path.read_text().split("\n")
    except OSError:
        return Holder(None, None)
    pid = lines[0].strip() or None
    try:
        since = datetime.fromisoformat(lines[1].strip()) if len(lines) > 1 else None
    except ValueError:
        since = None
    return Holder(pid, since)


def held_by(state_dir: Path) -> Holder | None:
    """Who holds the run lock now, or None when nobody does (without taking it)."""
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(path)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)

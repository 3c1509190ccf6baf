"""One run at a time per state directory: an advisory file lock the kernel drops when the
process dies, so a killed run never blocks the next one."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from watcher.errors import StateError

LOCK_NAME = "watcher.lock"


class RunLock:
    """`with RunLock(state_dir) as lock:`; `lock.acquired` says whether we hold it."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / LOCK_NAME
        self.acquired = False
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
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())
        return self

    def holder(self) -> str | None:
        """The pid written by whoever holds the lock, for the message to the user."""
        try:
            return self.path.read_text().strip() or None
        except OSError:
            return None

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

"""A run's one-off preparations, done by a short-lived child process: checking a new or
changed sources.yaml (pydantic), and creating the state database or upgrading it (an
upgrade runs sqlite-utils' migrations).

Both happen on a first run, after the configuration changed, and after an upgrade; every
other run finds the checked configuration cached in the state directory (`config_cache`)
and the database current, and loads neither library. Loaded into the run itself, they stay
resident for all of it: pydantic and the checked models alone are 11 MB, a fifth of a first
run's peak memory, for work done in its first tenth of a second. In a child, that memory is
returned when the child exits, before the run fetches anything.

The child is only a head start. Whatever it could not do (a configuration with mistakes, a
database it may not touch, another run holding the lock, a child that fails to start) the
run then does itself, exactly as without it, and reports as usual: the child says nothing.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

CHILD_DEADLINE = 60.0  # seconds; past that the run goes on without the head start


def needed(config_path: Path, state_dir: Path) -> bool:
    """Whether the run has one-off work a child could do: a configuration not yet checked,
    or a state database missing or behind this version's schema. Costs a hash and a query."""
    from watcher import config_cache
    from watcher.db import DB_NAME, MIGRATIONS, applied_migrations

    try:
        if config_cache.read_for(state_dir, config_path) is None:
            return True
    except OSError:
        return False  # the run reports it
    database = state_dir / DB_NAME
    if not database.exists():
        return True
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1.0)
        try:
            applied = applied_migrations(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return False  # a damaged database: the run says so
    return applied != list(MIGRATIONS)


def prepare(config_path: Path, state_dir: Path, deadline: float = CHILD_DEADLINE) -> None:
    """Do the one-off work in a child process, if there is any; never fails.

    The child is forked, not started afresh: it has every module the run has already
    imported, so it pays only for its own work (a new interpreter importing watcher again
    cost more than the work itself). The run is still a single thread at this point."""
    if threading.active_count() > 1 or not needed(config_path, state_dir):
        return  # (forking a process with other threads could copy a lock some thread holds)
    # What the run loads next anyway, loaded before the fork, so that the child has it too.
    import watcher.config
    import watcher.lock
    import watcher.sources
    import watcher.store  # noqa: F401

    try:
        pid = os.fork()
    except OSError:
        return  # the run does it itself
    if pid == 0:  # the child: silent, and gone without running the parent's exit handlers
        status = 1
        try:
            quiet = os.open(os.devnull, os.O_RDWR)
            for stream in (0, 1, 2):
                os.dup2(quiet, stream)
            status = main([str(config_path), str(state_dir)])
        finally:
            os._exit(status)
    _wait(pid, deadline)


def _wait(pid: int, deadline: float) -> None:
    """Wait for the child up to `deadline` seconds; past that, stop it and go on."""
    try:
        handle = os.pidfd_open(pid)  # Linux: readable when the child ends
    except (AttributeError, OSError):
        handle = None
    ends = time.monotonic() + deadline
    while (left := ends - time.monotonic()) > 0:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if handle is not None:
            select.select([handle], [], [], left)
        else:
            time.sleep(min(left, 0.002))
    else:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if handle is not None:
        os.close(handle)


def main(argv: list[str]) -> int:
    """The child's work: the database created or upgraded (under the run lock, as a run
    would), then the configuration checked and cached. 0 when both were done.
    (`python -m watcher.preparing CONFIG STATE_DIR` does the same by hand.)"""
    from watcher.config import load_config
    from watcher.errors import WatcherError
    from watcher.lock import RunLock
    from watcher.sources import REGISTRY
    from watcher.store import Store

    config_path, state_dir = Path(argv[0]), Path(argv[1])
    status = 0
    try:
        with RunLock(state_dir) as lock:
            if lock.acquired:
                Store.open(state_dir).close()
            else:
                status = 1
        load_config(config_path, REGISTRY, cache_dir=state_dir)
    except (WatcherError, OSError):
        return 1
    return status


if __name__ == "__main__":
    import gc

    # As in the run (`cli.main`): pydantic's and sqlite-utils' imports make hundreds of
    # thousands of objects, and the collector's frequent passes over them cost a quarter of
    # the child's CPU while collecting nothing.
    gc.set_threshold(50_000, 20, 100)
    sys.exit(main(sys.argv[1:]))

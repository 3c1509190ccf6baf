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
import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

CHILD_DEADLINE = 60.0  # seconds; past that the run goes on without the head start


def needed(config_path: Path, state_dir: Path) -> bool:
    """Whether the run has one-off work a child could do: a configuration not yet checked,
    or a state database missing or behind this version's schema. Costs a hash and a query."""
    from watcher import config_cache
    from watcher.db import DB_NAME, MIGRATIONS, applied_migrations

    try:
        digest = hashlib.sha256(config_path.read_bytes()).hexdigest()
    except OSError:
        return False  # the run reports it
    if config_cache.read(state_dir, digest) is None:
        return True
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


def prepare(config_path: Path, state_dir: Path) -> None:
    """Do the one-off work in a child process, if there is any; never fails."""
    if not needed(config_path, state_dir):
        return
    command = [sys.executable, "-m", "watcher.preparing", str(config_path), str(state_dir)]
    with contextlib.suppress(OSError, subprocess.SubprocessError):  # the run does it itself
        subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=CHILD_DEADLINE,
            check=False,
        )


def main(argv: list[str]) -> int:
    """The child: the database created or upgraded (under the run lock, as a run would),
    then the configuration checked and cached. Exit status 0 when both were done."""
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

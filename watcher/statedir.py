"""The state directory: opening its database, and never starting over by itself.

A missing database is the normal first run; but where watcher has run before (a small
marker beside the database says so), a missing or empty database means the state was lost,
and starting afresh would announce everything again. So that, like a damaged database (a
quick integrity check runs at every open), is refused with one line, unless the operator
says `--new-baseline`: then the old file is moved aside (never deleted) and a new baseline
is taken, announcing nothing. Commands that only read (`validate`, `status`, `history`,
`--dry-run`) work on a read-only state directory too.
"""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from watcher.db import (
    BUSY_TIMEOUT,
    DB_NAME,
    MIGRATIONS,
    Database,
    applied_migrations,
    explain,
    migrate,
)
from watcher.errors import StateError

MARKER = "watcher.db.seen"  # written once the database first exists: "watcher has run here"


def ensure_state_dir(state_dir: Path) -> None:
    """Create the state directory if need be; a clear error when it cannot be."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        if not state_dir.is_dir():
            raise NotADirectoryError(f"{state_dir} is not a directory")
    except OSError as exc:
        raise StateError(f"cannot use the state directory {state_dir}: {_reason(exc)}") from None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _present(path: Path) -> bool:
    """Whether a file exists with something in it (an unreadable one is a clear error)."""
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StateError(f"cannot read the state database {path}: {_reason(exc)}") from None


def _set_aside(path: Path, now: datetime) -> None:
    """Move a lost or damaged database (and its journal files) out of the way, keeping it."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.rename(path.with_name(f"{path.name}.set-aside-{stamp}{suffix}"))


def open_for_writing(
    state_dir: Path, wait: float = BUSY_TIMEOUT, *, new_baseline: bool = False
) -> Database:
    """Open (creating on a first run) the database for writing, check it, and migrate it."""
    ensure_state_dir(state_dir)
    path = state_dir / DB_NAME
    marker = state_dir / MARKER
    if not _present(path) and marker.exists() and not new_baseline:
        raise StateError(
            f"the state database {path} is missing or empty, though watcher has run with "
            f"this state directory before ({marker.read_text().strip() or 'see ' + MARKER}); "
            "watcher will not start over by itself, since that would announce everything "
            "again. Restore it from a backup, or run with --new-baseline to start afresh "
            "(a new baseline: nothing announced)."
        )
    now = datetime.now(UTC)
    if new_baseline and path.exists():
        _set_aside(path, now)
    try:
        conn = sqlite3.connect(str(path), timeout=wait, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        _check_integrity(conn)
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = wal")
        # In WAL mode, NORMAL loses nothing to a crash of watcher, only (at worst) the last
        # commits to a power cut, and saves an fsync per source per run.
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
    except sqlite3.Error as exc:
        raise StateError(explain(path, exc, "open the state database", wait)) from None
    if not marker.exists():
        with contextlib.suppress(OSError):
            marker.write_text(f"first used on {now:%Y-%m-%d}\n")
    return Database(conn, path, wait)


def _check_integrity(conn: sqlite3.Connection) -> None:
    """A quick check of the whole file: damage anywhere is found at open, not mid-run."""
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise sqlite3.DatabaseError("database disk image is malformed: " + "; ".join(problems))


def open_for_reading(state_dir: Path) -> Database:
    """Open for reading only; with no database yet, an empty one in memory. Never creates or
    changes anything, and works where the state directory is read-only."""
    path = state_dir / DB_NAME
    if not _present(path):
        memory = sqlite3.connect(":memory:", check_same_thread=False)
        migrate(memory)
        return Database(memory, None)
    try:
        conn = _read_only(path)
        _check_integrity(conn)
        if applied_migrations(conn) != list(MIGRATIONS):
            # An older database: migrate a private copy in memory, leave the file alone.
            memory = sqlite3.connect(":memory:", check_same_thread=False)
            conn.backup(memory)
            conn.close()
            migrate(memory)
            conn = memory
    except sqlite3.Error as exc:
        raise StateError(explain(path, exc, "open the state database")) from None
    return Database(conn, path)


def _read_only(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        conn.execute("select count(*) from sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        # A WAL database in a directory that cannot be written: SQLite cannot make its
        # shared-memory file, so read the file as it stands (nothing else writes it there).
        conn.close()
        return sqlite3.connect(
            f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )


def has_state(state_dir: Path) -> bool:
    """Whether watcher has recorded anything in this state directory."""
    return _present(state_dir / DB_NAME) or (state_dir / MARKER).exists()

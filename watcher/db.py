"""The state database's connection: opening it, transactions, and SQLite errors as one line.

Every read and every write goes through `Database`; any `sqlite3` error (locked past the busy
timeout, a full disk, damage) leaves here as a `StateError` with one line a person can act on,
whichever part of watcher hit it. The store and the outbox build on this.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from watcher.errors import StateError

DB_NAME = "watcher.db"
BUSY_TIMEOUT = 15.0  # seconds a write waits for another process's lock (limits.state_wait)

# The migrations of watcher/schema.py, in order: checked with plain sqlite3 on every open, so
# sqlite-utils is imported only when one of them is pending.
MIGRATIONS = (
    "m001_initial",
    "m002_flapping",
    "m003_thread_index",
    "m004_digests",
    "m005_reminders",
    "m006_health",
    "m007_deadlines",
    "m008_stories",
)


class Database:
    """A sqlite3 connection with explicit transactions that nest (savepoints), where every
    SQLite error becomes a `StateError`."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None, wait: float = BUSY_TIMEOUT):
        conn.isolation_level = None  # we say BEGIN and COMMIT ourselves
        self.conn = conn
        self.path = path
        self.wait = wait
        self._savepoints = 0

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def atomic(self, doing: str = "write to the state database") -> Iterator[Database]:
        """One transaction (a savepoint when nested). `doing` names the work for the error
        message: "cannot record the check of X: database is locked"."""
        try:
            with self._transaction():
                yield self
        except sqlite3.Error as exc:
            raise StateError(self.explain(exc, doing)) from None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._in_transaction():
            self._savepoints += 1
            name = f"watcher_{self._savepoints}"
            self.conn.execute(f"savepoint {name}")
            try:
                yield
            except BaseException:
                if self._in_transaction():
                    self.conn.execute(f"rollback to savepoint {name}")
                    self.conn.execute(f"release savepoint {name}")
                raise
            else:
                self.conn.execute(f"release savepoint {name}")
            return
        self.conn.execute("begin immediate")  # take the write lock now, waiting if need be
        try:
            yield
        except BaseException:
            # An error such as a full disk may already have ended the transaction.
            if self._in_transaction():
                self.conn.execute("rollback")
            raise
        else:
            self.conn.execute("commit")

    def _in_transaction(self) -> bool:
        return self.conn.in_transaction

    # -- statements -----------------------------------------------------------------------

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts (plain sqlite3: sqlite-utils parses each statement first, which
        shows once a run makes a few queries per source)."""
        try:
            cursor = self.conn.execute(sql, list(params))
            names = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise StateError(self.explain(exc, "read the state database")) from None
        return [dict(zip(names, row, strict=True)) for row in rows]

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        """A statement inside `atomic()` (whose handler translates its errors)."""
        return self.conn.execute(sql, list(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """A statement for each row, inside `atomic()`; how many rows they changed."""
        return int(self.conn.executemany(sql, rows).rowcount)

    def insert(self, table: str, values: Mapping[str, Any], *, replace: bool = False) -> int:
        """INSERT a row; returns its rowid."""
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        verb = "insert or replace" if replace else "insert"
        cursor = self.conn.execute(
            f"{verb} into {table} ({columns}) values ({marks})", list(values.values())
        )
        return int(cursor.lastrowid or 0)

    def update(self, table: str, key: str, value: Any, values: Mapping[str, Any]) -> None:
        assignments = ", ".join(f"{column} = ?" for column in values)
        self.conn.execute(
            f"update {table} set {assignments} where {key} = ?", [*values.values(), value]
        )

    def close(self) -> None:
        self.conn.close()

    # -- errors ---------------------------------------------------------------------------

    def explain(self, exc: sqlite3.Error, doing: str) -> str:
        return explain(self.path, exc, doing, self.wait)


def explain(
    path: Path | None,
    exc: sqlite3.Error,
    doing: str = "use the state database",
    wait: float = BUSY_TIMEOUT,
) -> str:
    """One line for a person: what failed, why, and what to do."""
    where = str(path) if path else "the state database"
    text = " ".join(str(exc).split())  # an integrity report runs over many lines
    if len(text) > 200:
        text = text[:199] + "…"
    lowered = text.casefold()
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return (
            f"the state database {where} is damaged ({text}); watcher will not start over by "
            "itself, since that would announce everything again. Restore it from a backup, "
            "or move it aside and run with --new-baseline to start afresh."
        )
    if "locked" in lowered or "busy" in lowered:
        return (
            f"cannot {doing}: {where} is locked by another process ({text}) for longer than "
            f"{wait:g}s (limits.state_wait); nothing was lost, the next run picks up from here"
        )
    if "readonly" in lowered or "unable to open" in lowered or "permission" in lowered:
        return f"cannot {doing}: {where} cannot be written ({text}); check permissions"
    if "full" in lowered:
        return f"cannot {doing}: the disk holding {where} is full ({text})"
    return f"cannot {doing}: {where}: {text}"


def _create_fresh(conn: sqlite3.Connection) -> bool:
    """The schema in an empty database, in one transaction; False when it is not empty
    (another process got there first, or an old database: the migrations decide)."""
    from datetime import UTC, datetime

    from watcher.freshschema import STATEMENTS

    conn.execute("begin immediate")
    try:
        if conn.execute("select count(*) from sqlite_master").fetchone()[0]:
            conn.execute("rollback")
            return False
        for statement in STATEMENTS:
            conn.execute(statement)
        applied_at = str(datetime.now(UTC))  # as sqlite-utils records it
        conn.executemany(
            "insert into _sqlite_migrations (migration_set, name, applied_at) values (?, ?, ?)",
            [("watcher", name, applied_at) for name in MIGRATIONS],
        )
    except BaseException:
        if conn.in_transaction:
            conn.execute("rollback")
        raise
    conn.execute("commit")
    return True


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    exists = conn.execute(
        "select 1 from sqlite_master where type = 'table' and name = '_sqlite_migrations'"
    ).fetchone()
    if not exists:
        return []
    return [
        row[0]
        for row in conn.execute(
            "select name from _sqlite_migrations where migration_set = 'watcher' order by rowid"
        )
    ]


def migrate(conn: sqlite3.Connection) -> None:
    """Apply pending migrations, importing sqlite-utils only if there are any; a new, empty
    database gets the whole schema at once (`freshschema`), with every migration recorded."""
    applied = applied_migrations(conn)
    if applied == list(MIGRATIONS):
        return
    if not applied and _create_fresh(conn):
        return
    from sqlite_utils import Database as Migratable

    from watcher.schema import migrations

    migrations.apply(Migratable(conn, execute_plugins=False))

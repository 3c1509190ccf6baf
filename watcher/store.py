"""The state database: what each source had, its health, the alerts outbox, the runs.

SQLite in WAL mode, with versioned migrations (sqlite-utils, in watcher/schema.py). The
items a check changed and the alerts they cause are written in one transaction, so a crash
leaves either both or neither; delivery then drains the outbox and marks each alert sent
the moment Slack accepts it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watcher.decide import Decision
from watcher.errors import StateError
from watcher.health import HealthDecision, SourceHealth
from watcher.models import Alert, Snapshot, SourceMemory, StoredItem
from watcher.secrets import redact

DB_NAME = "watcher.db"

# The migrations of watcher/schema.py, in order: checked with plain sqlite3 on every open, so
# sqlite-utils is imported only when one of them is pending.
MIGRATIONS = (
    "m001_initial",
    "m002_flapping",
    "m003_thread_index",
    "m004_digests",
    "m005_reminders",
    "m006_health",
)


class Connection:
    """A sqlite3 connection with explicit transactions that nest (savepoints)."""

    def __init__(self, conn: sqlite3.Connection):
        conn.isolation_level = None  # we say BEGIN and COMMIT ourselves
        self.conn = conn
        self._savepoints = 0

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, list(params))

    @contextmanager
    def atomic(self) -> Iterator[Connection]:
        if self.conn.in_transaction:
            self._savepoints += 1
            name = f"watcher_{self._savepoints}"
            self.conn.execute(f"savepoint {name}")
            try:
                yield self
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute(f"rollback to savepoint {name}")
                    self.conn.execute(f"release savepoint {name}")
                raise
            else:
                self.conn.execute(f"release savepoint {name}")
            return
        self.conn.execute("begin")
        try:
            yield self
        except BaseException:
            self._rollback()
            raise
        else:
            self.conn.execute("commit")

    def _rollback(self) -> None:
        # An error such as a full disk may already have ended the transaction.
        if self.conn.in_transaction:
            self.conn.execute("rollback")

    def close(self) -> None:
        self.conn.close()


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
    """Apply pending migrations, importing sqlite-utils only if there are any."""
    if applied_migrations(conn) == list(MIGRATIONS):
        return
    from sqlite_utils import Database

    from watcher.schema import migrations

    migrations.apply(Database(conn, execute_plugins=False))


@dataclass(frozen=True)
class Digest:
    """A message listing several alerts; the alerts themselves go in its thread."""

    id: int
    channel: str
    status: str
    slack_channel: str | None
    slack_ts: str | None


@dataclass(frozen=True)
class OutboxEntry:
    """An alert waiting in (or taken from) the outbox."""

    id: int
    alert: Alert
    attempts: int
    status: str
    created_at: str
    digest_id: int | None = None


@dataclass(frozen=True)
class SourceStatus:
    """One source's health and bookkeeping, for `watcher status`."""

    name: str
    kind: str
    last_check_at: str | None
    last_success_at: str | None
    consecutive_failures: int
    last_error: str | None
    items: int
    relevant_items: int
    held_items: int  # flapping: changes recorded, not announced
    alerts_pending: int
    alerts_failed: int
    baseline_done: bool


def iso(moment: datetime) -> str:
    """UTC timestamps as stored: `2026-11-30T19:58:39Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    """The inverse of iso()."""
    if not text:
        return None
    return datetime.fromisoformat(text)  # "Z" reads as UTC; much cheaper than strptime


class Store:
    """The state database of one state directory."""

    def __init__(self, db: Connection, path: Path | None):
        self.db = db
        self.path = path

    # -- opening --------------------------------------------------------------------------

    @classmethod
    def open(cls, state_dir: Path) -> Store:
        """Open (creating if needed) the database for writing, and migrate it."""
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create the state directory {state_dir}: {exc}") from None
        path = state_dir / DB_NAME
        try:
            conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = wal")
            # In WAL mode, NORMAL loses nothing to a crash of watcher, only (at worst) the last
            # commits to a power cut, and saves an fsync per source per run.
            conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn)
            db = Connection(conn)
        except sqlite3.DatabaseError as exc:
            raise StateError(_explain(path, exc)) from None
        return cls(db, path)

    @classmethod
    def open_readonly(cls, state_dir: Path) -> Store:
        """Open for reading only; with no database yet, an empty in-memory one.

        Used by `--dry-run` and `status`, which must never create or change state.
        """
        path = state_dir / DB_NAME
        if not path.exists():
            memory = sqlite3.connect(":memory:", check_same_thread=False)
            migrate(memory)
            return cls(Connection(memory), None)
        try:
            conn = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, timeout=30.0, check_same_thread=False
            )
            if applied_migrations(conn) != list(MIGRATIONS):
                # An older database: migrate a private copy in memory, leave the file alone.
                memory = sqlite3.connect(":memory:", check_same_thread=False)
                conn.backup(memory)
                conn.close()
                migrate(memory)
                conn = memory
        except sqlite3.DatabaseError as exc:
            raise StateError(_explain(path, exc)) from None
        return cls(Connection(conn), path)

    def close(self) -> None:
        self.db.close()

    # -- sources --------------------------------------------------------------------------

    def source_row(self, name: str) -> dict[str, Any] | None:
        rows = list(self._query("select * from sources where name = ?", [name]))
        return rows[0] if rows else None

    def all_sources(self) -> dict[str, dict[str, Any]]:
        """Every source row, by name: one query for a run's bookkeeping."""
        return {row["name"]: row for row in self._query("select * from sources")}

    @staticmethod
    def memory_of(row: Mapping[str, Any] | None) -> SourceMemory:
        if row is None:
            return SourceMemory()
        return SourceMemory(
            cursor=json.loads(row["cursor"] or "{}"),
            validators=json.loads(row["validators"] or "{}"),
            baseline_done=bool(row["baseline_done"]),
        )

    def memory(self, name: str) -> SourceMemory:
        row = self.source_row(name)
        if row is None:
            return SourceMemory()
        return SourceMemory(
            cursor=json.loads(row["cursor"] or "{}"),
            validators=json.loads(row["validators"] or "{}"),
            baseline_done=bool(row["baseline_done"]),
        )

    def last_check(self, name: str) -> str | None:
        row = self.source_row(name)
        return row["last_check_at"] if row else None

    # -- items ----------------------------------------------------------------------------

    def load_items(
        self,
        source: str,
        keys: Iterable[str] | None = None,
        *,
        include_removed: bool = False,
    ) -> dict[str, StoredItem]:
        """A source's stored items still present (or gone too): all, or those with these keys."""
        present = "" if include_removed else " and removed_at is null"
        if keys is None:
            rows = self._query(f"select * from items where source = ?{present}", [source])
            return {row["key"]: _stored(row) for row in rows}
        wanted = sorted(set(keys))
        out: dict[str, StoredItem] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"select * from items where source = ?{present} and key in ({marks})",
                [source, *chunk],
            )
            out.update((row["key"], _stored(row)) for row in rows)
        return out

    # -- recording a check ----------------------------------------------------------------

    def record_check(
        self,
        *,
        source: str,
        kind: str,
        snapshot: Snapshot,
        decision: Decision,
        now: datetime,
        run_id: int | None,
    ) -> list[int]:
        """Write what one successful check saw and the alerts it causes, atomically."""
        stamp = iso(now)
        try:
            with self.db.atomic():
                changed = bool(decision.new or decision.changed or decision.removed)
                self._upsert_source_success(source, kind, snapshot, stamp, changed)
                for write in decision.writes:
                    item = write.item
                    values = {
                        "fingerprint": item.fingerprint,
                        "relevant": int(write.relevant),
                        "history": json.dumps(list(write.history)),
                        "held": int(write.held),
                        "title": item.title,
                        "url": item.url,
                        "published": item.published,
                        "record": json.dumps(dict(item.record), sort_keys=True),
                        "last_seen_at": stamp,
                        "removed_at": None,
                    }
                    if write.changed:
                        values["changed_at"] = stamp
                    updated = self.db.execute(
                        "update items set "
                        + ", ".join(f"{k} = ?" for k in values)
                        + " where source = ? and key = ?",
                        [*values.values(), source, item.key],
                    ).rowcount
                    if not updated:
                        self._insert(
                            "items",
                            {
                                "source": source,
                                "key": item.key,
                                "first_seen_at": stamp,
                                "changed_at": stamp,
                                **values,
                            },
                        )
                for key in decision.removed:
                    self.db.execute(
                        "update items set removed_at = ? where source = ? and key = ?",
                        [stamp, source, key],
                    )
                ids = [self._enqueue(alert, run_id, stamp) for alert in decision.alerts]
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot record the check of {source}: {exc}") from None
        return ids

    def _upsert_source_success(
        self, source: str, kind: str, snapshot: Snapshot, stamp: str, changed: bool
    ) -> None:
        row = self.source_row(source)
        values: dict[str, Any] = {
            "kind": kind,
            "baseline_done": 1,
            "last_check_at": stamp,
            "last_success_at": stamp,
            "consecutive_failures": 0,
            "last_error": None,
        }
        if changed or row is None or not row.get("last_change_at"):
            values["last_change_at"] = stamp
        if not snapshot.unchanged:
            values["cursor"] = json.dumps(dict(snapshot.cursor), sort_keys=True)
        if snapshot.validators or not snapshot.unchanged:
            values["validators"] = json.dumps(
                {k: dict(v) for k, v in snapshot.validators.items()}, sort_keys=True
            )
        if row is None:
            self._insert("sources", {"name": source, "first_check_at": stamp, **values})
        else:
            self._update("sources", "name", source, values)

    def record_failure(self, *, source: str, kind: str, error: str, now: datetime) -> int:
        """Note a failed check; returns the number of consecutive failures so far."""
        stamp = iso(now)
        try:
            with self.db.atomic():
                row = self.source_row(source)
                failures = (row["consecutive_failures"] if row else 0) + 1
                values = {
                    "kind": kind,
                    "last_check_at": stamp,
                    "consecutive_failures": failures,
                    "last_error": redact(error),
                }
                if row is None:
                    self._insert("sources", {"name": source, "first_check_at": stamp, **values})
                else:
                    self._update("sources", "name", source, values)
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot record the failure of {source}: {exc}") from None
        return failures

    # -- the outbox -----------------------------------------------------------------------

    def _enqueue(self, alert: Alert, run_id: int | None, stamp: str) -> int:
        return self._insert(
            "alerts",
            {
                "run_id": run_id,
                "source": alert.source,
                "item_key": alert.item_key,
                "thread_key": alert.thread_key,
                "event": alert.event.value,
                "channel": alert.channel,
                "payload": alert.to_json(),
                "status": "pending",
                "attempts": 0,
                "created_at": stamp,
            },
        )

    def pending(self) -> list[OutboxEntry]:
        rows = self._query("select * from alerts where status = 'pending' order by id")
        return [
            OutboxEntry(
                id=row["id"],
                alert=Alert.from_json(row["payload"]),
                attempts=row["attempts"],
                status=row["status"],
                created_at=row["created_at"],
                digest_id=row["digest_id"],
            )
            for row in rows
        ]

    def mark_sent(
        self,
        alert_id: int,
        *,
        now: datetime,
        slack_channel: str | None,
        ts: str | None,
        thread_ts: str | None,
    ) -> None:
        with self.db.atomic():
            self.db.execute(
                "update alerts set status = 'sent', sent_at = ?, last_attempt_at = ?, "
                "attempts = attempts + 1, slack_channel = ?, slack_ts = ?, thread_ts = ?, "
                "last_error = null where id = ?",
                [iso(now), iso(now), slack_channel, ts, thread_ts, alert_id],
            )

    def mark_attempt(self, alert_id: int, *, now: datetime, error: str, permanent: bool) -> None:
        """A delivery attempt failed: stays pending, or becomes failed when Slack said no."""
        with self.db.atomic():
            self.db.execute(
                "update alerts set attempts = attempts + 1, last_attempt_at = ?, last_error = ?, "
                "status = ? where id = ?",
                [iso(now), redact(error), "failed" if permanent else "pending", alert_id],
            )

    def retry_failed(self, source: str | None = None) -> int:
        """Failed alerts back to pending (after the cause was fixed); returns how many."""
        where = " and source = ?" if source else ""
        with self.db.atomic():
            cursor = self.db.execute(
                "update alerts set status = 'pending', attempts = 0 where status = 'failed'"
                + where,
                [source] if source else [],
            )
            self.db.execute("delete from ops_notices where key like 'slack:%'")
        return int(cursor.rowcount)

    def thread_root(self, thread_key: str, channel: str) -> tuple[str, str] | None:
        """(Slack channel ID, thread ts) of the thread a story's first message is in."""
        rows = list(
            self._query(
                "select slack_channel, coalesce(thread_ts, slack_ts) as root from alerts "
                "where thread_key = ? and channel = ? and status = 'sent' and "
                "slack_ts is not null order by id limit 1",
                [thread_key, channel],
            )
        )
        if not rows:
            return None
        return rows[0]["slack_channel"], rows[0]["root"]

    # -- health ---------------------------------------------------------------------------

    def health(self, name: str) -> SourceHealth | None:
        return self.health_of(self.source_row(name))

    @staticmethod
    def health_of(row: Mapping[str, Any] | None) -> SourceHealth | None:
        if row is None:
            return None
        name = row["name"]
        return SourceHealth(
            name=name,
            kind=row["kind"],
            consecutive_failures=row["consecutive_failures"] or 0,
            last_error=row["last_error"],
            failure_notice=bool(row["failure_notice"]),
            silence_notice=bool(row["silence_notice"]),
            quiet_since=parse_iso(row["last_change_at"] or row["first_check_at"]),
        )

    def record_health(self, name: str, decision: HealthDecision, now: datetime) -> None:
        """Queue health notices and update the flags that keep them to one each."""
        values: dict[str, Any] = {}
        if decision.failure_notice is not None:
            values["failure_notice"] = int(decision.failure_notice)
        if decision.silence_notice is not None:
            values["silence_notice"] = int(decision.silence_notice)
        if not values and not decision.notices:
            return
        with self.db.atomic():
            for notice in decision.notices:
                self._enqueue(notice, None, iso(now))
            if values:
                self._update("sources", "name", name, values)

    def ops_notice_once(self, key: str, alert: Alert, now: datetime) -> bool:
        """Queue an operations notice unless one with this key was queued before."""
        with self.db.atomic():
            if list(self._query("select 1 from ops_notices where key = ?", [key])):
                return False
            self._insert("ops_notices", {"key": key, "sent_at": iso(now)})
            self._enqueue(alert, None, iso(now))
        return True

    # -- reminders ------------------------------------------------------------------------

    def deadline_rows(self, today: str) -> list[dict[str, Any]]:
        """Relevant items with a comment deadline or effective date to come, all sources."""
        return list(
            self._query(
                "select source, key, title, url, record from items where relevant = 1 "
                "and removed_at is null and ("
                "json_extract(record, '$.comments_close_on') >= ? or "
                "json_extract(record, '$.effective_on') >= ?)",
                [today, today],
            )
        )

    def reminders_done(self) -> set[tuple[str, str, str, str, int]]:
        rows = self._query("select * from reminders")
        return {(r["source"], r["item_key"], r["field"], r["due"], r["days_before"]) for r in rows}

    def record_reminders(
        self, reminders: list[tuple[Alert, list[tuple[str, str, str, str, int]]]], now: datetime
    ) -> None:
        """Queue reminder alerts and remember which offsets they settle, in one transaction."""
        stamp = iso(now)
        with self.db.atomic():
            for alert, settled in reminders:
                alert_id = self._enqueue(alert, None, stamp)
                for source, key, field, due, days in settled:
                    self._insert(
                        "reminders",
                        {
                            "source": source,
                            "item_key": key,
                            "field": field,
                            "due": due,
                            "days_before": days,
                            "alert_id": alert_id,
                            "created_at": stamp,
                        },
                        replace=True,
                    )

    # -- history --------------------------------------------------------------------------

    def history(self, source: str | None, limit: int) -> list[dict[str, Any]]:
        where = "where source = ?" if source else ""
        params: list[Any] = [source] if source else []
        return list(
            self._query(
                f"select id, source, event, channel, status, created_at, sent_at, slack_channel, "
                f"slack_ts, thread_ts, attempts, last_error, payload from alerts {where} "
                f"order by id desc limit ?",
                [*params, limit],
            )
        )

    # -- digests --------------------------------------------------------------------------

    def create_digest(self, channel: str, alert_ids: Iterable[int], now: datetime) -> int:
        """Group pending alerts under a digest not posted yet, in one transaction."""
        ids = list(alert_ids)
        with self.db.atomic():
            digest_id = self._insert(
                "digests",
                {"channel": channel, "status": "pending", "size": len(ids), "created_at": iso(now)},
            )
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                self.db.execute(
                    f"update alerts set digest_id = ? where id in ({','.join('?' * len(chunk))})",
                    [digest_id, *chunk],
                )
        return digest_id

    def digest(self, digest_id: int) -> Digest:
        row = next(iter(self._query("select * from digests where id = ?", [digest_id])))
        return Digest(
            row["id"], row["channel"], row["status"], row["slack_channel"], row["slack_ts"]
        )

    def mark_digest_sent(
        self, digest_id: int, *, now: datetime, slack_channel: str | None, ts: str | None
    ) -> None:
        with self.db.atomic():
            self._update(
                "digests",
                "id",
                digest_id,
                {
                    "status": "sent",
                    "sent_at": iso(now),
                    "slack_channel": slack_channel,
                    "slack_ts": ts,
                },
            )

    def mark_digest_failed(self, digest_id: int, error: str) -> None:
        """Slack refused the digest for good: its alerts go out one by one instead."""
        with self.db.atomic():
            self._update("digests", "id", digest_id, {"status": "failed", "last_error": error})
            self.db.execute("update alerts set digest_id = null where digest_id = ?", [digest_id])

    def outbox_counts(self) -> dict[str, int]:
        rows = self._query("select status, count(*) as n from alerts group by status")
        return {row["status"]: row["n"] for row in rows}

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, command: str, now: datetime, *, dry_run: bool) -> int:
        with self.db.atomic():
            return self._insert(
                "runs", {"command": command, "dry_run": int(dry_run), "started_at": iso(now)}
            )

    def finish_run(self, run_id: int, now: datetime, **counts: int) -> None:
        with self.db.atomic():
            self._update("runs", "id", run_id, {"finished_at": iso(now), **counts})

    def last_run(self) -> dict[str, Any] | None:
        rows = list(self._query("select * from runs order by id desc limit 1"))
        return rows[0] if rows else None

    # -- status ---------------------------------------------------------------------------

    def status(self, names: Iterable[str]) -> list[SourceStatus]:
        out = []
        for name in names:
            row = self.source_row(name) or {}
            counts = next(
                iter(
                    self._query(
                        "select count(*) as n, coalesce(sum(relevant), 0) as r, "
                        "coalesce(sum(held), 0) as h from items "
                        "where source = ? and removed_at is null",
                        [name],
                    )
                )
            )
            alerts = {
                r["status"]: r["n"]
                for r in self._query(
                    "select status, count(*) as n from alerts where source = ? group by status",
                    [name],
                )
            }
            out.append(
                SourceStatus(
                    name=name,
                    kind=row.get("kind") or "",
                    last_check_at=row.get("last_check_at"),
                    last_success_at=row.get("last_success_at"),
                    consecutive_failures=row.get("consecutive_failures") or 0,
                    last_error=row.get("last_error"),
                    items=counts["n"],
                    relevant_items=counts["r"],
                    held_items=counts["h"],
                    alerts_pending=alerts.get("pending", 0),
                    alerts_failed=alerts.get("failed", 0),
                    baseline_done=bool(row.get("baseline_done")),
                )
            )
        return out

    # -- helpers --------------------------------------------------------------------------

    def _query(self, sql: str, params: Iterable[Any] = ()) -> Iterator[dict[str, Any]]:
        # sqlite3 directly: sqlite-utils' query() parses each statement first, which shows
        # once a run makes a few queries per source.
        try:
            cursor = self.db.conn.execute(sql, list(params))
            names = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchall()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot read the state database: {exc}") from None
        for row in rows:
            yield dict(zip(names, row, strict=True))

    def _insert(self, table: str, values: Mapping[str, Any], *, replace: bool = False) -> int:
        """INSERT a row; returns its rowid."""
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        verb = "insert or replace" if replace else "insert"
        cursor = self.db.conn.execute(
            f"{verb} into {table} ({columns}) values ({marks})", list(values.values())
        )
        return int(cursor.lastrowid or 0)

    def _update(self, table: str, key: str, value: Any, values: Mapping[str, Any]) -> None:
        assignments = ", ".join(f"{column} = ?" for column in values)
        self.db.conn.execute(
            f"update {table} set {assignments} where {key} = ?", [*values.values(), value]
        )


def _stored(row: Mapping[str, Any]) -> StoredItem:
    return StoredItem(
        key=row["key"],
        fingerprint=row["fingerprint"],
        relevant=bool(row["relevant"]),
        record=json.loads(row["record"]),
        title=row["title"] or "",
        url=row["url"],
        first_seen=row["first_seen_at"],
        last_seen=row["last_seen_at"],
        history=tuple(json.loads(row["history"] or "[]")),
        held=bool(row["held"]),
        removed=row["removed_at"] is not None,
    )


def _explain(path: Path, exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return (
            f"the state database {path} is damaged ({text}); watcher will not start over by "
            "itself, since that would announce everything again. Restore it from a backup, "
            "or move it aside to start with a fresh baseline."
        )
    if "readonly" in text or "unable to open" in text:
        return f"cannot open the state database {path} for writing ({text}); check permissions"
    return f"the state database {path} cannot be used: {text}"

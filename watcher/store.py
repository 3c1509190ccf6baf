"""The state database: what each source had, its health, the alerts outbox, the runs.

SQLite through sqlite-utils, WAL mode, versioned migrations. The items a check changed and
the alerts they cause are written in one transaction, so a crash leaves either both or
neither; delivery then drains the outbox and marks each alert sent the moment Slack accepts it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from watcher.decide import Decision
from watcher.errors import StateError
from watcher.health import HealthDecision, SourceHealth
from watcher.models import Alert, Snapshot, SourceMemory, StoredItem
from watcher.secrets import redact

DB_NAME = "watcher.db"

migrations = Migrations("watcher")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("sources").create(
        {
            "name": str,
            "kind": str,
            "baseline_done": int,
            "first_check_at": str,
            "last_check_at": str,
            "last_success_at": str,
            "consecutive_failures": int,
            "last_error": str,
            "cursor": str,  # JSON
            "validators": str,  # JSON: {url: {etag, last_modified}}
        },
        pk="name",
        defaults={"baseline_done": 0, "consecutive_failures": 0},
        not_null={"kind"},
    )
    db.table("items").create(
        {
            "source": str,
            "key": str,
            "fingerprint": str,
            "relevant": int,
            "title": str,
            "url": str,
            "published": str,
            "record": str,  # JSON, the normalised record
            "first_seen_at": str,
            "last_seen_at": str,
            "changed_at": str,
            "removed_at": str,
        },
        pk=("source", "key"),
        not_null={"fingerprint", "record"},
    )
    db.table("items").create_index(["source", "published"])
    db.table("runs").create(
        {
            "id": int,
            "command": str,
            "dry_run": int,
            "started_at": str,
            "finished_at": str,
            "sources_checked": int,
            "sources_failed": int,
            "alerts_queued": int,
            "alerts_sent": int,
            "exit_code": int,
        },
        pk="id",
    )
    db.table("alerts").create(
        {
            "id": int,
            "run_id": int,
            "source": str,
            "item_key": str,
            "thread_key": str,
            "event": str,
            "channel": str,
            "payload": str,  # Alert.to_json()
            "status": str,  # pending | sent | failed
            "attempts": int,
            "last_error": str,
            "created_at": str,
            "last_attempt_at": str,
            "sent_at": str,
            "slack_channel": str,  # the channel ID Slack answered with
            "slack_ts": str,
            "thread_ts": str,
        },
        pk="id",
        defaults={"status": "pending", "attempts": 0},
        not_null={"payload", "status", "channel", "event", "source"},
    )
    db.table("alerts").create_index(["status"])
    db.table("alerts").create_index(["source", "thread_key"])


@migrations()
def m002_flapping(db: Database) -> None:
    items = db.table("items")
    items.add_column("history", str)  # JSON: earlier fingerprints, newest first
    items.add_column("held", int, not_null_default=0)


@migrations()
def m003_thread_index(db: Database) -> None:
    db.table("alerts").create_index(["thread_key", "channel"], if_not_exists=True)


@migrations()
def m004_digests(db: Database) -> None:
    db.table("digests").create(
        {
            "id": int,
            "channel": str,
            "status": str,  # pending | sent | failed
            "size": int,
            "created_at": str,
            "sent_at": str,
            "slack_channel": str,
            "slack_ts": str,
            "last_error": str,
        },
        pk="id",
        not_null={"channel", "status"},
    )
    db.table("alerts").add_column("digest_id", int)


@migrations()
def m005_reminders(db: Database) -> None:
    db.table("reminders").create(
        {
            "source": str,
            "item_key": str,
            "field": str,
            "due": str,
            "days_before": int,
            "alert_id": int,
            "created_at": str,
        },
        pk=("source", "item_key", "field", "due", "days_before"),
    )


@migrations()
def m006_health(db: Database) -> None:
    sources = db.table("sources")
    sources.add_column("failure_notice", int, not_null_default=0)
    sources.add_column("silence_notice", int, not_null_default=0)
    sources.add_column("last_change_at", str)
    db.table("ops_notices").create({"key": str, "sent_at": str}, pk="key")


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
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class Store:
    """The state database of one state directory."""

    def __init__(self, db: Database, path: Path | None):
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
            db = Database(conn)
            db.execute("PRAGMA busy_timeout = 30000")
            db.enable_wal()
            # In WAL mode, NORMAL loses nothing to a crash of watcher, only (at worst) the last
            # commits to a power cut, and saves an fsync per source per run.
            db.execute("PRAGMA synchronous = NORMAL")
            migrations.apply(db)
            db.execute("PRAGMA foreign_keys = ON")
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
            db = Database(memory=True)
            migrations.apply(db)
            return cls(db, None)
        try:
            conn = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, timeout=30.0, check_same_thread=False
            )
            db = Database(conn)
            if migrations.pending(db):
                # An older database: migrate a private copy in memory, leave the file alone.
                memory = sqlite3.connect(":memory:", check_same_thread=False)
                conn.backup(memory)
                db = Database(memory)
                migrations.apply(db)
        except sqlite3.DatabaseError as exc:
            raise StateError(_explain(path, exc)) from None
        return cls(db, path)

    def close(self) -> None:
        self.db.close()

    # -- sources --------------------------------------------------------------------------

    def source_row(self, name: str) -> dict[str, Any] | None:
        rows = list(self._query("select * from sources where name = ?", [name]))
        return rows[0] if rows else None

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
                        self.db.table("items").insert(
                            {
                                "source": source,
                                "key": item.key,
                                "first_seen_at": stamp,
                                "changed_at": stamp,
                                **values,
                            }
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
            self.db.table("sources").insert({"name": source, "first_check_at": stamp, **values})
        else:
            self.db.table("sources").update(source, values)

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
                    self.db.table("sources").insert(
                        {"name": source, "first_check_at": stamp, **values}
                    )
                else:
                    self.db.table("sources").update(source, values)
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot record the failure of {source}: {exc}") from None
        return failures

    # -- the outbox -----------------------------------------------------------------------

    def _enqueue(self, alert: Alert, run_id: int | None, stamp: str) -> int:
        table = self.db.table("alerts")
        table.insert(
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
            }
        )
        return int(cast(int, table.last_pk))

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
        row = self.source_row(name)
        if row is None:
            return None
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
                self.db.table("sources").update(name, values)

    def ops_notice_once(self, key: str, alert: Alert, now: datetime) -> bool:
        """Queue an operations notice unless one with this key was queued before."""
        with self.db.atomic():
            if list(self._query("select 1 from ops_notices where key = ?", [key])):
                return False
            self.db.table("ops_notices").insert({"key": key, "sent_at": iso(now)})
            self._enqueue(alert, None, iso(now))
        return True

    # -- reminders ------------------------------------------------------------------------

    def deadline_rows(self, source: str, today: str) -> list[dict[str, Any]]:
        """Relevant items of a source with a comment deadline or effective date to come."""
        return list(
            self._query(
                "select key, title, url, record from items where source = ? and relevant = 1 "
                "and removed_at is null and ("
                "json_extract(record, '$.comments_close_on') >= ? or "
                "json_extract(record, '$.effective_on') >= ?)",
                [source, today, today],
            )
        )

    def reminders_done(self, source: str) -> set[tuple[str, str, str, str, int]]:
        rows = self._query("select * from reminders where source = ?", [source])
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
                    self.db.table("reminders").insert(
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
            table = self.db.table("digests")
            table.insert(
                {"channel": channel, "status": "pending", "size": len(ids), "created_at": iso(now)}
            )
            digest_id = int(cast(int, table.last_pk))
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
            self.db.table("digests").update(
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
            self.db.table("digests").update(digest_id, {"status": "failed", "last_error": error})
            self.db.execute("update alerts set digest_id = null where digest_id = ?", [digest_id])

    def outbox_counts(self) -> dict[str, int]:
        rows = self._query("select status, count(*) as n from alerts group by status")
        return {row["status"]: row["n"] for row in rows}

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, command: str, now: datetime, *, dry_run: bool) -> int:
        with self.db.atomic():
            table = self.db.table("runs")
            table.insert({"command": command, "dry_run": int(dry_run), "started_at": iso(now)})
            return int(cast(int, table.last_pk))

    def finish_run(self, run_id: int, now: datetime, **counts: int) -> None:
        with self.db.atomic():
            self.db.table("runs").update(run_id, {"finished_at": iso(now), **counts})

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
        try:
            yield from self.db.query(sql, list(params))
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot read the state database: {exc}") from None


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

"""The state: what each source had, its health, its deadlines, the runs, and the outbox.

SQLite in WAL mode, with versioned migrations (sqlite-utils, in watcher/schema.py). The
items a check changed and the alerts they cause are written in one transaction, so a crash
leaves either both or neither; delivery then drains the outbox (`watcher.outbox`) and marks
each alert sent the moment Slack accepts it. Every SQLite error reaches the caller as one
`StateError` line (see `watcher.db`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watcher.db import BUSY_TIMEOUT, Database
from watcher.decide import Decision
from watcher.health import HealthDecision, SourceHealth
from watcher.models import Snapshot, SourceMemory, StoredItem
from watcher.outbox import Outbox, iso, parse_iso
from watcher.secrets import redact
from watcher.statedir import open_for_reading, open_for_writing

if TYPE_CHECKING:
    from watcher.deadlinebook import DeadlineBook
    from watcher.linking import Placement
    from watcher.storybook import StoryBook

__all__ = ["SourceStatus", "Store", "iso", "parse_iso"]


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


_UPSERT_ITEM = (
    "insert into items (source, key, fingerprint, relevant, history, held, title, url, "
    "published, record, first_seen_at, last_seen_at, changed_at, removed_at) "
    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null) "
    "on conflict (source, key) do update set fingerprint = excluded.fingerprint, "
    "relevant = excluded.relevant, history = excluded.history, held = excluded.held, "
    "title = excluded.title, url = excluded.url, published = excluded.published, "
    "record = excluded.record, last_seen_at = excluded.last_seen_at, removed_at = null, "
    "changed_at = coalesce(excluded.changed_at, items.changed_at)"
)


class Store:
    """The state database of one state directory."""

    def __init__(self, db: Database):
        self.db = db
        self.outbox = Outbox(db)

    @cached_property
    def stories(self) -> StoryBook:
        """The stories (loaded on first use: a run with no alerts never needs them)."""
        from watcher.storybook import StoryBook

        return StoryBook(self.db)

    @cached_property
    def deadlines(self) -> DeadlineBook:
        from watcher.deadlinebook import DeadlineBook

        return DeadlineBook(self.db, self.outbox)

    @classmethod
    def open(
        cls, state_dir: Path, *, wait: float = BUSY_TIMEOUT, new_baseline: bool = False
    ) -> Store:
        """Open (creating on a first run) the database for writing, and migrate it; a write
        waits up to `wait` seconds for another process's lock (see `statedir`)."""
        return cls(open_for_writing(state_dir, wait, new_baseline=new_baseline))

    @classmethod
    def open_readonly(cls, state_dir: Path) -> Store:
        """Open for reading only (`--dry-run`, `status`, `history`): never creates or changes
        state; with no database yet, an empty one in memory."""
        return cls(open_for_reading(state_dir))

    @property
    def path(self) -> Path | None:
        return self.db.path

    def close(self) -> None:
        self.db.close()

    # -- sources --------------------------------------------------------------------------

    def all_sources(self) -> dict[str, dict[str, Any]]:
        """Every source row, by name: one query for a run's bookkeeping."""
        return {row["name"]: row for row in self.db.query("select * from sources")}

    def source_row(self, name: str) -> dict[str, Any] | None:
        """One source's row (a run asks this for each source it settles: one row, not all)."""
        rows = self.db.query("select * from sources where name = ?", [name])
        return rows[0] if rows else None

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
        return self.memory_of(self.source_row(name))

    def last_checks(self) -> dict[str, datetime | None]:
        rows = self.db.query("select name, last_check_at from sources")
        return {row["name"]: parse_iso(row["last_check_at"]) for row in rows}

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
            rows = self.db.query(f"select * from items where source = ?{present}", [source])
            return {row["key"]: _stored(row) for row in rows}
        wanted = sorted(set(keys))
        out: dict[str, StoredItem] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.query(
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
        baseline_done: bool = True,
        placements: Sequence[Placement | None] | None = None,
    ) -> list[int]:
        """Write what one successful check saw and the alerts it causes, atomically, with
        the stories they join (`placements`, one per alert, from the link phase).
        (`baseline_done` false: a back-fill, after which the first check is still to come.)"""
        stamp = iso(now)
        with self.db.atomic(f"record the check of {source}"):
            changed = bool(decision.new or decision.changed or decision.removed)
            self._record_success(source, kind, snapshot, stamp, changed, baseline_done)
            self.db.executemany(
                _UPSERT_ITEM,
                (
                    (
                        source,
                        w.item.key,
                        w.item.fingerprint,
                        int(w.relevant),
                        json.dumps(list(w.history)) if w.history else "[]",
                        int(w.held),
                        w.item.title,
                        w.item.url,
                        w.item.published_on,
                        _sorted_json(dict(w.item.record)),
                        stamp,
                        stamp,
                        stamp if w.changed else None,
                    )
                    for w in decision.writes
                ),
            )
            self.db.executemany(
                "update items set removed_at = ? where source = ? and key = ?",
                ((stamp, source, key) for key in decision.removed),
            )
            self.deadlines.record(source, decision)
            ids = [self.outbox.enqueue(alert, run_id, stamp) for alert in decision.alerts]
            if placements:
                real = self.stories.record(placements, ids, stamp)
                for placement in placements:
                    for story_id, pointer in placement.pointers if placement else ():
                        pointer_id = self.outbox.enqueue(pointer, run_id, stamp)
                        self.stories.set_story([pointer_id], real.get(story_id, story_id))
                        ids.append(pointer_id)
            return ids

    def record_unchanged(self, checks: Sequence[tuple[str, str, Snapshot]], now: datetime) -> None:
        """Sources that answered "not modified", in one transaction and one statement:
        checked, successful (a source with no row yet gets one)."""
        stamp = iso(now)
        rows = [
            (kind, stamp, stamp, stamp, _validators_json(snapshot), source)
            for source, kind, snapshot in checks
        ]
        with self.db.atomic("record the unchanged sources"):
            updated = self.db.executemany(
                "update sources set kind = ?, baseline_done = 1, last_check_at = ?, "
                "last_success_at = ?, consecutive_failures = 0, last_error = null, "
                "last_change_at = coalesce(last_change_at, ?), "
                "validators = coalesce(?, validators) where name = ?",
                rows,
            )
            if updated < len(checks):  # rows to insert: rare enough to go one by one
                for source, kind, snapshot in checks:
                    if self.source_row(source) is None:
                        self._record_success(source, kind, snapshot, stamp, False, True)

    def _record_success(
        self,
        source: str,
        kind: str,
        snapshot: Snapshot,
        stamp: str,
        changed: bool,
        baseline_done: bool,
    ) -> None:
        row = self.source_row(source)
        values: dict[str, Any] = {
            "kind": kind,
            "deadlines_indexed": 1 if row is None else row["deadlines_indexed"],
            "baseline_done": int(baseline_done),
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
            values["validators"] = _validators_json(snapshot) or "{}"
        if row is None:
            self.db.insert("sources", {"name": source, "first_check_at": stamp, **values})
        else:
            self.db.update("sources", "name", source, values)

    def record_failure(self, *, source: str, kind: str, error: str, now: datetime) -> int:
        """Note a failed check; returns the number of consecutive failures so far."""
        stamp = iso(now)
        with self.db.atomic(f"record the failure of {source}"):
            row = self.source_row(source)
            failures = (row["consecutive_failures"] if row else 0) + 1
            values = {
                "kind": kind,
                "last_check_at": stamp,
                "consecutive_failures": failures,
                "last_error": redact(error),
            }
            if row is None:
                self.db.insert("sources", {"name": source, "first_check_at": stamp, **values})
            else:
                self.db.update("sources", "name", source, values)
        return failures

    # -- health ---------------------------------------------------------------------------

    @staticmethod
    def health_of(row: Mapping[str, Any] | None) -> SourceHealth | None:
        if row is None:
            return None
        return SourceHealth(
            name=row["name"],
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
        with self.db.atomic(f"record the health of {name}"):
            for notice in decision.notices:
                self.outbox.enqueue(notice, None, iso(now))
            if values:
                self.db.update("sources", "name", name, values)

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, command: str, now: datetime, *, dry_run: bool) -> int:
        with self.db.atomic("record the start of the run"):
            return self.db.insert(
                "runs", {"command": command, "dry_run": int(dry_run), "started_at": iso(now)}
            )

    def finish_run(self, run_id: int, now: datetime, **counts: int) -> None:
        with self.db.atomic("record the end of the run"):
            self.db.update("runs", "id", run_id, {"finished_at": iso(now), **counts})

    def last_run(self, commands: Iterable[str] | None = None) -> dict[str, Any] | None:
        """The newest run (of these commands, when given)."""
        where, params = "", []
        if commands is not None:
            wanted = list(commands)
            where = f"where command in ({','.join('?' * len(wanted))})"
            params = wanted
        rows = self.db.query(f"select * from runs {where} order by id desc limit 1", params)
        return rows[0] if rows else None

    # -- status ---------------------------------------------------------------------------

    def status(self, names: Iterable[str]) -> list[SourceStatus]:
        rows = self.all_sources()
        counts = {
            r["source"]: r
            for r in self.db.query(
                "select source, count(*) as n, coalesce(sum(relevant), 0) as r, "
                "coalesce(sum(held), 0) as h from items where removed_at is null "
                "group by source"
            )
        }
        alerts = self.outbox.counts_by_source()
        out = []
        for name in names:
            row = rows.get(name) or {}
            count = counts.get(name) or {"n": 0, "r": 0, "h": 0}
            outbox = alerts.get(name, {})
            out.append(
                SourceStatus(
                    name=name,
                    kind=row.get("kind") or "",
                    last_check_at=row.get("last_check_at"),
                    last_success_at=row.get("last_success_at"),
                    consecutive_failures=row.get("consecutive_failures") or 0,
                    last_error=row.get("last_error"),
                    items=count["n"],
                    relevant_items=count["r"],
                    held_items=count["h"],
                    alerts_pending=outbox.get("pending", 0),
                    alerts_failed=outbox.get("failed", 0),
                    baseline_done=bool(row.get("baseline_done")),
                )
            )
        return out


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


def _validators_json(snapshot: Snapshot) -> str | None:
    """A check's validators as stored (None: it brought none, keep what is stored)."""
    if not snapshot.validators:
        return None
    return json.dumps({k: dict(v) for k, v in snapshot.validators.items()}, sort_keys=True)


# One encoder for every record: json.dumps with options builds a new one per call, which cost
# a first run (thousands of items) more than the encoding.
_sorted_json = json.JSONEncoder(sort_keys=True).encode

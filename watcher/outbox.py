"""The alerts outbox: alerts waiting for Slack, the digests that group them, the threads they
went into, and the history of what was said.

An alert is queued in the same transaction as the check that caused it (see `Store`), marked
sent only once Slack accepted it, and failed when Slack refused it for good (kept, with why).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from watcher.db import Database
from watcher.models import Alert
from watcher.secrets import redact


def iso(moment: datetime) -> str:
    """UTC timestamps as stored: `2026-11-30T19:58:39Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    """The inverse of iso()."""
    if not text:
        return None
    return datetime.fromisoformat(text)  # "Z" reads as UTC; much cheaper than strptime


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
class Refusal:
    """Alerts Slack refused for good for one reason and channel: what `status` explains."""

    error: str
    channel: str
    count: int


class Outbox:
    """The alerts, digests and operations notices of one state database."""

    def __init__(self, db: Database):
        self.db = db

    # -- queueing -------------------------------------------------------------------------

    def enqueue(self, alert: Alert, run_id: int | None, stamp: str) -> int:
        """Queue an alert; call inside the transaction that records its cause."""
        return self.db.insert(
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

    def queue(self, alerts: Iterable[Alert], now: datetime) -> list[int]:
        """Queue alerts in a transaction of their own."""
        with self.db.atomic("queue alerts"):
            return [self.enqueue(alert, None, iso(now)) for alert in alerts]

    def ops_notice_once(self, key: str, alert: Alert, now: datetime) -> bool:
        """Queue an operations notice unless one with this key was queued before."""
        with self.db.atomic("queue an operations notice"):
            if self.db.query("select 1 from ops_notices where key = ?", [key]):
                return False
            self.db.insert("ops_notices", {"key": key, "sent_at": iso(now)})
            self.enqueue(alert, None, iso(now))
        return True

    # -- draining -------------------------------------------------------------------------

    def pending(
        self, sources: Iterable[str] | None = None, *, baselines: bool = True
    ) -> list[OutboxEntry]:
        """Pending alerts, oldest first: all, or those of these sources (without the
        first-check lines, when `baselines` is false: they wait for the end of a run)."""
        where, params = "status = 'pending'", []
        if sources is not None:
            wanted = sorted(set(sources))
            where += f" and source in ({','.join('?' * len(wanted))})"
            params = wanted
        if not baselines:
            where += " and event != 'baseline'"
        rows = self.db.query(f"select * from alerts where {where} order by id", params)
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
        with self.db.atomic("record a delivered alert"):
            self.db.execute(
                "update alerts set status = 'sent', sent_at = ?, last_attempt_at = ?, "
                "attempts = attempts + 1, slack_channel = ?, slack_ts = ?, thread_ts = ?, "
                "last_error = null where id = ?",
                [iso(now), iso(now), slack_channel, ts, thread_ts, alert_id],
            )

    def mark_attempt(self, alert_id: int, *, now: datetime, error: str, permanent: bool) -> None:
        """A delivery attempt failed: stays pending, or becomes failed when Slack said no."""
        with self.db.atomic("record a delivery attempt"):
            self.db.execute(
                "update alerts set attempts = attempts + 1, last_attempt_at = ?, last_error = ?, "
                "status = ? where id = ?",
                [iso(now), redact(error), "failed" if permanent else "pending", alert_id],
            )

    def retry_failed(self, source: str | None = None) -> int:
        """Failed alerts back to pending (after the cause was fixed); returns how many.

        Operations notices that Slack refused are not sent again: they said Slack refused
        alerts, which the fix made stale. They are kept as `dropped`."""
        where = " and source = ?" if source else ""
        params = [source] if source else []
        with self.db.atomic("put failed alerts back in the outbox"):
            cursor = self.db.execute(
                "update alerts set status = 'pending', attempts = 0 where status = 'failed' "
                f"and event != 'health'{where}",
                params,
            )
            self.db.execute(
                f"update alerts set status = 'dropped' where status = 'failed' "
                f"and event = 'health'{where}",
                params,
            )
            self.db.execute("delete from ops_notices where key like 'slack:%'")
        return int(cursor.rowcount)

    def count_pending(self) -> int:
        rows = self.db.query("select count(*) as n from alerts where status = 'pending'")
        return int(rows[0]["n"])

    def thread_root(self, thread_key: str, channel: str) -> tuple[str, str] | None:
        """(Slack channel ID, thread ts) of a story's thread: its latest top-level message
        (the first, unless that was deleted and the story started again), else the thread its
        first message went into (a digest's)."""
        rows = self.db.query(
            "select slack_channel, slack_ts as root from alerts where thread_key = ? and "
            "channel = ? and status = 'sent' and slack_ts is not null and thread_ts is null "
            "order by id desc limit 1",
            [thread_key, channel],
        )
        if rows:
            return rows[0]["slack_channel"], rows[0]["root"]
        rows = self.db.query(
            "select slack_channel, coalesce(thread_ts, slack_ts) as root from alerts "
            "where thread_key = ? and channel = ? and status = 'sent' and "
            "slack_ts is not null order by id limit 1",
            [thread_key, channel],
        )
        if not rows:
            return None
        return rows[0]["slack_channel"], rows[0]["root"]

    # -- digests --------------------------------------------------------------------------

    def create_digest(self, channel: str, alert_ids: Iterable[int], now: datetime) -> int:
        """Group pending alerts under a digest not posted yet, in one transaction."""
        ids = list(alert_ids)
        with self.db.atomic("group alerts into a digest"):
            digest_id = self.db.insert(
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

    def sent_in_digest(self, digest_id: int) -> int:
        rows = self.db.query(
            "select count(*) as n from alerts where digest_id = ? and status = 'sent'",
            [digest_id],
        )
        return int(rows[0]["n"])

    def digest(self, digest_id: int) -> Digest:
        row = self.db.query("select * from digests where id = ?", [digest_id])[0]
        return Digest(
            row["id"], row["channel"], row["status"], row["slack_channel"], row["slack_ts"]
        )

    def mark_digest_sent(
        self, digest_id: int, *, now: datetime, slack_channel: str | None, ts: str | None
    ) -> None:
        with self.db.atomic("record a delivered digest"):
            self.db.update(
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
        with self.db.atomic("record a refused digest"):
            self.db.update("digests", "id", digest_id, {"status": "failed", "last_error": error})
            self.db.execute("update alerts set digest_id = null where digest_id = ?", [digest_id])

    # -- reading --------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        rows = self.db.query("select status, count(*) as n from alerts group by status")
        return {row["status"]: row["n"] for row in rows}

    def counts_by_source(self) -> dict[str, dict[str, int]]:
        rows = self.db.query(
            "select source, status, count(*) as n from alerts group by source, status"
        )
        out: dict[str, dict[str, int]] = {}
        for row in rows:
            out.setdefault(row["source"], {})[row["status"]] = row["n"]
        return out

    def refusals(self) -> list[Refusal]:
        """Why failed alerts failed, by reason and channel, most first."""
        rows = self.db.query(
            "select coalesce(last_error, 'unknown') as error, channel, count(*) as n "
            "from alerts where status = 'failed' group by 1, 2 order by n desc, 1"
        )
        return [Refusal(row["error"], row["channel"], row["n"]) for row in rows]

    def history(self, source: str | None, limit: int) -> list[dict[str, Any]]:
        where = "where source = ?" if source else ""
        params: list[Any] = [source] if source else []
        return self.db.query(
            f"select id, source, item_key, thread_key, story_id, event, channel, status, "
            f"created_at, sent_at, slack_channel, slack_ts, thread_ts, attempts, last_error, "
            f"payload "
            f"from alerts {where} order by id desc limit ?",
            [*params, limit],
        )

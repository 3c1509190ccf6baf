"""The state database's schema, as versioned sqlite-utils migrations.

Each migration runs once, in a transaction with the record of it; rerunning is harmless.
This module (and sqlite-utils) is only imported when a migration is pending: a fresh state
directory, or an upgrade. `db.MIGRATIONS` lists the names so a run can check, with plain
sqlite3, that there is nothing to do.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("watcher")  # the names must match db.MIGRATIONS


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


@migrations()
def m007_deadlines(db: Database) -> None:
    """Deadlines in a table of their own, written from each relevant item's typed dates
    when its check is recorded (reminders read it). Sources recorded before this migration
    are indexed once by the next run, through their kinds (`deadlines_indexed`)."""
    db.table("deadlines").create(
        {
            "source": str,
            "item_key": str,
            "field": str,  # comments_close | effective
            "due": str,  # ISO date
        },
        pk=("source", "item_key", "field"),
        not_null={"due"},
    )
    db.table("deadlines").create_index(["due"])
    db.table("sources").add_column("deadlines_indexed", int, not_null_default=0)
    # Reminders already sent were recorded under the record fields' names.
    db.execute("update reminders set field = replace(field, '_on', '')")

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


@migrations()
def m008_stories(db: Database) -> None:
    """Stories: one trade action across its stages (`watcher/stories.py`). Alerts already
    queued or sent become the stories their threads were, so an upgraded state keeps every
    thread; stated deadlines ("within 180 days of ...") get the words of what is due."""
    import json

    db.table("stories").create(
        {"id": int, "thread_key": str, "title": str, "created_at": str},
        pk="id",
        not_null={"thread_key", "title"},
    )
    db.table("stories").create_index(["thread_key"], unique=True)
    db.table("story_stages").create(
        {
            "id": int,
            "story_id": int,
            "alert_id": int,
            "source": str,
            "own_key": str,
            "item_key": str,
            "event": str,
            "title": str,
            "url": str,
            "instrument": str,
            "number": str,
            "dated": str,
            "published": str,
            "at": str,
            "role": str,
            "label": str,
            "channel": str,
            "touches": str,  # JSON: what of the watchlist the stage touched
        },
        pk="id",
        not_null={"story_id", "source", "event", "title", "at"},
    )
    db.table("story_stages").create_index(["story_id"])
    db.table("story_stages").create_index(["own_key"])
    db.table("story_stages").create_index(["source", "item_key"])
    db.table("alerts").add_column("story_id", int)
    db.table("deadlines").add_column("what", str)

    stories: dict[str, int] = {}
    rows = db.query(
        "select id, source, item_key, thread_key, event, channel, payload, created_at "
        "from alerts where thread_key is not null and event not in ('health', 'baseline') "
        "order by id"
    )
    for row in list(rows):
        try:
            payload = json.loads(row["payload"])
        except ValueError:
            continue
        item = payload.get("item") or {}
        key = row["thread_key"]
        if key not in stories:
            inserted = db.table("stories").insert(
                {
                    "thread_key": key,
                    "title": payload.get("title") or key,
                    "created_at": row["created_at"],
                }
            )
            stories[key] = int(inserted.last_rowid or 0)
        instrument = item.get("instrument")
        dated = item.get("signed_on") or item.get("published_on")
        db.table("story_stages").insert(
            {
                "story_id": stories[key],
                "alert_id": row["id"],
                "source": row["source"],
                "own_key": key,
                "item_key": row["item_key"],
                "event": row["event"],
                "title": payload.get("title") or key,
                "url": payload.get("url"),
                "instrument": instrument.casefold() if instrument else None,
                "number": item.get("number"),
                "dated": dated[:10] if dated else None,
                "published": (item.get("published_on") or "")[:10] or None,
                "at": row["created_at"],
                "label": payload.get("label"),
                "channel": row["channel"],
            }
        )
        db.execute("update alerts set story_id = ? where id = ?", [stories[key], row["id"]])


def fresh_schema() -> tuple[str, ...]:
    """The statements that build, in an empty database, the schema every migration above
    leaves there (`watcher/freshschema.py` holds them, kept equal by a test)."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    migrations.apply(Database(conn, execute_plugins=False))
    rows = conn.execute(
        "select sql from sqlite_master where sql is not null and name != 'sqlite_sequence' "
        "order by rowid"
    ).fetchall()
    conn.close()
    return tuple(row[0] for row in rows)

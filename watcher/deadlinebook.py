"""Deadlines and reminders in the state database: the dates relevant items hold (comments
close, takes effect), the deadlines their texts set, and which reminders went out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from watcher.db import Database
from watcher.decide import Decision
from watcher.models import Alert
from watcher.outbox import Outbox, iso
from watcher.reminders import ITEM_DEADLINES, item_deadlines


class DeadlineBook:
    """The deadlines and reminders of one state database."""

    def __init__(self, db: Database, outbox: Outbox):
        self.db = db
        self.outbox = outbox

    def record(self, source: str, decision: Decision) -> None:
        """A check's deadlines: its items' dates and what their texts set. Call inside the
        transaction that records the check."""
        self._item_dates(source, decision)
        self._stated(source, decision.alerts)

    def _item_dates(self, source: str, decision: Decision) -> None:
        """The dates relevant items say the team must act by, for reminders."""
        fields = list(ITEM_DEADLINES)
        marks = ",".join("?" * len(fields))
        touched = [w for w in decision.writes if w.changed]
        keys = [w.item.key for w in touched] + list(decision.removed)
        if keys:  # one statement for the check, not one per item (a first run has thousands)
            self.db.execute(
                f"delete from deadlines where source = ? and field in ({marks}) "
                "and item_key in (select value from json_each(?))",
                [source, *fields, json.dumps(keys)],
            )
        self.db.executemany(
            "insert or replace into deadlines (source, item_key, field, due) values (?, ?, ?, ?)",
            (
                (source, w.item.key, field, due)
                for w in touched
                if w.relevant
                for field, due in item_deadlines(w.item).items()
            ),
        )

    def _stated(self, source: str, alerts: Iterable[Alert]) -> None:
        """The deadlines a document's text sets ("within 180 days of the date of this
        proclamation"), resolved to dates by the enrich phase, for reminders."""
        self.db.executemany(
            "insert or replace into deadlines (source, item_key, field, due, what) "
            "values (?, ?, ?, ?, ?)",
            (
                (source, alert.item_key, f"stated:{n}", data["due"], data.get("what"))
                for alert in alerts
                if alert.item_key and alert.source == source
                for n, data in enumerate(alert.facts.get("deadlines") or (), 1)
                if data.get("due")
            ),
        )

    def unindexed_sources(self) -> list[str]:
        """Sources recorded before deadlines had a table of their own."""
        rows = self.db.query("select name from sources where deadlines_indexed = 0")
        return [row["name"] for row in rows]

    def index_deadlines(self, source: str, deadlines: Iterable[tuple[str, str, str]]) -> None:
        """Record (item key, deadline, due) for a source's items, once, and mark it done."""
        with self.db.atomic(f"index the deadlines of {source}"):
            self.db.executemany(
                "insert or replace into deadlines (source, item_key, field, due) "
                "values (?, ?, ?, ?)",
                ((source, *deadline) for deadline in deadlines),
            )
            self.db.update("sources", "name", source, {"deadlines_indexed": 1})

    def deadlines_from(self, today: str) -> list[dict[str, Any]]:
        """Deadlines of relevant items still to come, with each item's key and record."""
        return self.db.query(
            "select d.source, d.item_key, d.field, d.due, d.what, i.record from deadlines d "
            "join items i on i.source = d.source and i.key = d.item_key "
            "where d.due >= ? and i.relevant = 1 and i.removed_at is null",
            [today],
        )

    def reminders_done(self) -> set[tuple[str, str, str, str, int]]:
        rows = self.db.query("select * from reminders")
        return {(r["source"], r["item_key"], r["field"], r["due"], r["days_before"]) for r in rows}

    def record_reminders(
        self, reminders: list[tuple[Alert, list[tuple[str, str, str, str, int]]]], now: datetime
    ) -> None:
        """Queue reminder alerts and remember which offsets they settle, in one transaction."""
        stamp = iso(now)
        with self.db.atomic("record reminders"):
            for alert, settled in reminders:
                alert_id = self.outbox.enqueue(alert, None, stamp)
                self.db.execute(  # the story whose thread it goes to, for history
                    "update alerts set story_id = (select id from stories where thread_key = ?) "
                    "where id = ?",
                    [alert.thread_key, alert_id],
                )
                for source, key, field, due, days in settled:
                    self.db.insert(
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

"""The reminders a run queues: the deadlines of tracked items (the state's `deadlines` table)
turned into reminders due today (`reminders.due`), each queued once, in its item's thread."""

from __future__ import annotations

import json
from datetime import date, datetime

from watcher.models import Alert
from watcher.reminders import Deadline, item_deadlines, reminder_alert
from watcher.reminders import due as due_reminders
from watcher.routing import route
from watcher.settings import Config
from watcher.sources import Registry
from watcher.store import Store


def index_deadlines(store: Store, config: Config, registry: Registry) -> None:
    """Sources recorded by an older watcher: their items' deadlines, indexed once, through
    their kinds."""
    configured = {s.name: s for s in config.sources}
    for name in store.deadlines.unindexed_sources():
        source = configured.get(name)
        if source is None:
            continue
        kind = registry[source.kind]
        found = []
        for key, stored in store.load_items(name).items():
            if stored.relevant:
                item = kind.restore(source, key, stored.record)
                found += [(key, field, due) for field, due in item_deadlines(item).items()]
        store.deadlines.index_deadlines(name, found)


def queue_reminders(
    store: Store, config: Config, registry: Registry, now: datetime, *, dry_run: bool
) -> list[Alert]:
    """The reminders due today, queued (unless a dry run) and returned."""
    offsets = config.slack.reminders
    if not offsets:
        return []
    if not dry_run:
        index_deadlines(store, config, registry)
    today = now.date()
    rows = store.deadlines.deadlines_from(today.isoformat())
    if not rows:
        return []
    configured = {s.name: s for s in config.sources}
    deadlines = []
    for row in rows:
        source = configured.get(row["source"])
        if source is None:
            continue  # a source no longer in the configuration
        kind = registry[source.kind]
        item = kind.restore(source, row["item_key"], json.loads(row["record"]))
        deadlines.append(
            Deadline(
                source=source.name,
                source_kind=source.kind,
                channel=source.channel,
                item=item,
                field=row["field"],
                due=date.fromisoformat(row["due"]),
                # in the thread of the item's story (the first stage may be another source's)
                thread_key=store.stories.thread_of(source.name, item.key)
                or kind.thread_key(source.name, item.key),
                label=source.label,
                what=row.get("what"),
            )
        )
    queued = []
    for reminder in due_reminders(deadlines, store.deadlines.reminders_done(), today, offsets):
        alert = route(reminder_alert(reminder, today), config.slack.routes)
        settled = (reminder.deadline, *reminder.twins)
        queued.append((alert, [(*d.done_key, days) for d in settled for days in reminder.covers]))
    if queued and not dry_run:
        store.deadlines.record_reminders(queued, now)
    return [alert for alert, _ in queued]

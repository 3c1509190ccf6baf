"""From a snapshot and the state to what to record and what to say. Pure: no I/O, no clock.

The rules, in one place:
- The first successful check of a source is a baseline: everything is recorded, and one line
  says so; no item is announced.
- A new item is announced when it is relevant, or when it corrects or republishes an item the
  team was told about (a Federal Register `C1-`/`R1-` document).
- A changed item is announced when it is relevant now or was before, and something other than
  its silent fields changed (a document's `corrections` list grows when the correction
  itself is published, which is announced on its own).
- An item that left a complete source (a list entry) is announced when it was relevant.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from watcher.config import SourceConfig
from watcher.diff import diff_snapshot
from watcher.match import Relevance, judge
from watcher.models import (
    Alert,
    AlertEvent,
    ChangeKind,
    FieldChange,
    Item,
    Snapshot,
    StoredItem,
)


@dataclass(frozen=True)
class ItemWrite:
    """One item to store, with the verdict on it."""

    item: Item
    relevant: bool
    changed: bool  # new or content changed (as opposed to merely seen again)


@dataclass(frozen=True)
class Decision:
    """Everything one check should change in the state, and the alerts it causes."""

    writes: tuple[ItemWrite, ...]
    removed: tuple[str, ...]
    alerts: tuple[Alert, ...]
    new: int = 0
    changed: int = 0
    relevant: int = 0  # relevant items in the snapshot


def decide(
    source: SourceConfig,
    snapshot: Snapshot,
    previous: Mapping[str, StoredItem],
    *,
    baseline: bool,
    volatile: Collection[str] = (),
    silent: Collection[str] = (),
    noun: str = "items",
) -> Decision:
    """Judge, diff and turn the changes of one check into writes and alerts."""
    verdicts = {item.key: judge(item, source.rules) for item in snapshot.items}
    for item in snapshot.items:
        target = previous.get(item.corrects) if item.corrects else None
        if target is not None and target.relevant and not verdicts[item.key].relevant:
            verdicts[item.key] = Relevance(True, (f"corrects {target.key}",))

    changes = diff_snapshot(snapshot, previous, volatile)
    changed_keys = {c.key for c in changes}
    alerts: list[Alert] = []
    new = changed = 0
    for change in changes:
        if change.kind is ChangeKind.NEW:
            new += 1
        elif change.kind is ChangeKind.CHANGED:
            changed += 1
        if baseline:
            continue
        alert = _alert_for(
            source,
            change.kind,
            change.item,
            change.previous,
            change.fields,
            verdicts,
            previous,
            silent,
        )
        if alert is not None:
            alerts.append(alert)

    writes = tuple(
        ItemWrite(item, verdicts[item.key].relevant, item.key in changed_keys)
        for item in snapshot.items
    )
    removed = tuple(c.key for c in changes if c.kind is ChangeKind.REMOVED)
    relevant = sum(1 for v in verdicts.values() if v.relevant)
    if baseline:
        alerts.append(
            Alert(
                source=source.name,
                source_kind=source.kind,
                event=AlertEvent.BASELINE,
                channel=source.channel,
                title=f"Now watching {source.name}",
                note=f"{len(snapshot.items)} {noun} recorded, {relevant} of them match "
                "this source's rules; from now on each new or changed one is announced.",
                url=source.url,
            )
        )
    return Decision(writes, removed, tuple(alerts), new=new, changed=changed, relevant=relevant)


def _alert_for(
    source: SourceConfig,
    kind: ChangeKind,
    item: Item | None,
    before: StoredItem | None,
    fields: tuple[FieldChange, ...],
    verdicts: Mapping[str, Relevance],
    previous: Mapping[str, StoredItem],
    silent: Collection[str],
) -> Alert | None:
    if kind is ChangeKind.REMOVED:
        if before is None or not before.relevant:
            return None
        return Alert(
            source=source.name,
            source_kind=source.kind,
            event=AlertEvent.REMOVED,
            channel=source.channel,
            title=before.title,
            item_key=before.key,
            url=before.url,
            record=before.record,
            thread_key=before.key,
        )
    assert item is not None
    verdict = verdicts[item.key]
    if kind is ChangeKind.NEW:
        target = previous.get(item.corrects) if item.corrects else None
        if not verdict.relevant:
            return None
        if item.corrects:
            original = target.title if target else None
            return Alert(
                source=source.name,
                source_kind=source.kind,
                event=AlertEvent.CORRECTION,
                channel=source.channel,
                title=item.title,
                item_key=item.key,
                url=item.url,
                record=item.record,
                matched=verdict.matched,
                note=f"corrects {item.corrects}" + (f": {original}" if original else ""),
                thread_key=item.corrects,
            )
        return Alert(
            source=source.name,
            source_kind=source.kind,
            event=AlertEvent.NEW,
            channel=source.channel,
            title=item.title,
            item_key=item.key,
            url=item.url,
            record=item.record,
            matched=verdict.matched,
            thread_key=item.key,
        )
    # CHANGED
    assert before is not None
    shown = tuple(f for f in fields if f.field not in silent)
    if not shown:
        return None
    if not (verdict.relevant or before.relevant):
        return None
    if verdict.relevant and not before.relevant:
        # Never announced before; after this change it matches: it is news, not an update.
        return Alert(
            source=source.name,
            source_kind=source.kind,
            event=AlertEvent.NEW,
            channel=source.channel,
            title=item.title,
            item_key=item.key,
            url=item.url,
            record=item.record,
            matched=verdict.matched,
            note="updated since it was first seen, and now matches this source's rules",
            thread_key=item.key,
        )
    return Alert(
        source=source.name,
        source_kind=source.kind,
        event=AlertEvent.CHANGED,
        channel=source.channel,
        title=item.title,
        item_key=item.key,
        url=item.url,
        record=item.record,
        changes=shown,
        matched=verdict.matched,
        thread_key=item.key,
    )

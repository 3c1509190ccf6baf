"""What changed between the state and a fresh snapshot. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from watcher.models import Change, ChangeKind, FieldChange, Snapshot, StoredItem


def field_changes(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    ignore: Collection[str] = (),
    labels: Mapping[str, str] | None = None,
    date_fields: Collection[str] = (),
    line_fields: Collection[str] = (),
) -> tuple[FieldChange, ...]:
    """Fields whose values differ, in a stable order (the record's own order, then new keys),
    named as the source's kind names them."""
    labels = labels or {}
    keys = list(before) + [k for k in after if k not in before]
    return tuple(
        FieldChange(
            key,
            before.get(key),
            after.get(key),
            labels.get(key, ""),
            is_date=key in date_fields,
            as_lines=key in line_fields,
        )
        for key in keys
        if key not in ignore and before.get(key) != after.get(key)
    )


def diff_snapshot(
    snapshot: Snapshot,
    previous: Mapping[str, StoredItem],
    volatile: Collection[str] = (),
    labels: Mapping[str, str] | None = None,
    date_fields: Collection[str] = (),
    line_fields: Collection[str] = (),
) -> tuple[Change, ...]:
    """New and changed items; for a complete snapshot, also the items that went away.

    `previous` holds what the state knows of the snapshot's keys (and, for a complete
    snapshot, every item the source still had). An item is changed when its fingerprint
    differs; its field changes leave out volatile fields.
    """
    changes: list[Change] = []
    seen: set[str] = set()
    for item in snapshot.items:
        seen.add(item.key)
        before = previous.get(item.key)
        if before is None:
            changes.append(Change(ChangeKind.NEW, item.key, item, None))
        elif before.fingerprint != item.fingerprint:
            fields = field_changes(
                before.record, item.record, volatile, labels, date_fields, line_fields
            )
            changes.append(Change(ChangeKind.CHANGED, item.key, item, before, fields))
    if snapshot.complete:
        for key, stored in previous.items():
            if key not in seen:
                changes.append(Change(ChangeKind.REMOVED, key, None, stored))
    return tuple(changes)

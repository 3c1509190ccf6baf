"""The values that cross module boundaries: what a source found, what changed, what to say.

All frozen. `record` mappings hold JSON-ready values (str, int, float, bool, None, lists, dicts)
and are never mutated after construction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Item:
    """One thing a source publishes (a document, a feed entry, a list entry), normalised.

    `key` is stable for the life of the thing; `fingerprint` changes exactly when something a
    reader cares about changes. The top-level text fields are what matching rules look at; the
    `record` is the whole normalised content, shown in messages and diffed field by field.
    """

    key: str
    title: str
    record: Mapping[str, Any]
    fingerprint: str
    url: str | None = None
    summary: str = ""
    published: str | None = None  # ISO 8601 date or UTC datetime
    doc_type: str | None = None  # e.g. "Presidential Document", "Notice"
    subtype: str | None = None  # e.g. "Proclamation", "Executive Order"
    agencies: tuple[str, ...] = ()
    corrects: str | None = None  # key of the item this one corrects or republishes


@dataclass(frozen=True)
class Snapshot:
    """What one check of one source saw.

    `complete` says whether an item absent from `items` has gone from the source (a page's list)
    or merely fell outside the window this check looked at (a Federal Register search).
    """

    items: tuple[Item, ...]
    complete: bool
    cursor: Mapping[str, Any] = field(default_factory=dict)
    validators: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    unchanged: bool = False  # the server answered 304 Not Modified: nothing to diff
    listing: bool = False  # entries of one list: announce a check's changes as one update
    requests: int = 0
    bytes_received: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredItem:
    """An item as the state database remembers it."""

    key: str
    fingerprint: str
    relevant: bool
    record: Mapping[str, Any]
    title: str
    url: str | None
    first_seen: str
    last_seen: str
    history: tuple[str, ...] = ()  # earlier fingerprints, newest first (to spot flapping)
    held: bool = False  # flapping: changes are recorded but no longer announced
    removed: bool = False  # gone from a complete source


class ChangeKind(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True)
class FieldChange:
    """One field of a record that differs between two checks."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """An item that appeared, changed or went away since the state last saw its source."""

    kind: ChangeKind
    key: str
    item: Item | None  # None for REMOVED
    previous: StoredItem | None  # None for NEW
    fields: tuple[FieldChange, ...] = ()


class AlertEvent(StrEnum):
    NEW = "new"  # a relevant item appeared
    CHANGED = "changed"  # a relevant item changed
    REMOVED = "removed"  # a relevant item left a complete source
    CORRECTION = "correction"  # a correction or republication of a known item was published
    FILED = "filed"  # a relevant document went on public inspection
    PUBLISHED = "published"  # a document announced on public inspection is now published
    WITHDRAWN = "withdrawn"  # a document left public inspection without being published
    LIST_CHANGED = "list_changed"  # entries were added to or removed from a watched list
    REMINDER = "reminder"  # a comment deadline or effective date is near
    HEALTH = "health"  # for operations: a source failing, recovered or quiet; Slack refusing
    BASELINE = "baseline"  # the first check of a source: one line, no items


@dataclass(frozen=True)
class Alert:
    """One message watcher owes a channel. Rendered only at delivery, from this data."""

    source: str
    source_kind: str
    event: AlertEvent
    channel: str
    title: str
    item_key: str | None = None
    url: str | None = None
    record: Mapping[str, Any] = field(default_factory=dict)
    changes: tuple[FieldChange, ...] = ()
    matched: tuple[str, ...] = ()
    note: str = ""
    thread_key: str | None = None  # the story (Slack thread) this belongs to
    label: str | None = None  # the source's human name, when it has one
    facts: Mapping[str, Any] = field(default_factory=dict)  # TradeFacts.as_record()
    mention: str | None = None  # a Slack mention added by a routing rule

    def to_json(self) -> str:
        return json.dumps(
            {
                "source": self.source,
                "source_kind": self.source_kind,
                "event": self.event.value,
                "channel": self.channel,
                "title": self.title,
                "item_key": self.item_key,
                "url": self.url,
                "record": self.record,
                "changes": [[c.field, c.before, c.after] for c in self.changes],
                "matched": list(self.matched),
                "note": self.note,
                "thread_key": self.thread_key,
                "label": self.label,
                "facts": self.facts,
                "mention": self.mention,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Alert:
        data = json.loads(text)
        return cls(
            source=data["source"],
            source_kind=data["source_kind"],
            event=AlertEvent(data["event"]),
            channel=data["channel"],
            title=data["title"],
            item_key=data.get("item_key"),
            url=data.get("url"),
            record=data.get("record") or {},
            changes=tuple(FieldChange(f, b, a) for f, b, a in data.get("changes") or ()),
            matched=tuple(data.get("matched") or ()),
            note=data.get("note") or "",
            thread_key=data.get("thread_key"),
            label=data.get("label"),
            facts=data.get("facts") or {},
            mention=data.get("mention"),
        )


@dataclass(frozen=True)
class SourceMemory:
    """What the state remembers about a source between checks, handed to its kind."""

    cursor: Mapping[str, Any] = field(default_factory=dict)
    validators: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    baseline_done: bool = False

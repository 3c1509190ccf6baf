"""The values that cross module boundaries: what a source found, what changed, what to say.

All frozen. An `Item` carries typed, source-neutral fields that every kind fills the same way
(title, dates, instrument and number, what it corrects ...): the rest of the program reads
those and nothing else. Its `record` is the kind's own normalised content, used only to tell
what changed field by field; nobody outside the kind reads it by key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Link:
    """A link a message shows beside the title: "PDF", "Comment", "Docket", ..."""

    label: str
    url: str


@dataclass(frozen=True, kw_only=True)
class Item:
    """One thing a source publishes (a document, a feed entry, a list entry), normalised.

    `key` is stable for the life of the thing; `fingerprint` changes exactly when something a
    reader cares about changes. Dates are ISO 8601 (a date, or a UTC datetime when the source
    gives the time).
    """

    key: str
    title: str
    fingerprint: str
    record: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None
    summary: str = ""  # what rules read beside the title, and what a message quotes
    body: str = ""  # other short text the source gives (an action or dates line), for facts
    published_on: str | None = None  # published, or (on public inspection) to be published
    signed_on: str | None = None
    effective_on: str | None = None
    comments_close_on: str | None = None
    doc_type: str | None = None  # "Presidential Document", "Notice", ... (for `type:` rules)
    subtype: str | None = None  # "Proclamation", "Executive Order", ...
    agencies: tuple[str, ...] = ()
    instrument: str | None = None  # what a lawyer calls it: "Proclamation", "Notice", ...
    number: str | None = None  # the instrument's number: "10962"
    reference: str | None = None  # the identifier a reader quotes: a document or CSMS number
    citation: str | None = None  # "90 FR 37727"
    dockets: tuple[str, ...] = ()
    corrects: str | None = None  # key of the item this one corrects or republishes
    updates: str | None = None  # key of an item of the same source this one updates
    special: bool = False  # a public inspection special filing: outside the regular hours
    text_url: str | None = None  # where the full text is, when worth reading for facts
    links: tuple[Link, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("agencies", "dockets"):
            values[name] = tuple(values.get(name) or ())
        values["links"] = tuple(Link(**link) for link in values.get("links") or ())
        return cls(**values)


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
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredItem:
    """An item as the state database remembers it: its key, fingerprint and record (the
    source's kind turns the record back into an `Item`)."""

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
    """One field of a record that differs between two checks, with the label a reader sees."""

    field: str
    before: Any
    after: Any
    label: str = ""
    is_date: bool = False
    as_lines: bool = False  # a list of text lines (a page's), shown as "+ line" / "− line"

    @property
    def shown_label(self) -> str:
        return self.label or self.field.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Change:
    """An item that appeared, changed or went away since the state last saw its source."""

    kind: ChangeKind
    key: str
    item: Item | None  # None for REMOVED
    previous: StoredItem | None  # None for NEW
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One entry of a watched list, as a message shows it."""

    text: str
    url: str | None = None
    before: str | None = None  # for an entry whose text changed under the same link


@dataclass(frozen=True)
class ListChange:
    """What one check of a list page added, removed and changed."""

    added: tuple[Entry, ...] = ()
    removed: tuple[Entry, ...] = ()
    changed: tuple[Entry, ...] = ()


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
    FOLLOW_UP = "follow_up"  # a short reply in an earlier action's thread: a later one acts on it


# Events about a document the team has not read yet: worth its full text (`enrich`), and
# perhaps a stage of an action told elsewhere (`linking`).
FIRST_NEWS = frozenset(
    {AlertEvent.NEW, AlertEvent.FILED, AlertEvent.PUBLISHED, AlertEvent.CORRECTION}
)
# Alerts that tell a story (`linking`); health notices and first-check lines belong to none.
STORY_EVENTS = frozenset(AlertEvent) - {AlertEvent.HEALTH, AlertEvent.BASELINE}


@dataclass(frozen=True, kw_only=True)
class Alert:
    """One message watcher owes a channel. Rendered only at delivery, from this data."""

    source: str
    source_kind: str
    event: AlertEvent
    channel: str
    title: str
    url: str | None = None
    item_key: str | None = None
    item: Item | None = None  # what the alert is about (none for lists, baselines, notices)
    changes: tuple[FieldChange, ...] = ()
    listing: ListChange | None = None
    matched: tuple[str, ...] = ()
    note: str = ""
    thread_key: str | None = None  # the story (Slack thread) this belongs to
    label: str | None = None  # the source's human name, when it has one
    facts: Mapping[str, Any] = field(default_factory=dict)  # TradeFacts.as_record()
    mention: str | None = None  # a Slack mention added by a routing rule
    lead: str = ""  # how early the story knew: "6 days after it appeared in ..."
    broadcast: bool = False  # a reply in a thread also shown in the channel (a route said so)
    # what of the team's watchlist the document touches (watchlist.Touch records), and who
    # to mention when it does
    touches: tuple[Mapping[str, Any], ...] = ()
    touches_mention: str | None = None

    def to_json(self) -> str:
        # as dataclasses.asdict would give it, without its deep copies (a first run
        # serialises an alert per source: asdict was most of the commit's Python time)
        return json.dumps(_plain(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Alert:
        data = json.loads(text)
        listing = data.get("listing")
        return cls(
            source=data["source"],
            source_kind=data["source_kind"],
            event=AlertEvent(data["event"]),
            channel=data["channel"],
            title=data["title"],
            url=data.get("url"),
            item_key=data.get("item_key"),
            # An alert queued by watcher 0.1 has no typed item (only its source's record):
            # it is still delivered, with what its title, link and note say.
            item=Item.from_dict(data["item"]) if data.get("item") else None,
            changes=tuple(
                FieldChange(**c) for c in data.get("changes") or () if isinstance(c, dict)
            ),
            listing=(
                ListChange(
                    **{
                        k: tuple(Entry(**e) for e in listing.get(k) or ())
                        for k in ("added", "removed", "changed")
                    }
                )
                if listing
                else None
            ),
            matched=tuple(data.get("matched") or ()),
            note=data.get("note") or "",
            thread_key=data.get("thread_key"),
            label=data.get("label"),
            facts=data.get("facts") or {},
            mention=data.get("mention"),
            lead=data.get("lead") or "",
            broadcast=bool(data.get("broadcast")),
            touches=tuple(data.get("touches") or ()),
            touches_mention=data.get("touches_mention"),
        )


def _listing(data: Mapping[str, Any]) -> ListChange:
    entries = {
        k: tuple(Entry(**e) for e in data.get(k) or ()) for k in ("added", "removed", "changed")
    }
    return ListChange(**entries)


@dataclass(frozen=True)
class SourceMemory:
    """What the state remembers about a source between checks, handed to its kind."""

    cursor: Mapping[str, Any] = field(default_factory=dict)
    validators: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    baseline_done: bool = False


def _plain(value: Any) -> Any:
    """Dataclasses as dicts, tuples as lists, all the way down (what `asdict` makes)."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in _field_names(value.__class__)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@cache
def _field_names(cls: Any) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))

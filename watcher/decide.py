"""From a snapshot and the state to what to record and what to say. Pure: no I/O, no clock.

The rules, in one place:
- The first successful check of a source is a baseline: everything is recorded, and one line
  says so; no item is announced.
- A new item is announced when it is relevant, or when it corrects or republishes an item the
  team was told about (a Federal Register `C1-`/`R1-` document), or when it is the published
  form of a document the team was told about on public inspection.
- A changed item is announced when it is relevant now or was before, and something other than
  its silent fields changed (a document's `corrections` list grows when the correction
  itself is published, which is announced on its own). A change back to an earlier state is
  flapping: the first one holds the item back, and its changes are recorded, not announced,
  until it reaches a state never seen before.
- An item that left a complete source (a list entry) is announced when it was relevant. A
  document that left public inspection is published (quiet: the published document says so)
  or, once the Federal Register has moved past its publication date without it, withdrawn.
- A list (a page's entries) says all of one check's changes
  in one message: "added: boron, copper; removed: none".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from watcher.diff import diff_snapshot
from watcher.match import Relevance, judge
from watcher.models import (
    Alert,
    AlertEvent,
    Change,
    ChangeKind,
    Entry,
    FieldChange,
    Item,
    ListChange,
    Snapshot,
    StoredItem,
)
from watcher.settings import SourceConfig
from watcher.sources.base import Role, SourceKind

HISTORY = 5  # earlier fingerprints remembered per item, to recognise a change back


@dataclass(frozen=True)
class Related:
    """What another source of the same family knows under the same key."""

    source: str
    role: Role | None
    relevant: bool
    present: bool


@dataclass(frozen=True)
class Family:
    """What the other sources of this source's family know, gathered by the runner."""

    related: Mapping[str, tuple[Related, ...]] = field(default_factory=dict)
    # How far the family's published sources have read (an ISO date): a filing scheduled
    # before it that never appeared there was withdrawn.
    progress: str | None = None
    today: str | None = None  # ISO date, for a family with no published source


@dataclass(frozen=True)
class ItemWrite:
    """One item to store, with the verdict on it."""

    item: Item
    relevant: bool
    changed: bool  # new or content changed (as opposed to merely seen again)
    history: tuple[str, ...] = ()
    held: bool = False


@dataclass(frozen=True)
class Decision:
    """Everything one check should change in the state, and the alerts it causes."""

    writes: tuple[ItemWrite, ...]
    removed: tuple[str, ...]
    alerts: tuple[Alert, ...]
    new: int = 0
    changed: int = 0
    relevant: int = 0  # relevant items in the snapshot
    held: int = 0  # changes recorded but not announced because the item flaps


def decide(
    source: SourceConfig,
    kind: SourceKind,
    snapshot: Snapshot,
    previous: Mapping[str, StoredItem],
    *,
    baseline: bool,
    family: Family | None = None,
) -> Decision:
    """Judge, diff and turn the changes of one check into writes and alerts."""
    return _Decider(source, kind, previous, family or Family()).run(snapshot, baseline)


class _Decider:
    def __init__(
        self,
        source: SourceConfig,
        kind: SourceKind,
        previous: Mapping[str, StoredItem],
        family: Family,
    ):
        self.source = source
        self.kind = kind
        self.previous = previous
        self.family = family
        self.listing = False

    # -- the whole check ------------------------------------------------------------------

    def run(self, snapshot: Snapshot, baseline: bool) -> Decision:
        self.listing = snapshot.listing
        verdicts = {item.key: self._verdict(item) for item in snapshot.items}
        changes = diff_snapshot(
            snapshot,
            self.previous,
            self.kind.volatile,
            self.kind.labels,
            self.kind.date_fields,
            self.kind.line_fields,
        )
        by_key = {c.key: c for c in changes}
        alerts: list[Alert] = []
        removed: list[str] = []
        held_keys: set[str] = set()
        list_changes: list[tuple[Change, Relevance | None]] = []

        for change in changes:
            if change.kind is ChangeKind.REMOVED:
                gone, alert = self._departure(change)
                if gone:
                    removed.append(change.key)
                if alert and not baseline:
                    alerts.append(alert)
                if gone and self.listing and change.previous and change.previous.relevant:
                    list_changes.append((change, None))
                continue
            assert change.item is not None
            verdict = verdicts[change.key]
            if change.kind is ChangeKind.CHANGED and self._flaps(change):
                held_keys.add(change.key)
                continue
            if baseline:
                continue
            if self.listing:
                if verdict.relevant or (change.previous and change.previous.relevant):
                    list_changes.append((change, verdict))
                continue
            alert = self._announce(change, verdict)
            if alert is not None:
                alerts.append(alert)

        if list_changes and not baseline:
            alerts.append(self._list_alert(list_changes))

        writes = tuple(
            self._write(item, verdicts[item.key], by_key.get(item.key), held_keys)
            for item in snapshot.items
        )
        relevant = sum(1 for v in verdicts.values() if v.relevant)
        if baseline:
            alerts.append(self._baseline_alert(len(snapshot.items), relevant))
        return Decision(
            writes=writes,
            removed=tuple(removed),
            alerts=tuple(alerts),
            new=sum(1 for c in changes if c.kind is ChangeKind.NEW),
            changed=sum(1 for c in changes if c.kind is ChangeKind.CHANGED),
            relevant=relevant,
            held=len(held_keys),
        )

    # -- relevance ------------------------------------------------------------------------

    def _verdict(self, item: Item) -> Relevance:
        verdict = judge(item, self.source.rules)
        if verdict.relevant:
            return verdict
        target = self.previous.get(item.corrects) if item.corrects else None
        if target is not None and target.relevant:
            return Relevance(True, (f"corrects {target.key}",))
        updated = self.previous.get(item.updates) if item.updates else None
        if updated is not None and updated.relevant:
            return Relevance(True, (f"updates {updated.key}",))
        for other in self.family.related.get(item.key, ()):
            if other.relevant:
                return Relevance(True, (f"announced by {other.source}",))
        return verdict

    def _related(self, key: str, role: Role) -> Related | None:
        for other in self.family.related.get(key, ()):
            if other.role is role:
                return other
        return None

    # -- one change -----------------------------------------------------------------------

    def _announce(self, change: Change, verdict: Relevance) -> Alert | None:
        item = change.item
        assert item is not None
        before = change.previous
        if self._stale(item):
            return None  # old news, whatever happens to it
        if change.kind is ChangeKind.NEW:
            if not verdict.relevant:
                return None
            return self._new_item_alert(item, verdict)
        assert before is not None
        shown = tuple(f for f in change.fields if f.field not in self.kind.silent)
        if not shown or not (verdict.relevant or before.relevant):
            return None
        if verdict.relevant and not before.relevant:
            # Never announced before; after this change it matches: it is news, not an update.
            return self._alert(
                AlertEvent.NEW,
                item,
                verdict,
                note="updated since it was first seen, and now matches this source's rules",
            )
        return self._alert(AlertEvent.CHANGED, item, verdict, changes=shown)

    def _stale(self, item: Item) -> bool:
        return too_old(item, self.source, self.family.today)

    def _new_item_alert(self, item: Item, verdict: Relevance) -> Alert | None:
        role = self.kind.role
        if role is Role.INSPECTION:
            if self._related(item.key, Role.PUBLISHED) is not None:
                return None  # already published and announced as such
            return self._alert(AlertEvent.FILED, item, verdict)
        if role is Role.PUBLISHED:
            filed = self._related(item.key, Role.INSPECTION)
            if filed is not None and filed.relevant:
                return self._alert(AlertEvent.PUBLISHED, item, verdict)
        if item.corrects:
            target = self.previous.get(item.corrects)
            original = f": {target.title}" if target else ""
            return self._alert(
                AlertEvent.CORRECTION,
                item,
                verdict,
                note=f"corrects {item.corrects}{original}",
                thread=self.kind.thread_key(self.source.name, item.corrects),
            )
        if item.updates:
            # A message that updates an earlier one ("UPDATED GUIDANCE ... CSMS # 69395344")
            # says which, and continues its thread when watcher saw the earlier one.
            updated = self.previous.get(item.updates)
            return self._alert(
                AlertEvent.NEW,
                item,
                verdict,
                note=f"updates {self.kind.reference_of(item.updates)}"
                + (f": {updated.title}" if updated else ""),
                thread=self.kind.thread_key(self.source.name, item.updates) if updated else None,
            )
        return self._alert(AlertEvent.NEW, item, verdict)

    def _departure(self, change: Change) -> tuple[bool, Alert | None]:
        """Whether an item that left a complete source is gone, and what to say about it."""
        before = change.previous
        assert before is not None
        if self.kind.role is not Role.INSPECTION:
            if not before.relevant or self.listing:
                return True, None
            return True, self._stored_alert(AlertEvent.REMOVED, before)
        if not before.relevant:
            return True, None
        if self._related(before.key, Role.PUBLISHED) is not None:
            return True, None  # published: the published document carries the story on
        scheduled = (self._restored(before).published_on or "")[:10]
        newest = self.family.progress
        if newest is not None:
            withdrawn = bool(scheduled) and newest > scheduled
        else:
            withdrawn = bool(scheduled) and (self.family.today or "") > scheduled
        if not withdrawn:
            return False, None  # not published yet, not overdue: look again next check
        return True, self._stored_alert(
            AlertEvent.WITHDRAWN,
            before,
            note=f"left public inspection without being published (it was to publish on "
            f"{scheduled})",
        )

    def _flaps(self, change: Change) -> bool:
        """A change back to a state seen in the last few checks: flapping, hold it back."""
        before = change.previous
        item = change.item
        assert before is not None and item is not None
        return item.fingerprint in before.history

    # -- writing --------------------------------------------------------------------------

    def _write(
        self, item: Item, verdict: Relevance, change: Change | None, held_keys: set[str]
    ) -> ItemWrite:
        before = self.previous.get(item.key)
        if before is None:
            return ItemWrite(item, verdict.relevant, True)
        if change is None or change.kind is not ChangeKind.CHANGED:
            return ItemWrite(item, verdict.relevant, False, before.history, before.held)
        history = (before.fingerprint, *before.history)[:HISTORY]
        return ItemWrite(item, verdict.relevant, True, history, item.key in held_keys)

    # -- alerts ---------------------------------------------------------------------------

    def _alert(
        self,
        event: AlertEvent,
        item: Item,
        verdict: Relevance,
        *,
        note: str = "",
        changes: tuple[FieldChange, ...] = (),
        thread: str | None = None,
    ) -> Alert:
        return self._about(
            event, item, note=note, changes=changes, matched=verdict.matched, thread=thread
        )

    def _restored(self, before: StoredItem) -> Item:
        """A stored item as its kind makes it (for what the state has only as a record)."""
        return self.kind.restore(self.source, before.key, before.record)

    def _stored_alert(self, event: AlertEvent, before: StoredItem, note: str = "") -> Alert:
        return self._about(event, self._restored(before), note=note)

    def _about(
        self,
        event: AlertEvent,
        item: Item,
        *,
        note: str = "",
        changes: tuple[FieldChange, ...] = (),
        matched: tuple[str, ...] = (),
        thread: str | None = None,
    ) -> Alert:
        return Alert(
            source=self.source.name,
            source_kind=self.source.kind,
            event=event,
            channel=self.source.channel,
            title=item.title,
            url=item.url,
            item_key=item.key,
            item=item,
            changes=changes,
            matched=matched,
            note=note,
            thread_key=thread or self.kind.thread_key(self.source.name, item.key),
            label=self.source.label,
        )

    def _list_alert(self, changes: list[tuple[Change, Relevance | None]]) -> Alert:
        added: list[Entry] = []
        removed: list[Entry] = []
        changed: list[Entry] = []
        matched: list[str] = []
        for change, verdict in changes:
            if verdict is not None:
                matched += [m for m in verdict.matched if m not in matched]
            if change.kind is ChangeKind.NEW and change.item is not None:
                added.append(Entry(change.item.title, change.item.url))
            elif change.kind is ChangeKind.REMOVED and change.previous is not None:
                removed.append(Entry(change.previous.title, change.previous.url))
            elif change.item is not None and change.previous is not None:
                changed.append(
                    Entry(change.item.title, change.item.url, before=change.previous.title)
                )
        return Alert(
            source=self.source.name,
            source_kind=self.source.kind,
            event=AlertEvent.LIST_CHANGED,
            channel=self.source.channel,
            title=self.source.label or self.source.name,
            url=self.source.url,
            listing=ListChange(tuple(added), tuple(removed), tuple(changed)),
            matched=tuple(matched),
            thread_key=f"{self.source.name}:list",
            label=self.source.label,
        )

    def _baseline_alert(self, count: int, relevant: int) -> Alert:
        noun = self.kind.noun[0] if count == 1 else self.kind.noun[1]
        return Alert(
            source=self.source.name,
            source_kind=self.source.kind,
            event=AlertEvent.BASELINE,
            channel=self.source.channel,
            title=f"Now watching {self.source.label or self.source.name}",
            note=f"{count} {noun} recorded, {relevant} of them match this source's rules; "
            "from now on each new or changed one is announced.",
            url=self.source.url,
            label=self.source.label,
        )


def too_old(item: Item, source: SourceConfig, today: str | None) -> bool:
    """Dated longer ago than the source's `max_age`: recorded, never announced (a feed that
    keeps a 2009 post at its top)."""
    max_age = source.max_age
    if max_age is None or not today or not item.published_on:
        return False
    try:
        published = date.fromisoformat(item.published_on[:10])
    except ValueError:
        return False
    return published < date.fromisoformat(today) - max_age

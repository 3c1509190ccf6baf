"""Deadline reminders: a comment period closing, a rule taking effect, or a deadline the
document's text sets ("within 180 days of the date of this proclamation"), N days ahead. Pure.

Each tracked (relevant) document's deadlines get one reminder per configured offset (default
7 days and 1 day before), in its story's Slack thread, once. A document first seen when
several offsets have already passed gets only the nearest one. One deadline stated by two
stages of a story (the White House's text and the Federal Register's) is reminded once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from watcher.models import Alert, AlertEvent, Item

# The deadlines every item can carry, by the name the state keeps them under.
ITEM_DEADLINES = {"comments_close": "Comments close", "effective": "Takes effect"}


def item_deadlines(item: Item) -> dict[str, str]:
    """deadline -> ISO date, for the deadlines an item states."""
    found = {"comments_close": item.comments_close_on, "effective": item.effective_on}
    return {field: value[:10] for field, value in found.items() if value}


@dataclass(frozen=True)
class Deadline:
    """A date a tracked item holds that the team must act by."""

    source: str
    source_kind: str
    channel: str
    item: Item
    field: str  # a key of ITEM_DEADLINES
    due: date
    thread_key: str
    label: str | None = None
    what: str | None = None  # for a deadline the text states: what is due

    @property
    def named(self) -> str:
        return ITEM_DEADLINES.get(self.field) or "Deadline"

    @property
    def done_key(self) -> tuple[str, str, str, str]:
        return (self.source, self.item.key, self.field, self.due.isoformat())


@dataclass(frozen=True)
class Reminder:
    deadline: Deadline
    days_before: int  # the configured offset this reminder stands for
    covers: tuple[int, ...]  # every offset it settles (the nearer one wins when several passed)
    twins: tuple[Deadline, ...] = ()  # the same deadline, stated by other stages of the story


def due(
    deadlines: Iterable[Deadline],
    done: set[tuple[str, str, str, str, int]],
    today: date,
    offsets: Sequence[int],
) -> list[Reminder]:
    """Reminders to send today; `done` holds (source, key, field, due, offset) already sent.
    A deadline another stage of its story states too (same thread and day) is settled with
    it."""
    out = []
    groups: dict[tuple[str, str, str], list[Deadline]] = {}
    for deadline in deadlines:
        stated = deadline.field.startswith("stated:")
        key = (
            deadline.thread_key,
            deadline.due.isoformat(),
            "stated" if stated else deadline.field,
        )
        groups.setdefault(key, []).append(deadline)
    for group in groups.values():
        deadline = group[0]
        left = (deadline.due - today).days
        if left < 0:
            continue
        passed = [o for o in offsets if left <= o]
        pending = [o for o in passed if (*deadline.done_key, o) not in done]
        if not pending:
            continue
        if min(passed) not in pending:
            continue  # the nearest reminder went out already; older offsets are moot
        out.append(Reminder(deadline, min(passed), tuple(pending), tuple(group[1:])))
    return out


def _when(left: int, due_date: date) -> str:
    shown = f"{due_date.strftime('%b')} {due_date.day}, {due_date.year}"
    if left == 0:
        return f"today, {shown}"
    if left == 1:
        return f"tomorrow, {shown}"
    return f"in {left} days, on {shown}"


def reminder_alert(reminder: Reminder, today: date) -> Alert:
    deadline = reminder.deadline
    item = deadline.item
    left = (deadline.due - today).days
    note = f"{deadline.named} {_when(left, deadline.due)}"
    if deadline.what:
        note += f": {deadline.what}"
    if deadline.field == "comments_close" and any(x.label == "Comment" for x in item.links):
        note += " (comment page linked below)"
    return Alert(
        source=deadline.source,
        source_kind=deadline.source_kind,
        event=AlertEvent.REMINDER,
        channel=deadline.channel,
        title=item.title,
        url=item.url,
        item_key=item.key,
        item=item,
        note=note,
        thread_key=deadline.thread_key,
        label=deadline.label,
    )

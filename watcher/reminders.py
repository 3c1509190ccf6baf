"""Deadline reminders: a comment period closing or a rule taking effect, N days ahead. Pure.

Each tracked (relevant) document with a comment deadline or an effective date gets one
reminder per configured offset (default 7 days and 1 day before), in its Slack thread, once.
A document first seen when several offsets have already passed gets only the nearest one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from watcher.models import Alert, AlertEvent

DEADLINES = {"comments_close_on": "Comments close", "effective_on": "Takes effect"}


@dataclass(frozen=True)
class Deadline:
    """A date a tracked item holds that the team must act by."""

    source: str
    source_kind: str
    channel: str
    key: str
    title: str
    url: str | None
    record: Mapping[str, Any]
    field: str  # comments_close_on | effective_on
    due: date
    thread_key: str
    label: str | None = None


@dataclass(frozen=True)
class Reminder:
    deadline: Deadline
    days_before: int  # the configured offset this reminder stands for
    covers: tuple[int, ...]  # every offset it settles (the nearer one wins when several passed)


def due(
    deadlines: Iterable[Deadline],
    done: set[tuple[str, str, str, str, int]],
    today: date,
    offsets: Sequence[int],
) -> list[Reminder]:
    """Reminders to send today; `done` holds (source, key, field, due, offset) already sent."""
    out = []
    for deadline in deadlines:
        left = (deadline.due - today).days
        if left < 0:
            continue
        passed = [o for o in offsets if left <= o]
        pending = [
            o
            for o in passed
            if (deadline.source, deadline.key, deadline.field, deadline.due.isoformat(), o)
            not in done
        ]
        if not pending:
            continue
        if min(passed) not in pending:
            continue  # the nearest reminder went out already; older offsets are moot
        out.append(Reminder(deadline, min(passed), tuple(pending)))
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
    left = (deadline.due - today).days
    note = f"{DEADLINES[deadline.field]} {_when(left, deadline.due)}"
    if deadline.field == "comments_close_on" and deadline.record.get("comment_url"):
        note += " (comment page linked below)"
    return Alert(
        source=deadline.source,
        source_kind=deadline.source_kind,
        event=AlertEvent.REMINDER,
        channel=deadline.channel,
        title=deadline.title,
        item_key=deadline.key,
        url=deadline.url,
        record=deadline.record,
        note=note,
        thread_key=deadline.thread_key,
        label=deadline.label,
    )

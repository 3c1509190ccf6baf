"""How watcher words an alert: the pieces every message shares, in Slack or as plain text.
Pure functions of an `Alert`, reading only its typed fields.

A message answers, in the order a reader scans: what instrument this is and what happened
(the header), its title and where it stands (filed, published, withdrawn), who issued it and
the dates that matter, the trade facts it states, what changed, the links, and why the team
got it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from watcher.instrument import instrument_name, issuing_agency
from watcher.models import Alert, AlertEvent, FieldChange, Item

MAX_CHANGES_SHOWN = 8
MAX_LIST_SHOWN = 25
MAX_FACT_VALUES = 12

EVENT_LABEL = {
    AlertEvent.NEW: "new",
    AlertEvent.CHANGED: "updated",
    AlertEvent.REMOVED: "removed",
    AlertEvent.CORRECTION: "correction",
    AlertEvent.FILED: "on public inspection",
    AlertEvent.PUBLISHED: "published",
    AlertEvent.WITHDRAWN: "withdrawn",
    AlertEvent.LIST_CHANGED: "changed",
    AlertEvent.REMINDER: "reminder",
    AlertEvent.HEALTH: "operations",
    AlertEvent.BASELINE: "watching",
    AlertEvent.FOLLOW_UP: "follow-up",
}

FACT_LABEL = (
    ("proclamations", "Proclamations cited"),
    ("executive_orders", "Executive orders cited"),
    ("hts", "HTSUS"),
    ("rates", "Rates"),
    ("effective", "Takes effect"),
    ("minerals", "Critical minerals"),
    ("countries", "Countries"),
)


def clip(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def format_date(value: Any) -> str | None:
    """`2025-02-18` -> `Feb 18, 2025`; anything else is shown as given."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{parsed.strftime('%b')} {parsed.day}, {parsed.year}"


def header_text(alert: Alert) -> str:
    """ "Proclamation 10962 · published", "BIS notice · new", "watcher: ..."."""
    if alert.event is AlertEvent.BASELINE:
        return alert.title
    if alert.event is AlertEvent.HEALTH:
        return f"watcher: {alert.title}"
    return f"{instrument_name(alert)} · {EVENT_LABEL[alert.event]}"


def key_dates(alert: Alert) -> list[tuple[str, str]]:
    """Signed, published, effective, comments close: the dates that matter, when known."""
    item = alert.item
    signed = (item.signed_on if item else None) or alert.facts.get("signed")
    publishes = "Publishes" if alert.event is AlertEvent.FILED else "Published"
    out = []
    for label, value in (
        ("Signed", signed),
        (publishes, item.published_on if item else None),
        ("Effective", item.effective_on if item else None),
        ("Comments close", item.comments_close_on if item else None),
    ):
        shown = format_date(value)
        if shown:
            out.append((label, shown))
    return out


def details(item: Item | None) -> list[tuple[str, str]]:
    """(label, value) for what identifies the document: its number, issuer, citation."""
    if item is None:
        return []
    out = []
    if item.reference:
        out.append(("Document", item.reference))
    agency = issuing_agency(item.agencies)
    if agency:
        out.append(("Agency", agency))
    return out


def citations(item: Item | None) -> list[tuple[str, str]]:
    if item is None:
        return []
    out = []
    if item.citation:
        out.append(("Citation", item.citation))
    if item.dockets:
        out.append(("Dockets", ", ".join(item.dockets[:5])))
    return out


def _describe_value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def set_difference(before: Sequence[Any], after: Sequence[Any]) -> tuple[list[str], list[str]]:
    """What a list gained and lost, in the order the lists have them."""
    old = [str(v) for v in before]
    new = [str(v) for v in after]
    old_set, new_set = set(old), set(new)
    return [v for v in new if v not in old_set], [v for v in old if v not in new_set]


def bounded(values: Sequence[str], limit: int = MAX_LIST_SHOWN) -> str:
    """`a, b, c (+4 more)`, or `none`."""
    if not values:
        return "none"
    shown = ", ".join(clip(v, 200) for v in values[:limit])
    return shown + (f" (+{len(values) - limit} more)" if len(values) > limit else "")


def change_lines(
    changes: Sequence[FieldChange], limit: int | None = MAX_CHANGES_SHOWN
) -> list[str]:
    """What changed, field by field: a page's lines as "+ line" and "− line", other lists as
    what they gained and lost, dates as dates."""
    lines: list[str] = []
    for change in changes[:limit]:
        label = change.shown_label
        if isinstance(change.before, list) and isinstance(change.after, list):
            added, removed = set_difference(change.before, change.after)
            if change.as_lines:
                lines += [f"+ {clip(v, 300)}" for v in added[:MAX_LIST_SHOWN]]
                lines += [f"− {clip(v, 300)}" for v in removed[:MAX_LIST_SHOWN]]
                hidden = max(0, len(added) - MAX_LIST_SHOWN) + max(0, len(removed) - MAX_LIST_SHOWN)
                if hidden:
                    lines.append(f"+{hidden} more changed lines")
            else:
                lines.append(f"{label}: added: {bounded(added)}; removed: {bounded(removed)}")
            continue
        if change.is_date:
            before = format_date(change.before) or "(none)"
            after = format_date(change.after) or "(none)"
        else:
            before = clip(_describe_value(change.before), 300)
            after = clip(_describe_value(change.after), 300)
        lines.append(f"{label}: {before} → {after}")
    if limit is not None and len(changes) > limit:
        lines.append(f"+{len(changes) - limit} more fields changed")
    return lines


def status_line(alert: Alert) -> str | None:
    """The one line that says where this story stands."""
    item = alert.item
    published = format_date(item.published_on) if item else None
    if alert.event is AlertEvent.FILED:
        special = "Special filing: on" if item and item.special else "On"
        return f"{special} public inspection, publishes on {published or 'a date not yet set'}"
    if alert.event is AlertEvent.PUBLISHED:
        citation = f", {item.citation}" if item and item.citation else ""
        lead = f" — {alert.lead}" if alert.lead else ""
        return f"Published in the Federal Register on {published}{citation}{lead}"
    if alert.event is AlertEvent.FOLLOW_UP:
        return alert.note or None
    if alert.event is AlertEvent.WITHDRAWN:
        return "Withdrawn from public inspection without being published"
    if alert.event is AlertEvent.CORRECTION:
        return f"Correction published on {published}" if published else "Correction published"
    if alert.event is AlertEvent.REMINDER:
        return alert.note or None
    if alert.event is AlertEvent.LIST_CHANGED and alert.listing is not None:
        listing = alert.listing
        line = (
            f"added: {bounded([e.text for e in listing.added])}; "
            f"removed: {bounded([e.text for e in listing.removed])}"
        )
        if listing.changed:
            line += "; changed: " + bounded([f"{e.before} → {e.text}" for e in listing.changed])
        return line
    return None


def watchlist_line(alert: Alert) -> str | None:
    """ "Touches your watchlist: 7407.10.50 (heading 7407 named), Chile", or None."""
    if not alert.touches:
        return None
    from watcher.watchlist import Touch  # (the watchlist's matching) only for a touch

    touches = [Touch.from_record(t) for t in alert.touches]
    shown = [t.shown + (" — new in this stage" if t.new else "") for t in touches]
    return "Touches your watchlist: " + bounded(shown, MAX_FACT_VALUES)


def fact_lines(alert: Alert) -> list[tuple[str, str]]:
    """(label, values) for each kind of trade fact the document states, and its deadlines."""
    if not alert.facts:
        return []
    # the extractors' modules (dozens of patterns compiled at import) only for a fact
    from watcher.deadlines import StatedDeadline
    from watcher.facts import TradeFacts

    facts = TradeFacts.from_record(alert.facts)
    out = []
    for key, label in FACT_LABEL:
        values = getattr(facts, key)
        if values:
            out.append((label, bounded(list(values), MAX_FACT_VALUES)))
    for data in alert.facts.get("deadlines") or ():
        deadline = StatedDeadline.from_record(data)
        when = format_date(deadline.due) or "date not stated"
        out.append(("Deadline", f"{when} ({deadline.phrase}): {clip(deadline.what, 240)}"))
    return out


def why(alert: Alert) -> str:
    """Why the team got this: the source and the words that matched."""
    label = alert.label or alert.source
    if alert.matched:
        terms = ", ".join(f"“{t}”" for t in alert.matched[:6])
        more = f" (+{len(alert.matched) - 6})" if len(alert.matched) > 6 else ""
        return f"{label} matched {terms}{more}"
    return f"from {label}"

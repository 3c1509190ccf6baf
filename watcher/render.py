"""Turning an alert into words: Slack Block Kit with a plain-text fallback, and plain text
for standard output. Pure functions; Slack's limits hold by construction.

Every piece of source text is escaped for Slack mrkdwn (`&`, `<`, `>`), so nothing a feed or
document says can mention @channel, a user, or forge a link. Only links watcher builds itself,
from http(s) URLs, are live.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

from watcher.models import Alert, AlertEvent, FieldChange

# Slack's documented limits.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_TEXT = 4000

MAX_CHANGES_SHOWN = 8
MAX_ABSTRACT = 700

AGENCY_SHORT = {
    "industry and security bureau": "BIS",
    "bureau of industry and security": "BIS",
    "international trade administration": "ITA",
    "u.s. customs and border protection": "CBP",
    "customs and border protection bureau": "CBP",
    "trade representative, office of united states": "USTR",
    "office of the united states trade representative": "USTR",
    "geological survey": "USGS",
    "international trade commission": "USITC",
    "commerce department": "Commerce",
    "interior department": "Interior",
    "homeland security department": "DHS",
    "treasury department": "Treasury",
    "executive office of the president": "EOP",
    "state department": "State",
}

EVENT_LABEL = {
    AlertEvent.NEW: "New",
    AlertEvent.CHANGED: "Updated",
    AlertEvent.REMOVED: "Removed",
    AlertEvent.CORRECTION: "Correction",
    AlertEvent.FILED: "On public inspection",
    AlertEvent.PUBLISHED: "Published",
    AlertEvent.WITHDRAWN: "Withdrawn",
    AlertEvent.LIST_CHANGED: "List changed",
    AlertEvent.BASELINE: "Watching",
}
MAX_LIST_SHOWN = 25

FIELD_LABEL = {
    "title": "Title",
    "abstract": "Abstract",
    "type": "Type",
    "subtype": "Subtype",
    "action": "Action",
    "agencies": "Agencies",
    "publication_date": "Published",
    "signing_date": "Signed",
    "effective_on": "Effective",
    "comments_close_on": "Comments close",
    "dates": "Dates",
    "citation": "Citation",
    "proclamation_number": "Proclamation number",
    "executive_order_number": "Executive order number",
    "docket_ids": "Dockets",
    "corrections": "Corrections",
    "correction_of": "Corrects",
    "disposition_notes": "Disposition notes",
}


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage payload: fallback text and blocks."""

    text: str
    blocks: tuple[Mapping[str, Any], ...]


# ---------------------------------------------------------------------------------------------
# Escaping and limits


def escape(text: str) -> str:
    """Escape source text for mrkdwn: after this it can only ever be literal text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def clip_escaped(text: str, limit: int) -> str:
    """Escape, then cut without splitting an entity such as `&amp;`."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(0, limit - 1)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """A URL fit for a live link: http(s) only, with characters that end a link encoded."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~-._")


def link(url: str | None, label: str) -> str:
    """`<url|label>` with the label escaped, or the escaped label alone when no safe URL."""
    target = safe_url(url)
    shown = escape(label).replace("|", "¦")
    return f"<{target}|{shown}>" if target else shown


# ---------------------------------------------------------------------------------------------
# What the document is


def short_agency(name: str) -> str:
    return AGENCY_SHORT.get(name.casefold(), name)


def issuing_agency(agencies: Sequence[str]) -> str | None:
    """The most specific agency: a bureau before its department."""
    if not agencies:
        return None
    departments = {
        "commerce department",
        "interior department",
        "homeland security department",
        "treasury department",
    }
    specific = [a for a in agencies if a.casefold() not in departments]
    return specific[0] if specific else agencies[-1]


def instrument(alert: Alert) -> str:
    """What kind of instrument this is, as a trade lawyer would name it."""
    record = alert.record
    if alert.event is AlertEvent.BASELINE:
        return alert.title
    if alert.event is AlertEvent.LIST_CHANGED or alert.source_kind in ("feed", "page"):
        return alert.label or alert.source
    subtype = record.get("subtype")
    doc_type = record.get("type")
    if record.get("proclamation_number"):
        return f"Proclamation {record['proclamation_number']}"
    if record.get("executive_order_number"):
        return f"Executive Order {record['executive_order_number']}"
    if doc_type == "Presidential Document":
        return f"Presidential {subtype.lower()}" if subtype else "Presidential document"
    agency = issuing_agency(record.get("agencies") or [])
    if doc_type:
        label = {"Proposed Rule": "proposed rule", "Rule": "rule", "Notice": "notice"}.get(
            doc_type, doc_type.lower()
        )
        return f"{short_agency(agency)} {label}" if agency else doc_type
    return alert.source


def format_date(value: Any) -> str | None:
    """`2025-02-18` -> `Feb 18, 2025`; anything else is shown as given."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return parsed.strftime("%b %d, %Y").replace(" 0", " ")


def _key_dates(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for key, label in (
        ("signing_date", "Signed"),
        ("publication_date", "Published"),
        ("effective_on", "Effective"),
        ("comments_close_on", "Comments close"),
    ):
        shown = format_date(record.get(key))
        if shown:
            out.append((label, shown))
    return out


def _describe_value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _change_lines(changes: Sequence[FieldChange]) -> list[str]:
    lines: list[str] = []
    for change in changes[:MAX_CHANGES_SHOWN]:
        label = FIELD_LABEL.get(change.field, change.field.replace("_", " ").capitalize())
        if isinstance(change.before, list) and isinstance(change.after, list):
            lines += _list_difference(label, change.before, change.after)
            continue
        before = clip(_describe_value(change.before), 300)
        after = clip(_describe_value(change.after), 300)
        lines.append(f"{label}: {before} → {after}")
    if len(changes) > MAX_CHANGES_SHOWN:
        lines.append(f"+{len(changes) - MAX_CHANGES_SHOWN} more")
    return lines


def set_difference(before: Sequence[Any], after: Sequence[Any]) -> tuple[list[str], list[str]]:
    """What a list gained and lost, in the order the lists have them."""
    old = [str(v) for v in before]
    new = [str(v) for v in after]
    old_set, new_set = set(old), set(new)
    return [v for v in new if v not in old_set], [v for v in old if v not in new_set]


def _bounded(values: Sequence[str], limit: int = MAX_LIST_SHOWN) -> str:
    if not values:
        return "none"
    shown = ", ".join(clip(v, 200) for v in values[:limit])
    return shown + (f" (+{len(values) - limit} more)" if len(values) > limit else "")


def _list_difference(label: str, before: Sequence[Any], after: Sequence[Any]) -> list[str]:
    added, removed = set_difference(before, after)
    if label == "Lines":
        out = [f"+ {clip(v, 300)}" for v in added[:MAX_LIST_SHOWN]]
        out += [f"− {clip(v, 300)}" for v in removed[:MAX_LIST_SHOWN]]
        hidden = max(0, len(added) - MAX_LIST_SHOWN) + max(0, len(removed) - MAX_LIST_SHOWN)
        return out + ([f"+{hidden} more changed lines"] if hidden else [])
    return [f"{label}: added: {_bounded(added)}; removed: {_bounded(removed)}"]


def status_line(alert: Alert) -> str | None:
    """The one line that says where this story stands (filed, published, withdrawn...)."""
    record = alert.record
    published = format_date(record.get("publication_date"))
    if alert.event is AlertEvent.FILED:
        special = "Special filing: on" if record.get("filing_type") == "special" else "On"
        return f"{special} public inspection, publishes on {published or 'a date not yet set'}"
    if alert.event is AlertEvent.PUBLISHED:
        citation = f", {record['citation']}" if record.get("citation") else ""
        return f"Published in the Federal Register on {published}{citation}"
    if alert.event is AlertEvent.WITHDRAWN:
        return "Withdrawn from public inspection without being published"
    if alert.event is AlertEvent.LIST_CHANGED:
        added = [e.get("text", "") for e in record.get("added") or []]
        removed = [e.get("text", "") for e in record.get("removed") or []]
        line = f"added: {_bounded(added)}; removed: {_bounded(removed)}"
        changed = record.get("changed") or []
        if changed:
            line += "; changed: " + _bounded(
                [f"{c.get('before')} → {c.get('text')}" for c in changed]
            )
        return line
    return None


def _why(alert: Alert) -> str:
    if alert.matched:
        terms = ", ".join(f"“{t}”" for t in alert.matched[:6])
        return f"{alert.source} matched {terms}"
    return f"from {alert.source}"


# ---------------------------------------------------------------------------------------------
# Slack


def render_slack(alert: Alert) -> SlackMessage:
    """The Block Kit message for one alert."""
    record = alert.record
    blocks: list[dict[str, Any]] = []
    header = f"{instrument(alert)} · {EVENT_LABEL[alert.event].lower()}"
    if alert.event is AlertEvent.BASELINE:
        header = alert.title
    blocks.append(_header(header))

    if alert.event is AlertEvent.BASELINE:
        blocks.append(_section(f"{escape(alert.note)}\n{link(alert.url, alert.url or '')}"))
        text = clip(f"{alert.title}: {alert.note}", MAX_FALLBACK_TEXT)
        return SlackMessage(text=text, blocks=tuple(blocks))

    title_line = f"*{link(alert.url, clip(alert.title, 600))}*"
    body = [title_line]
    status = status_line(alert)
    if status and alert.event is not AlertEvent.LIST_CHANGED:
        body.append(f"*{escape(status)}*")
    abstract = record.get("abstract") or record.get("summary")
    if abstract:
        body.append(clip_escaped(str(abstract), MAX_ABSTRACT))
    if alert.note:
        body.append(f"_{escape(alert.note)}_")
    blocks.append(_section("\n".join(body)))

    fields = _fields(alert)
    if fields:
        blocks.append({"type": "section", "fields": fields})

    if alert.changes:
        lines = "\n".join(f"• {escape(line)}" for line in _change_lines(alert.changes))
        blocks.append(_section(f"*What changed*\n{lines}"))
    if alert.event is AlertEvent.LIST_CHANGED:
        blocks += _list_blocks(record)

    links = _links(record)
    context = [*links, escape(f"Why: {_why(alert)}")]
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": clip(t, MAX_SECTION_TEXT)}
                for t in context[:MAX_CONTEXT_ELEMENTS]
            ],
        }
    )
    return SlackMessage(text=fallback_text(alert), blocks=tuple(blocks[:MAX_BLOCKS]))


def _list_blocks(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks = []
    for key, label in (("added", "Added"), ("removed", "Removed")):
        entries = record.get(key) or []
        lines = [
            f"• {link(e.get('url'), clip(str(e.get('text', '')), 300))}"
            for e in entries[:MAX_LIST_SHOWN]
        ]
        if len(entries) > MAX_LIST_SHOWN:
            lines.append(f"+{len(entries) - MAX_LIST_SHOWN} more")
        blocks.append(_section(f"*{label}*\n" + ("\n".join(lines) if lines else "none")))
    changed = record.get("changed") or []
    if changed:
        lines = [
            f"• {escape(clip(str(c.get('before')), 200))} → "
            f"{link(c.get('url'), clip(str(c.get('text')), 200))}"
            for c in changed[:MAX_LIST_SHOWN]
        ]
        blocks.append(_section("*Changed*\n" + "\n".join(lines)))
    return blocks


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": clip(text, MAX_HEADER_TEXT), "emoji": False},
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def _fields(alert: Alert) -> list[dict[str, str]]:
    record = alert.record
    pairs: list[tuple[str, str]] = []
    if record.get("document_number"):
        pairs.append(("Document", str(record["document_number"])))
    agency = issuing_agency(record.get("agencies") or [])
    if agency:
        pairs.append(("Agency", agency))
    pairs += _key_dates(record)
    if record.get("citation"):
        pairs.append(("Citation", str(record["citation"])))
    if record.get("docket_ids"):
        pairs.append(("Dockets", ", ".join(record["docket_ids"][:5])))
    return [
        {"type": "mrkdwn", "text": f"*{label}*\n{clip_escaped(value, MAX_FIELD_TEXT - 60)}"}
        for label, value in pairs[:MAX_FIELDS]
    ]


def _links(record: Mapping[str, Any]) -> list[str]:
    out = []
    for key, label in (
        ("html_url", "Document"),
        ("link", "Read it"),
        ("pdf_url", "PDF"),
        ("comment_url", "Comment"),
    ):
        if safe_url(record.get(key)):
            out.append(link(record[key], label))
    return [" · ".join(out)] if out else []


def fallback_text(alert: Alert) -> str:
    """The notification and screen-reader text: instrument, title, the dates, the link."""
    parts = [f"{instrument(alert)} ({EVENT_LABEL[alert.event].lower()}): {alert.title}"]
    status = status_line(alert)
    if status:
        parts.append(status)
    parts += [f"{label} {value}" for label, value in _key_dates(alert.record)]
    if alert.url:
        parts.append(alert.url)
    return clip(escape(" — ".join(parts)), MAX_FALLBACK_TEXT)


# ---------------------------------------------------------------------------------------------
# Plain text, for standard output and --dry-run


def render_text(alert: Alert, channel: str | None = None) -> str:
    """A readable block of plain text for one alert."""
    where = f" → {channel}" if channel else ""
    lines = [f"== {EVENT_LABEL[alert.event].upper()} · {alert.source}{where}"]
    if alert.event is AlertEvent.BASELINE:
        lines.append(f"{alert.title}: {alert.note}")
        return "\n".join(lines)
    lines.append(f"{instrument(alert)}: {alert.title}")
    record = alert.record
    status = status_line(alert)
    if status:
        lines.append(f"  {status}")
    facts = []
    if record.get("document_number"):
        facts.append(f"Document {record['document_number']}")
    if record.get("type"):
        facts.append(
            str(record["type"]) + (f" / {record['subtype']}" if record.get("subtype") else "")
        )
    agency = issuing_agency(record.get("agencies") or [])
    if agency:
        facts.append(agency)
    if facts:
        lines.append("  " + " · ".join(facts))
    dates = _key_dates(record)
    if dates:
        lines.append("  " + " · ".join(f"{label} {value}" for label, value in dates))
    if record.get("citation"):
        lines.append(f"  Citation {record['citation']}")
    if alert.note:
        lines.append(f"  {alert.note}")
    for line in _change_lines(alert.changes):
        lines.append(f"  changed: {line}")
    if alert.event is AlertEvent.LIST_CHANGED:
        for key, sign in (("added", "+"), ("removed", "−")):
            for entry in (record.get(key) or [])[:MAX_LIST_SHOWN]:
                where = f"  {entry['url']}" if entry.get("url") else ""
                lines.append(f"  {sign} {entry.get('text')}{where}")
    for url in _unique(record.get(k) for k in ("html_url", "link", "pdf_url")):
        lines.append(f"  {url}")
    if alert.url and alert.url not in (record.get("html_url"), record.get("pdf_url")):
        lines.append(f"  {alert.url}")
    lines.append(f"  Why: {_why(alert)}")
    return "\n".join(lines)


def _unique(values: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for value in values:
        if value and str(value) not in out:
            out.append(str(value))
    return out

"""Turning alerts into words: Slack Block Kit with a plain-text fallback, and plain text for
standard output. Pure functions; Slack's limits hold by construction.

A message answers, in the order a reader scans: what instrument this is and what happened
(the header), its title and where it stands (filed, published, withdrawn), who issued it and
the dates that matter, the trade facts it states, what changed, the links, and why the team
got it.

Every piece of source text is escaped for Slack mrkdwn (`&`, `<`, `>`), so nothing a feed or
document says can mention @channel, a user, or forge a link. Only links watcher builds itself,
from http(s) URLs, and mentions from the configuration are live.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

from watcher.facts import TradeFacts
from watcher.instrument import instrument_name, issuing_agency
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
MAX_LIST_SHOWN = 25
MAX_FACT_VALUES = 12
MAX_ABSTRACT = 700

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
}

FIELD_LABEL = {
    "title": "Title",
    "abstract": "Abstract",
    "summary": "Summary",
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
    "lines": "Lines",
}

DATE_FIELDS = frozenset(
    {"publication_date", "signing_date", "effective_on", "comments_close_on", "published"}
)

FACT_LABEL = (
    ("proclamations", "Proclamations cited"),
    ("executive_orders", "Executive orders cited"),
    ("hts", "HTSUS"),
    ("rates", "Rates"),
    ("effective", "Takes effect"),
    ("minerals", "Critical minerals"),
    ("countries", "Countries"),
)


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
    """Escape, then cut to `limit` without splitting an entity such as `&amp;`."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(0, limit - 1)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def safe_url(url: Any) -> str | None:
    """A URL fit for a live link: http(s) only, with characters that end a link encoded."""
    if not isinstance(url, str) or not url.strip():
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~-._")


def link(url: Any, label: str) -> str:
    """`<url|label>` with the label escaped, or the escaped label alone when no safe URL."""
    target = safe_url(url)
    shown = escape(label).replace("|", "¦")
    return f"<{target}|{shown}>" if target else shown


def _join_within(lines: Sequence[str], limit: int, more_url: Any = None, noun: str = "") -> str:
    """Lines joined up to `limit` characters; the rest summarised as "+N more"."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        rest = len(lines) - index
        tail = f"\n+{rest} more{noun}" + (f" ({link(more_url, 'see all')})" if more_url else "")
        if used + len(line) + 1 + len(tail) > limit:
            out.append(tail.strip())
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Pieces of a message


def format_date(value: Any) -> str | None:
    """`2025-02-18` -> `Feb 18, 2025`; anything else is shown as given."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{parsed.strftime('%b')} {parsed.day}, {parsed.year}"


def key_dates(alert: Alert) -> list[tuple[str, str]]:
    """Signed, published, effective, comments close: the dates that matter, when known."""
    record = alert.record
    signed = record.get("signing_date") or alert.facts.get("signed")
    out = []
    publishes = "Publishes" if alert.event is AlertEvent.FILED else "Published"
    for label, value in (
        ("Signed", signed),
        (publishes, record.get("publication_date") or record.get("published")),
        ("Effective", record.get("effective_on")),
        ("Comments close", record.get("comments_close_on")),
    ):
        shown = format_date(value)
        if shown:
            out.append((label, shown))
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
    """What changed, field by field; list fields as what they gained and lost."""
    lines: list[str] = []
    for change in changes[:limit]:
        label = FIELD_LABEL.get(change.field, change.field.replace("_", " ").capitalize())
        if isinstance(change.before, list) and isinstance(change.after, list):
            added, removed = set_difference(change.before, change.after)
            if change.field == "lines":
                lines += [f"+ {clip(v, 300)}" for v in added[:MAX_LIST_SHOWN]]
                lines += [f"− {clip(v, 300)}" for v in removed[:MAX_LIST_SHOWN]]
                hidden = max(0, len(added) - MAX_LIST_SHOWN) + max(0, len(removed) - MAX_LIST_SHOWN)
                if hidden:
                    lines.append(f"+{hidden} more changed lines")
            else:
                lines.append(f"{label}: added: {bounded(added)}; removed: {bounded(removed)}")
            continue
        if change.field in DATE_FIELDS:
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
    if alert.event is AlertEvent.CORRECTION:
        return f"Correction published on {published}" if published else "Correction published"
    if alert.event is AlertEvent.REMINDER:
        return alert.note or None
    if alert.event is AlertEvent.LIST_CHANGED:
        added = [str(e.get("text", "")) for e in record.get("added") or []]
        removed = [str(e.get("text", "")) for e in record.get("removed") or []]
        line = f"added: {bounded(added)}; removed: {bounded(removed)}"
        changed = record.get("changed") or []
        if changed:
            line += "; changed: " + bounded(
                [f"{c.get('before')} → {c.get('text')}" for c in changed]
            )
        return line
    return None


def fact_lines(alert: Alert) -> list[tuple[str, str]]:
    """(label, values) for each kind of trade fact the document states."""
    facts = TradeFacts.from_record(alert.facts)
    out = []
    for key, label in FACT_LABEL:
        values = getattr(facts, key)
        if values:
            out.append((label, bounded(list(values), MAX_FACT_VALUES)))
    return out


def why(alert: Alert) -> str:
    """Why the team got this: the source and the words that matched."""
    label = alert.label or alert.source
    if alert.matched:
        terms = ", ".join(f"“{t}”" for t in alert.matched[:6])
        more = f" (+{len(alert.matched) - 6})" if len(alert.matched) > 6 else ""
        return f"{label} matched {terms}{more}"
    return f"from {label}"


def _links(record: Mapping[str, Any]) -> list[str]:
    out = []
    for key, label in (
        ("html_url", "Document"),
        ("link", "Read it"),
        ("pdf_url", "PDF"),
        ("comment_url", "Comment"),
        ("regulations_dot_gov_url", "Docket"),
    ):
        if safe_url(record.get(key)) and (
            key != "regulations_dot_gov_url" or not record.get("comment_url")
        ):
            out.append(link(record[key], label))
    return out


# ---------------------------------------------------------------------------------------------
# Slack


def header_text(alert: Alert) -> str:
    if alert.event is AlertEvent.BASELINE:
        return alert.title
    if alert.event is AlertEvent.HEALTH:
        return f"watcher: {alert.title}"
    return f"{instrument_name(alert)} · {EVENT_LABEL[alert.event]}"


def render_slack(alert: Alert) -> SlackMessage:
    """The Block Kit message for one alert."""
    record = alert.record
    blocks: list[dict[str, Any]] = [_header(header_text(alert))]
    if alert.mention:
        blocks.append(_section(f"{alert.mention} this needs a look"))

    if alert.event is AlertEvent.BASELINE:
        blocks.append(_section(f"{escape(alert.note)}\n{link(alert.url, alert.url or '')}"))
        return SlackMessage(fallback_text(alert), tuple(blocks))
    if alert.event is AlertEvent.HEALTH:
        blocks.append(_section(clip_escaped(alert.note, MAX_SECTION_TEXT)))
        return SlackMessage(fallback_text(alert), tuple(blocks))

    body = [f"*{link(alert.url, clip(alert.title, 600))}*"]
    status = status_line(alert)
    if status and alert.event is not AlertEvent.LIST_CHANGED:
        body.append(f"*{escape(status)}*")
    abstract = record.get("abstract") or record.get("summary")
    if abstract and alert.event not in (AlertEvent.CHANGED, AlertEvent.REMINDER):
        body.append(clip_escaped(str(abstract), MAX_ABSTRACT))
    if alert.note and alert.event not in (AlertEvent.REMINDER,):
        body.append(f"_{clip_escaped(alert.note, 500)}_")
    blocks.append(_section("\n".join(body)))

    fields = _fields(alert)
    if fields:
        blocks.append({"type": "section", "fields": fields})
    facts = fact_lines(alert)
    if facts:
        lines = [f"*{label}:* {escape(values)}" for label, values in facts]
        blocks.append(_section("\n".join(lines)))
    if alert.changes:
        lines = [f"• {escape(line)}" for line in change_lines(alert.changes, limit=None)]
        text = _join_within(lines, MAX_SECTION_TEXT - 60, alert.url, " changes")
        blocks.append(_section(f"*What changed*\n{text}"))
    if alert.event is AlertEvent.LIST_CHANGED:
        blocks += _list_blocks(alert)

    context = [" · ".join(_links(record))] if _links(record) else []
    context.append(escape(f"Why: {why(alert)}"))
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
    pairs += key_dates(alert)
    if record.get("citation"):
        pairs.append(("Citation", str(record["citation"])))
    if record.get("docket_ids"):
        pairs.append(("Dockets", ", ".join(str(d) for d in record["docket_ids"][:5])))
    return [
        {"type": "mrkdwn", "text": f"*{label}*\n{clip_escaped(value, MAX_FIELD_TEXT - 60)}"}
        for label, value in pairs[:MAX_FIELDS]
    ]


def _list_blocks(alert: Alert) -> list[dict[str, Any]]:
    record = alert.record
    blocks = []
    for key, label in (("added", "Added"), ("removed", "Removed")):
        entries = record.get(key) or []
        lines = [f"• {link(e.get('url'), clip(str(e.get('text', '')), 300))}" for e in entries]
        text = _join_within(lines, MAX_SECTION_TEXT - 40, alert.url) if lines else "none"
        blocks.append(_section(f"*{label}*\n{text}"))
    changed = record.get("changed") or []
    if changed:
        lines = [
            f"• {escape(clip(str(c.get('before')), 200))} → "
            f"{link(c.get('url'), clip(str(c.get('text')), 200))}"
            for c in changed
        ]
        blocks.append(
            _section("*Changed*\n" + _join_within(lines, MAX_SECTION_TEXT - 40, alert.url))
        )
    return blocks


def fallback_text(alert: Alert) -> str:
    """The notification and screen-reader text: instrument, title, status, dates, link."""
    if alert.event in (AlertEvent.BASELINE, AlertEvent.HEALTH):
        text = escape(f"{header_text(alert)}: {alert.note}")
    else:
        parts = [f"{header_text(alert)}: {alert.title}"]
        status = status_line(alert)
        if status:
            parts.append(status)
        parts += [
            f"{label} {value}"
            for label, value in key_dates(alert)
            if not (status and value in status)
        ]
        if alert.url:
            parts.append(alert.url)
        text = escape(" — ".join(parts))
    if alert.mention:
        text = f"{alert.mention} {text}"
    return clip(text, MAX_FALLBACK_TEXT)


# ---------------------------------------------------------------------------------------------
# Several alerts in one message


def render_digest(alerts: Sequence[Alert], channel: str) -> SlackMessage:
    """One message listing a run's alerts for a channel; their details go in its thread."""
    count = len(alerts)
    blocks: list[dict[str, Any]] = [_header(f"{count} trade alerts from watcher")]
    mentions = sorted({a.mention for a in alerts if a.mention})
    if mentions:
        blocks.append(_section(" ".join(mentions) + " some of these need a look"))
    lines = []
    for alert in alerts:
        what = status_line(alert) if alert.event is AlertEvent.LIST_CHANGED else alert.title
        label = f"{header_text(alert)}: {clip(what or alert.title, 160)}"
        lines.append(f"• {link(alert.url, label)}")
    # as many sections as the lines need, within Slack's limits; the thread has everything
    room = MAX_BLOCKS - len(blocks) - 1
    section: list[str] = []
    sections: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in section) + len(line) > MAX_SECTION_TEXT - 60:
            sections.append("\n".join(section))
            section = []
        section.append(line)
    if section:
        sections.append("\n".join(section))
    if len(sections) > room:
        shown = sum(s.count("\n") + 1 for s in sections[: room - 1])
        sections = [*sections[: room - 1], f"+{count - shown} more in the thread"]
    blocks += [_section(s) for s in sections]
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "Details of each are in this message's thread."}
            ],
        }
    )
    text = f"{count} trade alerts for {channel}: " + "; ".join(
        f"{header_text(a)}: {a.title}" for a in alerts
    )
    text = escape(text)
    if mentions:
        text = " ".join(mentions) + " " + text
    return SlackMessage(clip(text, MAX_FALLBACK_TEXT), tuple(blocks[:MAX_BLOCKS]))


def render_baselines(alerts: Sequence[Alert]) -> SlackMessage:
    """The first check of several sources in one short message, not one message each."""
    if len(alerts) == 1:
        return render_slack(alerts[0])
    lines = [f"• *{escape(a.label or a.source)}*: {escape(a.note.split(';')[0])}" for a in alerts]
    blocks = [
        _header(f"Now watching {len(alerts)} sources"),
        _section(_join_within(lines, MAX_SECTION_TEXT - 40)),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        "From now on each new or changed item that matches a source's rules is "
                        "announced here."
                    ),
                }
            ],
        },
    ]
    text = f"Now watching {len(alerts)} sources: " + "; ".join(
        f"{a.label or a.source}: {a.note.split(';')[0]}" for a in alerts
    )
    return SlackMessage(clip(escape(text), MAX_FALLBACK_TEXT), tuple(blocks))


# ---------------------------------------------------------------------------------------------
# Plain text, for standard output and --dry-run


def render_text(alert: Alert, channel: str | None = None) -> str:
    """A readable block of plain text for one alert."""
    where = f" → {channel}" if channel else ""
    lines = [f"== {EVENT_LABEL[alert.event].upper()} · {alert.label or alert.source}{where}"]
    if alert.event in (AlertEvent.BASELINE, AlertEvent.HEALTH):
        lines.append(f"{alert.title}: {alert.note}")
        return "\n".join(lines)
    if alert.mention:
        lines.append(f"{alert.mention} this needs a look")
    lines.append(f"{instrument_name(alert)}: {alert.title}")
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
    dates = key_dates(alert)
    if dates:
        lines.append("  " + " · ".join(f"{label} {value}" for label, value in dates))
    if record.get("citation"):
        lines.append(f"  Citation {record['citation']}")
    for label, values in fact_lines(alert):
        lines.append(f"  {label}: {values}")
    if alert.note and alert.event is not AlertEvent.REMINDER:
        lines.append(f"  {alert.note}")
    for line in change_lines(alert.changes):
        lines.append(f"  changed: {line}")
    if alert.event is AlertEvent.LIST_CHANGED:
        for key, sign in (("added", "+"), ("removed", "−")):
            for entry in (record.get(key) or [])[:MAX_LIST_SHOWN]:
                where = f"  {entry['url']}" if entry.get("url") else ""
                lines.append(f"  {sign} {entry.get('text')}{where}")
    for url in _unique(record.get(k) for k in ("html_url", "link", "pdf_url", "comment_url")):
        lines.append(f"  {url}")
    if alert.url and alert.url not in (record.get(k) for k in ("html_url", "link", "pdf_url")):
        lines.append(f"  {alert.url}")
    lines.append(f"  Why: {why(alert)}")
    return "\n".join(lines)


def _unique(values: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for value in values:
        if value and str(value) not in out:
            out.append(str(value))
    return out

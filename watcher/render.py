"""Alerts as Slack Block Kit messages with a plain-text fallback. Pure functions; Slack's
limits hold by construction. The words themselves come from `watcher.wording`.

Every piece of source text is escaped for Slack mrkdwn (`&`, `<`, `>`), so nothing a feed or
document says can mention @channel, a user, or forge a link. Only links watcher builds itself,
from http(s) URLs, and mentions from the configuration are live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from watcher.models import Alert, AlertEvent
from watcher.wording import (
    change_lines,
    citations,
    clip,
    details,
    fact_lines,
    header_text,
    key_dates,
    status_line,
    watchlist_line,
    why,
)

# Slack's documented limits.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_TEXT = 4000

MAX_ABSTRACT = 700


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
# Slack


def render_slack(alert: Alert) -> SlackMessage:
    """The Block Kit message for one alert."""
    item = alert.item
    blocks: list[dict[str, Any]] = [_header(header_text(alert))]
    if alert.mention:
        blocks.append(_section(f"{alert.mention} this needs a look"))
    touched = watchlist_line(alert)
    if touched and alert.event is not AlertEvent.FOLLOW_UP:
        mention = f"{alert.touches_mention} " if alert.touches_mention else ""
        blocks.append(_section(f"{mention}*{clip_escaped(touched, MAX_SECTION_TEXT - 80)}*"))

    if alert.event is AlertEvent.BASELINE:
        blocks.append(_section(f"{escape(alert.note)}\n{link(alert.url, alert.url or '')}"))
        return SlackMessage(fallback_text(alert), tuple(blocks))
    if alert.event is AlertEvent.HEALTH:
        blocks.append(_section(clip_escaped(alert.note, MAX_SECTION_TEXT)))
        return SlackMessage(fallback_text(alert), tuple(blocks))
    if alert.event is AlertEvent.FOLLOW_UP:
        # a short reply in an earlier action's thread: what acts on it, and where to read it
        blocks.append(
            _section(
                f"*{link(alert.url, clip(alert.title, 600))}*\n_{clip_escaped(alert.note, 500)}_"
            )
        )
        return SlackMessage(fallback_text(alert), tuple(blocks))

    body = [f"*{link(alert.url, clip(alert.title, 600))}*"]
    status = status_line(alert)
    if status and alert.event is not AlertEvent.LIST_CHANGED:
        body.append(f"*{escape(status)}*")
    summary = item.summary if item else ""
    if summary and alert.event not in (AlertEvent.CHANGED, AlertEvent.REMINDER):
        body.append(clip_escaped(summary, MAX_ABSTRACT))
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

    links = [link(x.url, x.label) for x in item.links if safe_url(x.url)] if item else []
    context = [" · ".join(links)] if links else []
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
    pairs = details(alert.item) + key_dates(alert) + citations(alert.item)
    return [
        {"type": "mrkdwn", "text": f"*{label}*\n{clip_escaped(value, MAX_FIELD_TEXT - 60)}"}
        for label, value in pairs[:MAX_FIELDS]
    ]


def _list_blocks(alert: Alert) -> list[dict[str, Any]]:
    listing = alert.listing
    if listing is None:
        return []
    blocks = []
    for entries, label in ((listing.added, "Added"), (listing.removed, "Removed")):
        lines = [f"• {link(e.url, clip(e.text, 300))}" for e in entries]
        text = _join_within(lines, MAX_SECTION_TEXT - 40, alert.url) if lines else "none"
        blocks.append(_section(f"*{label}*\n{text}"))
    if listing.changed:
        lines = [
            f"• {escape(clip(str(e.before), 200))} → {link(e.url, clip(e.text, 200))}"
            for e in listing.changed
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
        touched = watchlist_line(alert)
        if touched:  # what a notification must say first
            parts.append(touched)
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
    # as many sections as the lines need, within Slack's limits; the thread has everything
    sections, shown = _pack(_alert_lines(alerts), MAX_BLOCKS - len(blocks) - 2)
    if shown < count:
        sections.append(f"+{count - shown} more in the thread")
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


def render_overflow(alerts: Sequence[Alert]) -> SlackMessage:
    """The alerts of a flood past its thread's cap, listed in one message (every one of
    them is in `watcher history`)."""
    count = len(alerts)
    sections, shown = _pack(_alert_lines(alerts), MAX_BLOCKS - 2)
    note = "Every alert is recorded: `watcher history` lists each one."
    if shown < count:
        note = f"+{count - shown} more not shown here. " + note
    blocks = [_header(f"… and {count} more trade alerts"), *map(_section, sections)]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    text = f"… and {count} more trade alerts; `watcher history` lists each one"
    return SlackMessage(clip(escape(text), MAX_FALLBACK_TEXT), tuple(blocks))


def _alert_lines(alerts: Sequence[Alert]) -> list[str]:
    """One linked line per alert: "• Proclamation 10962 · new: Adjusting Imports of ..."."""
    lines = []
    for alert in alerts:
        what = status_line(alert) if alert.event is AlertEvent.LIST_CHANGED else alert.title
        lines.append(
            f"• {link(alert.url, f'{header_text(alert)}: {clip(what or alert.title, 160)}')}"
        )
    return lines


def _pack(lines: Sequence[str], room: int) -> tuple[list[str], int]:
    """Lines packed into at most `room` sections within Slack's section limit; returns the
    sections and how many lines they hold."""
    sections: list[str] = []
    section: list[str] = []
    shown = 0
    for line in lines:
        if section and sum(len(x) + 1 for x in section) + len(line) > MAX_SECTION_TEXT - 60:
            if len(sections) + 1 >= room:
                break
            sections.append("\n".join(section))
            section = []
        section.append(line)
        shown += 1
    if section:
        sections.append("\n".join(section))
    return sections, shown

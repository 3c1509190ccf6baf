"""Alerts as plain text: what standard output shows with no Slack token, and `--dry-run`.
Pure; the words come from `watcher.wording`."""

from __future__ import annotations

from watcher.instrument import instrument_name, issuing_agency
from watcher.models import Alert, AlertEvent
from watcher.wording import (
    EVENT_LABEL,
    MAX_LIST_SHOWN,
    change_lines,
    citations,
    fact_lines,
    key_dates,
    status_line,
    watchlist_line,
    why,
)


def render_text(alert: Alert, channel: str | None = None) -> str:
    """A readable block of plain text for one alert."""
    where = f" → {channel}" if channel else ""
    lines = [f"== {EVENT_LABEL[alert.event].upper()} · {alert.label or alert.source}{where}"]
    if alert.event in (AlertEvent.BASELINE, AlertEvent.HEALTH):
        lines.append(f"{alert.title}: {alert.note}")
        return "\n".join(lines)
    if alert.event is AlertEvent.FOLLOW_UP:
        lines += [f"{instrument_name(alert)}: {alert.title}", f"  {alert.note}"]
        lines += [f"  {alert.url}"] if alert.url else []
        return "\n".join(lines)
    if alert.mention:
        lines.append(f"{alert.mention} this needs a look")
    touched = watchlist_line(alert)
    if touched:
        lines.append(f"{alert.touches_mention} {touched}" if alert.touches_mention else touched)
    lines.append(f"{instrument_name(alert)}: {alert.title}")
    item = alert.item
    status = status_line(alert)
    if status:
        lines.append(f"  {status}")
    facts = []
    if item is not None:
        if item.reference:
            facts.append(f"Document {item.reference}")
        if item.doc_type:
            facts.append(item.doc_type + (f" / {item.subtype}" if item.subtype else ""))
        agency = issuing_agency(item.agencies)
        if agency:
            facts.append(agency)
    if facts:
        lines.append("  " + " · ".join(facts))
    dates = key_dates(alert)
    if dates:
        lines.append("  " + " · ".join(f"{label} {value}" for label, value in dates))
    for label, value in citations(item):
        lines.append(f"  {label} {value}")
    for label, values in fact_lines(alert):
        lines.append(f"  {label}: {values}")
    if alert.note and alert.event is not AlertEvent.REMINDER:
        lines.append(f"  {alert.note}")
    for line in change_lines(alert.changes):
        lines.append(f"  changed: {line}")
    if alert.listing is not None:
        for entries, sign in ((alert.listing.added, "+"), (alert.listing.removed, "−")):
            for entry in entries[:MAX_LIST_SHOWN]:
                shown = f"  {entry.url}" if entry.url else ""
                lines.append(f"  {sign} {entry.text}{shown}")
    urls = [link.url for link in item.links] if item else []
    if alert.url and alert.url not in urls:
        urls.insert(0, alert.url)
    for url in dict.fromkeys(urls):
        lines.append(f"  {url}")
    lines.append(f"  Why: {why(alert)}")
    return "\n".join(lines)

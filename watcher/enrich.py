"""Adding what a trade lawyer needs to an alert: the trade facts its document states.

`text_url` says where an alert's full text is (a Federal Register document's raw text, or a
feed entry's page when its source asks for it); `with_facts` reads the facts out of whatever
text there is. Both pure; the runner does the fetching in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from watcher.facts import extract
from watcher.models import Alert, AlertEvent

# Events about a document the team has not read yet: worth its full text.
FIRST_NEWS = frozenset(
    {AlertEvent.NEW, AlertEvent.FILED, AlertEvent.PUBLISHED, AlertEvent.CORRECTION}
)


def text_url(alert: Alert, full_text_sources: Iterable[str] = ()) -> str | None:
    """Where the full text of the alert's document can be read, if it is worth reading."""
    if alert.event not in FIRST_NEWS:
        return None
    raw = alert.record.get("raw_text_url")
    if isinstance(raw, str) and raw:
        return raw
    if alert.source in set(full_text_sources) and alert.url:
        return alert.url
    return None


def with_facts(alert: Alert, full_text: str | None = None) -> Alert:
    """The alert with the facts of its title, abstract or summary, and full text if given."""
    if alert.event not in FIRST_NEWS:
        return alert
    parts = [alert.title]
    for key in ("abstract", "summary", "action", "dates"):
        value = alert.record.get(key)
        if isinstance(value, str):
            parts.append(value)
    if full_text:
        parts.append(full_text)
    facts = extract("\n".join(parts))
    return replace(alert, facts=facts.as_record()) if facts else alert

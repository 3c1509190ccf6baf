"""Adding what a trade lawyer needs to an alert: the trade facts its document states.

`text_url` says where an alert's full text is (the kind sets `Item.text_url`: a Federal
Register document's raw text, or a feed entry's page when its source asks for it);
`with_facts` reads the facts out of whatever text there is, and the deadlines it states
(`deadlines.py`). Both pure; the runner does the fetching in between.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from watcher.deadlines import stated_deadlines
from watcher.facts import extract
from watcher.models import FIRST_NEWS, Alert

if TYPE_CHECKING:
    from watcher.watchlist import Watchlist  # loaded only when one is configured


def text_url(alert: Alert) -> str | None:
    """Where the full text of the alert's document can be read, if it is worth reading."""
    if alert.event not in FIRST_NEWS or alert.item is None:
        return None
    return alert.item.text_url


def with_facts(
    alert: Alert, full_text: str | None = None, watchlist: Watchlist | None = None
) -> Alert:
    """The alert with the facts of its title, summary and details, and full text if given;
    with a watchlist, what of it the document touches."""
    if alert.event not in FIRST_NEWS:
        return alert
    parts = [alert.title]
    if alert.item is not None:
        parts += [p for p in (alert.item.summary, alert.item.body) if p]
    if full_text:
        parts.append(full_text)
    text = "\n".join(parts)
    facts = extract(text)
    found = facts.as_record()
    item = alert.item
    deadlines = stated_deadlines(
        text,
        signed=(item.signed_on if item else None) or facts.signed,
        # "publication" is the Federal Register's: a feed entry's date is not it
        published=item.published_on if item is not None and item.doc_type else None,
    )
    if deadlines:
        found["deadlines"] = [d.as_record() for d in deadlines]
    if watchlist:
        from watcher.watchlist import check

        verdict = check(watchlist, text)
        if verdict.touches:
            alert = replace(
                alert,
                touches=tuple(t.as_record() for t in verdict.touches),
                touches_mention=watchlist.mention,
            )
    return replace(alert, facts=found) if found else alert

"""`csms`: CBP's Cargo Systems Messaging Service, from its GovDelivery widget feed.

CBP publishes its implementation guidance for tariff actions (Chapter 99 headings, effective
dates, which proclamation) as CSMS messages, among many more about ACE maintenance and
tariff-rate quotas. The widget feed (`.../widgets/USDHSCBP_WIDGET_2.rss`; the plain
`bulletins.rss` answers 406) carries each message whole: the guid is the bare CSMS number,
the title reads "CSMS # 70054007 - UPDATED GUIDANCE: ...", the description is the e-mail's
HTML. An item is keyed by its CSMS number, its summary is the message's text (read by the
rules and for the trade facts), and an updated message carries the number of the one it
updates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from watcher.bounds import Bounds
from watcher.errors import SourceError
from watcher.fingerprint import fingerprint
from watcher.http import CheckFetcher, Expect
from watcher.match import normalise_text
from watcher.models import Item, Link, Snapshot, SourceMemory
from watcher.settings import KindOptions, SourceConfig
from watcher.sources.base import SourceKind, get_unless_unchanged
from watcher.sources.feed import entry_field, parse_entries, utc_iso
from watcher.text import html_to_text
from watcher.urls import normalise_link

_NUMBER = re.compile(r"CSMS\s*#?\s*(\d{6,10})", re.IGNORECASE)
_TITLE = re.compile(r"^\s*CSMS\s*#?\s*(\d{6,10})\s*[-–—:]\s*(.+)$", re.IGNORECASE | re.DOTALL)
_BOILERPLATE = re.compile(r"^\s*Cargo Systems Messaging Service\s*", re.IGNORECASE)
_UPDATED = re.compile(r"\b(updated|revised|amended|superseding|supersedes)\b", re.IGNORECASE)
_CITED = re.compile(r"CSMS\s*#?\s*(\d{6,10})((?:\s*(?:,|and|or)\s*#?\s*\d{6,10})*)", re.IGNORECASE)


@dataclass(frozen=True)
class CsmsOptions(KindOptions):
    # How much of a message's text to keep, read by the rules and for the trade facts; the
    # guidance for a Section 232 action runs to 10,000 characters and more.
    text_chars: Annotated[int, Bounds(ge=500, le=200_000)] = 40_000


def cited_numbers(text: str) -> list[str]:
    """CSMS numbers a message cites: "CSMS # 69395344 and # 69415934"."""
    out: list[str] = []
    for match in _CITED.finditer(text):
        out.append(match.group(1))
        out += re.findall(r"\d{6,10}", match.group(2))
    return list(dict.fromkeys(out))


def _number_of(guid: str, title: str) -> str | None:
    """The CSMS number: the widget feed's guid is the bare number; else it is in the title."""
    if guid.strip().isdigit():
        return guid.strip()
    found = _NUMBER.search(title)
    return found.group(1) if found else None


def record_of(entry: Mapping[str, Any], text_chars: int) -> dict[str, Any]:
    """One message as the record watcher keeps."""
    raw_title = html_to_text(str(entry.get("title") or ""))
    titled = _TITLE.match(raw_title)
    number = _number_of(str(entry.get("id") or entry.get("guid") or ""), raw_title)
    title = titled.group(2).strip() if titled else raw_title
    body = html_to_text(str(entry.get("summary") or entry.get("description") or ""))
    body = _BOILERPLATE.sub("", body)
    if raw_title and body.startswith(raw_title):
        body = body[len(raw_title) :].lstrip(" -–—:")
    body = body[:text_chars]
    updates = None
    if _UPDATED.search(title):
        cited = [n for n in cited_numbers(body) if n != number]
        updates = cited[0] if cited else None
    return {
        "number": number,
        "title": title or "(untitled)",
        "text": body,
        "link": normalise_link(entry.get("link")),
        "published": utc_iso(entry_field(entry, "published_parsed")),
        "updates": updates,
    }


def item_of(key: str, record: Mapping[str, Any]) -> Item:
    number = record.get("number")
    link = record.get("link")
    return Item(
        key=key,
        title=record.get("title") or "(untitled)",
        record=record,
        fingerprint=fingerprint(record),
        url=link,
        summary=record.get("text") or "",
        published_on=record.get("published"),
        agencies=("U.S. Customs and Border Protection",),
        instrument="CSMS message",
        number=number,
        reference=f"CSMS # {number}" if number else None,
        updates=record.get("updates"),
        links=(Link("Message", link),) if link else (),
    )


def restore(source: SourceConfig, key: str, record: Mapping[str, Any]) -> Item:
    return item_of(key, record)


def check(fetcher: CheckFetcher, source: SourceConfig, memory: SourceMemory) -> Snapshot:
    """Fetch and parse the widget feed; a 304 means nothing changed since the last check."""
    options = source.options
    assert isinstance(options, CsmsOptions)
    fetched, unchanged = get_unless_unchanged(fetcher, source, memory, Expect.FEED, complete=False)
    if fetched is None:
        assert unchanged is not None
        return unchanged
    if fetched.content.count(b"<item") > source.max_entries:
        raise SourceError(f"{source.url}: more messages than max_entries ({source.max_entries})")
    entries, parsed = parse_entries(fetched.content, fetched.url, fetched.content_type)
    if not entries:
        reason = parsed.get("bozo_exception")
        raise SourceError(
            f"{source.url}: no CSMS messages in the feed" + (f" ({reason})" if reason else "")
        )
    items: dict[str, Item] = {}
    for entry in entries:
        record = record_of(entry, options.text_chars)
        key = record["number"] or normalise_text(record["link"] or record["title"])
        items.setdefault(key, item_of(key, record))
    return Snapshot(
        items=tuple(items.values()),
        complete=False,  # the feed is a window of the latest messages
        validators={source.url: fetched.validators.as_dict()},
    )


KIND = SourceKind(
    name="csms",
    summary="CBP CSMS messages from the GovDelivery widget feed, keyed by CSMS number",
    options=CsmsOptions,
    check=check,
    restore=restore,
    labels={"title": "Title", "text": "Message", "updates": "Updates CSMS #"},
    date_fields=frozenset({"published"}),
    noun=("message", "messages"),
    reference_format="CSMS # {key}",
)

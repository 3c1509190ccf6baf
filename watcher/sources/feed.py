"""`feed`: an RSS or Atom feed, read by lxml (`feedxml`) when well-formed, else by feedparser.

Entries are keyed by their guid/id, else their link (tracking parameters removed,
double-escaped `&amp;amp;` repaired), else a hash of title and link. Dates become UTC. A feed is
a window, not a complete list: an entry that drops off the end has not been withdrawn.
"""

from __future__ import annotations

import calendar
import hashlib
import time
from collections.abc import Mapping, Sequence
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
from watcher.text import html_to_text
from watcher.urls import looks_like_url, normalise_link

VOLATILE = frozenset({"updated"})


@dataclass(frozen=True)
class FeedOptions(KindOptions):
    summary_chars: Annotated[int, Bounds(ge=0, le=20000)] = 2000
    # Fetch a relevant new entry's page for its full text (one request per such entry), so
    # the alert can show the trade facts the page states.
    full_text: bool = False
    # A CSS selector picking, inside an entry's HTML description, the part a person reads:
    # a feed that wraps the body in its title, author and date (USTR: ".field--name-body").
    # An entry without it is judged on its title alone.
    summary_selector: str | None = None

    def deep_problems(self) -> list[tuple[str, str]]:
        if self.summary_selector is None:
            return []
        from watcher.htmlpart import selector_problem

        problem = selector_problem(self.summary_selector)
        return [("summary_selector", problem)] if problem else []


def utc_iso(parsed: time.struct_time | None) -> str | None:
    """feedparser's UTC struct_time as `2026-05-04T04:30:00Z`."""
    if not parsed:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(parsed)))
    except (OverflowError, ValueError):
        return None


def entry_field(entry: Mapping[str, Any], key: str) -> Any:
    # FeedParserDict answers a missing `updated_parsed` with `published_parsed` (and a
    # deprecation warning); read the entry as the plain dict it is.
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)


def entry_key(entry: Mapping[str, Any], link: str | None, title: str) -> str:
    guid = str(entry.get("id") or entry.get("guid") or "").strip()
    if guid:
        return (normalise_link(guid) or guid) if looks_like_url(guid) else guid
    if link:
        return link
    digest = hashlib.sha256(f"{title}\n{entry.get('link') or ''}".encode()).hexdigest()
    return f"sha256:{digest[:32]}"


def summary_of(description: str, summary_chars: int, selector: str | None = None) -> str:
    """An entry's description as plain text: all of it, or the part `selector` picks."""
    if not summary_chars:
        return ""
    if selector is not None and "<" in description:
        from watcher.htmlpart import read_part, text_of

        part = read_part(f"<html><body>{description}</body></html>".encode(), [selector])
        description = text_of(part.element, " ") if part is not None else ""
    return html_to_text(description, limit=summary_chars)


def record_of(
    entry: Mapping[str, Any],
    base_url: str,
    summary_chars: int,
    summary_selector: str | None = None,
) -> dict[str, Any]:
    """One feedparser entry as the record watcher keeps."""
    title = html_to_text(str(entry.get("title") or "")) or "(untitled)"
    description = str(entry.get("summary") or entry.get("description") or "")
    summary = summary_of(description, summary_chars, summary_selector)
    return {
        "title": title,
        "link": normalise_link(entry.get("link"), base_url),
        "summary": summary,
        "published": utc_iso(entry_field(entry, "published_parsed")),
        "updated": utc_iso(entry_field(entry, "updated_parsed")),
        "author": normalise_text(str(entry.get("author") or "")) or None,
        "categories": [
            normalise_text(str(t.get("term")))
            for t in entry.get("tags") or []
            if isinstance(t, Mapping) and t.get("term")
        ],
    }


# Categories that name an instrument (the White House files its actions under these).
INSTRUMENT_CATEGORIES = {
    "proclamations": "Proclamation",
    "executive orders": "Executive Order",
    "presidential memoranda": "Memorandum",
    "memoranda": "Memorandum",
}


def item_of(key: str, record: Mapping[str, Any], *, full_text: bool = False) -> Item:
    """The typed item an entry's record stands for; with `full_text`, its page is worth
    reading for trade facts."""
    link = record.get("link")
    categories = [str(c).casefold() for c in record.get("categories") or []]
    instrument = next(
        (INSTRUMENT_CATEGORIES[c] for c in categories if c in INSTRUMENT_CATEGORIES), None
    )
    return Item(
        key=key,
        title=record.get("title") or "(untitled)",
        record=record,
        fingerprint=fingerprint(record, VOLATILE),
        url=link,
        summary=record.get("summary") or "",
        published_on=record.get("published") or record.get("updated"),
        instrument=instrument,
        text_url=link if full_text else None,
        links=(Link("Read it", link),) if link else (),
    )


def normalise_entry(
    entry: Mapping[str, Any],
    base_url: str,
    summary_chars: int,
    *,
    full_text: bool = False,
    summary_selector: str | None = None,
) -> Item:
    """One feed entry as an Item keyed by its guid, else its link, else a hash."""
    record = record_of(entry, base_url, summary_chars, summary_selector)
    key = entry_key(entry, record["link"], record["title"])
    return item_of(key, record, full_text=full_text)


def parse_entries(
    content: bytes, url: str, content_type: str
) -> tuple[Sequence[Mapping[str, Any]] | None, Mapping[str, Any]]:
    """A feed's entries (None: not a readable feed) and feedparser's verdict when it was
    asked (`bozo`, `bozo_exception`). A well-formed feed is read by `feedxml`, in a fraction
    of feedparser's time; anything else by feedparser."""
    from watcher import feedxml  # (with lxml) only when a feed changed

    fast = feedxml.parse(content, url)
    if fast is not None:
        return fast, {}
    import feedparser  # here, after a 304 and the fast path have had their chance

    # feedparser gets bytes, never a URL: it must not fetch anything itself, and it decodes
    # by the XML declaration and the Content-Type we pass on.
    parsed = feedparser.parse(
        content,
        response_headers={
            "content-type": content_type or "application/xml",
            "content-location": url,
        },
        # Neither is needed, and together they cost more than the parse: summaries become
        # plain text here (and every text is escaped for Slack), and links are resolved
        # against the feed's address by normalise_link.
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        return None, parsed
    return entries, parsed


def restore(source: SourceConfig, key: str, record: Mapping[str, Any]) -> Item:
    options = source.options
    return item_of(key, record, full_text=isinstance(options, FeedOptions) and options.full_text)


def check(fetcher: CheckFetcher, source: SourceConfig, memory: SourceMemory) -> Snapshot:
    """Fetch and parse the feed; a 304 means nothing changed since the last check."""
    options = source.options
    assert isinstance(options, FeedOptions)
    fetched, unchanged = get_unless_unchanged(fetcher, source, memory, Expect.FEED, complete=False)
    if fetched is None:
        assert unchanged is not None
        return unchanged
    # Counted before feedparser builds them all: a feed of 90,000 entries is refused in
    # milliseconds, not after hundreds of megabytes.
    declared = fetched.content.count(b"<item") + fetched.content.count(b"<entry")
    if declared > source.max_entries:
        raise SourceError(
            f"{source.url}: the feed has about {declared:,} entries, more than max_entries "
            f"({source.max_entries:,}); nothing was recorded"
        )
    entries, parsed = parse_entries(fetched.content, fetched.url, fetched.content_type)
    if entries is None:
        reason = parsed.get("bozo_exception")
        raise SourceError(
            f"{source.url}: not a readable RSS or Atom feed"
            + (f" ({type(reason).__name__}: {reason})" if reason else "")
        )
    items: dict[str, Item] = {}
    for entry in entries:
        item = normalise_entry(
            entry,
            fetched.url,
            options.summary_chars,
            full_text=options.full_text,
            summary_selector=options.summary_selector,
        )
        items.setdefault(item.key, item)
    notes: tuple[str, ...] = ()
    if parsed.get("bozo") and entries:
        notes = (
            f"the feed is malformed ({parsed.get('bozo_exception')}); "
            f"{len(items)} entries read anyway",
        )
    return Snapshot(
        items=tuple(items.values()),
        complete=False,
        validators={source.url: fetched.validators.as_dict()},
        notes=notes,
    )


KIND = SourceKind(
    name="feed",
    summary="an RSS or Atom feed; entries keyed by guid, else link",
    options=FeedOptions,
    check=check,
    restore=restore,
    volatile=VOLATILE,
    labels={"link": "Link", "published": "Published", "author": "Author"},
    date_fields=frozenset({"published"}),
    noun=("entry", "entries"),
)

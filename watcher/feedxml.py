"""Reading RSS and Atom fast: a well-formed feed straight through lxml, its entries as the
plain dicts feedparser would give for the fields watcher reads (id, link, title, summary,
published_parsed, updated_parsed, author, tags).

feedparser is thorough and slow (a Python callback per element; most of a first run's CPU).
Government feeds are well-formed XML, so they take this path; anything unusual returns None
and goes to feedparser as before: malformed XML, a DTD or entity declarations (never
expanded here), an unknown root, an undecodable encoding. tests/test_feedxml.py holds the
two to the same records on every recorded feed.
"""

from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime
from typing import Any

from watcher.urls import absolute, join

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


def parse(content: bytes, base: str = "") -> list[dict[str, Any]] | None:
    """The entries of a well-formed RSS 2.0, RSS 1.0 or Atom feed, or None (use feedparser).
    `base` is the feed's address, against which a permalink guid is resolved (as feedparser
    does, so that items keep their keys)."""
    if b"<!DOCTYPE" in content[:4096] or b"<!ENTITY" in content:
        return None  # a DTD: feedparser's business (it never expands external entities)
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False
    )
    try:
        root = etree.fromstring(content, parser)
    except (etree.XMLSyntaxError, ValueError, LookupError):
        return None
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == "rss":
        channel = root.find("channel")
        if channel is None:
            return None
        return [_rss_entry(item, base) for item in channel.iterchildren("item")]
    if tag == f"{ATOM}feed":
        return [_atom_entry(entry, base) for entry in root.iterchildren(f"{ATOM}entry")]
    if tag == f"{RDF}RDF":
        return [_rss_entry(item, base, RSS1) for item in root.iterchildren(f"{RSS1}item")]
    return None


def _rss_entry(item: Any, base: str, ns: str = "") -> dict[str, Any]:
    # One pass over the item's children (a find() per field walked them a dozen times).
    first: dict[str, Any] = {}
    categories: list[Any] = []
    for child in item:
        tag = child.tag
        if tag == "category" or tag == f"{DC}subject":
            categories.append(child)
        elif isinstance(tag, str) and tag not in first:
            first[tag] = child
    out: dict[str, Any] = {}
    title = _text(first.get(f"{ns}title"))
    if title is not None:
        out["title"] = title
    guid = first.get("guid")
    permalink = guid is not None and guid.get("isPermaLink", "true") != "false"
    if guid is not None and (guid.text or "").strip():
        out["id"] = _resolved(base, guid.text.strip()) if permalink else guid.text.strip()
    link = _text(first.get(f"{ns}link"))
    if link is None:
        atom_link = first.get(f"{ATOM}link")
        link = atom_link.get("href") if atom_link is not None else None
    if not link and permalink:
        link = out.get("id")
    if link:
        out["link"] = _resolved(base, link.strip())
    summary = _text(first.get(f"{ns}description"))
    if summary is None:
        summary = _text(first.get(f"{CONTENT}encoded"))
    if summary is not None:
        out["summary"] = summary
    published = _rfc822(_text(first.get("pubDate")))
    if published is not None:
        out["published_parsed"] = published
    # feedparser reads Dublin Core's date as the entry's update
    updated = _iso(_text(first.get(f"{DC}date")) or _text(first.get(f"{ATOM}updated")))
    if updated is not None:
        out["updated_parsed"] = updated
    author = _text(first.get("author")) or _text(first.get(f"{DC}creator"))
    if author:
        out["author"] = author.strip()
    terms = [_text(c) for c in categories]
    out["tags"] = [{"term": t.strip()} for t in terms if t and t.strip()]
    return out


def _atom_entry(entry: Any, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    title = _content(entry.find(f"{ATOM}title"))
    if title is not None:
        out["title"] = title
    ident = _text(entry.find(f"{ATOM}id"))
    if ident and ident.strip():
        out["id"] = ident.strip()
    links = entry.findall(f"{ATOM}link")
    chosen = [x for x in links if x.get("rel", "alternate") == "alternate"] or links
    if chosen and chosen[0].get("href"):
        href = chosen[0].get("href").strip()
        out["link"] = _resolved(base, href)
    summary = _content(entry.find(f"{ATOM}summary"))
    if summary is None:
        summary = _content(entry.find(f"{ATOM}content"))
    if summary is not None:
        out["summary"] = summary
    published = _iso(_text(entry.find(f"{ATOM}published")) or _text(entry.find(f"{ATOM}issued")))
    if published is not None:
        out["published_parsed"] = published
    updated = _iso(_text(entry.find(f"{ATOM}updated")) or _text(entry.find(f"{ATOM}modified")))
    if updated is not None:
        out["updated_parsed"] = updated
    author = entry.find(f"{ATOM}author/{ATOM}name")
    if author is not None and (author.text or "").strip():
        out["author"] = author.text.strip()
    out["tags"] = [
        {"term": c.get("term").strip()}
        for c in entry.iterchildren(f"{ATOM}category")
        if (c.get("term") or "").strip()
    ]
    return out


def _resolved(base: str, link: str) -> str:
    """A link against the feed's address (as feedparser resolves it); an absolute one as is."""
    return join(base, link) if base and not absolute(link) else link


def _text(element: Any) -> str | None:
    """An element's text (CDATA included), or None when the element is absent."""
    if element is None:
        return None
    return "".join(element.itertext())


def _content(element: Any) -> str | None:
    """An Atom text construct: its text, or for type="xhtml" the markup inside its div."""
    if element is None:
        return None
    if element.get("type") != "xhtml":
        return "".join(element.itertext())
    from lxml import etree

    inner = element[0] if len(element) else element
    parts = [inner.text or ""]
    parts += [etree.tostring(child, encoding="unicode") for child in inner]
    return "".join(parts)


def _rfc822(text: str | None) -> time.struct_time | None:
    """ "Thu, 01 Oct 2026 13:57:17 -0400" (and "EDT") as a UTC struct_time."""
    if not text:
        return None
    parsed = email.utils.parsedate_tz(text.strip())
    if parsed is None:
        return _iso(text)
    try:
        stamp = email.utils.mktime_tz(parsed)
    except (OverflowError, ValueError):
        return None
    return time.gmtime(stamp)


def _iso(text: str | None) -> time.struct_time | None:
    """ "2026-01-02T10:00:00+02:00", "2026-01-02T08:00:00Z", "2026-01-02" as UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).timetuple()

"""The part of an HTML page a CSS selector picks, read without building the rest of the page.

A page can be 20 MB of markup around the list watcher watches, or megabytes of nested
`<div>`s built to exhaust a parser. So the page is read as a stream (lxml's pull parser): an
element is tested against the selectors when it opens, when its ancestors and earlier
siblings are known; the first match of each selector is kept whole, and every other element
is emptied as soon as it closes. Memory stays near the size of the part, not of the page, and
libxml2's own depth limit stops a nesting bomb. Selectors are CSS (cssselect, translated to
XPath); they may use tags, ids, classes, attributes, `>`, `+`, `~` and `:not()`, not `:has()`.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from lxml import etree

from watcher.text import INVISIBLE

CHUNK = 64 * 1024

# Site chrome, not content.
CHROME = (
    "nav",
    "[role=navigation]",
    "body > header",
    "body > footer",
    "[role=banner]",
    "[role=contentinfo]",
    ".usa-banner",
    ".skip-link",
)


def selector_problem(selector: str) -> str | None:
    """Why a CSS selector cannot be used, or None."""
    try:
        _compiled(selector, "self::")
    except Exception as exc:  # cssselect and lxml raise several types for bad syntax
        return f"not a valid CSS selector {selector!r}: {' '.join(str(exc).split())}"
    return None


@cache
def _compiled(selector: str, prefix: str) -> etree.XPath:
    from cssselect import HTMLTranslator

    return etree.XPath(HTMLTranslator().css_to_xpath(selector, prefix=prefix))


def count(element: Any, selector: str) -> int:
    """How many elements `select` would return, without making a Python object of each."""
    from cssselect import HTMLTranslator

    xpath = HTMLTranslator().css_to_xpath(selector, prefix="descendant-or-self::")
    return int(element.xpath(f"count({xpath})"))


def select(element: Any, selector: str) -> list[Any]:
    """The elements under `element` (or itself) that `selector` matches, in document order."""
    found = _compiled(selector, "descendant-or-self::")(element)
    return list(found) if isinstance(found, list) else []


@dataclass(frozen=True)
class Part:
    """What a page's selectors picked: the element, which selector, and the page's title."""

    element: Any
    selector: str
    page_title: str


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def encoding_of(content: bytes, content_type: str = "") -> str:
    """How a page's bytes are encoded: the HTTP charset, else the page's own `<meta>`, else
    UTF-8 when they are valid UTF-8, else Windows-1252 (what "Latin-1" pages really are)."""
    for name in (_charset(content_type), _meta_charset(content[:4096])):
        if name:
            try:
                return codecs.lookup(name).name
            except LookupError:
                continue
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _charset(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().casefold() == "charset":
            return value.strip().strip('"')
    return None


def _meta_charset(head: bytes) -> str | None:
    found = _META_CHARSET.search(head)
    return found.group(1).decode("ascii") if found else None


class PartTooBig(Exception):
    """The part a selector picked holds more elements than the caller allows."""


def read_part(
    content: bytes,
    selectors: Sequence[str],
    content_type: str = "",
    *,
    max_elements: int | None = None,
) -> Part | None:
    """The first element the first matching selector picks (selectors tried in order), with
    scripts, styles and site chrome removed; None when no selector matches. A kept part that
    grows past `max_elements` raises PartTooBig before it costs more memory."""
    matchers = [_compiled(s, "self::") for s in selectors]
    found: list[Any] = [None] * len(selectors)
    title = ""
    # Selectors that look at earlier siblings need them kept (as empty shells); others let a
    # finished element go altogether, which keeps memory flat on any page.
    shells = any(_SIBLING_SYNTAX.search(s) for s in selectors)
    parser = etree.HTMLPullParser(
        events=("start", "end"),
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        encoding=encoding_of(content, content_type),
    )
    inside = 0  # depth within a kept part
    kept = 0  # elements kept in parts
    events = _events(parser, content)
    try:
        for event, element in events:
            if event == "start":
                matched = False
                for index, matcher in enumerate(matchers):
                    if found[index] is None and matcher(element):
                        found[index] = element
                        matched = True
                if inside or matched:
                    inside += 1
                    kept += 1
                    if max_elements is not None and kept > max_elements:
                        raise PartTooBig(f"more than {max_elements:,} elements")
                continue
            if element.tag == "title" and not title:
                title = " ".join("".join(element.itertext()).split())
            if inside:
                inside -= 1
                if not inside and all(f is not None for f in found):
                    break  # every selector has its part: the rest of the page is not needed
                continue
            _empty(element)  # done with it: keep at most its shell (tag and attributes)
            if not shells:
                _drop_earlier_siblings(element)
    finally:
        events.close()  # the parser goes now, found part or not (see `_release`)
    for selector, element in zip(selectors, found, strict=True):
        if element is not None:
            _strip(element)
            return Part(element, selector, title)
    return None


_SIBLING_SYNTAX = re.compile(r"[+~]|:(?:nth|first|last|only)-")


def _empty(element: Any) -> None:
    del element[:]
    element.text = None


def _drop_earlier_siblings(element: Any) -> None:
    """Delete the finished siblings before an element (never a kept part: a part's siblings
    are only ever finished elements outside it)."""
    parent = element.getparent()
    if parent is None:
        return
    while (previous := element.getprevious()) is not None and not _holds_part(previous):
        parent.remove(previous)


def _holds_part(element: Any) -> bool:
    return len(element) > 0 or bool(element.text)


def _events(parser: Any, content: bytes) -> Generator[tuple[str, Any], None, None]:
    view = memoryview(content)
    closed = False
    try:
        for start in range(0, len(content), CHUNK):
            parser.feed(bytes(view[start : start + CHUNK]))
            yield from parser.read_events()
        closed = True
        parser.close()
        yield from parser.read_events()
    finally:  # also when the reader stops early, having found its part
        _release(parser, closed)


def _release(parser: Any, closed: bool) -> None:
    """A pull parser and the events it has not handed out hold each other in a reference
    cycle, and with them the whole document: left to the cyclic collector (which a run
    calls rarely, `cli.main`), every page read stayed in memory for most of the run. Closed
    and drained, the parser goes with its last reference."""
    if not closed:
        with contextlib.suppress(etree.LxmlError):
            parser.close()
    for _ in parser.read_events():
        pass


def _strip(part: Any) -> None:
    """Remove what a person never reads (scripts, styles) and site chrome from a part."""
    doomed = [e for tag in INVISIBLE for e in part.iter(tag) if e is not part]
    doomed += [e for selector in CHROME for e in select(part, selector) if e is not part]
    for element in doomed:
        remove(element)


def remove(element: Any) -> None:
    """Take an element out of its document, keeping the text that follows it (lxml would
    drop its tail with it)."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def text_of(element: Any, separator: str) -> str:
    """The text of an element (not its tail), pieces joined by `separator`."""
    return separator.join(element.itertext())


def link_of(element: Any) -> str | None:
    """An entry's link: itself when it is a link, else its first link."""
    if element.tag == "a" and element.get("href"):
        return str(element.get("href"))
    for anchor in element.iter("a"):
        if anchor.get("href"):
            return str(anchor.get("href"))
    return None

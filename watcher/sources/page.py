"""`page`: part of an HTML page, watched as text lines or as a list of entries.

`selector` (a CSS selector, or a list tried in order) picks the part to watch; the page is
read as a stream that keeps only that part (`watcher.htmlpart`). Scripts, styles, navigation
and "last updated" stamps are dropped, and `ignore` patterns remove whatever else changes by
itself. With `item_selector`, each match inside the part is an entry (its text, and its link
when it has one), and a change reads as a set difference: "added: boron, copper; removed:
none". A selector that matches nothing is an error, never "everything was removed"; so is a
list longer than the source's `max_entries`, never a silent cut.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from watcher.bounds import Bounds
from watcher.errors import SourceError
from watcher.fingerprint import fingerprint
from watcher.http import CheckFetcher, Expect
from watcher.match import normalise_text
from watcher.models import Item, Snapshot, SourceMemory
from watcher.settings import KindOptions, SourceConfig
from watcher.sources.base import SourceKind, get_unless_unchanged
from watcher.sources.listfinder import ListNotFound, find_list, vocabulary
from watcher.urls import normalise_link

# Lines that change by themselves on government pages.
VOLATILE_LINES = (
    re.compile(
        r"^(page |this page was |content |site )?last (updated|modified|reviewed)\b.*$",
        re.IGNORECASE,
    ),
    re.compile(r"^(page )?(generated|rendered) (at|on)\b.*$", re.IGNORECASE),
)


PART_ELEMENTS = 10  # elements a watched part may hold per entry of max_entries


def _selectors(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class PageOptions(KindOptions):
    # CSS selector of the part to watch, or a list tried in order (default: the whole body)
    selector: str | list[str] = "body"
    item_selector: str | None = None
    ignore: list[str] = field(default_factory=list)
    # What the watched list holds: the name of a list watcher knows ("critical minerals") or
    # the phrases themselves. The list is then the element of the part whose entries name the
    # most of them, wherever the template puts it; fewer than `contains_share` is an error.
    contains: str | list[str] | None = None
    contains_share: Annotated[float, Bounds(gt=0, le=1)] = 0.5

    def problems(self) -> list[tuple[str, str]]:
        out = []
        if not _selectors(self.selector) or not all(s.strip() for s in _selectors(self.selector)):
            out.append(("selector", "give at least one non-empty selector"))
        for pattern in self.ignore:
            try:
                re.compile(pattern)
            except re.error as exc:
                out.append(("ignore", f"not a valid regular expression {pattern!r}: {exc}"))
        if self.contains is not None and self.item_selector is not None:
            out.append(("contains", "give either contains or item_selector, not both"))
        if self.contains is not None and not vocabulary(self.contains):
            out.append(("contains", "give a known list's name or at least one phrase"))
        return out

    def deep_problems(self) -> list[tuple[str, str]]:
        from watcher.htmlpart import selector_problem

        problems = []
        for selector in _selectors(self.selector):
            problem = selector_problem(selector)
            if problem:
                problems.append(("selector", problem))
        if self.item_selector is not None:
            problem = selector_problem(self.item_selector)
            if problem:
                problems.append(("item_selector", problem))
        return problems


def clean_lines(text: str, ignore: list[re.Pattern[str]]) -> list[str]:
    """Text as stable lines: whitespace collapsed, volatile and ignored text removed."""
    lines = []
    for raw in text.splitlines():
        line = normalise_text(raw)
        for pattern in ignore:
            line = normalise_text(pattern.sub("", line))
        if not line or any(p.match(line) for p in VOLATILE_LINES):
            continue
        lines.append(line)
    return lines


def parse_page(
    content: bytes, url: str, source: SourceConfig, content_type: str = ""
) -> tuple[list[Item], bool]:
    """The items of a page: one per entry with item_selector, else one for the whole part.

    Returns the items and whether they form a list (announced as one set difference).
    """
    # lxml, here: a run whose pages all answered "not modified" never loads it
    from watcher.htmlpart import PartTooBig, count, read_part, select, text_of

    options = source.options
    assert isinstance(options, PageOptions)
    for _, problem in options.deep_problems():
        raise SourceError(problem)
    selectors = _selectors(options.selector)
    limit = source.max_entries
    try:
        # an entry is a few elements: a part far bigger than max_entries entries is refused
        # while it is read, before it costs the memory of a whole page
        part = read_part(content, selectors, content_type, max_elements=PART_ELEMENTS * limit)
    except PartTooBig as exc:
        raise SourceError(
            f"the part {' or '.join(repr(s) for s in selectors)} holds {exc}, far more than "
            f"max_entries ({limit:,}) entries take; nothing was recorded"
        ) from None
    if part is None:
        raise SourceError(f"selector {' or '.join(repr(s) for s in selectors)} matched nothing")
    ignore = [re.compile(p) for p in options.ignore]

    if options.contains is not None:
        try:
            found_list = find_list(
                part.element, vocabulary(options.contains), options.contains_share
            )
        except ListNotFound as exc:
            raise SourceError(
                f"the list of {_described(options.contains)} was not found in "
                f"{part.selector!r}: {exc}; nothing was recorded, nothing counts as removed"
            ) from None
        return _entries(found_list.entries, url, source, ignore, "the list"), True

    if options.item_selector is None:
        lines = clean_lines(text_of(part.element, "\n"), ignore)
        if len(lines) > limit:
            raise SourceError(
                f"the part {part.selector!r} has {len(lines):,} lines, more than max_entries "
                f"({limit:,}); nothing was recorded"
            )
        page_record: dict[str, Any] = {"title": part.page_title, "lines": lines, "url": url}
        return [restore(source, PAGE_KEY, page_record)], False

    found = count(part.element, options.item_selector)
    if not found:
        raise SourceError(
            f"item_selector {options.item_selector!r} matched nothing inside {part.selector!r}"
        )
    if found > limit:
        raise SourceError(
            f"item_selector {options.item_selector!r} matched {found:,} entries, more "
            f"than max_entries ({limit:,}); nothing was recorded, nothing counts as removed"
        )
    entries = select(part.element, options.item_selector)
    return _entries(entries, url, source, ignore, f"item_selector {options.item_selector!r}"), True


def _entries(
    entries: Sequence[Any],
    url: str,
    source: SourceConfig,
    ignore: list[re.Pattern[str]],
    what: str,
) -> list[Item]:
    """The items of a list's entries: each its text and its link. Links that change by
    themselves (a phone number, an e-mail address behind Cloudflare's rotating token) are no
    entries at all; two entries sharing one link are both kept."""
    from watcher.htmlpart import link_of, text_of

    items: dict[str, Item] = {}
    for entry in entries:
        if isinstance(entry, str):  # a piece of a list given as a sentence
            text, href = " ".join(clean_lines(entry, ignore)), None
        else:
            text, href = " ".join(clean_lines(text_of(entry, " "), ignore)), link_of(entry)
        if not text or (href is not None and volatile_link(href)):
            continue
        link = normalise_link(href, url) if href else None
        key = link or f"text:{text.casefold()}"
        if key in items and items[key].title != text:
            key = f"{key}#{text.casefold()}"
        items.setdefault(key, restore(source, key, {"text": text, "url": link}))
    if not items:
        raise SourceError(f"{what} matched only empty entries")
    return list(items.values())


# Links that are no entries: they change on every request or lead nowhere on the web.
_VOLATILE_LINK = re.compile(
    r"^(?:tel:|mailto:|javascript:|data:)|/cdn-cgi/l/email-protection|^#", re.IGNORECASE
)


def volatile_link(href: str) -> bool:
    return bool(_VOLATILE_LINK.search(href.strip()))


def _described(contains: str | list[str]) -> str:
    if isinstance(contains, str):
        return contains
    shown = ", ".join(contains[:3])
    return shown + (f" (+{len(contains) - 3} more)" if len(contains) > 3 else "")


PAGE_KEY = "page"  # the one item of a page watched as text lines


def restore(source: SourceConfig, key: str, record: Mapping[str, Any]) -> Item:
    """A list entry ({text, url}) or a whole page ({title, lines, url}) as an item."""
    if key == PAGE_KEY:
        lines = list(record.get("lines") or ())
        return Item(
            key=key,
            title=source.label or record.get("title") or source.name,
            record=record,
            # the page's <title> and final address are shown, never a change of their own
            fingerprint=fingerprint(record, ("title", "url")),
            url=record.get("url") or source.url,
            summary="\n".join(lines),
        )
    text = str(record.get("text") or "")
    return Item(
        key=key,
        title=text,
        record=record,
        fingerprint=fingerprint(record),
        url=record.get("url"),
    )


def check(fetcher: CheckFetcher, source: SourceConfig, memory: SourceMemory) -> Snapshot:
    """Fetch the page; a 304 means nothing changed since the last check."""
    fetched, unchanged = get_unless_unchanged(fetcher, source, memory, Expect.HTML, complete=True)
    if fetched is None:
        assert unchanged is not None
        return unchanged
    items, listing = parse_page(fetched.content, fetched.url, source, fetched.content_type)
    return Snapshot(
        items=tuple(items),
        complete=True,
        listing=listing,
        validators={source.url: fetched.validators.as_dict()},
    )


KIND = SourceKind(
    name="page",
    summary="part of an HTML page picked by a CSS selector, as text lines or a list of entries",
    options=PageOptions,
    check=check,
    restore=restore,
    # a page's <title> and final address are shown, never reported as a change
    volatile=frozenset({"title", "url"}),
    labels={"lines": "Lines", "text": "Text"},
    line_fields=frozenset({"lines"}),
    noun=("entry", "entries"),
)

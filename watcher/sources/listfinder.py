"""Finding a page's list by what it holds, not by where the template puts it.

A page source may say what its list contains (the critical minerals, say). Every element of
the watched part is then scored by how many of those terms its entries (`li`, `tr`, `dt`,
`dd`) name, and the list is the tightest element with the highest score: a list inside an
`article`, a table (an entry is then the row's cell that names a term; header rows name
none and are skipped), two lists side by side. A navigation or "related" list names few of
them and loses. A page may also give its list as one sentence ("...includes the following
60 minerals: aluminum, antimony, ..."): when no list of entries qualifies, the tightest
paragraph naming enough terms is split at its commas. When nothing names at least `share` of
the terms, the list is not there (moved, or the page changed): an error, never "all removed".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from watcher.match import Phrase, compile_phrases
from watcher.reference import CRITICAL_MINERALS

ENTRY_TAGS = frozenset({"li", "tr", "dt", "dd"})
CELL_TAGS = frozenset({"td", "th"})
TEXT_TAGS = frozenset({"p", "div", "section", "article", "main", "td", "blockquote", "body"})

# Lists watcher knows by name: `contains: critical minerals`.
VOCABULARIES: dict[str, tuple[str, ...]] = {"critical minerals": CRITICAL_MINERALS}


def vocabulary(contains: str | Sequence[str]) -> tuple[str, ...]:
    """The terms a `contains:` option stands for: a known list's name, or the terms given."""
    if isinstance(contains, str):
        known = VOCABULARIES.get(contains.strip().casefold())
        return known if known is not None else (contains,)
    return tuple(contains)


@dataclass(frozen=True)
class FoundList:
    element: Any  # the list's container
    entries: tuple[Any, ...]  # its entries in document order: elements, or texts of a sentence
    named: frozenset[str]  # the terms its entries name
    of: int  # how many terms were looked for


class ListNotFound(Exception):
    pass


def find_list(part: Any, terms: Sequence[str], share: float) -> FoundList:
    """The element of `part` whose entries name the most of `terms` (or, failing that, the
    paragraph that names them); ListNotFound when even the best names fewer than `share`."""
    phrases = compile_phrases(terms)
    named: dict[Any, frozenset[str]] = {}
    sizes: dict[Any, int] = {}
    for element in _post_order(part):
        own: frozenset[str] = frozenset()
        leaf = element.tag in ENTRY_TAGS and not _has_entries(element)
        if leaf:
            own = _named(phrases, _text(element))
        named[element] = own.union(*(named[c] for c in element if c in named))
        sizes[element] = int(leaf) + sum(sizes.get(c, 0) for c in element)
    needed = share * len(phrases)
    candidates = [e for e in named if sizes[e] > 0]
    if candidates:
        best = max(candidates, key=lambda e: (len(named[e]), -sizes[e], _depth(e)))
        if len(named[best]) >= needed:
            return FoundList(best, _entries_of(best, phrases), named[best], len(phrases))
    sentence = _sentence_list(part, phrases, needed)
    if sentence is not None:
        return sentence
    found = max((len(n) for e, n in named.items() if sizes[e] > 0), default=0)
    if not candidates:
        raise ListNotFound(
            f"no list entries ({', '.join(sorted(ENTRY_TAGS))}) and no paragraph naming "
            f"{needed:.0f} of the {len(phrases)} expected"
        )
    raise ListNotFound(
        f"the best candidate names {found} of the {len(phrases)} expected "
        f"({found / len(phrases):.0%}), less than contains_share ({share:.0%})"
    )


def _entries_of(container: Any, phrases: Sequence[Phrase]) -> tuple[Any, ...]:
    """A list's entries; a table row is represented by its first cell naming a term."""
    out: list[Any] = []
    for entry in container.iter():
        if entry.tag not in ENTRY_TAGS or _has_entries(entry) or entry is container:
            continue
        if entry.tag == "tr":
            cells = [c for c in entry if c.tag in CELL_TAGS and _named(phrases, _text(c))]
            if cells:
                out.append(cells[0])
            continue  # a header or notes row
        out.append(entry)
    return tuple(out) or (container,)


# "The 2025 list includes the following 60 minerals: aluminum, antimony, ..., and zirconium."
_TERM_WORDS = 6  # "platinum group metals (iridium, palladium)" is a term; a clause is not
_SPLIT = re.compile(r"\s*(?:[,;\u2022\u00b7]\s*(?:and\s+)?|\s+and\s+)\s*")


def _sentence_list(part: Any, phrases: Sequence[Phrase], needed: float) -> FoundList | None:
    """The shortest text block naming `needed` terms whose comma-separated pieces are, three
    in four at least, short names of terms (a list, not prose that mentions minerals), as
    those pieces."""
    best: tuple[int, Any, tuple[str, ...], frozenset[str]] | None = None
    for element in part.iter():
        if not isinstance(element.tag, str) or element.tag not in TEXT_TAGS:
            continue
        text = _text(element)
        if best is not None and len(text) >= best[0]:
            continue
        found = _named(phrases, text)
        if len(found) < needed:
            continue
        listed = text.rsplit(":", 1)[-1].strip().rstrip(".")
        pieces = tuple(dict.fromkeys(p.strip(" .") for p in _SPLIT.split(listed) if p.strip(" .")))
        terms = sum(1 for p in pieces if len(p.split()) <= _TERM_WORDS and _named(phrases, p))
        if terms < needed or 4 * terms < 3 * len(pieces):
            continue
        best = (len(text), element, pieces, found)
    if best is None:
        return None
    _, element, pieces, found = best
    return FoundList(element, pieces, found, len(phrases))


def _text(element: Any) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _named(phrases: Sequence[Phrase], text: str) -> frozenset[str]:
    return frozenset(p.text for p in phrases if p.found_in(text))


def _has_entries(element: Any) -> bool:
    return any(d.tag in ENTRY_TAGS for d in element.iterdescendants())


def _post_order(element: Any) -> list[Any]:
    out: list[Any] = []
    stack = [(element, False)]
    while stack:
        current, done = stack.pop()
        if not isinstance(current.tag, str):
            continue  # comments and the like
        if done:
            out.append(current)
            continue
        stack.append((current, True))
        stack.extend((child, False) for child in reversed(current))
    return out


def _depth(element: Any) -> int:
    return sum(1 for _ in element.iterancestors())

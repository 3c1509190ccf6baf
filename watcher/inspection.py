"""What `watcher inspect NAME` shows: every item a source holds now, and what the source's
rules make of it, for adapting a selector or a rule. Pure: a snapshot in, rows and text out.

An item "alerts" when its rules find it relevant and it is not older than `max_age`; with a
state directory, "next run" says whether the next run would announce it (relevant, recent,
and not yet recorded). Family effects (a filing announced by its sibling) are not shown.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from watcher.decide import too_old
from watcher.match import judge
from watcher.models import Snapshot
from watcher.settings import SourceConfig
from watcher.wording import clip


@dataclass(frozen=True)
class InspectedItem:
    key: str
    title: str
    date: str | None
    url: str | None
    relevant: bool  # the rules find it relevant
    matched: tuple[str, ...]  # the phrases (or rules) that matched
    excluded_by: tuple[str, ...]  # the exclude rule that held, when one did
    old: bool  # dated longer ago than max_age: recorded, never announced
    known: bool | None  # already recorded in the state (None: no state to ask)

    @property
    def alerts(self) -> bool:
        return self.relevant and not self.old

    @property
    def verdict(self) -> str:
        if self.alerts:
            return "ALERTS" if self.known is not True else "alerts (seen)"
        if self.relevant:
            return "old"
        return "excluded" if self.excluded_by else "quiet"

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "date": self.date,
            "url": self.url,
            "relevant": self.relevant,
            "alerts": self.alerts,
            "matched": list(self.matched),
            "excluded_by": list(self.excluded_by),
            "older_than_max_age": self.old,
            "recorded": self.known,
        }


@dataclass(frozen=True)
class Inspection:
    source: str
    kind: str
    noun: tuple[str, str]
    items: tuple[InspectedItem, ...]

    @property
    def relevant(self) -> int:
        return sum(1 for i in self.items if i.alerts)

    @property
    def next_run(self) -> int | None:
        """How many items the next run would announce (None without state)."""
        if any(i.known is None for i in self.items):
            return None
        return sum(1 for i in self.items if i.alerts and not i.known)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "items": [i.as_dict() for i in self.items],
            "relevant": self.relevant,
            "next_run_would_announce": self.next_run,
        }


def inspect_snapshot(
    source: SourceConfig,
    snapshot: Snapshot,
    noun: tuple[str, str],
    today: str,
    known: Collection[str] | None,
) -> Inspection:
    """Each item of a snapshot with the rules' verdict on it, in the source's order."""
    rows = []
    for item in snapshot.items:
        verdict = judge(item, source.rules)
        rows.append(
            InspectedItem(
                key=item.key,
                title=item.title,
                date=item.published_on,
                url=item.url,
                relevant=verdict.relevant,
                matched=verdict.matched,
                excluded_by=verdict.excluded_by,
                old=too_old(item, source, today),
                known=None if known is None else item.key in known,
            )
        )
    return Inspection(source.name, source.kind, noun, tuple(rows))


def render_inspection(inspection: Inspection, *, limit: int, only_relevant: bool) -> str:
    """The inspection as text for a terminal: a summary line, then one block per item."""
    count = len(inspection.items)
    noun = inspection.noun[0] if count == 1 else inspection.noun[1]
    summary = (
        f"{inspection.source} ({inspection.kind}): {count} {noun}, "
        f"{inspection.relevant} relevant by its rules"
    )
    if inspection.next_run is not None:
        summary += f"; the next run would announce {inspection.next_run}"
    lines = [summary, ""]
    shown = [i for i in inspection.items if i.alerts or not only_relevant]
    for item in shown[: limit or None]:
        date = (item.date or "")[:10] or "-"
        lines.append(f"{item.verdict:<14} {date:<10}  {clip(item.title, 100)}")
        lines.append(f"{'':<26} key: {item.key}")
        if item.url and item.url != item.key:
            lines.append(f"{'':<26} {item.url}")
        if item.relevant and item.matched:
            lines.append(f"{'':<26} matched: {', '.join(item.matched)}")
        if item.excluded_by:
            lines.append(f"{'':<26} excluded by: {', '.join(item.excluded_by)}")
        if item.old:
            lines.append(f"{'':<26} older than max_age: recorded, never announced")
    if limit and len(shown) > limit:
        lines.append(f"... {len(shown) - limit} more (--limit 0 shows all)")
    return "\n".join(lines)

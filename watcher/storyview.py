"""Stories as `watcher stories` and `watcher story ID` show them. Pure: rows from the state
in, views and text out.

A story's view has exactly `id`, `title`, `instruments` ("Proclamation 10962"), `stages`
(source, event, title, when it happened, link, channel and message ts), `deadlines` (due,
what, from which document) and `lead_hours`: hours from its first stage to the Federal
Register's publication of its document (6:00 a.m. Eastern on the publication day), null
until it is published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from watcher.reminders import ITEM_DEADLINES
from watcher.stories import EASTERN, PRESIDENTIAL
from watcher.wording import format_date

FR_PUBLISHES_AT = time(6, 0)  # federalregister.gov posts the day's issue at 6:00 Eastern


def story_record(
    story: Mapping[str, Any],
    stages: Sequence[Mapping[str, Any]],
    deadlines: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    return {
        "id": story["id"],
        "title": story["title"],
        "instruments": instruments(stages),
        "stages": [
            {
                "source": s["source"],
                "event": s["event"],
                "title": s["title"],
                "at": s["at"],
                "url": s["url"],
                "channel": s.get("slack_channel") or s.get("alert_channel") or s["channel"],
                "ts": s.get("slack_ts"),
            }
            for s in stages
        ],
        "deadlines": _deadlines(deadlines),
        "lead_hours": lead_hours(stages),
    }


def _deadlines(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each deadline once, though two stages state it (the White House's text and the
    Federal Register's)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        what = row.get("what") or ITEM_DEADLINES.get(row["field"], row["field"])
        key = (row["due"], " ".join(what.casefold().split()))
        out.setdefault(key, {"due": row["due"], "what": what, "item_key": row["item_key"]})
    return list(out.values())


def instruments(stages: Sequence[Mapping[str, Any]]) -> list[str]:
    """The presidential instruments a story's stages name: "Proclamation 10962"."""
    out: list[str] = []
    for stage in stages:
        kind, number = stage.get("instrument"), stage.get("number")
        if kind in PRESIDENTIAL and number:
            name = f"{kind.title()} {number}"
            if name not in out:
                out.append(name)
    return out


def lead_hours(stages: Sequence[Mapping[str, Any]]) -> float | None:
    """Hours from the first stage to the Federal Register publication, or None."""
    published = next(
        (s["published"] for s in stages if s.get("role") == "published" and s.get("published")),
        None,
    )
    if not published or not stages:
        return None
    first = min(datetime.fromisoformat(s["at"]) for s in stages)
    moment = datetime.combine(date.fromisoformat(published), FR_PUBLISHES_AT, EASTERN)
    return round((moment - first).total_seconds() / 3600, 1)


def render_stories(views: Sequence[Mapping[str, Any]]) -> str:
    """One line per story, the latest first."""
    if not views:
        return "no stories yet: every alert starts or continues one"
    lines = []
    for view in views:
        named = f"  [{', '.join(view['instruments'])}]" if view["instruments"] else ""
        stages = view["stages"]
        latest = format_date(max(s["at"] for s in stages)) if stages else "-"
        lead = (
            f"; {view['lead_hours']:g} h before the Federal Register" if view["lead_hours"] else ""
        )
        lines.append(
            f"{view['id']:>5}  {view['title']}{named}\n"
            f"       {len(stages)} stage{'s' if len(stages) != 1 else ''}, latest {latest}{lead}"
        )
    return "\n".join(lines)


def render_story(view: Mapping[str, Any]) -> str:
    """One story: its stages in order, its deadlines."""
    lines = [f"story {view['id']}: {view['title']}"]
    if view["instruments"]:
        lines.append("instruments: " + ", ".join(view["instruments"]))
    if view["lead_hours"] is not None:
        lines.append(f"lead: {view['lead_hours']:g} hours before the Federal Register published it")
    lines.append("")
    for stage in view["stages"]:
        where = f"{stage['channel']} {stage['ts']}" if stage["ts"] else "(not posted yet)"
        lines.append(
            f"  {stage['at'][:16].replace('T', ' ')}Z  {stage['source']}: {stage['event']}"
        )
        lines.append(f"      {stage['title']}")
        if stage["url"]:
            lines.append(f"      {stage['url']}")
        lines.append(f"      Slack: {where}")
    if view["deadlines"]:
        lines.append("")
        lines.append("deadlines:")
        for deadline in view["deadlines"]:
            lines.append(f"  {format_date(deadline['due'])}: {deadline['what']}")
    return "\n".join(lines)

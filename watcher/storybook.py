"""Stories in the state database: their stages as the link phase placed them, read back for
linking, for reminders in a story's thread, and for `watcher stories` / `watcher story`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from watcher.db import Database
from watcher.linking import Placement
from watcher.stories import Stage, Story

_STAGE_COLUMNS = (
    "story_id, alert_id, source, own_key, item_key, event, title, url, instrument, number, "
    "dated, published, at, role, label, channel, touches"
)


class StoryBook:
    """The stories of one state database."""

    def __init__(self, db: Database):
        self.db = db

    def load(self, since: str | None = None) -> list[Story]:
        """Every story with a stage at or after `since` (ISO), with all its stages."""
        where, params = "", []
        if since:
            where = "where id in (select story_id from story_stages where at >= ?)"
            params = [since]
        stories = self.db.query(f"select id, thread_key, title from stories {where}", params)
        if not stories:
            return []
        stages: dict[int, list[Stage]] = {}
        ids = [row["id"] for row in stories]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in self.db.query(
                f"select {_STAGE_COLUMNS} from story_stages where story_id in "
                f"({','.join('?' * len(chunk))}) order by id",
                chunk,
            ):
                stages.setdefault(row["story_id"], []).append(_stage(row))
        pointed: dict[int, set[int]] = {}
        for row in self.db.query(
            "select distinct g.story_id as source_story, a.story_id as target from alerts a "
            "join story_stages g on g.source = a.source and g.item_key = a.item_key "
            "where a.event = 'follow_up' and a.story_id is not null"
        ):
            pointed.setdefault(row["source_story"], set()).add(row["target"])
        return [
            Story(
                row["id"],
                row["thread_key"],
                row["title"],
                tuple(stages.get(row["id"], ())),
                frozenset(pointed.get(row["id"], ())),
            )
            for row in stories
        ]

    def record(
        self, placements: Sequence[Placement | None], alert_ids: Sequence[int], stamp: str
    ) -> dict[int, int]:
        """Write new stories and the stages of alerts just queued (`alert_ids`, in the order of
        `placements`); call inside the transaction that queued them. Returns provisional story
        ids mapped to the real ones."""
        real: dict[int, int] = {}
        for placement, alert_id in zip(placements, alert_ids, strict=True):
            if placement is None:
                continue
            story_id = placement.story_id
            if placement.new_story and story_id not in real:
                existing = self.db.query(
                    "select id from stories where thread_key = ?", [placement.alert.thread_key]
                )
                real[story_id] = (
                    existing[0]["id"]
                    if existing
                    else self.db.insert(
                        "stories",
                        {
                            "thread_key": placement.alert.thread_key,
                            "title": placement.alert.title,
                            "created_at": stamp,
                        },
                    )
                )
            story_id = real.get(story_id, story_id)
            stage = placement.stage
            self.db.insert(
                "story_stages",
                {
                    "story_id": story_id,
                    "alert_id": alert_id,
                    "source": stage.source,
                    "own_key": stage.own_key,
                    "item_key": stage.item_key,
                    "event": stage.event,
                    "title": stage.title,
                    "url": stage.url,
                    "instrument": stage.instrument,
                    "number": stage.number,
                    "dated": stage.dated,
                    "published": stage.published,
                    "at": stage.at,
                    "role": stage.role,
                    "label": stage.label,
                    "channel": stage.channel,
                    "touches": json.dumps(list(stage.touches)) if stage.touches else None,
                },
            )
            self.db.execute("update alerts set story_id = ? where id = ?", [story_id, alert_id])
        return real

    def set_story(self, alert_ids: Iterable[int], story_id: int) -> None:
        """Mark alerts (pointers into a story's thread) as belonging to that story."""
        self.db.executemany(
            "update alerts set story_id = ? where id = ?", ((story_id, i) for i in alert_ids)
        )

    def thread_of(self, source: str, item_key: str) -> str | None:
        """The thread key of the story an item is a stage of, if it is one."""
        rows = self.db.query(
            "select s.thread_key from story_stages g join stories s on s.id = g.story_id "
            "where g.source = ? and g.item_key = ? order by g.id limit 1",
            [source, item_key],
        )
        return rows[0]["thread_key"] if rows else None

    def summaries(self, limit: int | None = None) -> list[Mapping[str, Any]]:
        """Stories, the latest activity first, with their stages' alerts (channel, ts)."""
        rows = self.db.query(
            "select s.id, s.thread_key, s.title, s.created_at, max(g.at) as latest "
            "from stories s join story_stages g on g.story_id = s.id "
            "group by s.id order by latest desc, s.id desc" + (" limit ?" if limit else ""),
            [limit] if limit else [],
        )
        return [dict(r) for r in rows]

    def stages_with_alerts(self, story_id: int) -> list[Mapping[str, Any]]:
        """A story's stages in order, each with its alert's channel, ts and status."""
        rows = self.db.query(
            f"select {', '.join('g.' + c.strip() for c in _STAGE_COLUMNS.split(','))}, "
            "a.status, a.slack_channel, a.slack_ts, a.thread_ts, a.channel as alert_channel "
            "from story_stages g left join alerts a on a.id = g.alert_id "
            "where g.story_id = ? order by g.at, g.id",
            [story_id],
        )
        return [dict(r) for r in rows]

    def deadlines(self, story_id: int) -> list[Mapping[str, Any]]:
        """The deadlines the story's documents set (stated in their text, or their dates)."""
        rows = self.db.query(
            "select distinct d.source, d.item_key, d.field, d.due, d.what from deadlines d "
            "join story_stages g on g.source = d.source and g.item_key = d.item_key "
            "where g.story_id = ? order by d.due",
            [story_id],
        )
        return [dict(r) for r in rows]


def _stage(row: Mapping[str, Any]) -> Stage:
    return Stage(
        story_id=row["story_id"],
        source=row["source"],
        own_key=row["own_key"],
        item_key=row["item_key"],
        event=row["event"],
        title=row["title"],
        url=row["url"],
        instrument=row["instrument"],
        number=row["number"],
        dated=row["dated"],
        published=row["published"],
        at=row["at"],
        role=row["role"],
        label=row["label"],
        channel=row["channel"],
        alert_id=row["alert_id"],
        touches=tuple(json.loads(row["touches"])) if row.get("touches") else (),
    )

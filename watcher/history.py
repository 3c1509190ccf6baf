"""What `watcher history` shows: each alert, when, where (channel and message link) and why."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from watcher.models import Alert
from watcher.wording import header_text, why


def message_link(workspace_url: str | None, row: Mapping[str, Any]) -> str | None:
    """A link to the Slack message, or where it is when the workspace address is unknown."""
    channel, ts = row.get("slack_channel"), row.get("slack_ts")
    if not channel or not ts:
        return None
    if not workspace_url:
        return f"{channel} at ts {ts}"
    link = f"{workspace_url}/archives/{channel}/p{ts.replace('.', '')}"
    thread = row.get("thread_ts")
    return f"{link}?thread_ts={thread}&cid={channel}" if thread else link


def entries(rows: Iterable[Mapping[str, Any]], workspace_url: str | None) -> list[dict[str, Any]]:
    """Outbox rows as history entries, newest first as given."""
    out = []
    for row in rows:
        alert = Alert.from_json(row["payload"])
        out.append(
            {
                "id": row["id"],
                "source": row["source"],
                "event": row["event"],
                "item_key": row.get("item_key"),
                "thread_key": row.get("thread_key"),
                "story_id": row.get("story_id"),
                "what": header_text(alert),
                "title": alert.title,
                "url": alert.url,
                "channel": row["channel"],
                "status": row["status"],
                "created_at": row["created_at"],
                "sent_at": row["sent_at"],
                "slack_channel": row.get("slack_channel"),
                "ts": row.get("slack_ts"),
                "thread_ts": row.get("thread_ts"),
                "message": message_link(workspace_url, row),
                "why": why(alert),
                "matched": list(alert.matched),
                "last_error": row["last_error"],
            }
        )
    return out


def text_lines(history: Iterable[Mapping[str, Any]]) -> list[str]:
    lines = []
    for entry in history:
        when = entry["sent_at"] or entry["created_at"]
        lines.append(f"{when}  {entry['status']:<7}  {entry['channel']}  {entry['what']}")
        lines.append(f"    {entry['title']}")
        if entry["message"]:
            lines.append(f"    message: {entry['message']}")
        if entry["url"]:
            lines.append(f"    {entry['url']}")
        lines.append(f"    why: {entry['why']}")
        if entry["last_error"] and entry["status"] != "sent":
            lines.append(f"    last error: {entry['last_error']}")
    return lines or ["nothing alerted yet"]

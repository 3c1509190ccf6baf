"""A `watcher run` with nothing to do, answered without loading the heavy machinery.

Cron starts watcher every few minutes; most of those runs find no source due. Validating the
configuration (pydantic), importing the HTTP stack and the source kinds cost a few hundred
milliseconds that such a run does not need. So when the configuration file is byte for byte
the one whose checked form is cached in the state directory (`config_cache`), no source is due
(by the same `schedule.is_due` a full run asks), no alert waits in the outbox and today's
reminders were already looked at, the answer comes from the standard library's sqlite3 and
that cache alone. Anything else (a changed file, a due source, a pending alert, any doubt)
takes the full path, which validates and reports as usual.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def nothing_due(config_path: Path, state_dir: Path, now: datetime) -> list[str] | None:
    """The names of the sources waiting for their time, when there is nothing else to do;
    None when the full path must run."""
    try:
        return _nothing_due(config_path, state_dir, now)
    except Exception:  # any doubt at all: let the full path decide, and report
        return None


def _nothing_due(config_path: Path, state_dir: Path, now: datetime) -> list[str] | None:
    from watcher import config_cache

    spec = config_cache.read_for(state_dir, config_path)
    database = state_dir / "watcher.db"
    if spec is None or not database.exists():
        return None
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1.0)
    try:
        if conn.execute("select count(*) from alerts where status = 'pending'").fetchone()[0]:
            return None
        last_run = conn.execute(
            "select started_at from runs where finished_at is not null order by id desc limit 1"
        ).fetchone()
        if last_run is None or last_run[0][:10] != now.astimezone(UTC).strftime("%Y-%m-%d"):
            return None  # reminders are looked at once a day, by a full run
        checks = dict(conn.execute("select name, last_check_at from sources").fetchall())
    finally:
        conn.close()
    return _waiting(spec, checks, now)


def _waiting(
    spec: Mapping[str, Any], checks: Mapping[str, str | None], now: datetime
) -> list[str] | None:
    from zoneinfo import ZoneInfo

    from watcher.durations import parse_duration
    from watcher.schedule import is_due

    zone = ZoneInfo(spec["schedule"]["timezone"])
    waiting = []
    for source in spec["sources"]:
        if not source["enabled"]:
            continue
        every = parse_duration(source["every"]) if source["every"] else None
        if every is None and not source["cron"]:
            return None  # checked on every run
        stamp = checks.get(source["name"])
        last = datetime.fromisoformat(stamp) if stamp else None
        if last is None or is_due(last, every=every, crons=source["cron"], zone=zone, now=now):
            return None
        waiting.append(str(source["name"]))
    return waiting

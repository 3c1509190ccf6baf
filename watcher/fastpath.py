"""A `watcher run` with nothing to do, answered without loading the heavy machinery.

Cron starts watcher every few minutes; most of those runs find no source due. Validating the
configuration (pydantic), opening the state through sqlite-utils and importing the HTTP stack
cost a few hundred milliseconds that such a run does not need. So when the configuration file
is byte for byte the one last validated in full, no source is due, no alert waits in the
outbox and today's reminders were already looked at, the answer comes from the standard
library's sqlite3 and the YAML alone. Anything else (a changed file, a due source, a pending
alert, any doubt) takes the full path, which validates and reports as usual.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STAMP = "config.validated"


def fingerprint(config_path: Path) -> str | None:
    try:
        return hashlib.sha256(config_path.read_bytes()).hexdigest()
    except OSError:
        return None


def remember_valid(config_path: Path, state_dir: Path, *, always_due: bool) -> None:
    """Note that this configuration passed full validation (best effort), and whether a
    source of it is checked on every run (then no run ever has nothing to do)."""
    digest = fingerprint(config_path)
    if digest is None or not state_dir.is_dir():
        return
    flag = "always-due" if always_due else "scheduled"
    with contextlib.suppress(OSError):
        (state_dir / STAMP).write_text(f"{digest}\n{flag}\n{config_path.resolve()}\n")


def nothing_due(
    config_path: Path, state_dir: Path, now: datetime | None = None
) -> list[str] | None:
    """The names of the sources waiting for their time, when there is nothing else to do;
    None when the full path must run."""
    try:
        return _nothing_due(config_path, state_dir, now or datetime.now(UTC))
    except Exception:  # any doubt at all: let the full path decide, and report
        return None


def _nothing_due(config_path: Path, state_dir: Path, now: datetime) -> list[str] | None:
    digest = fingerprint(config_path)
    stamp = state_dir / STAMP
    if digest is None or not stamp.exists():
        return None
    recorded = stamp.read_text().split("\n")
    if recorded[0] != digest or (len(recorded) > 1 and recorded[1] == "always-due"):
        return None
    database = state_dir / "watcher.db"
    if not database.exists():
        return None
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1.0)
    try:
        if conn.execute("select count(*) from alerts where status = 'pending'").fetchone()[0]:
            return None
        last_run = conn.execute(
            "select started_at from runs where finished_at is not null order by id desc limit 1"
        ).fetchone()
        if last_run is None or last_run[0][:10] != now.strftime("%Y-%m-%d"):
            return None  # reminders are looked at once a day, by a full run
        checks = dict(conn.execute("select name, last_check_at from sources").fetchall())
    finally:
        conn.close()
    data = _yaml(config_path)
    return _waiting(data, checks, now)


def _yaml(config_path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(config_path.read_text(encoding="utf-8"), Loader=loader)


def _waiting(data: Any, checks: dict[str, str | None], now: datetime) -> list[str] | None:
    from zoneinfo import ZoneInfo

    from watcher.durations import parse_duration
    from watcher.schedule import is_due

    zone = ZoneInfo(str((data.get("schedule") or {}).get("timezone") or "America/New_York"))
    waiting = []
    for source in data["sources"]:
        if source.get("enabled", True) is False:
            continue
        name = str(source["name"])
        every = parse_duration(source["every"]) if source.get("every") else None
        crons = source.get("cron") or []
        crons = [crons] if isinstance(crons, str) else list(crons)
        if every is None and not crons:
            return None  # checked on every run
        last = checks.get(name)
        if last is None:
            return None
        last_check = datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if is_due(last_check, every, now, crons=crons, zone=zone):
            return None
        waiting.append(name)
    return waiting

"""Telling operations when a source breaks, recovers, or goes unexpectedly quiet. Pure.

One notice when a source has failed `failures_before_notice` checks in a row, one when it
recovers, never one per run. With `expect: 3d` on a source, one notice when it has had nothing
new or changed for that long. The rules read only the state, so a notice lost to a crash is
sent on the next run and a notice already sent is not sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from watcher.durations import format_duration
from watcher.models import Alert, AlertEvent


@dataclass(frozen=True)
class SourceHealth:
    """What the state says about a source's health, after this run's check was recorded."""

    name: str
    kind: str
    consecutive_failures: int
    last_error: str | None
    failure_notice: bool  # a failure notice was sent and no recovery notice yet
    silence_notice: bool
    quiet_since: datetime | None  # last new or changed item (or first check)


@dataclass(frozen=True)
class HealthDecision:
    notices: tuple[Alert, ...] = ()
    failure_notice: bool | None = None  # new value of the flag, None to leave it
    silence_notice: bool | None = None


def judge_health(
    health: SourceHealth,
    *,
    ops_channel: str,
    failures_before_notice: int,
    expect: timedelta | None,
    now: datetime,
    label: str | None = None,
) -> HealthDecision:
    name = label or health.name
    failures = health.consecutive_failures
    if failures >= failures_before_notice and not health.failure_notice:
        return HealthDecision(
            notices=(
                _notice(
                    health,
                    ops_channel,
                    f"{name} is failing",
                    f"{failures} checks in a row have failed; the last said: "
                    f"{health.last_error}. Alerts from it are delayed until it "
                    "recovers; nothing is lost.",
                ),
            ),
            failure_notice=True,
        )
    if failures == 0 and health.failure_notice:
        return HealthDecision(
            notices=(
                _notice(
                    health,
                    ops_channel,
                    f"{name} has recovered",
                    "Its last check succeeded; anything published while it was "
                    "failing has been picked up.",
                ),
            ),
            failure_notice=False,
        )
    if failures == 0 and expect is not None and health.quiet_since is not None:
        quiet = now - health.quiet_since
        if quiet >= expect and not health.silence_notice:
            return HealthDecision(
                notices=(
                    _notice(
                        health,
                        ops_channel,
                        f"{name} has gone quiet",
                        f"Nothing new or changed for {format_duration(quiet)}, "
                        f"though it is expected to change within "
                        f"{format_duration(expect)}. The page may have moved or "
                        "its selector may need updating.",
                    ),
                ),
                silence_notice=True,
            )
        if quiet < expect and health.silence_notice:
            return HealthDecision(silence_notice=False)
    return HealthDecision()


def _notice(health: SourceHealth, channel: str, title: str, note: str) -> Alert:
    return Alert(
        source=health.name,
        source_kind=health.kind,
        event=AlertEvent.HEALTH,
        channel=channel,
        title=title,
        note=note,
    )


# ---------------------------------------------------------------------------------------------
# Whether watcher as a whole is healthy: `watcher status --health`, a container HEALTHCHECK


# Runs that happen on a schedule: a manual `check` (from the command line or Slack) says
# nothing about whether cron still starts watcher.
SCHEDULED_COMMANDS = ("run", "schedule")


class SourceState(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def consecutive_failures(self) -> int: ...
    @property
    def last_error(self) -> str | None: ...


@dataclass(frozen=True)
class Verdict:
    problems: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return not self.problems


def default_max_age(
    intervals: Sequence[timedelta], fallback: timedelta = timedelta(minutes=15)
) -> timedelta:
    """How old the last scheduled run may be: three times the shortest schedule of an enabled
    source, and at least an hour."""
    return max(timedelta(hours=1), 3 * min(intervals, default=fallback))


def judge_watcher(
    sources: Sequence[SourceState],
    last_scheduled_finish: datetime | None,
    *,
    now: datetime,
    max_age: timedelta,
    failures_before_notice: int,
    stuck: str | None = None,
) -> Verdict:
    """Unhealthy when no scheduled run finished within `max_age`, a run is stuck past its
    deadline, or a source has failed `failures_before_notice` checks in a row."""
    problems = []
    if stuck:
        problems.append(stuck)
    if last_scheduled_finish is None:
        problems.append("no scheduled run (`watcher run` or `watcher schedule`) has finished yet")
    elif now - last_scheduled_finish > max_age:
        problems.append(
            f"the last scheduled run finished {last_scheduled_finish:%Y-%m-%d %H:%M}Z, more "
            f"than {format_duration(max_age)} ago"
        )
    for source in sources:
        if source.consecutive_failures >= failures_before_notice:
            problems.append(
                f"{source.name} has failed {source.consecutive_failures} checks in a row: "
                f"{source.last_error}"
            )
    return Verdict(tuple(problems))

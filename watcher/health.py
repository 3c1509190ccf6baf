"""Telling operations when a source breaks, recovers, or goes unexpectedly quiet. Pure.

One notice when a source has failed `failures_before_notice` checks in a row, one when it
recovers, never one per run. With `expect: 3d` on a source, one notice when it has had nothing
new or changed for that long. The rules read only the state, so a notice lost to a crash is
sent on the next run and a notice already sent is not sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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

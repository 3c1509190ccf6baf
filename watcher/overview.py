"""What `watcher status` (and `/watcher status` in Slack) shows: each source's state, the
outbox, why alerts failed, the last runs, and whether watcher is healthy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from watcher.health import SCHEDULED_COMMANDS, Verdict, default_max_age, judge_watcher
from watcher.outbox import Refusal, parse_iso
from watcher.settings import Config
from watcher.store import SourceStatus, Store


@dataclass(frozen=True)
class Overview:
    sources: tuple[SourceStatus, ...]
    outbox: Mapping[str, int]
    refusals: tuple[Refusal, ...]
    last_run: Mapping[str, Any] | None
    last_scheduled_run: Mapping[str, Any] | None

    @property
    def needs_attention(self) -> bool:
        """A source failing, or alerts pending or failed: `watcher status` exits 1."""
        return any(s.consecutive_failures for s in self.sources) or any(
            self.outbox.get(s, 0) for s in ("pending", "failed")
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "sources": [asdict(s) for s in self.sources],
            "alerts": {s: self.outbox.get(s, 0) for s in ("pending", "sent", "failed")},
            "failed_because": [asdict(r) for r in self.refusals],
            "last_run": self.last_run,
            "last_scheduled_run": self.last_scheduled_run,
        }


def read_overview(store: Store, names: Sequence[str]) -> Overview:
    return Overview(
        sources=tuple(store.status(names)),
        outbox=store.outbox.counts(),
        refusals=tuple(store.outbox.refusals()),
        last_run=store.last_run(),
        last_scheduled_run=store.last_run(SCHEDULED_COMMANDS),
    )


def health(
    config: Config,
    overview: Overview,
    *,
    now: datetime,
    max_age: timedelta | None = None,
    stuck: str | None = None,
) -> Verdict:
    """The one answer to "is watcher healthy" (see `health.judge_watcher`)."""
    if max_age is None:
        every = config.schedule.every
        max_age = default_max_age([s.every or every for s in config.sources if s.enabled], every)
    last = overview.last_scheduled_run
    return judge_watcher(
        overview.sources,
        parse_iso(last["finished_at"]) if last else None,
        now=now,
        max_age=max_age,
        failures_before_notice=config.health.failures_before_notice,
        stuck=stuck,
    )


def refusal_line(refusal: Refusal) -> str:
    """ "6 failed: Slack refused them: channel_not_found (#trade-alerts); `watcher retry`
    after fixing" """
    reason = refusal.error
    for prefix in ("Slack refused the message: ", "Slack refused the message"):
        if reason.startswith(prefix):
            reason = "Slack refused them: " + (reason.removeprefix(prefix) or "no reason given")
            break
    return f"{refusal.count} failed: {reason} ({refusal.channel}); `watcher retry` after fixing"


def status_lines(overview: Overview) -> list[str]:
    """The table `watcher status` prints, then what needs explaining."""
    headers = (
        "SOURCE",
        "KIND",
        "LAST CHECK",
        "LAST SUCCESS",
        "FAILS",
        "ITEMS",
        "RELEVANT",
        "HELD",
        "PENDING",
        "FAILED",
    )
    table = [headers]
    for r in overview.sources:
        table.append(
            (
                r.name,
                r.kind or "-",
                r.last_check_at or "never",
                r.last_success_at or "never",
                str(r.consecutive_failures),
                str(r.items),
                str(r.relevant_items),
                str(r.held_items),
                str(r.alerts_pending),
                str(r.alerts_failed),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    for r in overview.sources:
        if r.last_error and r.consecutive_failures:
            lines.append(f"{r.name}: failing, last error: {r.last_error}")
        if r.held_items:
            lines.append(
                f"{r.name}: {r.held_items} item(s) held back: their content flips back and "
                "forth, so changes are recorded but not announced until something new appears"
            )
    outbox = overview.outbox
    lines.append(
        f"\nalerts: {outbox.get('pending', 0)} pending, {outbox.get('sent', 0)} sent, "
        f"{outbox.get('failed', 0)} failed"
    )
    lines += [f"  {refusal_line(r)}" for r in overview.refusals]
    for label, run in (
        ("last run", overview.last_run),
        ("last scheduled run", overview.last_scheduled_run),
    ):
        if run:
            lines.append(
                f"{label}: {run['command']} at {run['started_at']} (exit {run['exit_code']})"
            )
    return lines


def slack_lines(overview: Overview, escape: Any) -> list[str]:
    """The short form for `/watcher status` in Slack (`escape` makes source text literal)."""
    lines = []
    for row in overview.sources:
        if row.last_check_at is None:
            state = "never checked"
        elif row.consecutive_failures:
            state = f"failing ({row.consecutive_failures}×): {escape(row.last_error or '')}"
        else:
            state = "ok"
        lines.append(
            f"• `{row.name}`: {state}; last success {row.last_success_at or 'never'}"
            f"; {row.items} items"
        )
    outbox = overview.outbox
    lines.append(f"Alerts: {outbox.get('pending', 0)} pending, {outbox.get('failed', 0)} failed")
    lines += [escape(refusal_line(r)) for r in overview.refusals]
    return lines

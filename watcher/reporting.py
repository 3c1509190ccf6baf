"""What a run says about itself: one line per source and one about delivery, as text for a
person or as JSON lines for a log collector."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from watcher.deliver import DeliveryReport
from watcher.models import Alert
from watcher.timing import CpuSplit


@dataclass(frozen=True)
class SourceReport:
    """How one source's check went, for the one line the run prints about it."""

    name: str
    ok: bool
    error: str | None = None
    items: int = 0
    new: int = 0
    changed: int = 0
    alerts: int = 0
    baseline: bool = False
    unchanged: bool = False
    seconds: float = 0.0
    requests: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunReport:
    sources: tuple[SourceReport, ...] = ()
    delivery: DeliveryReport | None = None
    busy: bool = False
    holder: str | None = None  # who holds the run lock ("pid 123 since ...")
    stuck: bool = False  # ... and has held it well past the run's deadline
    not_due: tuple[str, ...] = ()
    alerts: tuple[Alert, ...] = field(default_factory=tuple)  # a dry run's (it prints them)
    stopped: str | None = None  # the signal (or deadline) that stopped the run early
    run_id: int | None = None
    cpu: CpuSplit | None = None  # where the run's CPU went, by phase

    @property
    def failed(self) -> tuple[SourceReport, ...]:
        return tuple(s for s in self.sources if not s.ok)

    @property
    def exit_code(self) -> int:
        if self.busy:
            return 1 if self.stuck else 0
        undelivered = self.delivery is not None and (
            self.delivery.pending > 0 or self.delivery.failed > 0
        )
        return 1 if self.failed or undelivered or self.stopped else 0


def records(report: RunReport, timings: bool = False) -> list[dict[str, Any]]:
    """The run as structured records: one per source checked, then delivery (then the CPU
    by phase, with `timings`)."""
    out: list[dict[str, Any]] = []
    for source in report.sources:
        outcome = "failed" if not source.ok else "not_modified" if source.unchanged else "ok"
        entry: dict[str, Any] = {
            "event": "source",
            "run": report.run_id,
            "source": source.name,
            "outcome": outcome,
            "baseline": source.baseline,
            "items": source.items,
            "new": source.new,
            "changed": source.changed,
            "alerts": source.alerts,
            "requests": source.requests,
            "duration_s": round(source.seconds, 3),
        }
        if source.error:
            entry["error"] = source.error
        if source.notes:
            entry["notes"] = list(source.notes)
        out.append(entry)
    if report.not_due:
        out.append({"event": "not_due", "run": report.run_id, "sources": list(report.not_due)})
    if report.delivery is not None:
        d = report.delivery
        out.append(
            {
                "event": "delivery",
                "run": report.run_id,
                "sent": d.sent,
                "pending": d.pending,
                "failed": d.failed,
                "digests": d.digests,
                "errors": list(d.errors),
            }
        )
    if report.stopped:
        out.append({"event": "stopped", "run": report.run_id, "signal": report.stopped})
    if timings and report.cpu is not None:
        out.append(
            {
                "event": "timing",
                "run": report.run_id,
                "cpu_s": report.cpu.as_dict(),
                "peak_in_flight": report.cpu.peak_in_flight,
            }
        )
    return out


def text_lines(report: RunReport, timings: bool = False) -> list[str]:
    """One line per source checked, then one about delivery (then the CPU by phase, with
    `timings`)."""
    suffix = f" [run {report.run_id}]" if report.run_id is not None else ""
    lines = []
    for source in report.sources:
        if not source.ok:
            lines.append(f"{source.name}: FAILED: {source.error}{suffix}")
            continue
        if source.unchanged:
            lines.append(f"{source.name}: not modified since the last check{suffix}")
            continue
        if source.baseline:
            what = f"baseline, {source.items} recorded"
        else:
            what = (
                f"{source.items} seen, {source.new} new, {source.changed} changed, "
                f"{source.alerts} alert{'s' if source.alerts != 1 else ''}"
            )
        notes = "".join(f"; note: {n}" for n in source.notes)
        calls = f", {source.requests} request{'s' if source.requests != 1 else ''}"
        lines.append(f"{source.name}: ok, {what} ({source.seconds:.1f}s{calls}){notes}{suffix}")
    if report.not_due:
        lines.append("not due yet: " + ", ".join(report.not_due))
    if report.stopped:
        lines.append(f"stopped by {report.stopped}; what was not done waits for the next run")
    if not report.sources and not report.not_due:
        lines.append("no enabled sources to check")
    delivery = report.delivery
    if delivery is not None:
        for error in delivery.errors:
            lines.append(f"delivery: {error}")
        if delivery.sent or delivery.pending or delivery.failed:
            lines.append(
                f"delivery: {delivery.sent} sent, {delivery.pending} pending, "
                f"{delivery.failed} failed"
            )
    if timings and report.cpu is not None:
        lines.append("timing: " + report.cpu.line())
    return lines


def emit(
    report: RunReport,
    fmt: str,
    stream: TextIO | None = None,
    stamp: bool = False,
    timings: bool = False,
) -> None:
    """Write the run's lines in the chosen format."""
    stream = stream or sys.stderr
    if fmt == "json":
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for record in records(report, timings):
            print(json.dumps({"ts": now, **record}, sort_keys=True), file=stream, flush=True)
        return
    prefix = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ ") if stamp else ""
    for line in text_lines(report, timings):
        print(prefix + line, file=stream, flush=True)


class _TerminalProgress:
    """ "checking sources: 3 of 10 done" on one line of a terminal."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        if done != self.shown:
            self.shown = done
            self.say(f"checking sources: {done} of {total} done")

    def say(self, line: str) -> None:
        """Replace the line on the terminal with this one."""
        self.shown = max(self.shown, 0)
        print(f"\r\033[K{line}", end="", file=self.stream, flush=True)

    def clear(self) -> None:
        if self.shown >= 0:
            print("\r\033[K", end="", file=self.stream, flush=True)


def terminal_progress() -> _TerminalProgress | None:
    """A one-line progress display on a terminal; nothing when stderr is not one."""
    return _TerminalProgress(sys.stderr) if sys.stderr.isatty() else None

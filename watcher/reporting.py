"""What a run says about itself: one line per source and one about delivery, as text for a
person or as JSON lines for a log collector."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from watcher.runner import RunReport


def records(report: RunReport) -> list[dict[str, Any]]:
    """The run as structured records: one per source checked, then delivery."""
    out: list[dict[str, Any]] = []
    for source in report.sources:
        outcome = "failed" if not source.ok else "not_modified" if source.unchanged else "ok"
        record: dict[str, Any] = {
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
            record["error"] = source.error
        if source.notes:
            record["notes"] = list(source.notes)
        out.append(record)
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
    return out


def text_lines(report: RunReport) -> list[str]:
    """One line per source checked, then one about delivery."""
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
        lines.append(f"{source.name}: ok, {what} ({source.seconds:.1f}s){notes}{suffix}")
    if report.not_due:
        lines.append("not due yet: " + ", ".join(report.not_due))
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
    return lines


def emit(report: RunReport, fmt: str, stream: TextIO | None = None, stamp: bool = False) -> None:
    """Write the run's lines in the chosen format."""
    stream = stream or sys.stderr
    if fmt == "json":
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for record in records(report):
            print(json.dumps({"ts": now, **record}, sort_keys=True), file=stream, flush=True)
        return
    prefix = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ ") if stamp else ""
    for line in text_lines(report):
        print(prefix + line, file=stream, flush=True)


class JsonFormatter(logging.Formatter):
    """Python log records as JSON lines, for `--log-format json`."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, sort_keys=True)

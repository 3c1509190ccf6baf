"""Where watcher's own log lines go: stderr, as text or JSON lines, with secrets masked.
Light on purpose: every command, including a run with nothing to do, sets this up."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from watcher.secrets import RedactingFilter


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


def configure_logging(fmt: str, verbose: int) -> None:
    """stderr logging, as lines or JSON, with tokens masked; -v for more, -vv for HTTP."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    # Each retry is logged by stamina at WARNING; the run's report already says what failed.
    logging.getLogger("stamina").setLevel(logging.INFO if verbose else logging.ERROR)
    logging.getLogger("watcher").setLevel(logging.DEBUG if verbose else logging.NOTSET)
    # every request and its status, at -vv only
    logging.getLogger("watcher.wire").setLevel(logging.DEBUG if verbose > 1 else logging.INFO)


def say(
    line: str,
    fmt: str,
    stream: TextIO | None = None,
    *,
    event: str = "message",
    stamp: bool = False,
) -> None:
    """One line about what watcher is doing, for a person or as a JSON line."""
    stream = stream or sys.stderr
    now = datetime.now(UTC)
    if fmt == "json":
        record = {"ts": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "event": event, "message": line}
        print(json.dumps(record), file=stream, flush=True)
    else:
        prefix = now.strftime("%Y-%m-%d %H:%M:%SZ ") if stamp else ""
        print(prefix + line, file=stream, flush=True)

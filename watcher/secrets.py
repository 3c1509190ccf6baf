"""Keeping the Slack token out of logs, messages and the state database."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

from watcher.errors import WatcherError

_SLACK_TOKEN = re.compile(r"\bxox[a-zA-Z]-[A-Za-z0-9-]{6,}")
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with anything that looks like a Slack token or bearer credential masked."""
    text = _SLACK_TOKEN.sub(lambda m: m.group(0)[:5] + "…redacted", text)
    return _BEARER.sub(r"\1…redacted", text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks tokens in every record, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = ()
        return True


def read_secret(name: str, environ: Mapping[str, str]) -> str | None:
    """A secret from the variable `name`, or from the file `{name}_FILE` names (container
    secrets); None when neither is set."""
    value = environ.get(name, "").strip()
    if value:
        return value
    path = environ.get(f"{name}_FILE", "").strip()
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        raise WatcherError(f"cannot read {name}_FILE {path}: {exc.strerror}") from None

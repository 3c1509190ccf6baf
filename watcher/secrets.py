"""Keeping the Slack token out of logs, messages and the state database."""

from __future__ import annotations

import logging
import re

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

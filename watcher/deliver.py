"""Draining the outbox: to Slack when a token is set, else to standard output.

An alert is marked sent only once Slack answered ok, in its own transaction right after the
answer, so the only window for a double post is between Slack accepting a message and that
commit. Transient failures (rate limits after slack-sdk's own retries, 5xx, network errors)
leave the alert pending for the next run and stop this drain, since Slack is evidently not
taking messages; permanent ones (a bad token, a missing channel) mark it failed with the reason.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TextIO

from watcher.errors import DeliveryError
from watcher.models import Alert, AlertEvent
from watcher.render import SlackMessage, render_slack, render_text
from watcher.store import Store

log = logging.getLogger(__name__)

# Slack error codes that no retry will fix.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "invalid_blocks",
        "invalid_blocks_format",
        "no_text",
        "too_many_attachments",
        "restricted_action",
        "invalid_arguments",
        "invalid_arg_name",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)


# Thread replies important enough to show in the channel too.
BROADCAST = frozenset({AlertEvent.PUBLISHED, AlertEvent.WITHDRAWN, AlertEvent.CORRECTION})


@dataclass(frozen=True)
class Posted:
    """Where a message landed: Slack's channel ID and message ts (None on stdout)."""

    channel: str | None
    ts: str | None


class Poster(Protocol):
    """Something that can publish one alert."""

    name: str

    def post(self, alert: Alert, *, thread: tuple[str, str] | None) -> Posted: ...


class StdoutPoster:
    """The embedded default: with no Slack token, alerts are printed for a person to read."""

    name = "stdout"

    def __init__(self, out: TextIO | None = None):
        self.out = out or sys.stdout

    def post(self, alert: Alert, *, thread: tuple[str, str] | None) -> Posted:
        print(render_text(alert, alert.channel), file=self.out, end="\n\n", flush=True)
        return Posted(None, None)


class SlackPoster:
    """chat.postMessage through slack-sdk's WebClient, with its rate-limit retry handler."""

    name = "slack"

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        render: Callable[[Alert], SlackMessage] = render_slack,
        timeout: int = 30,
    ):
        from slack_sdk import WebClient
        from slack_sdk.http_retry.builtin_handlers import (
            ConnectionErrorRetryHandler,
            RateLimitErrorRetryHandler,
            ServerErrorRetryHandler,
        )

        kwargs: dict[str, Any] = {"token": token, "timeout": timeout}
        if base_url:
            kwargs["base_url"] = base_url
        self.client = WebClient(
            **kwargs,
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=2),
                RateLimitErrorRetryHandler(max_retry_count=2),
                ServerErrorRetryHandler(max_retry_count=2),
            ],
        )
        # slack-sdk logs every failed request at ERROR with no context; our report says it better
        logging.getLogger("slack_sdk.web.base_client").setLevel(logging.CRITICAL)
        self.render = render

    def post(self, alert: Alert, *, thread: tuple[str, str] | None) -> Posted:
        from slack_sdk.errors import SlackApiError, SlackClientError

        message = self.render(alert)
        channel = thread[0] if thread else alert.channel
        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=[dict(b) for b in message.blocks],
                thread_ts=thread[1] if thread else None,
                reply_broadcast=True if thread and alert.event in BROADCAST else None,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            code = _error_code(exc.response)
            status = getattr(exc.response, "status_code", None)
            if code in PERMANENT_ERRORS:
                raise DeliveryError(
                    f"Slack refused the message: {code}", permanent=True, code=code
                ) from None
            raise DeliveryError(
                f"Slack did not take the message: {code or f'HTTP {status}'}",
                permanent=False,
                code=code,
            ) from None
        except (SlackClientError, OSError, ValueError) as exc:
            raise DeliveryError(f"cannot reach Slack: {exc}", permanent=False) from None
        data = response.data if isinstance(response.data, dict) else {}
        return Posted(channel=data.get("channel"), ts=data.get("ts"))


def _error_code(response: Any) -> str | None:
    try:
        data = response.data
    except AttributeError:
        return None
    if isinstance(data, dict):
        error = data.get("error")
        return str(error) if error else None
    return None


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # permanently refused this drain
    pending: int = 0  # still waiting after this drain
    errors: tuple[str, ...] = ()


def drain(store: Store, poster: Poster, *, now: Callable[[], datetime]) -> DeliveryReport:
    """Deliver every pending alert, oldest first; see the module docstring for failures."""
    sent = failed = 0
    errors: list[str] = []
    entries = store.pending()
    for index, entry in enumerate(entries):
        alert = entry.alert
        thread = None
        if alert.thread_key and poster.name == "slack":
            thread = store.thread_root(alert.thread_key, alert.channel)
        try:
            posted = poster.post(alert, thread=thread)
        except DeliveryError as exc:
            store.mark_attempt(entry.id, now=now(), error=str(exc), permanent=exc.permanent)
            if exc.permanent:
                failed += 1
                errors.append(f"alert {entry.id} ({alert.source}) failed for good: {exc}")
                continue
            errors.append(f"alert {entry.id} ({alert.source}) left pending: {exc}")
            remaining = len(entries) - index
            return DeliveryReport(sent, failed, remaining, tuple(errors))
        store.mark_sent(
            entry.id,
            now=now(),
            slack_channel=posted.channel,
            ts=posted.ts,
            thread_ts=thread[1] if thread else None,
        )
        sent += 1
    return DeliveryReport(sent, failed, 0, tuple(errors))

"""Where alerts are published: Slack when a token is set, else standard output.

`SlackPoster` posts with slack-sdk's `WebClient.chat_postMessage`, retrying rate limits, 5xx
and dropped connections a few times (waiting what Slack's `Retry-After` asks, or backing off),
and turns Slack's answers into `DeliveryError`s that say whether a retry can ever help.
"""

from __future__ import annotations

import logging
import random
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from watcher.clock import SYSTEM, Clock
from watcher.errors import DeliveryError
from watcher.models import Alert
from watcher.secrets import read_secret
from watcher.settings import SlackSettings

if TYPE_CHECKING:
    from watcher.render import SlackMessage

# The renderer is imported when there is something to render: most runs have nothing to say.

MAX_RETRY_AFTER = 60.0  # seconds; Slack asking for longer: the alert waits for the next run

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
        "thread_not_found",
        "message_not_found",
    }
)


@dataclass(frozen=True)
class Posted:
    """Where a message landed: Slack's channel ID and message ts (None on stdout)."""

    channel: str | None
    ts: str | None


class Poster(Protocol):
    """Something that can publish alerts."""

    name: str
    threads: bool  # can reply in threads (and so can group alerts under a digest)

    def post_alert(
        self, alert: Alert, *, thread: tuple[str, str] | None, broadcast: bool = False
    ) -> Posted: ...

    def post_message(
        self, channel: str, message: SlackMessage, thread_ts: str | None = None
    ) -> Posted: ...


class StdoutPoster:
    """The embedded default: with no Slack token, alerts are printed for a person to read."""

    name = "stdout"
    threads = False

    def __init__(self, out: TextIO | None = None):
        self.out = out or sys.stdout

    def post_alert(
        self, alert: Alert, *, thread: tuple[str, str] | None, broadcast: bool = False
    ) -> Posted:
        from watcher.plaintext import render_text

        print(render_text(alert, alert.channel), file=self.out, end="\n\n", flush=True)
        return Posted(None, None)

    def post_message(
        self, channel: str, message: SlackMessage, thread_ts: str | None = None
    ) -> Posted:
        print(message.text, file=self.out, end="\n\n", flush=True)
        return Posted(None, None)


class SlackPoster:
    """chat.postMessage through slack-sdk's WebClient, with retry handlers whose waits go
    through watcher's clock (so a stop request cuts them short, and tests never wait)."""

    name = "slack"
    threads = True

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        settings: SlackSettings | None = None,
        clock: Clock = SYSTEM,
        render: Callable[[Alert], SlackMessage] | None = None,
    ):
        from slack_sdk import WebClient

        settings = settings or SlackSettings(channel="")
        kwargs: dict[str, Any] = {"token": token, "timeout": settings.timeout}
        if base_url:
            kwargs["base_url"] = base_url
        # slack-sdk logs every failed request at ERROR with no context; our report says it
        # better. Its own logger, quieted: nobody else's logging changes.
        self.client = WebClient(
            **kwargs,
            retry_handlers=_retry_handlers(settings.retries, settings.retry_wait, clock),
            logger=quiet_slack_logger(),
        )
        if render is None:
            from watcher.render import render_slack

            render = render_slack
        self.render = render

    def post_alert(
        self, alert: Alert, *, thread: tuple[str, str] | None, broadcast: bool = False
    ) -> Posted:
        channel = thread[0] if thread else alert.channel
        return self._post(channel, self.render(alert), thread[1] if thread else None, broadcast)

    def post_message(
        self, channel: str, message: SlackMessage, thread_ts: str | None = None
    ) -> Posted:
        return self._post(channel, message, thread_ts, False)

    def _post(
        self, channel: str, message: SlackMessage, thread_ts: str | None, broadcast: bool
    ) -> Posted:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=[dict(b) for b in message.blocks],
                thread_ts=thread_ts,
                reply_broadcast=True if thread_ts and broadcast else None,
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


def make_poster(
    settings: SlackSettings, environ: Mapping[str, str], clock: Clock = SYSTEM
) -> Poster:
    """Slack when a token is set (SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_FILE), else standard
    output, the embedded default."""
    token = read_secret("SLACK_BOT_TOKEN", environ)
    if token:
        return SlackPoster(
            token,
            base_url=environ.get("SLACK_API_URL") or None,
            settings=settings,
            clock=clock,
        )
    return StdoutPoster()


def _error_code(response: Any) -> str | None:
    try:
        data = response.data
    except AttributeError:
        return None
    if isinstance(data, dict):
        error = data.get("error")
        return str(error) if error else None
    return None


def quiet_slack_logger() -> logging.Logger:
    logger = logging.getLogger("watcher.slack_sdk")
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    return logger


def _retry_handlers(retries: int, wait: float, clock: Clock) -> list[Any]:
    """slack-sdk's connection, rate-limit and server-error handlers, waiting through `clock`."""
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        ServerErrorRetryHandler,
    )
    from slack_sdk.http_retry.handler import RetryHandler
    from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator

    class Backoff(RetryIntervalCalculator):
        def calculate_sleep_duration(self, current_attempt: int) -> float:
            return float(wait * (2**current_attempt) * (1 + random.random() / 4))

    def clocked(handler_class: type[Any]) -> Any:
        class Clocked(handler_class):  # type: ignore[misc]
            def prepare_for_next_attempt(self, *, state: Any, **kwargs: Any) -> None:
                state.next_attempt_requested = True
                clock.sleep(
                    self.interval_calculator.calculate_sleep_duration(state.current_attempt)
                )
                state.increment_current_attempt()

        return Clocked(max_retry_count=retries, interval_calculator=Backoff())

    class RateLimited(RetryHandler):
        """429: wait what Slack's Retry-After says (within reason), then try again."""

        def _can_retry(self, *, response: Any = None, **kwargs: Any) -> bool:
            return response is not None and response.status_code == 429

        def prepare_for_next_attempt(
            self, *, state: Any, response: Any = None, **kwargs: Any
        ) -> None:
            headers = {k.lower(): v for k, v in (response.headers if response else {}).items()}
            values = headers.get("retry-after") or []
            try:
                seconds = float(values[0] if isinstance(values, list) else values)
            except (IndexError, TypeError, ValueError):
                seconds = wait
            if seconds > MAX_RETRY_AFTER:
                state.next_attempt_requested = False
                return
            state.next_attempt_requested = True
            clock.sleep(seconds)
            state.increment_current_attempt()

    return [
        clocked(ConnectionErrorRetryHandler),
        RateLimited(max_retry_count=retries),
        clocked(ServerErrorRetryHandler),
    ]

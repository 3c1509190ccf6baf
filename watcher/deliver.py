"""Draining the outbox: to Slack when a token is set, else to standard output.

An alert is marked sent only once Slack answered ok, in its own transaction right after the
answer, so the only window for a double post is between Slack accepting a message and that
commit. Transient failures (rate limits after slack-sdk's own retries, 5xx, network errors)
leave the alert pending for the next run and stop this drain, since Slack is evidently not
taking messages; permanent ones (a bad token, a missing channel) mark it failed with the reason.

On Slack, a run's first checks of several sources are one message per channel; more top-level
alerts for a channel than `slack.digest_threshold` become one digest listing them all, with
each alert's details in the digest's thread (the digest is recorded before it is posted, so a
run killed half-way finishes the same thread next time). An update about something already
posted is a reply in its thread, broadcast to the channel when it matters (a publication, a
withdrawal, a correction).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from watcher import stopping
from watcher.errors import DeliveryError
from watcher.models import Alert, AlertEvent
from watcher.store import OutboxEntry, Store

if TYPE_CHECKING:
    from watcher.render import SlackMessage

# The renderer is imported when there is something to render: most runs have nothing to say.

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
    """Something that can publish alerts."""

    name: str
    threads: bool  # can reply in threads (and so can group alerts under a digest)

    def post_alert(
        self, alert: Alert, *, thread: tuple[str, str] | None, broadcast: bool = False
    ) -> Posted: ...

    def post_message(self, channel: str, message: SlackMessage) -> Posted: ...


class StdoutPoster:
    """The embedded default: with no Slack token, alerts are printed for a person to read."""

    name = "stdout"
    threads = False

    def __init__(self, out: TextIO | None = None):
        self.out = out or sys.stdout

    def post_alert(
        self, alert: Alert, *, thread: tuple[str, str] | None, broadcast: bool = False
    ) -> Posted:
        from watcher.render import render_text

        print(render_text(alert, alert.channel), file=self.out, end="\n\n", flush=True)
        return Posted(None, None)

    def post_message(self, channel: str, message: SlackMessage) -> Posted:
        print(message.text, file=self.out, end="\n\n", flush=True)
        return Posted(None, None)


class SlackPoster:
    """chat.postMessage through slack-sdk's WebClient, with its retry handlers on."""

    name = "slack"
    threads = True

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        render: Callable[[Alert], SlackMessage] | None = None,
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
        if render is None:
            from watcher.render import render_slack

            render = render_slack
        self.render = render

    def post_alert(
        self, alert: Alert, *, thread: tuple[str, str] | None, broadcast: bool = False
    ) -> Posted:
        channel = thread[0] if thread else alert.channel
        return self._post(channel, self.render(alert), thread[1] if thread else None, broadcast)

    def post_message(self, channel: str, message: SlackMessage) -> Posted:
        return self._post(channel, message, None, False)

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
    digests: int = 0  # digest messages posted this drain
    errors: tuple[str, ...] = ()


class _Stop(Exception):
    """Slack is not taking messages now; the rest waits for the next run."""


class _Drain:
    """One pass over the outbox. See the module docstring for the rules."""

    def __init__(
        self,
        store: Store,
        poster: Poster,
        now: Callable[[], datetime],
        digest_threshold: int,
        ops_channel: str | None = None,
    ):
        self.ops_channel = ops_channel
        self.store = store
        self.poster = poster
        self.now = now
        self.threshold = digest_threshold
        self.sent = self.failed = self.digests = self.notices_queued = 0
        self.errors: list[str] = []

    def run(self) -> DeliveryReport:
        try:
            self._pass()
            # Slack refusing an alert for good queues a notice for operations: send it now.
            if self.notices_queued:
                self.notices_queued = 0
                self._pass()
        except _Stop:
            pass
        pending = len(self.store.pending())
        return DeliveryReport(self.sent, self.failed, pending, self.digests, tuple(self.errors))

    def _pass(self) -> None:
        entries = self.store.pending()
        if self.poster.threads:
            entries = self._baselines(entries)
            self._group_into_digests(entries)
            entries = self.store.pending()
            for digest_id in sorted({e.digest_id for e in entries if e.digest_id}):
                self._digest(digest_id, [e for e in entries if e.digest_id == digest_id])
            entries = [e for e in self.store.pending() if e.digest_id is None]
        for entry in entries:
            self._one(entry)

    # -- the pieces -----------------------------------------------------------------------

    def _baselines(self, entries: list[OutboxEntry]) -> list[OutboxEntry]:
        """Several sources' first checks for one channel become one message."""
        groups: dict[str, list[OutboxEntry]] = {}
        for entry in entries:
            if entry.alert.event is AlertEvent.BASELINE and entry.digest_id is None:
                groups.setdefault(entry.alert.channel, []).append(entry)
        merged = {e.id for group in groups.values() if len(group) > 1 for e in group}
        for channel, group in groups.items():
            if len(group) > 1:
                from watcher.render import render_baselines

                message = render_baselines([e.alert for e in group])
                self._post_many(group, partial(self.poster.post_message, channel, message))
        return [e for e in entries if e.id not in merged]

    def _group_into_digests(self, entries: list[OutboxEntry]) -> None:
        """More top-level alerts for a channel than the threshold: one digest lists them."""
        by_channel: dict[str, list[OutboxEntry]] = {}
        for entry in entries:
            alert = entry.alert
            if entry.digest_id is not None or alert.event is AlertEvent.BASELINE:
                continue
            if alert.thread_key and self.store.thread_root(alert.thread_key, alert.channel):
                continue  # an update in a thread of its own, not news for the digest
            by_channel.setdefault(alert.channel, []).append(entry)
        for channel, group in by_channel.items():
            if len(group) > self.threshold:
                self.store.create_digest(channel, [e.id for e in group], self.now())

    def _digest(self, digest_id: int, members: list[OutboxEntry]) -> None:
        digest = self.store.digest(digest_id)
        if digest.status == "pending":
            from watcher.render import render_digest

            message = render_digest([e.alert for e in members], digest.channel)
            try:
                posted = self.poster.post_message(digest.channel, message)
            except DeliveryError as exc:
                if exc.permanent:
                    self.store.mark_digest_failed(digest_id, str(exc))
                    self.errors.append(f"digest for {digest.channel} refused: {exc}")
                    return
                for entry in members:
                    self.store.mark_attempt(
                        entry.id, now=self.now(), error=str(exc), permanent=False
                    )
                self.errors.append(f"digest for {digest.channel} left pending: {exc}")
                raise _Stop from None
            self.store.mark_digest_sent(
                digest_id, now=self.now(), slack_channel=posted.channel, ts=posted.ts
            )
            self.digests += 1
            digest = self.store.digest(digest_id)
        thread = (digest.slack_channel or digest.channel, digest.slack_ts or "")
        for entry in members:
            self._one(entry, thread=thread)

    def _one(self, entry: OutboxEntry, thread: tuple[str, str] | None = None) -> None:
        alert = entry.alert
        broadcast = False
        if thread is None and alert.thread_key and self.poster.threads:
            thread = self.store.thread_root(alert.thread_key, alert.channel)
            broadcast = alert.event in BROADCAST
        self._post_many(
            [entry],
            lambda: self.poster.post_alert(alert, thread=thread, broadcast=broadcast),
            thread_ts=thread[1] if thread else None,
        )

    def _post_many(
        self,
        entries: list[OutboxEntry],
        post: Callable[[], Posted],
        thread_ts: str | None = None,
    ) -> None:
        """Post once for these entries; record the outcome on each of them."""
        if stopping.requested():
            raise _Stop
        try:
            posted = post()
        except DeliveryError as exc:
            for entry in entries:
                self.store.mark_attempt(
                    entry.id, now=self.now(), error=str(exc), permanent=exc.permanent
                )
            names = ", ".join(sorted({e.alert.source for e in entries}))
            ids = ", ".join(str(e.id) for e in entries)
            if exc.permanent:
                self.failed += len(entries)
                self.errors.append(f"alert {ids} ({names}) failed for good: {exc}")
                self._tell_operations(entries[0].alert, exc)
                return
            self.errors.append(f"alert {ids} ({names}) left pending: {exc}")
            raise _Stop from None
        for entry in entries:
            self.store.mark_sent(
                entry.id,
                now=self.now(),
                slack_channel=posted.channel,
                ts=posted.ts,
                thread_ts=thread_ts,
            )
        self.sent += len(entries)

    def _tell_operations(self, alert: Alert, exc: DeliveryError) -> None:
        """Once per channel and error: a notice in the operations channel, where Slack works."""
        if alert.event is AlertEvent.HEALTH:
            return  # a notice that cannot be posted is not itself worth a notice
        notice = Alert(
            source=alert.source,
            source_kind=alert.source_kind,
            event=AlertEvent.HEALTH,
            channel=self.ops_channel or alert.channel,
            title=f"Slack refuses alerts for {alert.channel}",
            note=f"Slack answered {exc.code or exc}: alerts for {alert.channel} are kept as "
            "failed in the state (see `watcher status` and `watcher history`). Invite the bot "
            "to the channel or fix the token, then they can be posted again.",
        )
        if self.store.ops_notice_once(f"slack:{alert.channel}:{exc.code}", notice, self.now()):
            self.notices_queued += 1


def drain(
    store: Store,
    poster: Poster,
    *,
    now: Callable[[], datetime],
    digest_threshold: int = 5,
    ops_channel: str | None = None,
) -> DeliveryReport:
    """Deliver every pending alert, oldest first; see the module docstring for failures."""
    return _Drain(store, poster, now, digest_threshold, ops_channel).run()

"""Draining the outbox to a poster (Slack, or standard output).

An alert is marked sent only once Slack answered ok, in its own transaction right after the
answer, so the only window for a double post is between Slack accepting a message and that
commit. Transient failures (rate limits after the poster's own retries, 5xx, network errors)
leave the alert pending for the next run and stop delivery for this run, since Slack is
evidently not taking messages; permanent ones (a bad token, a missing channel) mark it failed
with the reason.

The run drains each source's alerts as soon as that source is committed, and everything
left at the end. On Slack, first checks of several sources are one message per channel (held
for the end of the run); more top-level alerts for a channel than `slack.digest_threshold`
become one digest listing them all, with each alert's details in the digest's thread (the
digest is recorded before it is posted, so a run killed half-way finishes the same thread next
time). An update about something already posted is a reply in its thread, broadcast to the
channel when it matters (a publication, a withdrawal, a correction); when that thread's first
message was deleted, the update starts afresh as a top-level message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from watcher import stopping
from watcher.clock import Clock
from watcher.errors import DeliveryError
from watcher.models import Alert, AlertEvent
from watcher.outbox import Outbox, OutboxEntry
from watcher.posters import Posted, Poster
from watcher.settings import SlackSettings

log = logging.getLogger(__name__)

# Thread replies important enough to show in the channel too.
BROADCAST = frozenset({AlertEvent.PUBLISHED, AlertEvent.WITHDRAWN, AlertEvent.CORRECTION})
# What Slack answers a reply whose thread is gone: post it top-level instead.
THREAD_GONE = frozenset({"thread_not_found", "message_not_found", "invalid_thread_ts"})


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # permanently refused this drain
    pending: int = 0  # still waiting after this drain
    digests: int = 0  # digest messages posted this drain
    errors: tuple[str, ...] = ()
    stopped: bool = False  # Slack was not taking messages: the rest waits for the next run

    def __add__(self, later: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.sent + later.sent,
            self.failed + later.failed,
            later.pending,
            self.digests + later.digests,
            self.errors + later.errors,
            self.stopped or later.stopped,
        )


class _Stop(Exception):
    """Slack is not taking messages now (or a stop was requested); the rest waits."""


@dataclass(frozen=True)
class Delivery:
    """How to deliver: the settings one drain needs."""

    poster: Poster
    clock: Clock
    digest_threshold: int = 5
    ops_channel: str | None = None
    flood_cap: int = 50  # full alerts in one digest's thread; the rest are listed

    @classmethod
    def configured(cls, slack: SlackSettings, poster: Poster, clock: Clock) -> Delivery:
        """Delivery as the configuration's `slack:` section sets it."""
        return cls(
            poster,
            clock,
            digest_threshold=slack.digest_threshold,
            ops_channel=slack.operations,
            flood_cap=slack.flood_cap,
        )


def drain(
    outbox: Outbox,
    delivery: Delivery,
    *,
    sources: Iterable[str] | None = None,
    hold_baselines: bool = False,
) -> DeliveryReport:
    """Deliver pending alerts, oldest first: all, or those of these sources. With
    `hold_baselines`, first-check lines wait for a later drain (to become one message)."""
    return _Drain(outbox, delivery, sources, hold_baselines).run()


class _Drain:
    """One pass over the outbox. See the module docstring for the rules."""

    def __init__(
        self,
        outbox: Outbox,
        delivery: Delivery,
        sources: Iterable[str] | None,
        hold_baselines: bool,
    ):
        self.outbox = outbox
        self.poster = delivery.poster
        self.now = delivery.clock.now
        self.threshold = delivery.digest_threshold
        self.ops_channel = delivery.ops_channel
        self.flood_cap = delivery.flood_cap
        self.sources = None if sources is None else list(sources)
        self.hold_baselines = hold_baselines
        self.sent = self.failed = self.digests = self.notices_queued = 0
        self.errors: list[str] = []

    def run(self) -> DeliveryReport:
        stopped = False
        try:
            self._pass()
            # Slack refusing an alert for good queues a notice for operations: send it now.
            # (It carries the refused alert's source, so a drain of that source sends it.)
            if self.notices_queued:
                self.notices_queued = 0
                self._pass()
        except _Stop:
            stopped = True
        pending = self.outbox.count_pending()
        return DeliveryReport(
            self.sent, self.failed, pending, self.digests, tuple(self.errors), stopped
        )

    def _pending(self) -> list[OutboxEntry]:
        return self.outbox.pending(self.sources, baselines=not self.hold_baselines)

    def _pass(self) -> None:
        entries = self._pending()
        if self.poster.threads:
            entries = self._baselines(entries)
            self._group_into_digests(entries)
            entries = self._pending()
            for digest_id in sorted({e.digest_id for e in entries if e.digest_id}):
                self._digest(digest_id, [e for e in entries if e.digest_id == digest_id])
            entries = [e for e in self._pending() if e.digest_id is None]
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
            if alert.thread_key and self.outbox.thread_root(alert.thread_key, alert.channel):
                continue  # an update in a thread of its own, not news for the digest
            by_channel.setdefault(alert.channel, []).append(entry)
        for channel, group in by_channel.items():
            if len(group) > self.threshold:
                self.outbox.create_digest(channel, [e.id for e in group], self.now())

    def _digest(self, digest_id: int, members: list[OutboxEntry]) -> None:
        digest = self.outbox.digest(digest_id)
        if digest.status == "pending":
            from watcher.render import render_digest

            message = render_digest([e.alert for e in members], digest.channel)
            try:
                posted = self.poster.post_message(digest.channel, message)
            except DeliveryError as exc:
                if exc.permanent:
                    self.outbox.mark_digest_failed(digest_id, str(exc))
                    self.errors.append(f"digest for {digest.channel} refused: {exc}")
                    return
                for entry in members:
                    self.outbox.mark_attempt(
                        entry.id, now=self.now(), error=str(exc), permanent=False
                    )
                self.errors.append(f"digest for {digest.channel} left pending: {exc}")
                raise _Stop from None
            self.outbox.mark_digest_sent(
                digest_id, now=self.now(), slack_channel=posted.channel, ts=posted.ts
            )
            self.digests += 1
            digest = self.outbox.digest(digest_id)
        thread = (digest.slack_channel or digest.channel, digest.slack_ts or "")
        # A flood (10,000 documents in one run) would be hours of Slack's rate limit: the
        # thread gets `flood_cap` full alerts, then one message listing the rest.
        room = max(0, self.flood_cap - self.outbox.sent_in_digest(digest_id))
        for entry in members[:room]:
            self._one(entry, thread=thread)
        if members[room:]:
            self._overflow(members[room:], thread)

    def _overflow(self, entries: list[OutboxEntry], thread: tuple[str, str]) -> None:
        """The alerts past the flood cap: one message in the digest's thread lists them (all
        of them stay in the state; `watcher history` shows each)."""
        from watcher.render import render_overflow

        message = render_overflow([e.alert for e in entries])
        self._post_many(
            entries,
            partial(self.poster.post_message, thread[0], message, thread_ts=thread[1]),
            thread=[thread],
        )

    def _one(self, entry: OutboxEntry, thread: tuple[str, str] | None = None) -> None:
        alert = entry.alert
        broadcast = False
        if thread is None and alert.thread_key and self.poster.threads:
            thread = self.outbox.thread_root(alert.thread_key, alert.channel)
            broadcast = alert.event in BROADCAST or alert.broadcast

        replied_in = [thread]

        def post() -> Posted:
            try:
                return self.poster.post_alert(alert, thread=thread, broadcast=broadcast)
            except DeliveryError as exc:
                if thread is None or exc.code not in THREAD_GONE:
                    raise
                # The thread's first message was deleted: start the story afresh.
                log.info("thread of %s is gone (%s); posting top-level", alert.thread_key, exc)
                replied_in[0] = None
                return self.poster.post_alert(alert, thread=None)

        self._post_many([entry], post, thread=replied_in)

    def _post_many(
        self,
        entries: list[OutboxEntry],
        post: Callable[[], Posted],
        thread: list[tuple[str, str] | None] | None = None,
    ) -> None:
        """Post once for these entries; record the outcome on each of them. `thread` holds
        the thread the post went into, as the post itself found it."""
        if stopping.requested():
            raise _Stop
        try:
            posted = post()
        except DeliveryError as exc:
            for entry in entries:
                self.outbox.mark_attempt(
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
            self.outbox.mark_sent(
                entry.id,
                now=self.now(),
                slack_channel=posted.channel,
                ts=posted.ts,
                thread_ts=thread[0][1] if thread and thread[0] else None,
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
            "to the channel or fix the token, then `watcher retry` posts them.",
        )
        if self.outbox.ops_notice_once(f"slack:{alert.channel}:{exc.code}", notice, self.now()):
            self.notices_queued += 1

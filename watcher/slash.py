"""`watcher serve`: a manual recheck from Slack, `/watcher check NAME` and `/watcher status`.

Every request must carry Slack's signature over its raw body, made less than five minutes
ago, or it is refused with 401. Only configured source names are accepted (never URLs), and
optionally only some users and channels. Slack wants an answer within 3 seconds, so a check
is acknowledged at once and run in the background, one at a time and under the same lock as
`watcher run`; its outcome is posted to the command's `response_url`.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from watcher import USER_AGENT, __version__
from watcher.clock import SYSTEM, Clock
from watcher.httpserver import ServerLimits, serve
from watcher.posters import Poster
from watcher.render import escape
from watcher.settings import Config
from watcher.sources import Registry

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
HELP = "Try `/watcher check NAME` to recheck a source now, or `/watcher status`. Sources: {names}"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Mapping[str, Any]

    def encoded(self) -> bytes:
        return json.dumps(self.body).encode()


def ephemeral(text: str) -> Answer:
    return Answer(200, {"response_type": "ephemeral", "text": text})


class SlashCommands:
    """The endpoint's logic, apart from the HTTP server, so it can be tested as a function."""

    def __init__(
        self,
        config: Config,
        state_dir: Path,
        signing_secret: str,
        *,
        registry: Registry,
        poster_factory: Callable[[], Poster],
        clock: Clock = SYSTEM,
        respond: Callable[[str, Mapping[str, Any]], None] | None = None,
    ):
        from slack_sdk.signature import SignatureVerifier

        self.config = config
        self.state_dir = state_dir
        self.registry = registry
        self.clock = clock
        self.verifier = SignatureVerifier(signing_secret)
        self.poster_factory = poster_factory
        self.respond = respond or post_response
        self.jobs: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.worker = threading.Thread(target=self._work, name="slash-checks", daemon=True)
        self.worker.start()

    # -- requests -------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        route = urlsplit(path).path.rstrip("/") or "/"
        if method == "GET" and route == "/healthz":
            return Answer(200, {"ok": True, "version": __version__})
        if route != "/slack/commands":
            return Answer(404, {"error": "not found"})
        if method != "POST":
            return Answer(405, {"error": "POST only"})
        if not self._signed(headers, body):
            return Answer(401, {"error": "invalid or stale signature"})
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        return self.command(form)

    def _signed(self, headers: Mapping[str, str], body: bytes) -> bool:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            return bool(
                self.verifier.is_valid(
                    body=body,
                    timestamp=lowered.get("x-slack-request-timestamp"),
                    signature=lowered.get("x-slack-signature"),
                )
            )
        except (ValueError, TypeError):
            return False

    def command(self, form: Mapping[str, str]) -> Answer:
        slack = self.config.slack
        user, channel = form.get("user_id", ""), form.get("channel_id", "")
        if slack.allowed_users and user not in slack.allowed_users:
            return ephemeral("Sorry, you are not on the list of people who can use /watcher.")
        if slack.allowed_channels and channel not in slack.allowed_channels:
            return ephemeral("/watcher cannot be used in this channel.")
        words = form.get("text", "").split()
        names = ", ".join(self.config.names)
        if not words or words[0] in ("help", "?"):
            return ephemeral(HELP.format(names=names))
        if words[0] == "status":
            return ephemeral(self._status())
        if words[0] == "check" and len(words) == 2:
            name = words[1]
            if name not in self.config.names:
                return ephemeral(f"There is no source named `{escape(name)}`. Sources: {names}")
            response_url = form.get("response_url", "")
            if urlsplit(response_url).scheme not in ("http", "https"):
                return ephemeral("Slack sent no response_url; cannot report the result.")
            self.jobs.put((name, response_url))
            return ephemeral(f"Checking `{name}` now; the result will follow here.")
        return ephemeral(HELP.format(names=names))

    # -- work -----------------------------------------------------------------------------

    def _status(self) -> str:
        from watcher.overview import read_overview, slack_lines
        from watcher.store import Store

        store = Store.open_readonly(self.state_dir)
        try:
            seen = read_overview(store, self.config.names)
        finally:
            store.close()
        return "\n".join(slack_lines(seen, escape))

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            name, response_url = job
            try:
                text = self.check(name)
            except Exception as exc:  # the answer must reach the person who asked
                log.exception("manual check of %s failed", name)
                text = f"The check of `{name}` could not run: {escape(str(exc))}"
            try:
                self.respond(response_url, {"response_type": "ephemeral", "text": text})
            except Exception:
                log.exception("could not answer the slash command for %s", name)

    def check(self, name: str) -> str:
        from watcher.reporting import text_lines
        from watcher.runner import run

        report = run(
            self.config,
            self.state_dir,
            registry=self.registry,
            names=[name],
            poster=self.poster_factory(),
            clock=self.clock,
            command=f"slash check {name}",
        )
        if report.busy:
            return "Another run is in progress; try again in a minute."
        return "\n".join(escape(line) for line in text_lines(report)) or f"`{name}` checked."

    def close(self) -> None:
        self.jobs.put(None)
        self.worker.join(timeout=5)


def post_response(url: str, payload: Mapping[str, Any]) -> None:
    """Answer a slash command through its response_url."""
    httpx.post(
        url,
        json=dict(payload),
        timeout=10.0,
        headers={"User-Agent": USER_AGENT},
    )


def serve_http(app: SlashCommands, host: str, port: int) -> None:
    """Serve until a stop is requested (see `watcher.httpserver` for the limits)."""

    def handle(
        method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, Any]]:
        answer = app.handle(method, path, headers, body)
        return answer.status, answer.body

    try:
        serve(handle, host, port, ServerLimits(max_body=MAX_BODY))
    finally:
        app.close()

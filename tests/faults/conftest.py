"""Helpers for fault tests: the real CLI in a child process, so it can be killed."""

from __future__ import annotations

import subprocess
import threading
from typing import Any

from werkzeug import Request, Response

from tests.conftest import Workspace
from tests.fakes import FakeSlack


def spawn(workspace: Workspace, *args: str) -> subprocess.Popen[str]:
    return workspace.spawn(*args)


class GatedSlack:
    """Wraps the fake Slack so that one chosen post waits until the test lets it go, and
    then either reaches Slack (accepted) or not (the connection died first)."""

    def __init__(self, slack: FakeSlack, hold_post: int):
        self.slack = slack
        self.hold_post = hold_post
        self.posts = 0
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.accept_held = True
        original = slack._post

        def handler(request: Request) -> Any:
            self.posts += 1
            if self.posts == self.hold_post:
                self.arrived.set()
                self.release.wait(30)
                if not self.accept_held:
                    return Response("gone", status=503)
            return original(request)

        slack.server.clear()
        slack.server.expect_request("/api/chat.postMessage", method="POST").respond_with_handler(
            handler
        )

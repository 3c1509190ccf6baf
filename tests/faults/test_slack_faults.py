"""Slack faults: transient ones leave alerts pending until Slack takes them, once; permanent
ones are recorded with the reason, shown in status, and reported once to operations."""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import Workspace, fr_config, fr_document, notice
from tests.fakes import FakeFederalRegister, FakeSlack

OPS = '  digest_threshold: 1000\n  ops_channel: "#watcher-ops"\n  timeout: 0.3\n'


def setup(workspace: Workspace, fr: FakeFederalRegister, slack: FakeSlack) -> None:
    fr.add(notice("2025-00001", "Fisheries of the Northeastern United States", "2025-07-01"))
    workspace.write_config(
        fr_config(fr.url).replace(
            '  channel: "#trade-alerts"\n', '  channel: "#trade-alerts"\n' + OPS
        )
    )
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0


def publish(fr: FakeFederalRegister, count: int = 3) -> list[str]:
    numbers = [f"2025-8{n:04d}" for n in range(count)]
    fr.add(*(fr_document(n, f"Adjusting Imports of Article {n}", "2025-07-02") for n in numbers))
    return numbers


def delivered(slack: FakeSlack, numbers: list[str]) -> dict[str, int]:
    return {n: len([m for m in slack.messages if n in json.dumps(m)]) for n in numbers}


@pytest.mark.parametrize(
    ("status", "error", "headers"),
    [
        (429, "ratelimited", {"Retry-After": "1"}),
        (500, None, {}),
        (502, None, {}),
        (503, "service_unavailable", {}),
        (200, "internal_error", {}),
        (200, "fatal_error", {}),
    ],
)
def test_transient_slack_errors_leave_alerts_pending_then_deliver_once(
    workspace, fr, slack, status, error, headers
):
    setup(workspace, fr, slack)
    numbers = publish(fr)
    slack.fail(6, status=status, error=error, headers=headers)
    first = workspace.cli("run")
    assert first.exit_code == 1
    assert "left pending" in first.stderr
    assert json.loads(workspace.cli("status", "--json").stdout)["alerts"]["pending"] == 3
    while slack.failures:  # Slack recovers
        slack.failures.pop()
    second = workspace.cli("run")
    assert second.exit_code == 0, second.stderr
    assert delivered(slack, numbers) == dict.fromkeys(numbers, 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_slack_unreachable_then_back(workspace, fr, slack):
    setup(workspace, fr, slack)
    numbers = publish(fr)
    down = workspace.cli("run", env={"SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"})
    assert down.exit_code == 1
    assert "cannot reach Slack" in down.stderr
    assert workspace.cli("run").exit_code == 0
    assert delivered(slack, numbers) == dict.fromkeys(numbers, 1)


def test_slack_timing_out_then_back(workspace, fr, slack):
    import time

    from werkzeug import Response

    setup(workspace, fr, slack)
    numbers = publish(fr)
    original = slack._post
    slow = {"on": True}

    def handler(request):
        if slow["on"]:
            time.sleep(0.6)  # longer than slack.timeout: 0.3
            return Response("too late", status=503)
        return original(request)

    slack.server.clear()
    slack.server.expect_request("/api/chat.postMessage", method="POST").respond_with_handler(
        handler
    )
    timed_out = workspace.cli("run")
    assert timed_out.exit_code == 1
    assert "pending" in timed_out.stderr
    slow["on"] = False
    assert workspace.cli("run").exit_code == 0
    assert delivered(slack, numbers) == dict.fromkeys(numbers, 1)


@pytest.mark.parametrize(
    "error", ["invalid_auth", "channel_not_found", "not_in_channel", "msg_too_long", "is_archived"]
)
def test_permanent_slack_errors_are_recorded_and_reported_once(workspace, fr, slack, error):
    from werkzeug import Response

    setup(workspace, fr, slack)
    numbers = publish(fr)
    original = slack._post

    def refuse_trade_channel(request):
        if request.get_json()["channel"] == "#trade-alerts":
            return Response(
                json.dumps({"ok": False, "error": error}), content_type="application/json"
            )
        return original(request)

    slack.server.clear()
    slack.server.expect_request("/api/chat.postMessage", method="POST").respond_with_handler(
        refuse_trade_channel
    )
    first = workspace.cli("run")
    assert first.exit_code == 1
    assert first.stderr.count(f"failed for good: Slack refused the message: {error}") == 3
    status = workspace.cli("status", "--json")
    assert status.exit_code == 1
    assert json.loads(status.stdout)["alerts"]["failed"] == 3
    explained = workspace.cli("status").stdout
    assert (
        f"3 failed: Slack refused them: {error} (#trade-alerts); `watcher retry` after fixing"
        in explained
    )
    history = json.loads(workspace.cli("history", "--json").stdout)
    assert {h["last_error"] for h in history if h["status"] == "failed"} == {
        f"Slack refused the message: {error}"
    }
    # operations hear about it once, in their channel, where Slack still works
    ops = [m for m in slack.messages if m["channel"] == "#watcher-ops"]
    assert len(ops) == 1 and error in ops[0]["text"]

    second = workspace.cli("run")
    assert second.exit_code == 0, "reported once, not retried forever"
    assert "failed for good" not in second.stderr
    assert len([m for m in slack.messages if m["channel"] == "#watcher-ops"]) == 1
    assert delivered(slack, numbers) == dict.fromkeys(numbers, 0)

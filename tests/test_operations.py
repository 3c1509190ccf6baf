"""Running it like operations does: the scheduler, the slash-command endpoint, health checks,
pings, logs, and the container files."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from werkzeug import Response

from tests.conftest import ROOT, ManualClock, Workspace, fr_config, fr_document, notice
from watcher import stopping
from watcher.config import parse_config
from watcher.lock import RunLock
from watcher.posters import StdoutPoster
from watcher.scheduler import loop, plan
from watcher.slash import Answer, SlashCommands
from watcher.sources import REGISTRY

NY = ZoneInfo("America/New_York")


def sources(extra: str) -> list:
    text = 'slack: {channel: "#t"}\nsources:\n' + extra
    return list(parse_config(text, Path("s.yaml")).sources)


# --- the scheduler ---------------------------------------------------------------------------

SCHEDULED = """\
  - {name: every15, kind: feed, url: "http://127.0.0.1/a", every: 15m}
  - {name: desk, kind: feed, url: "http://127.0.0.1/b", cron: ["45 8 * * 1-5", "15 16 * * 1-5"]}
  - {name: plain, kind: feed, url: "http://127.0.0.1/c"}
  - {name: disabled-one, kind: feed, url: "http://127.0.0.1/d", enabled: false}
"""


def test_everything_never_checked_is_due_and_disabled_sources_never_are():
    now = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    result = plan(sources(SCHEDULED), {}, now, default_every=timedelta(minutes=30), zone=NY)
    assert result.due == ("every15", "desk", "plain")


def test_next_runs_follow_every_cron_and_the_default():
    now = datetime(2026, 12, 1, 13, 40, tzinfo=UTC)  # Tuesday 08:40 in New York
    last = {
        "every15": now - timedelta(minutes=10),
        "desk": now - timedelta(hours=2),
        "plain": now - timedelta(minutes=29),
    }
    result = plan(sources(SCHEDULED), last, now, default_every=timedelta(minutes=30), zone=NY)
    assert result.due == ()
    # plain is due at 13:41 (30m default), every15 at 13:45, desk at 08:45 New York = 13:45 UTC
    assert result.wake_at == datetime(2026, 12, 1, 13, 41, tzinfo=UTC)
    later = plan(
        sources(SCHEDULED),
        last,
        now + timedelta(minutes=5),
        default_every=timedelta(minutes=30),
        zone=NY,
    )
    assert later.due == ("every15", "desk", "plain")


def test_cron_times_are_new_york_times_across_daylight_saving():
    (desk,) = sources('  - {name: desk, kind: feed, url: "http://x", cron: "45 8 * * 1-5"}\n')
    summer_last = datetime(2026, 7, 6, 13, 0, tzinfo=UTC)  # Monday 09:00 EDT
    summer = plan(
        [desk], {"desk": summer_last}, summer_last, default_every=timedelta(hours=1), zone=NY
    )
    assert summer.wake_at == datetime(2026, 7, 7, 12, 45, tzinfo=UTC)  # 08:45 EDT
    winter_last = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # Monday 09:00 EST
    winter = plan(
        [desk], {"desk": winter_last}, winter_last, default_every=timedelta(hours=1), zone=NY
    )
    assert winter.wake_at == datetime(2026, 12, 8, 13, 45, tzinfo=UTC)  # 08:45 EST
    friday = datetime(2026, 12, 11, 14, 0, tzinfo=UTC)
    weekend = plan([desk], {"desk": friday}, friday, default_every=timedelta(hours=1), zone=NY)
    assert weekend.wake_at == datetime(2026, 12, 14, 13, 45, tzinfo=UTC)  # Monday


def test_a_bad_cron_or_zone_is_a_config_error(workspace: Workspace):
    workspace.write_config(
        'slack: {channel: "#t"}\nschedule: {timezone: Mars/Olympus}\n'
        'sources:\n  - {name: a, kind: feed, url: "http://x", '
        'cron: "61 * * * *"}\n'
    )
    result = workspace.cli("validate")
    assert result.exit_code == 2
    assert "schedule.timezone: unknown time zone 'Mars/Olympus'" in result.stderr
    assert "cron: not a cron expression '61 * * * *'" in result.stderr


def test_the_scheduler_runs_due_sources_and_never_overlaps_another_run(workspace, fr):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(
        fr_config(fr.url).replace("kind: federal_register", "kind: federal_register\n    every: 1h")
    )
    config = parse_config(workspace.config.read_text(), workspace.config)
    from watcher.posters import StdoutPoster

    said: list[str] = []
    reports = []

    def schedule(**limits: Any) -> None:
        loop(
            config,
            workspace.state,
            registry=REGISTRY,
            poster_factory=StdoutPoster,
            report=reports.append,
            say=said.append,
            **limits,
        )

    with RunLock(workspace.state) as lock:  # another process is running
        assert lock.acquired
        schedule(max_runs=1)
    assert reports[0].busy and fr.requests == []
    assert "another run is in progress; waiting for it" in said

    reports.clear()
    schedule(max_runs=1)
    assert [s.name for s in reports[0].sources] == ["fr-trade"]
    requests = len(fr.requests)

    class StopAfter(ManualClock):
        """Waits without waiting, and asks for a stop once `minutes` have gone by."""

        def __init__(self, minutes: float):
            super().__init__()
            self.minutes = minutes

        def sleep(self, seconds: float) -> bool:
            super().sleep(seconds)
            if self.offset >= timedelta(minutes=self.minutes):
                stopping.request("SIGTERM")
            return stopping.requested()

    stopping.reset()
    schedule(clock=StopAfter(50))  # nothing due for an hour: it waits, then the stop comes
    stopping.reset()
    assert len(fr.requests) == requests, "not checked again before its hour"
    assert said[-1] == "stopped by SIGTERM"
    reports.clear()
    schedule(clock=StopAfter(70), max_runs=1)  # an hour later it is due again
    stopping.reset()
    assert [s.name for s in reports[0].sources] == ["fr-trade"]
    assert len(fr.requests) > requests


def test_watcher_schedule_as_a_process_logs_runs_and_stops_on_sigterm(workspace, fr):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    process = workspace.spawn("schedule")
    deadline = time.monotonic() + 20
    while not fr.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "scheduling 1 sources" in out
    assert re.search(r"fr-trade: ok, baseline, 1 recorded .* \[run 1\]", out)
    assert "stopped by SIGTERM" in out


# --- health, pings, logs ---------------------------------------------------------------------


def test_health_exit_codes(workspace, fr):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    fresh = workspace.cli("status", "--health")
    assert fresh.exit_code == 1 and "unhealthy: no state in" in fresh.stdout
    workspace.cli("run")
    healthy = workspace.cli("status", "--health")
    assert healthy.exit_code == 0 and healthy.stdout.strip() == "healthy"
    workspace.clock.advance(minutes=30)
    assert workspace.cli("check", "fr-trade").exit_code == 0  # a manual check proves nothing
    stale = workspace.cli("status", "--health", "--max-age", "20m")
    assert stale.exit_code == 1 and "more than 20m ago" in stale.stdout
    assert workspace.cli("status", "--health", "--max-age", "1h").exit_code == 0
    fr.status = 500
    for _ in range(3):
        workspace.cli("run")
    failing = workspace.cli("status", "--health", "--json")
    assert failing.exit_code == 1
    (problem,) = json.loads(failing.stdout)["problems"]
    assert problem.startswith("fr-trade has failed 3 checks in a row: GET")


def test_a_ping_url_hears_the_start_and_the_exit_code(workspace, fr, slack_server):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    slack_server.expect_request(re.compile("/ping/.*")).respond_with_data("OK")
    env = {"WATCHER_PING_URL": slack_server.url_for("/ping/abc")}
    assert workspace.cli("run", env=env).exit_code == 0
    fr.status = 500
    assert workspace.cli("run", env=env).exit_code == 1
    assert [r.path for r, _ in slack_server.log] == [
        "/ping/abc/start",
        "/ping/abc/0",
        "/ping/abc/start",
        "/ping/abc/1",
    ]


def test_an_unreachable_ping_url_never_fails_the_run(workspace, fr):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = workspace.cli("run", env={"WATCHER_PING_URL": f"http://127.0.0.1:{port}/x"})
    assert result.exit_code == 0
    assert "could not ping" in result.stderr


def test_json_logs_have_one_line_per_source_per_run(workspace, fr):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    workspace.cli("run")
    fr.add(fr_document("2025-00002", "Adjusting Imports of Tin", "2025-07-02"))
    result = workspace.cli("--log-format", "json", "run")
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert all("ts" in line for line in lines)
    (source,) = [line for line in lines if line.get("event") == "source"]
    assert source["run"] == 2 and source["source"] == "fr-trade"
    assert source["outcome"] == "ok" and source["new"] == 1 and source["alerts"] == 1
    assert "duration_s" in source and "ts" in source
    (delivery,) = [line for line in lines if line.get("event") == "delivery"]
    assert delivery["sent"] == 1


# --- the slash-command endpoint --------------------------------------------------------------

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def signed(body: dict, *, secret: str = SECRET, age: int = 0) -> tuple[bytes, dict]:
    raw = urlencode(body).encode()
    stamp = str(int(time.time()) - age)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256)
    return raw, {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command(
    text: str, response_url: str = "https://hooks.slack.com/x", user: str = "U0LAWYER"
) -> dict:
    return {
        "command": "/watcher",
        "text": text,
        "user_id": user,
        "channel_id": "C0TRADE",
        "response_url": response_url,
        "team_id": "T0",
    }


def slash_config(fr_url: str) -> str:
    return fr_config(fr_url).replace(
        '  channel: "#trade-alerts"\n',
        '  channel: "#trade-alerts"\n  commands: {allowed_users: [U0LAWYER, U0OPS]}\n',
    )


@pytest.fixture
def app(workspace: Workspace, fr):
    """The slash-command handler as a function: requests in, answers out, and the outcome of
    a check collected where Slack's response_url would get it."""
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(slash_config(fr.url))
    config = parse_config(workspace.config.read_text(), workspace.config)
    responses: queue.Queue[tuple[str, dict]] = queue.Queue()
    handler = SlashCommands(
        config,
        workspace.state,
        SECRET,
        registry=REGISTRY,
        poster_factory=lambda: StdoutPoster(io.StringIO()),
        clock=workspace.clock,
        respond=lambda url, payload: responses.put((url, dict(payload))),
    )
    yield handler, responses
    handler.close()


def post(handler: SlashCommands, body: bytes, headers: dict) -> Answer:
    return handler.handle("POST", "/slack/commands", headers, body)


def test_healthz_and_unknown_paths(app):
    handler, _ = app
    answer = handler.handle("GET", "/healthz", {}, b"")
    assert answer.status == 200 and answer.body["ok"] is True
    assert handler.handle("GET", "/admin", {}, b"").status == 404
    assert handler.handle("GET", "/slack/commands", {}, b"").status == 405


def test_a_signed_check_is_acknowledged_and_its_outcome_posted_back(app, fr):
    handler, responses = app
    answer = post(handler, *signed(command("check fr-trade")))
    assert answer.status == 200
    assert answer.body["text"] == "Checking `fr-trade` now; the result will follow here."
    url, posted = responses.get(timeout=20)
    assert url == "https://hooks.slack.com/x"
    assert posted["response_type"] == "ephemeral"
    assert "fr-trade: ok, baseline, 1 recorded" in posted["text"]
    assert fr.requests, "the check really ran"


def test_forged_stale_and_unsigned_requests_are_refused(app, fr):
    handler, responses = app
    payload = command("check fr-trade")
    forged = signed(payload, secret="not-the-secret")
    stale = signed(payload, age=600)
    for body, headers in (forged, stale, (urlencode(payload).encode(), {})):
        assert post(handler, body, headers).status == 401
    body, headers = signed(payload)
    assert post(handler, body.replace(b"fr-trade", b"fr-trad3"), headers).status == 401
    assert handler.jobs.empty() and responses.empty() and fr.requests == []


@pytest.mark.parametrize(
    "text", ["check nope", "check https://evil.example/feed", "check ../../etc/passwd"]
)
def test_only_configured_source_names_are_checked(app, fr, text):
    handler, _ = app
    answer = post(handler, *signed(command(text)))
    assert answer.status == 200
    assert answer.body["text"].startswith("There is no source named")
    assert "fr-trade" in answer.body["text"]
    assert handler.jobs.empty() and fr.requests == []


def test_only_allowed_users_may_check(app, fr):
    handler, _ = app
    answer = post(handler, *signed(command("check fr-trade", user="U0INTRUDER")))
    assert "not on the list" in answer.body["text"]
    assert handler.jobs.empty() and fr.requests == []


def test_status_from_slack(app, workspace):
    handler, _ = app
    workspace.cli("run")
    answer = post(handler, *signed(command("status")))
    assert "`fr-trade`: ok" in answer.body["text"]


def test_watcher_serve_answers_over_http(workspace: Workspace, fr, slack_server):
    """The one end-to-end test: `watcher serve` as a process, a signed check over HTTP, and
    its outcome posted back to the response_url."""
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(slash_config(fr.url))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = workspace.spawn(
        "serve", "--host", "127.0.0.1", "--port", str(port), env={"SLACK_SIGNING_SECRET": SECRET}
    )
    base = f"http://127.0.0.1:{port}"
    arrived = threading.Event()
    slack_server.expect_request("/commands/response").respond_with_handler(
        lambda request: (arrived.set(), Response("ok"))[1]
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                assert httpx.get(base + "/healthz", timeout=1).json()["ok"] is True
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        body, headers = signed(
            command("check fr-trade", slack_server.url_for("/commands/response"))
        )
        started = time.monotonic()
        answer = httpx.post(base + "/slack/commands", content=body, headers=headers)
        assert time.monotonic() - started < 3, "Slack wants an answer within 3 seconds"
        assert answer.json()["text"] == "Checking `fr-trade` now; the result will follow here."
        assert arrived.wait(20)
        ((request, _),) = slack_server.log
        assert "fr-trade: ok, baseline, 1 recorded" in json.loads(request.get_data())["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert process.returncode == 0


# --- the container files ---------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_the_dockerfile_pins_its_base_runs_unprivileged_and_enters_watcher():
    instructions = dockerfile()
    (base,) = [arg for op, arg in instructions if op == "FROM"]
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim(-\w+)?", base), base
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("ENTRYPOINT", '["watcher"]') in instructions
    assert ("CMD", '["schedule"]') in instructions
    env = " ".join(arg for op, arg in instructions if op == "ENV")
    assert "WATCHER_STATE_DIR=/data" in env and "WATCHER_CONFIG=/config/sources.yaml" in env
    assert ("VOLUME", '["/data"]') in instructions
    healthcheck = [arg for op, arg in instructions if op == "HEALTHCHECK"]
    assert healthcheck and '"status", "--health"' in healthcheck[0]
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert "pip install ." in runs
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", "state", ".venv", "tests"} <= set(ignored)


def test_compose_and_kubernetes_examples():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["watcher"]
    assert service["command"] == ["schedule"]
    assert "watcher-data:/data" in service["volumes"]
    documents = list(
        yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / "cronjob.yaml").read_text())
    )
    (cronjob,) = [d for d in documents if d["kind"] == "CronJob"]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["run"]


# --- the fast path of a run with nothing due -------------------------------------------------


def test_a_run_with_nothing_due_skips_the_heavy_path_but_never_hides_a_bad_config(workspace, fr):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(
        fr_config(fr.url).replace("kind: federal_register", "kind: federal_register\n    every: 1d")
    )
    assert workspace.cli("run").exit_code == 0
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "watcher",
        "--config",
        str(workspace.config),
        "--state-dir",
        str(workspace.state),
        "run",
    ]
    quick = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert quick.returncode == 0
    assert "not due yet: fr-trade" in quick.stderr
    imported = {
        line.split("|")[-1].strip()
        for line in quick.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert not {"pydantic", "httpx", "sqlite_utils"} & imported

    def runs() -> int:
        import sqlite3

        with sqlite3.connect(workspace.state / "watcher.db") as db:
            return int(db.execute("select count(*) from runs").fetchone()[0])

    before = runs()

    # an edited configuration is validated again, in full, whatever is due
    workspace.config.write_text(workspace.config.read_text() + "    colour: blue\n")
    bad = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 2 and "colour: unknown key" in bad.stderr
    assert runs() == before

"""Overlapping runs, kills and SIGTERM: every alert is delivered exactly once."""

from __future__ import annotations

import json
import signal
import threading

from tests.conftest import Workspace, fr_config, fr_document, notice
from tests.fakes import FakeFederalRegister, FakeSlack
from tests.faults.conftest import GatedSlack, spawn

NO_DIGEST = "  digest_threshold: 1000\n"


def config(fr: FakeFederalRegister) -> str:
    return fr_config(fr.url).replace(
        '  channel: "#trade-alerts"\n', '  channel: "#trade-alerts"\n' + NO_DIGEST
    )


def setup(workspace: Workspace, fr: FakeFederalRegister, slack: FakeSlack) -> None:
    fr.add(notice("2025-00001", "Fisheries of the Northeastern United States", "2025-07-01"))
    workspace.write_config(config(fr))
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0


def publish(fr: FakeFederalRegister, count: int) -> list[str]:
    numbers = [f"2025-7{n:04d}" for n in range(count)]
    fr.add(*(fr_document(n, f"Adjusting Imports of Article {n}", "2025-07-02") for n in numbers))
    return numbers


def deliveries(slack: FakeSlack, numbers: list[str]) -> dict[str, int]:
    return {n: len([m for m in slack.messages if n in json.dumps(m)]) for n in numbers}


def hold_fetches(fr: FakeFederalRegister) -> tuple[threading.Event, threading.Event]:
    """Make the next documents request wait until released."""
    arrived, release = threading.Event(), threading.Event()
    original = fr._documents

    def slow(request):
        arrived.set()
        release.wait(30)
        return original(request)

    fr.server.clear()
    fr.server.expect_request(f"{fr.prefix}/documents.json").respond_with_handler(slow)
    return arrived, release


def test_two_overlapping_runs_do_not_both_run(workspace, fr, slack):
    setup(workspace, fr, slack)
    numbers = publish(fr, 3)
    arrived, release = hold_fetches(fr)
    first = spawn(workspace, "run")
    assert arrived.wait(20), first.stderr
    second = spawn(workspace, "run")
    _out, err = second.communicate(timeout=30)
    assert second.returncode == 0
    assert "another run is in progress" in err
    release.set()
    first.communicate(timeout=30)
    assert first.returncode == 0
    assert deliveries(slack, numbers) == dict.fromkeys(numbers, 1)


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(workspace, fr, slack):
    setup(workspace, fr, slack)
    numbers = publish(fr, 3)
    arrived, release = hold_fetches(fr)
    victim = spawn(workspace, "run")
    assert arrived.wait(20)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    release.set()
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    assert "another run" not in result.stderr
    assert deliveries(slack, numbers) == dict.fromkeys(numbers, 1)


def test_killed_while_fetching_loses_nothing(workspace, fr, slack):
    setup(workspace, fr, slack)
    numbers = publish(fr, 4)
    arrived, release = hold_fetches(fr)
    victim = spawn(workspace, "run")
    assert arrived.wait(20)
    victim.kill()
    victim.wait(10)
    release.set()
    assert workspace.cli("run").exit_code == 0
    assert deliveries(slack, numbers) == dict.fromkeys(numbers, 1)


def test_killed_while_posting_neither_loses_nor_doubles(workspace, fr, slack):
    setup(workspace, fr, slack)  # the baseline was post 1
    numbers = publish(fr, 5)
    gate = GatedSlack(slack, hold_post=3)  # the 3rd post of the next run
    victim = spawn(workspace, "run")
    assert gate.arrived.wait(20), victim.stderr
    victim.kill()
    victim.wait(10)
    gate.accept_held = False  # the killed process's post never reached Slack
    gate.release.set()
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    assert deliveries(slack, numbers) == dict.fromkeys(numbers, 1)


def test_sigterm_finishes_the_post_in_hand_and_stops_cleanly(workspace, fr, slack):
    setup(workspace, fr, slack)
    numbers = publish(fr, 5)
    gate = GatedSlack(slack, hold_post=2)
    runner = spawn(workspace, "run")
    assert gate.arrived.wait(20)
    runner.send_signal(signal.SIGTERM)
    gate.release.set()  # Slack accepts the post in hand
    _out, err = runner.communicate(timeout=30)
    assert "stopped by SIGTERM" in err, err
    assert "Traceback" not in err
    assert runner.returncode == 1
    delivered = deliveries(slack, numbers)
    assert sum(delivered.values()) == 2, "the post in hand was recorded; nothing new started"
    status = json.loads(workspace.cli("status", "--json").stdout)
    assert status["alerts"]["pending"] == 3
    assert workspace.cli("run").exit_code == 0
    assert deliveries(slack, numbers) == dict.fromkeys(numbers, 1)


def test_sigterm_while_fetching_records_nothing_half_done(workspace, fr, slack):
    setup(workspace, fr, slack)
    numbers = publish(fr, 2)
    arrived, release = hold_fetches(fr)
    runner = spawn(workspace, "run")
    assert arrived.wait(20)
    runner.send_signal(signal.SIGTERM)
    release.set()
    _, err = runner.communicate(timeout=30)
    assert "stopped by SIGTERM" in err
    assert "Traceback" not in err
    assert workspace.cli("run").exit_code == 0
    assert deliveries(slack, numbers) == dict.fromkeys(numbers, 1)


def test_a_check_during_a_run_waits_its_turn(workspace, fr, slack):
    setup(workspace, fr, slack)
    arrived, release = hold_fetches(fr)
    running = spawn(workspace, "run")
    assert arrived.wait(20)
    manual = workspace.cli("check", "fr-trade")
    assert manual.exit_code == 0
    assert "another run is in progress" in manual.stderr
    release.set()
    running.communicate(timeout=30)
    assert running.returncode == 0


def hold_lock(workspace: Workspace, since: str):
    """Another process holding the run lock, its file saying since when."""
    import subprocess
    import sys

    workspace.state.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            f"fd = os.open({str(workspace.state / 'watcher.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.ftruncate(fd, 0)\n"
            f"os.write(fd, b'4242\\n{since}\\n')\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def test_a_run_holding_the_lock_past_its_deadline_is_reported_stuck(workspace, fr, slack):
    setup(workspace, fr, slack)
    stuck = hold_lock(workspace, "2026-01-01T00:00:00Z")
    try:
        result = workspace.cli("run")
        health = workspace.cli("status", "--health")
    finally:
        stuck.communicate("", timeout=20)
    assert result.exit_code == 1
    assert "pid 4242 since 2026-01-01 00:00:00Z" in result.stderr and "stuck" in result.stderr
    assert health.exit_code == 1
    assert "a run (pid 4242 since 2026-01-01 00:00:00Z) is stuck" in health.stdout


def test_a_run_holding_the_lock_within_its_deadline_is_just_busy(workspace, fr, slack):
    setup(workspace, fr, slack)
    now = workspace.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    busy = hold_lock(workspace, now)
    try:
        result = workspace.cli("run")
    finally:
        busy.communicate("", timeout=20)
    assert result.exit_code == 0
    assert "another run is in progress (pid 4242 since" in result.stderr

"""State that never starts over by itself: damage anywhere in the database is found at open,
a lost or emptied database is refused where watcher has run before (unless --new-baseline),
an unusable state directory is one line, and reading commands need no write access."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from tests.conftest import Workspace, fr_config, fr_document, notice
from tests.fakes import FakeFederalRegister, FakeSlack
from watcher.db import DB_NAME
from watcher.statedir import MARKER


def first_run(workspace: Workspace, fr: FakeFederalRegister) -> None:
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    assert workspace.cli("run").exit_code == 0


def one_line_error(result) -> str:
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_random_bytes_in_the_middle_of_the_database_are_one_line_everywhere(
    workspace: Workspace, fr: FakeFederalRegister
):
    first_run(workspace, fr)
    for n in range(5):  # make the state bigger than its first pages
        fr.add(notice(f"2025-1{n:04d}", "Fisheries " + "x" * 3000, "2025-07-02"))
    workspace.cli("run")
    db = workspace.state / DB_NAME
    workspace.cli("status")  # checkpoint-free read, the file as it is
    data = bytearray(db.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = os.urandom(4096)
    db.write_bytes(bytes(data))
    for args in (("run",), ("status",), ("history",), ("run", "--dry-run")):
        result = workspace.cli(*args)
        assert result.exit_code == 1, args
        line = one_line_error(result)
        assert "is damaged" in line and "will not start over by itself" in line, line


@pytest.mark.parametrize("how", ["emptied", "deleted"])
def test_a_lost_database_is_refused_where_watcher_has_run_before(
    workspace: Workspace, fr: FakeFederalRegister, slack: FakeSlack, how: str
):
    first_run(workspace, fr)
    assert (workspace.state / MARKER).exists()
    db = workspace.state / DB_NAME
    if how == "emptied":
        db.write_bytes(b"")
    else:
        db.unlink()
    for suffix in ("-wal", "-shm"):
        (workspace.state / (DB_NAME + suffix)).unlink(missing_ok=True)
    fr.add(fr_document("2025-00002", "Adjusting Imports of Tin", "2025-07-02"))
    workspace.use_slack(slack)
    fr.requests.clear()
    refused = workspace.cli("run")
    assert refused.exit_code == 1
    line = one_line_error(refused)
    assert "missing or empty, though watcher has run with this state directory" in line
    assert "--new-baseline" in line
    assert slack.messages == [] and fr.requests == [], "nothing fetched, nothing announced"

    afresh = workspace.cli("run", "--new-baseline")
    assert afresh.exit_code == 0, afresh.stderr
    assert [m["text"] for m in slack.messages] == [
        m["text"] for m in slack.messages if "Now watching" in m["text"]
    ], "a new baseline announces nothing"
    kept = [p.name for p in workspace.state.iterdir() if ".set-aside-" in p.name]
    assert kept or how == "deleted", "the old file is moved aside, never deleted"


def test_a_fresh_state_directory_is_a_baseline_not_an_error(workspace: Workspace, fr):
    first_run(workspace, fr)  # no marker yet: this is the first run


def test_an_unusable_state_directory_is_one_line_and_validate_still_works(
    workspace: Workspace, fr: FakeFederalRegister
):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    workspace.state.write_text("a file where the state directory should be")
    for args in (
        ("run",),
        ("check", "fr-trade"),
        ("retry",),
        ("backfill", "fr-trade", "--since", "2025-07-01"),
    ):
        result = workspace.cli(*args)
        assert result.exit_code == 1, args
        assert "state" in one_line_error(result)
    assert workspace.cli("validate").exit_code == 0
    assert fr.requests == []


def test_status_in_a_directory_with_no_state_says_so(workspace: Workspace, fr):
    first_run(workspace, fr)
    mistyped = workspace.cli("--state-dir", str(workspace.root / "stat"), "status")
    assert mistyped.exit_code == 1
    assert "no state in" in mistyped.stderr and "--state-dir" in mistyped.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_reading_commands_work_on_a_read_only_state(workspace: Workspace, fr):
    first_run(workspace, fr)
    for path in [workspace.state, *workspace.state.iterdir()]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        assert workspace.cli("status").exit_code == 0
        assert workspace.cli("history").exit_code == 0
        assert workspace.cli("validate").exit_code == 0
        assert workspace.cli("run", "--dry-run").exit_code == 0
        written = workspace.cli("run")
        assert written.exit_code == 1
        assert "cannot be written" in one_line_error(written)
    finally:
        for path in [workspace.state, *workspace.state.iterdir()]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_history_and_status_change_nothing_in_the_state(workspace: Workspace, fr):
    first_run(workspace, fr)
    database = workspace.state / DB_NAME
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    json.loads(workspace.cli("status", "--json").stdout)
    workspace.cli("history")
    workspace.cli("run", "--dry-run")
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before

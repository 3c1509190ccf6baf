"""A first run's one-off work in a child process (`watcher.preparing`): the run itself never
loads pydantic or sqlite-utils, and whatever the child could not do the run does and reports
exactly as before."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import Workspace, fr_config, notice
from tests.fakes import FakeFederalRegister
from watcher.preparing import main as prepare_here
from watcher.preparing import needed

# `watcher run` through its real entry point, reporting which libraries the run loaded.
RUN_AND_SAY_WHAT_LOADED = """
import json, sys
from watcher.cli import main
try:
    main()
finally:
    loaded = {name: name in sys.modules for name in ("pydantic", "sqlite_utils")}
    print(json.dumps(loaded), file=sys.stderr)
"""


def run_in_own_process(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    argv = ["watcher", "--config", str(workspace.config), "--state-dir", str(workspace.state)]
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.argv = {[*argv, *args]!r}\n"
         + RUN_AND_SAY_WHAT_LOADED],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_first_run_never_loads_pydantic_or_sqlite_utils(
    workspace: Workspace, fr: FakeFederalRegister
):
    fr.add(notice("2026-00001", "Adjusting Imports of Copper", "2026-01-05"))
    workspace.write_config(fr_config(fr.url))

    first = run_in_own_process(workspace, "run")
    assert first.returncode == 0, first.stderr
    assert "fr-trade: ok, baseline, 1 recorded" in first.stderr
    assert json.loads(first.stderr.splitlines()[-1]) == {"pydantic": False, "sqlite_utils": False}
    assert not needed(workspace.config, workspace.state)

    # and the next run, with a new document, announces it as always
    fr.add(notice("2026-00002", "Adjusting Imports of Copper: Amendment", "2026-01-06"))
    second = run_in_own_process(workspace, "run")
    assert second.returncode == 0, second.stderr
    assert "1 new, 0 changed, 1 alert" in second.stderr


def test_a_changed_configuration_is_checked_again_and_its_mistakes_reported_by_the_run(
    workspace: Workspace, fr: FakeFederalRegister
):
    workspace.write_config(fr_config(fr.url))
    assert run_in_own_process(workspace, "run").returncode == 0
    assert not needed(workspace.config, workspace.state)

    workspace.write_config(fr_config(fr.url) + "    per_page: 5000\n")
    assert needed(workspace.config, workspace.state)
    result = run_in_own_process(workspace, "run")
    assert result.returncode == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert (
        len(problems) == 1
        and "per_page: Input should be less than or equal to 2000" in (problems[0])
    )


def test_a_missing_database_is_still_refused_by_the_run(
    workspace: Workspace, fr: FakeFederalRegister
):
    workspace.write_config(fr_config(fr.url))
    assert run_in_own_process(workspace, "run").returncode == 0
    (workspace.state / "watcher.db").unlink()
    assert needed(workspace.config, workspace.state)

    result = run_in_own_process(workspace, "run")
    assert result.returncode == 1
    assert "is missing or empty, though watcher has run with this state directory" in (
        result.stderr
    )
    assert not (workspace.state / "watcher.db").exists(), "the child made a fresh database"


def test_a_process_with_other_threads_does_the_work_itself(
    workspace: Workspace, fr: FakeFederalRegister
):
    """In this process (the test servers' threads are running) no child is forked: the run
    checks the configuration and creates the database itself."""
    workspace.prepare = True
    workspace.write_config(fr_config(fr.url))
    assert workspace.cli("run").exit_code == 0
    assert not needed(workspace.config, workspace.state)


def test_the_child_leaves_the_configuration_checked_and_the_database_current(
    workspace: Workspace, fr: FakeFederalRegister
):
    workspace.write_config(fr_config(fr.url))
    assert needed(workspace.config, workspace.state)
    assert prepare_here([str(workspace.config), str(workspace.state)]) == 0
    assert not needed(workspace.config, workspace.state)
    assert (workspace.state / "config.spec.json").exists()

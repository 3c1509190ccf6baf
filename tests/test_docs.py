"""The documentation keeps up with the code: help for everything, the README names it all."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import click
import pytest

from tests.conftest import ROOT
from watcher.cli import cli
from watcher.config_models import HttpModel, SourceModel
from watcher.sources import REGISTRY

README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands() -> list[tuple[str, click.Command]]:
    group = cli
    assert isinstance(group, click.Group)
    return [("", group), *sorted(group.commands.items())]


@pytest.mark.parametrize(("name", "command"), commands(), ids=lambda x: str(x) or "watcher")
def test_every_command_and_option_has_help(name, command):
    assert command.help, f"command {name!r} has no help"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"option {param.opts} of {name!r} has no help"


@pytest.mark.parametrize(("name", "command"), commands(), ids=lambda x: str(x) or "watcher")
def test_the_readme_names_every_command_and_option(name, command):
    if name:
        assert f"watcher {name}" in README
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in param.opts:
                if opt.startswith("--"):
                    assert opt in README, f"README does not mention {opt}"
            if param.envvar:
                assert str(param.envvar) in README


def test_the_readme_names_every_environment_variable_the_code_reads():
    source = "\n".join(p.read_text() for p in (ROOT / "watcher").rglob("*.py"))
    for name in set(re.findall(r"\b(SLACK_[A-Z_]+|WATCHER_[A-Z_]+)\b", source)):
        assert f"`{name}`" in README, name


def test_the_readme_documents_every_kind_and_its_options():
    for kind in REGISTRY.values():
        assert f"`{kind.name}`" in README
        for option in (f.name for f in dataclasses.fields(kind.options)):
            assert f"`{option}`" in README, f"{kind.name}.{option}"
    for key in [*SourceModel.model_fields, *HttpModel.model_fields]:
        assert f"{key}:" in README or f"`{key}`" in README, key


def test_the_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    main = re.search(r"<!-- main-command -->\n```sh\n(.+)\n```", README)
    test = re.search(r"<!-- test-command -->\n```sh\n(.+)\n```", README)
    assert main and test
    assert README.index("<!-- main-command -->") < 800
    assert "watcher run" in main.group(1)
    assert "pytest" in test.group(1)
    extracted = subprocess.run(
        ["awk", "/<!-- test-command -->/ { getline; getline; print; exit }", "README.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert extracted == test.group(1)
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'eval "$test_command"' in ci and "mypy" in ci and "ruff check" in ci


def test_python_dash_m_is_the_same_program():
    out = subprocess.run(
        [sys.executable, "-m", "watcher", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "Commands:" in out and "validate" in out

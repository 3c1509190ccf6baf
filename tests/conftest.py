"""Shared fixtures: loopback servers, realistic documents, and a CLI workspace."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stamina
import yaml
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from tests.fakes import FakeFederalRegister, FakeSlack
from watcher import stopping
from watcher.cli import Wiring, cli

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


LOOPBACK = ("127.0.0.1", "localhost", "::1")


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to resolve or reach a host other than loopback fails the test loudly."""
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOOPBACK and not name.startswith("127."):
            raise AssertionError(f"a test tried to reach {name}: tests stay on loopback")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees a real token or config from the developer's shell; retries don't sleep."""
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_BOT_TOKEN_FILE",
        "SLACK_API_URL",
        "WATCHER_CONFIG",
        "WATCHER_STATE_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    stamina.set_testing(True, attempts=3, cap=True)
    yield
    stamina.set_testing(False)


def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _running_server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)  # sources answer concurrently
    srv.start()
    yield srv
    if srv.is_running():
        srv.stop()


# One server per role for the whole session (stopping one takes half a second); each test
# gets it cleared of the previous test's handlers and log.
_source_server = pytest.fixture(scope="session", name="_source_server")(_running_server)
_slack_server = pytest.fixture(scope="session", name="_slack_server")(_running_server)


@pytest.fixture
def server(_source_server: HTTPServer) -> Iterator[HTTPServer]:
    _source_server.clear()
    yield _source_server
    _source_server.clear()


@pytest.fixture
def slack_server(_slack_server: HTTPServer) -> Iterator[HTTPServer]:
    _slack_server.clear()
    yield _slack_server
    _slack_server.clear()


@pytest.fixture
def fr(server: HTTPServer) -> FakeFederalRegister:
    return FakeFederalRegister(server)


@pytest.fixture
def slack(slack_server: HTTPServer) -> FakeSlack:
    return FakeSlack(slack_server)


_TEMPLATE = load_json("documents_search_presdocu_2017-2020_excerpt.json")["results"][0]


def fr_document(number: str, title: str, publication_date: str, **fields: Any) -> dict[str, Any]:
    """A document shaped exactly like a real API result (copied from the recorded search),
    with the fields that matter replaced."""
    doc = copy.deepcopy(_TEMPLATE)
    year, month, day = publication_date.split("-")
    slug = "-".join(title.lower().split())[:60]
    doc.update(
        {
            "document_number": number,
            "title": title,
            "publication_date": publication_date,
            "html_url": f"https://www.federalregister.gov/documents/{year}/{month}/{day}/"
            f"{number}/{slug}",
            "pdf_url": f"https://www.govinfo.gov/content/pkg/FR-{publication_date}/pdf/{number}.pdf",
            "json_url": f"https://www.federalregister.gov/api/v1/documents/{number}",
            "proclamation_number": None,
            "presidential_document_number": None,
            "signing_date": None,
            "citation": None,
            "subtype": None,
        }
    )
    doc.update(fields)
    return doc


def notice(number: str, title: str, publication_date: str, **fields: Any) -> dict[str, Any]:
    """An agency notice (BIS by default)."""
    base = {
        "type": "Notice",
        "agencies": [
            {
                "raw_name": "DEPARTMENT OF COMMERCE",
                "name": "Commerce Department",
                "slug": "commerce-department",
                "id": 54,
            },
            {
                "raw_name": "Bureau of Industry and Security",
                "name": "Industry and Security Bureau",
                "slug": "industry-and-security-bureau",
                "id": 241,
            },
        ],
        "agency_names": ["Commerce Department", "Industry and Security Bureau"],
        "president": None,
    }
    base.update(fields)
    return fr_document(number, title, publication_date, **base)


class ManualClock:
    """The wall clock plus an offset the test moves by hand; waiting moves the offset instead
    of sleeping, so a test never waits for time to pass."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.slept: list[float] = []

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def sleep(self, seconds: float) -> bool:
        self.slept.append(seconds)
        self.offset += timedelta(seconds=max(0.0, seconds))
        return stopping.requested()

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        """From now on the clock reads `moment` (and goes on from there)."""
        self.offset = moment - datetime.now(UTC)


class Workspace:
    """A config file and a state directory, and the CLI run against them as a user would."""

    def __init__(self, root: Path):
        self.root = root
        self.config = root / "sources.yaml"
        self.state = root / "state"
        self.env: dict[str, str] = {}
        self.clock = ManualClock()
        self.registry: Any = None  # the built-in kinds, unless a test brings its own
        self.prepare = False  # a first run's preparations in a child process

    def write_config(self, text: str) -> Path:
        self.config.write_text(textwrap.dedent(text), encoding="utf-8")
        return self.config

    def use_slack(self, slack: FakeSlack, token: str = "xoxb-test-token") -> None:
        self.env.update({"SLACK_BOT_TOKEN": token, "SLACK_API_URL": slack.url})

    def spawn(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        """`python -m watcher ...` in its own process, as cron or a container starts it."""
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "watcher",
                "--config",
                str(self.config),
                "--state-dir",
                str(self.state),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **self.env, "PYTHONUNBUFFERED": "1", **(env or {})},
        )

    def cli(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        """The command in this process, with the test's clock (and kinds, if it has any)."""
        runner = CliRunner()
        # In this process, the run checks a new configuration itself: a child process for it
        # would cost every first run in the suite a second interpreter (test_preparing.py
        # runs it as a user does).
        wiring = Wiring(registry=self.registry, clock=self.clock, prepare_in_child=self.prepare)
        return runner.invoke(
            cli,
            ["--config", str(self.config), "--state-dir", str(self.state), *args],
            env={**self.env, **(env or {})},
            catch_exceptions=False,
            obj=wiring,
        )


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


# Tests never wait: no gaps between requests, no waits between retries (here and in Slack).
HTTP_FOR_TESTS = """\
http:
  per_host_interval: 0
  attempts: 2
  retry_budget: 5
  retry_wait: 0
  timeout: 5
  connect_timeout: 2
"""
SLACK_FOR_TESTS = 'slack:\n  channel: "#trade-alerts"\n  retry_wait: 0\n'


def fr_config(fr_url: str, *, extra_sources: str = "", match: str = "") -> str:
    """A config with one federal_register source pointed at a loopback server."""
    rules = (
        match
        or """\
    match:
      - section 232
      - adjusting imports
      - list of critical minerals
"""
    )
    return (
        SLACK_FOR_TESTS
        + HTTP_FOR_TESTS
        + "sources:\n"
        + f"  - name: fr-trade\n    kind: federal_register\n    url: {fr_url}\n"
        + "    request_interval: 0\n"
        + rules
        + extra_sources
    )


def default_source(name: str, url: str) -> dict:
    """A source exactly as the shipped sources.yaml has it, pointed at loopback (where no
    gap between requests is needed)."""
    data = yaml.safe_load((ROOT / "sources.yaml").read_text(encoding="utf-8"))
    source = next(s for s in data["sources"] if s["name"] == name)
    if source["kind"].startswith("federal_register"):
        source = {**source, "request_interval": 0}
    return {**source, "url": url}


# A public inspection filing shaped like the desk's records (data/public_inspection_*.json):
# Proclamation 11001 on the desk, and a routine rule beside it.
FILING = {
    "agencies": [
        {
            "raw_name": "Executive Office of the President",
            "name": "Executive Office of the President",
            "slug": "executive-office-of-the-president",
        }
    ],
    "agency_names": ["Executive Office of the President"],
    "docket_numbers": [],
    "document_number": "2026-01045",
    "editorial_note": None,
    "filed_at": "2026-01-16T16:15:00.000-05:00",
    "filing_type": "special",
    "html_url": "https://www.federalregister.gov/documents/2026/01/20/2026-01045/adjusting-"
    "imports-of-processed-critical-minerals-and-their-derivative-products-into-the",
    "num_pages": 12,
    "pdf_file_name": "2026-01045_PI.pdf",
    "pdf_file_size": 301234,
    "pdf_updated_at": "2026-01-16T16:15:40.000-05:00",
    "pdf_url": "https://public-inspection.federalregister.gov/2026-01045.pdf",
    "publication_date": "2026-01-20",
    "subject_1": "Adjusting Imports of Processed Critical Minerals and Their Derivative "
    "Products Into The United States",
    "title": "Adjusting Imports of Processed Critical Minerals and Their Derivative Products "
    "Into The United States",
    "type": "Presidential Document",
}
UNRELATED = {
    **FILING,
    "document_number": "2026-01050",
    "filing_type": "regular",
    "title": "Fisheries of the Exclusive Economic Zone Off Alaska",
    "type": "Rule",
    "agencies": [{"name": "Commerce Department"}],
}

"""The shape of the house, checked from outside: a new source kind is one module and one
registry entry, a slow source delays nobody, each check counts its own requests, a locked or
older state database is handled, and the import graph has no cycles."""

from __future__ import annotations

import ast
import json
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug import Request, Response

from tests.conftest import (
    HTTP_FOR_TESTS,
    ROOT,
    SLACK_FOR_TESTS,
    Workspace,
    fr_config,
    fr_document,
    notice,
)
from tests.fakes import FakeSlack
from watcher.errors import SourceError
from watcher.fingerprint import fingerprint
from watcher.http import CheckFetcher, Expect
from watcher.models import Item, Link, Snapshot, SourceMemory
from watcher.settings import KindOptions, SourceConfig
from watcher.sources import REGISTRY
from watcher.sources.base import SourceKind

# --- a kind defined right here ---------------------------------------------------------------
# A JSON list of notices, as some agency might publish: {"notices": [{"id", "title", ...}]}.


@dataclass(frozen=True)
class NoticeListOptions(KindOptions):
    key: str = "notices"  # the list's key in the JSON document


def _item(key: str, record: Mapping[str, Any]) -> Item:
    return Item(
        key=key,
        title=record["title"],
        record=record,
        fingerprint=fingerprint(record),
        url=record["url"],
        published_on=record["date"],
        effective_on=record.get("effective"),
        instrument="Notice",
        number=key,
        agencies=("Bureau of Industry and Security",),
        links=(Link("Notice", record["url"]),),
    )


def _check(fetcher: CheckFetcher, source: SourceConfig, memory: SourceMemory) -> Snapshot:
    options = source.options
    assert isinstance(options, NoticeListOptions)
    data = json.loads(fetcher.get(source.url, expect=Expect.JSON).content)
    if not isinstance(data.get(options.key), list):
        raise SourceError(f"{source.url}: no {options.key!r} list")
    items = tuple(
        _item(str(n["id"]), {k: n.get(k) for k in ("title", "url", "date", "effective")})
        for n in data[options.key]
    )
    return Snapshot(items=items, complete=True)


NOTICE_LIST = SourceKind(
    name="notice_list",
    summary="a JSON list of notices",
    options=NoticeListOptions,
    check=_check,
    restore=lambda source, key, record: _item(key, record),
    labels={"title": "Title", "effective": "Effective"},
    date_fields=("effective",),
)


def notice_config(url: str, extra: str = "") -> str:
    return (
        SLACK_FOR_TESTS
        + HTTP_FOR_TESTS
        + f"sources:\n  - name: bis-notices\n    kind: notice_list\n    url: {url}\n"
        + "    match: [section 232]\n"
        + extra
    )


def test_a_kind_defined_in_a_test_runs_end_to_end_through_the_cli(
    workspace: Workspace, server, slack: FakeSlack
):
    notices = [
        {
            "id": "N-1",
            "title": "Section 232 inclusions: window opens",
            "url": "https://bis.example/n1",
            "date": "2026-05-01",
        }
    ]
    server.expect_request("/notices.json").respond_with_handler(
        lambda r: Response(json.dumps({"notices": notices}), content_type="application/json")
    )
    workspace.registry = REGISTRY.with_kinds(NOTICE_LIST)
    workspace.write_config(notice_config(server.url_for("/notices.json")))
    workspace.use_slack(slack)

    assert "notice_list" in workspace.cli("validate").stdout
    assert workspace.cli("run").exit_code == 0  # the baseline
    notices.append(
        {
            "id": "N-2",
            "title": "Section 232 derivative steel products added",
            "url": "https://bis.example/n2",
            "date": "2026-05-08",
            "effective": "2026-06-01",
        }
    )
    notices.append({"id": "N-3", "title": "Export administration", "url": "x", "date": "2026"})
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    new = slack.messages[-1]
    assert new["blocks"][0]["text"]["text"] == "Notice N-2 · new"
    payload = json.dumps(new)
    assert "Bureau of Industry and Security" in payload
    assert "Jun 1, 2026" in payload and "https://bis.example/n2" in payload
    assert not [m for m in slack.messages if "Export administration" in json.dumps(m)]

    notices[1]["effective"] = "2026-07-01"  # a change replies in the notice's own thread
    assert workspace.cli("run").exit_code == 0
    reply = slack.messages[-1]
    assert reply["thread_ts"] == slack.ts_of("Section 232 derivative steel products added")
    assert "Effective: Jun 1, 2026 → Jul 1, 2026" in json.dumps(reply, ensure_ascii=False)

    workspace.write_config(notice_config(server.url_for("/notices.json"), "    colour: x\n"))
    bad = workspace.cli("validate")
    assert bad.exit_code == 2 and "colour: unknown key" in bad.stderr
    workspace.registry = None  # the built-in kinds do not know it
    assert "unknown kind 'notice_list'" in workspace.cli("validate").stderr


# --- a slow source delays nobody -------------------------------------------------------------


FEED = (
    """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>"""
)


def feed_item(n: int, title: str) -> str:
    return f"<item><title>{title}</title><guid>g{n}</guid><link>https://x.gov/{n}</link></item>"


def test_a_hanging_source_costs_its_own_check_and_nobody_elses_alert(
    workspace: Workspace, server, slack: FakeSlack
):
    items = [feed_item(1, "Old news")]
    server.expect_request("/feed").respond_with_handler(
        lambda r: Response(FEED.format(items="".join(items)), content_type="application/rss+xml")
    )
    hanging = {"on": False}
    released = threading.Event()

    def hang(request: Request) -> Response:
        if hanging["on"]:
            released.wait(30)
        return Response(json.dumps({"count": 0}), content_type="application/json")

    server.expect_request("/api/v1/documents.json").respond_with_handler(hang)
    seen_while_hanging: list[bool] = []
    original = slack._post

    def watch(request: Request) -> Response:
        seen_while_hanging.append(hanging["on"] and not released.is_set())
        return original(request)

    slack.server.clear()
    slack.server.expect_request("/api/chat.postMessage", method="POST").respond_with_handler(watch)
    workspace.write_config(
        fr_config(server.url_for("/api/v1"))
        + f"  - name: good-feed\n    kind: feed\n    url: {server.url_for('/feed')}\n"
        + "    match: [tariff*]\n"
        + "limits:\n  check_deadline: 0.3\n"
    )
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0

    hanging["on"] = True
    items.insert(0, feed_item(2, "New tariff on copper cathodes"))
    seen_while_hanging.clear()
    try:
        result = workspace.cli("run")
    finally:
        released.set()
    assert result.exit_code == 1
    (failed,) = [line for line in result.stderr.splitlines() if "fr-trade: FAILED" in line]
    assert "no complete answer within the check's deadline (limits.check_deadline)" in failed
    assert "good-feed: ok" in result.stderr
    assert any("copper cathodes" in json.dumps(m) for m in slack.messages)
    assert seen_while_hanging == [True], "the good alert went out while the other source hung"


# --- each check counts its own requests ------------------------------------------------------


def test_request_counts_are_per_source_when_sources_are_fetched_side_by_side(
    workspace: Workspace, server
):
    page = "<html><body><main><ul><li><a href='/a'>A</a></li></ul></main></body></html>"
    sources = ""
    for n in range(6):
        server.expect_request(f"/page{n}").respond_with_data(page, content_type="text/html")
        sources += (
            f"  - name: page-{n}\n    kind: page\n    url: {server.url_for(f'/page{n}')}\n"
            "    selector: main\n    item_selector: li\n"
        )
    server.expect_request("/feed").respond_with_data(
        FEED.format(items=feed_item(1, "x")), content_type="application/rss+xml"
    )
    sources += f"  - name: feed\n    kind: feed\n    url: {server.url_for('/feed')}\n"
    workspace.write_config(SLACK_FOR_TESTS + HTTP_FOR_TESTS + "sources:\n" + sources)
    result = workspace.cli("--log-format", "json", "run")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    counts = {line["source"]: line["requests"] for line in lines if line.get("event") == "source"}
    assert counts == {**{f"page-{n}": 1 for n in range(6)}, "feed": 1}


# --- the state database ----------------------------------------------------------------------


def test_a_state_database_held_locked_by_another_process_is_one_line_and_loses_nothing(
    workspace: Workspace, fr, slack: FakeSlack
):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url) + "limits:\n  state_wait: 0.2\n")
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0
    locker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"db = sqlite3.connect({str(workspace.state / 'watcher.db')!r}, isolation_level=None)\n"
            "db.execute('begin exclusive')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline() == "locked\n"
        fr.add(notice("2025-00002", "Section 232 National Security Investigation", "2025-07-02"))
        locked = workspace.cli("run")
    finally:
        locker.communicate("", timeout=20)
    assert locked.exit_code == 1
    assert "Traceback" not in locked.stderr
    (line,) = locked.stderr.strip().splitlines()
    assert line.startswith("error: cannot ")
    assert "is locked by another process" in line and "limits.state_wait" in line
    again = workspace.cli("run")
    assert again.exit_code == 0, again.stderr
    announced = [m for m in slack.messages if "Section 232 National Security" in json.dumps(m)]
    assert len(announced) == 1, "announced once, after the lock went"


def test_an_older_database_upgrades_in_place_keeping_threads_and_reminders(
    workspace: Workspace, fr, slack: FakeSlack
):
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from watcher import schema

    # A state written by watcher 0.1 (migrations 1 to 6): a relevant document with an
    # effective date, its alert sent (with its Slack ts), the 7-day reminder already sent.
    workspace.state.mkdir()
    conn = sqlite3.connect(workspace.state / "watcher.db")
    old = Migrations("watcher")
    for migration in schema.migrations._migrations[:6]:
        old._migrations.append(migration)
    old.apply(Database(conn))
    record = {
        "document_number": "2026-00100",
        "title": "Adjusting Imports of Copper",
        "type": "Presidential Document",
        "subtype": "Proclamation",
        "proclamation_number": "10962",
        "publication_date": "2026-12-01",
        "effective_on": "2026-12-05",
        "html_url": "https://www.federalregister.gov/d/2026-00100",
    }
    conn.execute(
        "insert into sources (name, kind, baseline_done, last_check_at, cursor, "
        "consecutive_failures, failure_notice, silence_notice) values "
        "('fr-trade', 'federal_register', 1, '2026-12-01T00:00:00Z', "
        '\'{"newest_publication_date": "2026-12-01"}\', 0, 0, 0)'
    )
    conn.execute(
        "insert into items (source, key, fingerprint, relevant, title, record, first_seen_at, "
        "last_seen_at) values ('fr-trade', '2026-00100', 'old', 1, ?, ?, "
        "'2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')",
        [record["title"], json.dumps(record)],
    )
    conn.execute(
        "insert into alerts (source, item_key, thread_key, event, channel, payload, status, "
        "slack_channel, slack_ts, created_at) values ('fr-trade', '2026-00100', "
        "'fr:2026-00100', 'new', '#trade-alerts', ?, 'sent', 'C0TRADE', '1699999999.000001', "
        "'2026-12-01T00:00:00Z')",
        [json.dumps({"source": "fr-trade", "source_kind": "federal_register", "event": "new",
                     "channel": "#trade-alerts", "title": record["title"], "record": record})],
    )  # fmt: skip
    conn.execute(
        "insert into reminders values ('fr-trade', '2026-00100', 'effective_on', '2026-12-05', "
        "7, 1, '2026-11-28T00:00:00Z')"
    )
    conn.commit()
    conn.close()

    workspace.write_config(fr_config(fr.url))
    workspace.use_slack(slack)
    assert json.loads(workspace.cli("history", "--json").stdout)[0]["title"] == record["title"]
    workspace.clock.set(datetime(2026, 12, 4, 12, 0, tzinfo=UTC))  # a day before it takes effect
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    reminders = [m for m in slack.messages if "Takes effect" in m["text"]]
    assert len(reminders) == 1 and "tomorrow, Dec 5, 2026" in reminders[0]["text"]
    assert reminders[0]["thread_ts"] == "1699999999.000001", "the old thread is kept"
    assert workspace.cli("run").exit_code == 0
    assert len([m for m in slack.messages if "Takes effect" in m["text"]]) == 1

    # the alert sent before stories existed is a story now, and its thread goes on
    (story,) = json.loads(workspace.cli("stories", "--json").stdout)
    assert story["title"] == record["title"]
    assert story["stages"][0]["ts"] == "1699999999.000001"
    fr.add(
        fr_document(
            "C1-2026-00100", "Adjusting Imports of Copper", "2026-12-04",
            type="Presidential Document", correction_of="2026-00100",
        )
    )  # fmt: skip
    assert workspace.cli("run").exit_code == 0
    (correction,) = [m for m in slack.messages if "C1-2026-00100" in json.dumps(m)]
    assert correction["thread_ts"] == "1699999999.000001"
    (story,) = json.loads(workspace.cli("stories", "--json").stdout)
    assert [s["event"] for s in story["stages"]] == ["new", "correction"]
    history = json.loads(workspace.cli("history", "--json").stdout)
    assert {h["story_id"] for h in history} == {story["id"]}  # the reminder's too


# --- the import graph ------------------------------------------------------------------------


def _import_graph() -> dict[str, set[str]]:
    package = ROOT / "watcher"
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in package.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):  # function-level imports too
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                deps |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def test_the_import_graph_has_no_cycles():
    graph = _import_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_module_outside_the_kinds_reads_a_record_by_key():
    """Records are the kinds' own business: elsewhere only typed fields are read."""
    reads = re.compile(r"record(?:s)?(?:\.get\(|\[)\s*['\"]|json_extract\(\s*record")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "watcher").glob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if reads.search(line)
    ]
    assert offenders == []


def test_main_modules_stay_readable():
    sizes = {p.name: len(p.read_text().splitlines()) for p in (ROOT / "watcher").rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 450} == {}

"""`watcher inspect` and `watcher doctor` through the CLI, against the real captures on a
loopback server and a loopback Slack that answers auth.test and conversations.list."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import yaml
from werkzeug import Response

from tests.conftest import DATA, HTTP_FOR_TESTS, Workspace, default_source
from tests.fakes import FakeSlack

CAPTURES = DATA / "captures"
CSMS = (CAPTURES / "cbp_csms_widget_rss_2026-10_first20.xml").read_bytes()
USTR = (CAPTURES / "ustr_rss_2026-10-03.xml").read_bytes()
BIS = (CAPTURES / "bis_section-232-steel-aluminum_2026-04.html").read_bytes()


def serve(server, path: str, body: bytes, content_type: str, status: int = 200) -> str:
    server.expect_request(path).respond_with_handler(
        lambda request: Response(body, status=status, content_type=content_type)
    )
    return str(server.url_for(path))


def write(workspace: Workspace, *sources: dict, ops: bool = True) -> None:
    slack = {"channel": "#trade-alerts", "retry_wait": 0}
    if ops:
        slack["ops_channel"] = "#trade-alerts-ops"
    workspace.write_config(
        yaml.safe_dump({"slack": slack})
        + HTTP_FOR_TESTS
        + yaml.safe_dump({"sources": list(sources)}, sort_keys=False)
    )


@pytest.fixture
def captures(workspace: Workspace, server) -> Workspace:
    """The default CBP, USTR and BIS sources, serving their real captures."""
    workspace.clock.set(datetime(2026, 10, 3, 12, tzinfo=UTC))
    write(
        workspace,
        default_source("cbp-csms", serve(server, "/csms.rss", CSMS, "application/rss+xml")),
        default_source("ustr-news", serve(server, "/ustr.rss", USTR, "application/rss+xml")),
        default_source("bis-section-232-investigations", serve(server, "/bis", BIS, "text/html")),
    )
    return workspace


# --- inspect ---------------------------------------------------------------------------------


def test_inspect_shows_every_item_and_the_rules_verdict_recording_nothing(captures: Workspace):
    result = captures.cli("inspect", "cbp-csms", "--limit", "0")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("cbp-csms (csms): 20 messages, 3 relevant by its rules\n")
    blocks = out.split("\n\n", 1)[1]
    assert blocks.count("ALERTS ") == 3
    assert "key: 70054007" in out
    assert "matched: section 232" in out
    assert sum(line.startswith("quiet ") for line in out.splitlines()) == 17
    assert "https://content.govdelivery.com/accounts/USDHSCBP/bulletins/" in out
    assert "next run" not in out  # no state to compare with
    assert not (captures.state / "watcher.db").exists()


def test_inspect_says_what_the_next_run_would_announce(captures: Workspace, server):
    assert captures.cli("run").exit_code == 0  # the baseline records all 20
    result = captures.cli("inspect", "cbp-csms", "--relevant")
    assert "the next run would announce 0" in result.stdout
    assert "alerts (seen)" in result.stdout
    assert "Quota Bulletin" not in result.stdout  # --relevant


def test_inspect_flags_entries_older_than_max_age(captures: Workspace):
    result = captures.cli("inspect", "ustr-news", "--json")
    data = json.loads(result.stdout)
    assert data["source"] == "ustr-news" and len(data["items"]) == 10
    (blog,) = [i for i in data["items"] if i["key"] == "250 at https://ustr.gov"]
    assert blog["older_than_max_age"] is True and blog["alerts"] is False
    assert data["relevant"] == 0
    assert {i["recorded"] for i in data["items"]} == {None}


def test_inspect_a_page_lists_its_entries(captures: Workspace):
    result = captures.cli("inspect", "bis-section-232-investigations", "--limit", "3")
    assert result.exit_code == 0, result.stderr
    assert "bis-section-232-investigations (page): 28 entries" in result.stdout
    assert "... 25 more (--limit 0 shows all)" in result.stdout


def test_inspect_a_failing_source_is_one_line_and_exit_1(workspace: Workspace, server):
    url = serve(server, "/gone", b"<html><body>moved</body></html>", "text/html", status=404)
    write(workspace, default_source("ustr-news", url))
    result = workspace.cli("inspect", "ustr-news")
    assert result.exit_code == 1
    assert "error: ustr-news: GET " in result.stderr
    assert "HTTP 404" in result.stderr


def test_inspect_takes_configured_names_only(captures: Workspace):
    result = captures.cli("inspect", "https://example.com/feed")
    assert result.exit_code == 2
    assert "unknown source 'https://example.com/feed'" in result.stderr


# --- doctor ----------------------------------------------------------------------------------


def slack_ready(slack: FakeSlack, *, ops_member: bool = True) -> FakeSlack:
    slack.add_channel("general")
    slack.add_channel("trade-alerts")
    slack.add_channel("random", member=False)
    slack.add_channel("trade-alerts-ops", member=ops_member)
    return slack


def test_doctor_passes_a_ready_deployment(captures: Workspace, slack: FakeSlack):
    captures.use_slack(slack_ready(slack))
    result = captures.cli("doctor")
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    assert "ok   token" in out and "valid: watcher in Acme Trade" in out
    assert "ok   scope chat:write" in out
    assert "ok   channel #trade-alerts " in out
    assert "ok   channel #trade-alerts-ops" in out
    assert slack.listed == 2  # four channels, two a page: the cursor was followed
    assert "ok   cbp-csms" in out and "20 messages" in out
    assert "newest 2026-10-01: ACE Production Standard Invasive Maintenance" in out
    assert "ok   bis-section-232-investigations" in out and "28 entries" in out
    assert "first: Section 232 Investigations" in out
    assert out.rstrip().endswith("everything checked is in place")
    assert slack.messages == []  # nothing posted
    assert not (captures.state / "watcher.db").exists()


def test_doctor_names_the_channel_the_bot_is_not_in_and_the_fix(
    captures: Workspace, slack: FakeSlack
):
    captures.use_slack(slack_ready(slack, ops_member=False))
    result = captures.cli("doctor")
    assert result.exit_code == 1
    assert "FIX  channel #trade-alerts-ops" in result.stdout
    assert "the bot is not a member" in result.stdout
    assert "-> `/invite @watcher` in #trade-alerts-ops" in result.stdout
    assert "1 thing to fix before watcher can be trusted" in result.stdout


def test_doctor_finds_a_missing_channel_and_a_missing_scope(captures: Workspace, slack: FakeSlack):
    slack.add_channel("trade-alerts")
    slack.scopes = "channels:read,groups:read"
    captures.use_slack(slack)
    result = captures.cli("doctor", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    by_what = {f["what"]: f for f in data["slack"]}
    assert by_what["scope chat:write"]["ok"] is False
    assert "chat:write" in by_what["scope chat:write"]["fix"]
    assert by_what["channel #trade-alerts-ops"]["ok"] is False
    assert "not found" in by_what["channel #trade-alerts-ops"]["detail"]
    assert data["to_fix"] == 2


def test_doctor_without_channels_read_says_membership_was_not_checked(
    captures: Workspace, slack: FakeSlack
):
    slack.scopes = "chat:write"
    captures.use_slack(slack)
    result = captures.cli("doctor")
    assert result.exit_code == 0, result.stdout
    assert "?    channel #trade-alerts " in result.stdout
    assert "membership not checked: the token lacks channels:read" in result.stdout
    assert "(2 could not be checked: see '?' above)" in result.stdout


def test_doctor_with_a_bad_token(captures: Workspace, slack: FakeSlack):
    slack.auth_error = "invalid_auth"
    captures.use_slack(slack)
    result = captures.cli("doctor")
    assert result.exit_code == 1
    assert (
        "FIX  token" in result.stdout and "Slack rejects the token: invalid_auth" in result.stdout
    )
    assert "Bot User OAuth Token" in result.stdout
    assert slack.listed == 0


def test_doctor_with_no_token_and_a_failing_source(workspace: Workspace, server):
    ok = serve(server, "/csms.rss", CSMS, "application/rss+xml")
    broken = serve(server, "/bis", b"<html><body><p>Maintenance</p></body></html>", "text/html")
    write(
        workspace,
        default_source("cbp-csms", ok),
        default_source("bis-section-232-investigations", broken),
    )
    result = workspace.cli("doctor")
    assert result.exit_code == 1
    out = result.stdout
    assert "FIX  token" in out and "no SLACK_BOT_TOKEN" in out
    assert "FIX  bis-section-232-investigations" in out
    assert "-> `watcher inspect bis-section-232-investigations` shows what it holds" in out
    assert "ok   cbp-csms" in out
    assert "2 things to fix" in out


def test_doctor_checks_only_the_named_sources(captures: Workspace, server):
    result = captures.cli("doctor", "ustr-news")
    assert "ustr-news" in result.stdout
    assert "cbp-csms" not in result.stdout and "bis-section" not in result.stdout


def test_inspect_names_the_exclude_rule_that_held(workspace: Workspace, server):
    # a variant of the real feed: the G20 statement's title also says "tariffs"
    title = b"Weaponization of Food through Coercive Trade Actions</title>"
    g20 = USTR.replace(title, title.replace(b"Actions", b"Actions and Tariffs"), 1)
    assert g20 != USTR
    workspace.clock.set(datetime(2026, 10, 3, 12, tzinfo=UTC))
    write(workspace, default_source("ustr-news", serve(server, "/u", g20, "application/rss+xml")))
    out = workspace.cli("inspect", "ustr-news", "--limit", "0").stdout
    assert "excluded       " in out
    assert "excluded by: G20" in out

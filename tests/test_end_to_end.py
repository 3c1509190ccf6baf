"""The whole path through the CLI: loopback Federal Register in, loopback Slack out."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import Workspace, fr_config, fr_document, notice
from tests.fakes import FakeFederalRegister, FakeSlack
from watcher.lock import RunLock

COPPER = fr_document(
    "2025-14893",
    "Adjusting Imports of Copper Into the United States",
    "2025-08-05",
    subtype="Proclamation",
    proclamation_number="10962",
    presidential_document_number="10962",
    signing_date="2025-07-30",
    citation="90 FR 37727",
)
OLD = [
    notice(
        "2025-13345",
        "Notice of Request for Public Comments on Section 232 National Security "
        "Investigation of Imports of Polysilicon and its Derivatives",
        "2025-07-16",
    ),
    notice(
        "2025-13300",
        "Certain Pasta From Italy: Final Results of Antidumping Duty Administrative Review",
        "2025-07-16",
        agencies=[{"name": "International Trade Administration"}],
    ),
]


def baseline(workspace: Workspace, fr: FakeFederalRegister, slack: FakeSlack) -> None:
    fr.add(*OLD)
    workspace.write_config(fr_config(fr.url))
    workspace.use_slack(slack)
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr


def test_first_run_is_a_baseline_with_one_short_line(workspace, fr, slack):
    baseline(workspace, fr, slack)
    assert len(slack.messages) == 1
    message = slack.messages[0]
    assert "Now watching fr-trade" in message["text"]
    assert "2 documents recorded" in message["text"]
    assert "Polysilicon" not in json.dumps(message)  # no item announced one by one


def test_a_new_document_makes_exactly_one_message_with_its_facts(workspace, fr, slack):
    baseline(workspace, fr, slack)
    fr.add(COPPER)
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    assert len(slack.messages) == 2
    message = slack.messages[1]
    payload = json.dumps(message)
    assert message["channel"] == "#trade-alerts"
    assert message["unfurl_links"] is False
    assert "Adjusting Imports of Copper Into the United States" in message["text"]
    assert "Proclamation 10962" in message["blocks"][0]["text"]["text"]
    for fact in (
        "2025-14893",
        "Aug 5, 2025",
        "Jul 30, 2025",
        "90 FR 37727",
        COPPER["html_url"],
        COPPER["pdf_url"],
    ):
        assert fact in payload, fact
    assert "Presidential" in payload or "Proclamation" in payload

    again = workspace.cli("run")
    assert again.exit_code == 0
    assert len(slack.messages) == 2, "a rerun posts nothing"


def test_irrelevant_documents_stay_quiet(workspace, fr, slack):
    baseline(workspace, fr, slack)
    fr.add(
        notice(
            "2025-14000",
            "Certain Steel Nails From Taiwan: Final Results of Antidumping "
            "Duty Administrative Review",
            "2025-08-05",
        ),
        notice(
            "2025-14001",
            "60-Day Notice of Proposed Information Collection: Section 232 "
            "Healthcare Facility Documents",
            "2025-08-05",
            agencies=[{"name": "Housing and Urban Development Department"}],
            abstract="The Section 232 program insures mortgage loans for nursing homes.",
        ),
    )
    workspace.write_config(
        fr_config(
            fr.url,
            match="""\
    match:
      - any: section 232
        unless: [mortgage*, nursing]
      - adjusting imports
""",
        )
    )
    result = workspace.cli("run")
    assert result.exit_code == 0
    assert len(slack.messages) == 1  # only the baseline line
    assert "2 new, 0 changed, 0 alerts" in result.stderr


def test_slack_500_leaves_the_alert_pending_and_the_next_run_delivers_it_once(workspace, fr, slack):
    baseline(workspace, fr, slack)
    fr.add(COPPER)
    slack.fail(3, status=500)  # more than slack-sdk's own retries
    first = workspace.cli("run")
    assert first.exit_code == 1
    assert "pending" in first.stderr
    assert len(slack.messages) == 1
    status = workspace.cli("status", "--json")
    assert json.loads(status.stdout)["alerts"]["pending"] == 1
    assert status.exit_code == 1

    second = workspace.cli("run")
    assert second.exit_code == 0, second.stderr
    copper = [m for m in slack.messages if "Copper" in m["text"]]
    assert len(copper) == 1
    third = workspace.cli("run")
    assert third.exit_code == 0
    assert len([m for m in slack.messages if "Copper" in m["text"]]) == 1


def test_slack_rate_limit_leaves_the_alert_pending_then_delivers_once(workspace, fr, slack):
    baseline(workspace, fr, slack)
    fr.add(COPPER)
    slack.fail(3, status=429, error="ratelimited", headers={"Retry-After": "0"})
    first = workspace.cli("run")
    assert first.exit_code == 1
    assert "ratelimited" in first.stderr
    second = workspace.cli("run")
    assert second.exit_code == 0
    assert len([m for m in slack.messages if "Copper" in m["text"]]) == 1


def test_a_permanent_slack_error_is_recorded_not_retried_forever(workspace, fr, slack):
    baseline(workspace, fr, slack)
    fr.add(COPPER)
    slack.fail(1, status=200, error="channel_not_found")
    first = workspace.cli("run")
    assert first.exit_code == 1
    assert "channel_not_found" in first.stderr
    second = workspace.cli("run")
    assert second.exit_code == 0
    assert not [m for m in slack.messages if "Copper" in m["text"]]
    status = json.loads(workspace.cli("status", "--json").stdout)
    assert status["alerts"]["failed"] == 1


def test_a_throttled_source_fails_alone_and_the_others_still_run(workspace, fr, slack, server):
    other = FakeFederalRegister(server, prefix="/mirror/api/v1")
    fr.add(*OLD)
    other.add(*OLD)
    workspace.write_config(
        fr_config(
            fr.url,
            extra_sources=f"""\
  - name: fr-mirror
    kind: federal_register
    url: {other.url}
    request_interval: 0
    match: [adjusting imports]
""",
        )
    )
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0
    fr.throttled = True
    other.add(COPPER)
    result = workspace.cli("run")
    assert result.exit_code == 1
    assert "fr-trade: FAILED" in result.stderr
    assert "HTML page where JSON was expected" in result.stderr
    assert "fr-mirror: ok" in result.stderr
    assert [m for m in slack.messages if "Copper" in m["text"]]

    # Documents published while the source was failing are announced once it recovers.
    fr.add(COPPER)
    fr.throttled = False
    recovered = workspace.cli("run")
    assert recovered.exit_code == 0
    assert len([m for m in slack.messages if "Copper" in m["text"]]) == 2  # one per source
    status = json.loads(workspace.cli("status", "--json").stdout)
    by_name = {s["name"]: s for s in status["sources"]}
    assert by_name["fr-trade"]["consecutive_failures"] == 0


def test_without_a_token_alerts_are_printed_and_marked_delivered(workspace, fr):
    fr.add(*OLD)
    workspace.write_config(fr_config(fr.url))
    assert workspace.cli("run").exit_code == 0
    fr.add(COPPER)
    result = workspace.cli("run")
    assert result.exit_code == 0
    assert "Proclamation 10962: Adjusting Imports of Copper Into the United States" in result.stdout
    assert "Document 2025-14893" in result.stdout
    assert COPPER["html_url"] in result.stdout
    assert "fr-trade: ok" in result.stderr  # the report is on stderr, alerts alone on stdout
    assert workspace.cli("run").stdout == ""


def test_dry_run_prints_alerts_and_writes_no_state(workspace, fr):
    fr.add(*OLD)
    workspace.write_config(fr_config(fr.url))
    result = workspace.cli("run", "--dry-run")
    assert result.exit_code == 0
    assert "Now watching fr-trade" in result.stdout
    assert not (workspace.state / "watcher.db").exists()

    assert workspace.cli("run").exit_code == 0
    fr.add(COPPER)
    dry = workspace.cli("check", "fr-trade", "--dry-run")
    assert "Adjusting Imports of Copper" in dry.stdout
    real = workspace.cli("run")
    assert "Adjusting Imports of Copper" in real.stdout, "the dry run recorded nothing"


def test_a_correction_of_an_announced_document_is_announced_in_its_thread(workspace, fr, slack):
    fr.add(*OLD, COPPER)
    workspace.write_config(fr_config(fr.url))
    workspace.use_slack(slack)
    workspace.cli("run")
    # the baseline recorded COPPER as relevant; a correction arrives
    fr.add(
        fr_document(
            "C1-2025-14893",
            "Correction",
            "2025-08-07",
            subtype="Proclamation",
            correction_of="https://www.federalregister.gov/api/v1/documents/2025-14893",
        ),
        {
            **COPPER,
            "corrections": ["https://www.federalregister.gov/api/v1/documents/C1-2025-14893"],
        },
    )
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    corrections = [m for m in slack.messages if "C1-2025-14893" in json.dumps(m)]
    assert len(corrections) == 1, "one message, not one for the correction and one for the list"
    assert "corrects 2025-14893" in json.dumps(corrections[0])


def test_a_changed_document_is_reported_field_by_field_in_its_thread(workspace, fr, slack):
    baseline(workspace, fr, slack)
    fr.add(COPPER)
    workspace.cli("run")
    fr.add({**COPPER, "effective_on": "2025-08-01", "page_views": {"count": 99999}})
    result = workspace.cli("run")
    assert result.exit_code == 0
    assert len(slack.messages) == 3
    update = slack.messages[-1]
    assert update["thread_ts"] == slack.ts_of("Adjusting Imports of Copper")
    what_changed = next(b for b in update["blocks"] if "What changed" in json.dumps(b))
    assert "Effective: (none) → Aug 1, 2025" in what_changed["text"]["text"]
    assert "page_views" not in json.dumps(update)


def test_volatile_fields_never_make_a_change(workspace, fr, slack):
    baseline(workspace, fr, slack)
    fr.add(COPPER)
    workspace.cli("run")
    fr.add(
        {
            **COPPER,
            "page_views": {"count": 5, "last_updated": "now"},
            "public_inspection_pdf_url": "https://public-inspection.federalregister.gov/"
            "2025-14893.pdf?1799999999",
        }
    )
    result = workspace.cli("run")
    assert "0 changed" in result.stderr
    assert len(slack.messages) == 2


def test_bad_config_exits_2_names_the_key_and_fetches_nothing(workspace, fr):
    workspace.write_config(
        f"""\
slack:
  channel: "#x"
sources:
  - name: fr-trade
    kind: federal_register
    url: {fr.url}
    conditons: {{type: [NOTICE]}}
"""
    )
    result = workspace.cli("run")
    assert result.exit_code == 2
    assert (
        f"{workspace.config}:7: source 'fr-trade' (sources[0]): conditons: unknown key"
        in result.stderr
    )
    assert "did you mean 'conditions'" in result.stderr
    assert fr.requests == []


def test_check_refuses_unknown_names_and_urls(workspace, fr):
    workspace.write_config(fr_config(fr.url))
    for name in ("nope", "https://evil.example/"):
        result = workspace.cli("check", name)
        assert result.exit_code == 2
        assert "unknown source" in result.stderr
    assert fr.requests == []


def test_check_runs_a_source_whatever_its_schedule(workspace, fr):
    fr.add(*OLD)
    workspace.write_config(
        fr_config(fr.url).replace("kind: federal_register", "kind: federal_register\n    every: 1d")
    )
    assert workspace.cli("run").exit_code == 0
    requests = len(fr.requests)
    skipped = workspace.cli("run")
    assert "not due yet: fr-trade" in skipped.stderr
    assert len(fr.requests) == requests
    forced = workspace.cli("check", "fr-trade")
    assert forced.exit_code == 0
    assert len(fr.requests) > requests


def test_another_run_holding_the_lock_means_exit_0_and_nothing_done(workspace, fr):
    fr.add(*OLD)
    workspace.write_config(fr_config(fr.url))
    with RunLock(workspace.state) as lock:
        assert lock.acquired
        result = workspace.cli("run")
    assert result.exit_code == 0
    assert "another run is in progress" in result.stderr
    assert fr.requests == []


def test_status_reports_every_source(workspace, fr, slack):
    baseline(workspace, fr, slack)
    result = workspace.cli("status")
    assert result.exit_code == 0
    assert "fr-trade" in result.stdout and "federal_register" in result.stdout
    data = json.loads(workspace.cli("status", "--json").stdout)
    (row,) = data["sources"]
    assert row["items"] == 2 and row["relevant_items"] == 1
    assert row["last_success_at"] and row["consecutive_failures"] == 0


def test_state_keeps_items_alerts_and_runs(workspace, fr, slack):
    baseline(workspace, fr, slack)
    fr.add(COPPER)
    workspace.cli("run")
    db = sqlite3.connect(workspace.state / "watcher.db")
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    statuses = db.execute("select event, status, slack_ts from alerts order by id").fetchall()
    assert [(e, s) for e, s, _ in statuses] == [("baseline", "sent"), ("new", "sent")]
    assert all(ts for _, _, ts in statuses)
    assert db.execute("select count(*) from runs where finished_at is not null").fetchone()[0] == 2
    record = json.loads(
        db.execute("select record from items where key = '2025-14893'").fetchone()[0]
    )
    assert record["proclamation_number"] == "10962"


@pytest.mark.parametrize("status", [502, 503])
def test_server_errors_fail_the_source_with_one_line(workspace, fr, status):
    fr.add(*OLD)
    workspace.write_config(fr_config(fr.url))
    fr.status = status
    result = workspace.cli("run")
    assert result.exit_code == 1
    line = next(x for x in result.stderr.splitlines() if x.startswith("fr-trade: FAILED"))
    assert f"HTTP {status}" in line
    assert len(fr.requests) == 2  # retried (attempts: 2), then gave up

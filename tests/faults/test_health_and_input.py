"""Source health notices, hostile input, damaged state and secrets."""

from __future__ import annotations

import json
import resource
import time

import yaml
from werkzeug import Response

from tests.conftest import HTTP_FOR_TESTS, Workspace, fr_config, fr_document, notice
from tests.fakes import FakeSlack
from watcher.db import DB_NAME

OPS = '  ops_channel: "#watcher-ops"\n'


def ops_messages(slack: FakeSlack) -> list[dict]:
    return [m for m in slack.messages if m["channel"] == "#watcher-ops"]


# --- source health ---------------------------------------------------------------------------


def test_one_notice_after_three_failures_and_one_on_recovery(workspace: Workspace, fr, slack):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(
        fr_config(fr.url).replace(
            '  channel: "#trade-alerts"\n', '  channel: "#trade-alerts"\n' + OPS
        )
    )
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0
    fr.status = 503
    for _ in range(5):
        assert workspace.cli("run").exit_code == 1
    (failing,) = ops_messages(slack)
    assert "fr-trade is failing" in failing["text"]
    assert "3 checks in a row have failed" in failing["text"]
    assert "HTTP 503" in failing["text"]
    fr.status = None
    workspace.cli("run")
    workspace.cli("run")
    notices = ops_messages(slack)
    assert len(notices) == 2
    assert "fr-trade has recovered" in notices[1]["text"]


def test_a_source_expected_to_change_that_goes_quiet(workspace: Workspace, fr, slack):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(
        fr_config(fr.url)
        .replace('  channel: "#trade-alerts"\n', '  channel: "#trade-alerts"\n' + OPS)
        .replace("    kind: federal_register\n", "    kind: federal_register\n    expect: 1s\n")
    )
    workspace.use_slack(slack)
    workspace.cli("run")
    workspace.clock.advance(seconds=2)
    workspace.cli("run")
    workspace.cli("run")
    (quiet,) = ops_messages(slack)
    assert "fr-trade has gone quiet" in quiet["text"]


# --- hostile input ---------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>t</title>
<item><title>Tariff &lol9;</title><guid>bomb</guid><description>&lol9;</description></item>
</channel></rss>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title>
<item><title>Tariff news &secret;</title><guid>xxe</guid><description>&secret;</description>
</item></channel></rss>"""


def feed_source(workspace: Workspace, server, slack: FakeSlack, body: dict) -> None:
    server.expect_request("/feed").respond_with_handler(
        lambda r: Response(body["xml"], content_type="application/rss+xml")
    )
    workspace.write_config(
        'slack: {channel: "#t"}\n'
        + HTTP_FOR_TESTS
        + yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "f",
                        "kind": "feed",
                        "url": server.url_for("/feed"),
                        "match": ["tariff*"],
                    }
                ]
            }
        )
    )
    workspace.use_slack(slack)


def test_a_billion_laughs_feed_cannot_hurt(workspace, server, slack):
    body = {"xml": '<rss version="2.0"><channel><title>t</title></channel></rss>'}
    feed_source(workspace, server, slack, body)
    workspace.cli("run")
    body["xml"] = BILLION_LAUGHS
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    result = workspace.cli("run")
    assert time.monotonic() - started < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB
    assert "lollollol" not in json.dumps(slack.messages)
    assert "lollollol" not in result.stdout + result.stderr


def test_external_entities_are_never_resolved(workspace, server, slack):
    body = {"xml": '<rss version="2.0"><channel><title>t</title></channel></rss>'}
    feed_source(workspace, server, slack, body)
    workspace.cli("run")
    body["xml"] = EXTERNAL_ENTITY
    result = workspace.cli("run")
    assert "root:" not in json.dumps(slack.messages) + result.stdout + result.stderr


def test_hostile_feed_text_reaches_slack_as_text(workspace, server, slack):
    from tests.slack_limits import live_markup

    body = {"xml": '<rss version="2.0"><channel><title>t</title></channel></rss>'}
    feed_source(workspace, server, slack, body)
    workspace.cli("run")
    body["xml"] = (
        '<rss version="2.0"><channel><title>t</title><item><title>Tariff &lt;!channel&gt; '
        "&lt;@U0ADMIN&gt; &lt;http://evil.example|click&gt;</title><guid>h</guid>"
        "<link>http://127.0.0.1/ok</link><description>&lt;!here&gt; tariffs</description>"
        "</item></channel></rss>"
    )
    workspace.cli("run")
    message = slack.messages[-1]
    assert [m for m in live_markup(message) if not m.startswith("<http://127.0.0.1/ok")] == []


def test_a_redirect_to_a_non_http_url_is_refused(workspace, server, slack):
    server.expect_request("/feed").respond_with_data(
        "", status=302, headers={"Location": "file:///etc/passwd"}
    )
    workspace.write_config(
        'slack: {channel: "#t"}\n'
        + HTTP_FOR_TESTS
        + yaml.safe_dump(
            {"sources": [{"name": "f", "kind": "feed", "url": server.url_for("/feed")}]}
        )
    )
    result = workspace.cli("run")
    assert result.exit_code == 1
    assert "f: FAILED" in result.stderr
    assert "root:" not in result.stdout


def test_a_non_http_source_url_is_refused_at_validation(workspace):
    workspace.write_config(
        'slack: {channel: "#t"}\nsources:\n  - name: f\n    kind: feed\n'
        "    url: file:///etc/passwd\n"
    )
    result = workspace.cli("validate")
    assert result.exit_code == 2
    assert "only http:// and https:// URLs can be watched" in result.stderr


# --- state integrity -------------------------------------------------------------------------


def test_a_damaged_state_file_is_never_silently_reset(workspace, fr, slack):
    fr.add(
        notice("2025-00001", "Fisheries", "2025-07-01"),
        fr_document("2025-00002", "Adjusting Imports of Tin", "2025-07-01"),
    )
    workspace.write_config(fr_config(fr.url))
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0
    db = workspace.state / DB_NAME
    data = bytearray(db.read_bytes())
    data[:100] = b"\x00" * 100  # the header gone: not a database any more
    db.write_bytes(bytes(data))
    for command in ("run", "status", "check"):
        args = [command, "fr-trade"] if command == "check" else [command]
        result = workspace.cli(*args)
        assert result.exit_code == 1, command
        assert "damaged" in result.stderr and "will not start over" in result.stderr
    assert len(slack.messages) == 1, "nothing re-announced"


# --- secrets ---------------------------------------------------------------------------------

TOKEN = "xoxb-1234567890-0987654321-SECRETSECRETSECRET"


def test_the_token_never_reaches_logs_output_or_state(workspace, fr, slack, tmp_path):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    token_file = tmp_path / "slack-token"
    token_file.write_text(TOKEN + "\n")
    workspace.env.update({"SLACK_BOT_TOKEN_FILE": str(token_file), "SLACK_API_URL": slack.url})
    slack.fail(1, error="invalid_auth")
    outputs = []
    for args in (("-vv", "run"), ("-vv", "run"), ("status",), ("history", "--json")):
        result = workspace.cli(*args)
        outputs.append(result.stdout + result.stderr)
    assert "invalid_auth" in outputs[0]
    state = b"".join(p.read_bytes() for p in workspace.state.iterdir() if p.is_file())
    assert TOKEN.encode() not in state
    assert all(TOKEN not in out for out in outputs)
    # the token was used: Slack saw it as a bearer token
    assert slack.messages


def test_the_log_filter_redacts_tokens_whoever_logs_them():
    from watcher.secrets import redact

    assert TOKEN not in redact(f"posting with {TOKEN} failed")
    assert "Bearer …redacted" in redact("Authorization: Bearer abcdef1234567890")


def test_dry_run_and_validate_never_need_the_token(workspace, fr):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    env = {"SLACK_BOT_TOKEN_FILE": "/nonexistent/token"}
    assert workspace.cli("validate", env=env).exit_code == 0
    dry = workspace.cli("run", "--dry-run", env=env)
    assert dry.exit_code == 0
    assert "Now watching fr-trade" in dry.stdout
    real = workspace.cli("run", env=env)
    assert real.exit_code == 1
    assert "cannot read SLACK_BOT_TOKEN_FILE /nonexistent/token" in real.stderr
    assert fr.requests and len(fr.requests) == 1, "nothing fetched for the real run"


def test_retry_puts_refused_alerts_back_once_fixed(workspace, fr, slack):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    workspace.use_slack(slack)
    slack.fail(1, error="not_in_channel")
    assert workspace.cli("run").exit_code == 1
    assert workspace.cli("retry").stdout.startswith("1 failed alert(s) are pending again")
    assert workspace.cli("run").exit_code == 0
    assert len([m for m in slack.messages if "Now watching fr-trade" in m["text"]]) == 1


def test_retry_sends_the_alerts_again_not_the_stale_notice_that_slack_refused_them(
    workspace, fr, slack
):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    workspace.use_slack(slack, token="xoxb-revoked")
    slack.fail(2, error="invalid_auth")  # the alert, then the notice about it: both refused
    assert workspace.cli("run").exit_code == 1
    assert json.loads(workspace.cli("status", "--json").stdout)["alerts"]["failed"] == 2
    workspace.use_slack(slack)  # the token is fixed
    assert workspace.cli("retry").stdout.startswith("1 failed alert(s) are pending again")
    assert workspace.cli("run").exit_code == 0
    accepted = [m["text"] for m in slack.messages]
    assert any("Now watching fr-trade" in text for text in accepted)
    assert not any("Slack refuses alerts" in text for text in accepted), "stale, not re-sent"
    assert workspace.cli("status").exit_code == 0, "nothing failed or pending any more"

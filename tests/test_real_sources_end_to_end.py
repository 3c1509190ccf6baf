"""The real captures of CBP, USTR and BIS served from loopback, through `watcher run` with the
shipped sources.yaml, on the day they were captured: what alerts is what the labels say must
alert, and nothing else. Variants (a baseline holding fewer items, a rotated e-mail token, a
link added) are derived here, in test code, from the real bytes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from tests.conftest import DATA, Workspace
from tests.fakes import FakeSlack
from tests.test_sources_end_to_end import config, default_source, messages_about

CAPTURES = DATA / "captures"
CSMS = (CAPTURES / "cbp_csms_widget_rss_2026-10_first20.xml").read_bytes()
USTR = (CAPTURES / "ustr_rss_2026-10-03.xml").read_bytes()
BIS = (CAPTURES / "bis_section-232-steel-aluminum_2026-04.html").read_bytes()


def serve(server, path: str, body: dict[str, bytes], content_type: str) -> str:
    server.expect_request(path).respond_with_handler(
        lambda request: Response(body["now"], content_type=content_type)
    )
    return str(server.url_for(path))


def without_items(feed: bytes, keep: int | None = None, drop: bytes | None = None) -> bytes:
    """The feed with only its last `keep` items, or without the item holding `drop`."""
    starts = [m.start() for m in re.finditer(rb"<item>", feed)]
    ends = [feed.index(b"</item>", s) + len(b"</item>") for s in starts]
    items = [feed[s:e] for s, e in zip(starts, ends, strict=True)]
    kept = items[-keep:] if keep is not None else [i for i in items if drop not in i]
    return feed[: starts[0]] + b"\n".join(kept) + feed[ends[-1] :]


def test_the_real_csms_feed_alerts_its_three_tariff_messages_and_nothing_else(
    workspace: Workspace, server, slack: FakeSlack
):
    workspace.clock.set(datetime(2026, 10, 3, 12, tzinfo=UTC))
    body = {"now": without_items(CSMS, keep=1)}
    url = serve(server, "/widget.rss", body, "application/rss+xml; charset=utf-8")
    workspace.write_config(config(default_source("cbp-csms", url)))
    workspace.use_slack(slack)
    first = workspace.cli("run")
    assert first.exit_code == 0, first.stderr
    assert "1 message recorded" in slack.messages[0]["text"]

    body["now"] = CSMS
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    assert "19 new, 0 changed, 3 alerts" in result.stderr
    alerts = slack.messages[1:]
    assert len(alerts) == 3
    for number in ("70054007", "70050970", "70050117"):
        assert len(messages_about(slack, f"CSMS # {number}")) == 1, number
    pharma = json.dumps(messages_about(slack, "CSMS # 70054007")[0])
    assert "UPDATED GUIDANCE: Section 232 Duties on Imports of Pharmaceutical" in pharma
    assert "updates CSMS # 69395344" in pharma  # the message it updates, read from its text
    # the trade facts of the message's own text
    assert "Proclamation 11020" in pharma and "9903.04.66" in pharma
    assert "100 percent ad valorem" in pharma
    canada = json.dumps(messages_about(slack, "CSMS # 70050970")[0])
    assert "*Proclamations cited:* 11061, 11062, 11063" in canada
    assert "*HTSUS:* 0404, 1702, 1703" in canada
    assert "*Takes effect:* 12:01 a.m. Eastern Time on September 29, 2026" in canada
    for routine in ("Quota Bulletin", "ACE Production", "Withhold Release", "Broker License"):
        assert not messages_about(slack, routine), routine

    again = workspace.cli("run")
    assert again.exit_code == 0 and len(slack.messages) == 4


def test_an_updated_csms_message_replies_in_the_thread_of_the_one_it_updates(
    workspace: Workspace, server, slack: FakeSlack
):
    workspace.clock.set(datetime(2026, 10, 3, 12, tzinfo=UTC))
    # A variant: the original guidance CSMS # 69395344, made from the real update's bytes.
    start = CSMS.rindex(b"<item>", 0, CSMS.index(b'<guid isPermaLink="false">70054007'))
    update = CSMS[start : CSMS.index(b"</item>", start) + len(b"</item>")]
    original = update.replace(b">70054007<", b">69395344<").replace(
        b"CSMS # 70054007 - UPDATED GUIDANCE", b"CSMS # 69395344 - GUIDANCE"
    )
    oldest = without_items(CSMS, keep=1)
    at = oldest.index(b"<item>")
    body = {"now": oldest}
    url = serve(server, "/widget.rss", body, "application/rss+xml")
    workspace.write_config(config(default_source("cbp-csms", url)))
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0
    body["now"] = oldest[:at] + original + b"\n" + oldest[at:]
    assert workspace.cli("run").exit_code == 0
    first = slack.ts_of("CSMS message 69395344")

    body["now"] = CSMS.replace(update, update + b"\n" + original)
    assert workspace.cli("run").exit_code == 0
    (reply,) = messages_about(slack, "CSMS message 70054007")
    assert reply["thread_ts"] == first
    assert "updates CSMS # 69395344: GUIDANCE: Section 232 Duties" in json.dumps(reply)


def test_the_real_ustr_feed_stays_quiet_and_a_tariff_action_in_it_alerts(
    workspace: Workspace, server
):
    workspace.clock.set(datetime(2026, 10, 3, 12, tzinfo=UTC))
    body = {"now": without_items(USTR, drop=b"14454 at https://ustr.gov")}
    url = serve(server, "/rss.xml", body, "application/rss+xml; charset=utf-8")
    workspace.write_config(config(default_source("ustr-news", url)))
    assert workspace.cli("run").exit_code == 0

    body["now"] = USTR
    quiet = workspace.cli("run")
    assert quiet.exit_code == 0, quiet.stderr
    assert "1 new, 0 changed, 0 alerts" in quiet.stderr
    assert quiet.stdout == ""

    # A variant: the USMCA entry's real bytes under a real USTR tariff-action title.
    action = "Request for Public Comments on the Section 232 Exclusions Process"
    second = USTR.index(b"<item>", USTR.index(b"<item>") + 1)
    entry = USTR[second : USTR.index(b"</item>", second) + len(b"</item>")]
    variant = entry.replace(b"14454 at", b"19001 at").replace(
        b"USTR Seeks Public Comment on the 2027 Joint Review of USMCA", action.encode()
    )
    body["now"] = USTR.replace(entry, variant + b"\n" + entry)
    loud = workspace.cli("run")
    assert "1 new, 0 changed, 1 alert" in loud.stderr
    assert action in loud.stdout


def rotate_email_tokens(page: bytes) -> bytes:
    """Cloudflare gives every request new e-mail-protection tokens."""
    return re.sub(
        rb"(email-protection#|data-cfemail=\")([0-9a-f]+)",
        lambda m: m.group(1) + m.group(2)[::-1],
        page,
    )


def test_the_real_bis_page_ignores_rotating_tokens_and_reports_a_new_link(
    workspace: Workspace, server
):
    body = {"now": BIS}
    url = serve(server, "/section-232", body, "text/html; charset=utf-8")
    workspace.write_config(config(default_source("bis-section-232-investigations", url)))
    first = workspace.cli("run")
    assert first.exit_code == 0, first.stderr
    assert "28 entries recorded" in first.stdout

    body["now"] = rotate_email_tokens(BIS)
    assert body["now"] != BIS
    quiet = workspace.cli("run")
    assert quiet.exit_code == 0, quiet.stderr
    assert "0 changed, 0 alerts" in quiet.stderr and quiet.stdout == ""

    # A variant: one more link in the page's own markup, before the first proclamation.
    anchor = BIS.index(b'<a target="_blank" class="hyperlink')
    added = (
        b'<a target="_blank" class="hyperlink underline text-secondary-600 inline" '
        b'href="https://www.federalregister.gov/documents/2026/11/02/2026-99999/derived">'
        b"Derived test entry: Inclusions of Derivative Steel and Aluminum Products</a><br>"
    )
    body["now"] = rotate_email_tokens(BIS[:anchor] + added + BIS[anchor:])
    loud = workspace.cli("run")
    assert loud.exit_code == 0, loud.stderr
    assert "1 alert" in loud.stderr
    assert "+ Derived test entry: Inclusions of Derivative Steel and Aluminum Products" in (
        loud.stdout
    )
    assert "removed" not in loud.stdout.replace("removed: none", "")


@pytest.mark.parametrize("name", ["cbp-csms", "ustr-news", "bis-section-232-investigations"])
def test_a_capture_served_as_garbage_is_an_error_and_keeps_the_state(
    workspace: Workspace, server, name: str
):
    real = {"cbp-csms": CSMS, "ustr-news": USTR, "bis-section-232-investigations": BIS}[name]
    body = {"now": real}
    feed = name != "bis-section-232-investigations"
    url = serve(server, "/x", body, "application/rss+xml" if feed else "text/html")
    workspace.clock.set(datetime(2026, 10, 3, 12, tzinfo=UTC))
    workspace.write_config(config(default_source(name, url)))
    assert workspace.cli("run").exit_code == 0
    before = json.loads(workspace.cli("status", "--json").stdout)["sources"][0]["items"]
    body["now"] = b"<html><body><p>Service temporarily unavailable</p></body></html>"
    failed = workspace.cli("run")
    assert failed.exit_code == 1
    assert f"{name}: FAILED" in failed.stderr
    after = json.loads(workspace.cli("status", "--json").stdout)["sources"][0]["items"]
    assert after == before > 0

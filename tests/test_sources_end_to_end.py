"""Every source kind through the CLI against loopback servers: relevant news alerts once,
irrelevant news stays quiet, lists report exactly what they gained, a vanished selector is an
error, a filing that publishes continues its Slack thread."""

from __future__ import annotations

import json

import yaml

from tests.conftest import (
    DATA,
    FILING,
    HTTP_FOR_TESTS,
    UNRELATED,
    Workspace,
    default_source,
    fr_document,
)
from tests.fakes import FakeFederalRegister, FakeSlack
from tests.test_kinds import minerals_page


def config(*sources: dict) -> str:
    return (
        yaml.safe_dump({"slack": {"channel": "#trade-alerts", "retry_wait": 0}})
        + HTTP_FOR_TESTS
        + yaml.safe_dump({"sources": list(sources)}, sort_keys=False)
    )


def messages_about(slack: FakeSlack, needle: str) -> list[dict]:
    return [m for m in slack.messages if needle in json.dumps(m)]


# --- feeds -----------------------------------------------------------------------------------

WH_FEED = (DATA / "whitehouse_presidential_actions.rss").read_text(encoding="utf-8")
FIRST_ITEM = WH_FEED.index("\t<item>")


def wh_feed(extra_items: str = "") -> str:
    return WH_FEED[:FIRST_ITEM] + extra_items + WH_FEED[FIRST_ITEM:]


def item(title: str, guid: str, description: str = "") -> str:
    return (
        f"\t<item><title>{title}</title><link>https://www.whitehouse.gov/presidential-"
        f"actions/2026/02/{guid}/</link><pubDate>Mon, 02 Feb 2026 20:00:00 +0000</pubDate>"
        f'<guid isPermaLink="false">https://www.whitehouse.gov/?p={guid}</guid>'
        f"<description><![CDATA[{description}]]></description></item>\n"
    )


def test_a_feed_alerts_relevant_new_entries_once_and_nothing_else(
    workspace: Workspace, server, slack
):
    from werkzeug import Response

    site = server.url_for("").rstrip("/")
    body = {"feed": wh_feed().replace("https://www.whitehouse.gov", site)}
    server.expect_request("/presidential-actions/feed/").respond_with_handler(
        lambda request: Response(body["feed"], content_type="application/rss+xml; charset=UTF-8")
    )
    # the proclamation's page, as the White House posted it (the recorded text, in a page)
    proclamation = (DATA / "whitehouse_proclamation_11001_2026-01-14.md").read_text()
    server.expect_request("/presidential-actions/2026/02/80001/").respond_with_data(
        "<html><body><nav><a href='/'>Home</a></nav><main><pre>"
        + proclamation.split("---", 2)[2]
        + "</pre></main></body></html>",
        content_type="text/html; charset=utf-8",
    )
    url = server.url_for("/presidential-actions/feed/")
    workspace.write_config(config(default_source("whitehouse-presidential-actions", url)))
    workspace.use_slack(slack)
    first = workspace.cli("run")
    assert first.exit_code == 0, first.stderr
    assert "3 entries recorded, 1 of them match" in slack.messages[0]["text"]

    body["feed"] = wh_feed(
        item(
            "Adjusting Imports of Processed Critical Minerals into the United States",
            "80001",
            "A PROCLAMATION 1. On October 24, 2025, the Secretary ... under section 232 of "
            "the Trade Expansion Act of 1962",
        )
        + item("National Black History Month, 2026", "80002", "A PROCLAMATION ...")
    ).replace("https://www.whitehouse.gov", site)
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    assert "2 new, 0 changed, 1 alert" in result.stderr
    (message,) = messages_about(slack, "Processed Critical Minerals into")
    text = json.dumps(message)
    assert "presidential-actions/2026/02/80001" in text
    # the trade facts of the full page, fetched once for this relevant entry only
    assert "lithium, gallium, germanium" in text
    assert "Jan 14, 2026" in text  # signed, read from "IN WITNESS WHEREOF ..."
    assert not messages_about(slack, "Black History Month")
    workspace.cli("run")
    assert len(messages_about(slack, "Processed Critical Minerals into")) == 1
    page_requests = [r for r, _ in server.log if "80001" in r.path]
    assert len(page_requests) == 1


def test_an_unchanged_feed_costs_a_304(workspace: Workspace, server):
    calls = []

    def handler(request):
        from werkzeug import Response

        calls.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(wh_feed(), content_type="application/rss+xml", headers={"ETag": '"v1"'})

    server.expect_request("/feed").respond_with_handler(handler)
    workspace.write_config(config({"name": "wh", "kind": "feed", "url": server.url_for("/feed")}))
    assert workspace.cli("run").exit_code == 0
    second = workspace.cli("run")
    assert second.exit_code == 0
    assert "wh: not modified since the last check" in second.stderr
    assert calls == [None, '"v1"']


# --- pages -----------------------------------------------------------------------------------

LISTS = yaml.safe_load((DATA / "critical_minerals.yaml").read_text())


def serve_page(server, path: str, page: dict) -> str:
    from werkzeug import Response

    server.expect_request(path).respond_with_handler(
        lambda r: Response(
            page["html"], status=page.get("status", 200), content_type="text/html; charset=utf-8"
        )
    )
    return server.url_for(path)


def test_the_critical_minerals_list_going_from_50_to_60(workspace: Workspace, server, slack):
    page = {"html": minerals_page(LISTS["list_2022"])}
    url = serve_page(server, "/list", page)
    workspace.write_config(config(default_source("usgs-critical-minerals-list", url)))
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0
    assert "50 entries recorded" in slack.messages[0]["text"]

    page["html"] = minerals_page(LISTS["list_2022"] + LISTS["added_2025"], stamp="Nov 7, 2025")
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    assert len(slack.messages) == 2
    message = slack.messages[1]
    expected = ", ".join(m.capitalize() for m in LISTS["added_2025"])
    assert f"added: {expected}; removed: none" in message["text"]
    assert "USGS critical minerals list" in message["blocks"][0]["text"]["text"]
    workspace.cli("run")
    assert len(slack.messages) == 2, "once"

    # the 2025 draft proposed dropping arsenic and tellurium: a removal reads as one
    page["html"] = minerals_page(
        [m for m in LISTS["list_2022"] + LISTS["added_2025"] if m not in ("arsenic", "tellurium")]
    )
    workspace.cli("run")
    assert "added: none; removed: Arsenic, Tellurium" in slack.messages[2]["text"]
    assert slack.messages[2]["thread_ts"] == slack.ts_of("added: Boron")


def test_a_page_change_only_in_its_last_updated_stamp_is_quiet(workspace: Workspace, server):
    page = {"html": minerals_page(["lithium"], stamp="January 1, 2026")}
    url = serve_page(server, "/p", page)
    workspace.write_config(config({"name": "p", "kind": "page", "url": url, "selector": "main"}))
    workspace.cli("run")
    page["html"] = minerals_page(["lithium"], stamp="January 2, 2026")
    result = workspace.cli("run")
    assert "0 changed, 0 alerts" in result.stderr
    assert result.stdout == ""


def test_a_vanished_list_is_an_error_and_removes_nothing(workspace: Workspace, server):
    page = {"html": minerals_page(LISTS["list_2022"])}
    url = serve_page(server, "/list", page)
    workspace.write_config(config(default_source("usgs-critical-minerals-list", url)))
    assert workspace.cli("run").exit_code == 0
    page["html"] = b"<html><body><div id='new-layout'><p>Lithium</p></div></body></html>"
    result = workspace.cli("run")
    assert result.exit_code == 1
    assert "usgs-critical-minerals-list: FAILED: the list of critical minerals was not found" in (
        result.stderr
    )
    status = json.loads(workspace.cli("status", "--json").stdout)
    assert status["sources"][0]["items"] == 50
    page["html"] = minerals_page(LISTS["list_2022"])
    recovered = workspace.cli("run")
    assert recovered.exit_code == 0 and recovered.stdout == ""


def test_flapping_content_is_reported_once_then_held_back(workspace: Workspace, server):
    a = b"<html><body><main><p>Rates: 25 percent</p></main></body></html>"
    b = b"<html><body><main><p>Rates: 50 percent</p></main></body></html>"
    page = {"html": a}
    url = serve_page(server, "/flap", page)
    workspace.write_config(config({"name": "p", "kind": "page", "url": url, "selector": "main"}))
    workspace.cli("run")
    outputs = []
    for html in (b, a, b, a):
        page["html"] = html
        outputs.append(workspace.cli("run").stdout)
    assert "+ Rates: 50 percent" in outputs[0]
    assert outputs[1:] == ["", "", ""]
    status = json.loads(workspace.cli("status", "--json").stdout)
    assert status["sources"][0]["held_items"] == 1
    page["html"] = b"<html><body><main><p>Rates: 10 percent</p></main></body></html>"
    assert "+ Rates: 10 percent" in workspace.cli("run").stdout


# --- public inspection to publication --------------------------------------------------------


def fr_family(workspace: Workspace, fr: FakeFederalRegister) -> None:
    workspace.write_config(
        config(
            default_source("federal-register-public-inspection", fr.url),
            default_source("federal-register", fr.url),
        )
    )


def watched_desk(workspace: Workspace, fr: FakeFederalRegister, slack: FakeSlack) -> None:
    """Both Federal Register sources, posting to Slack, past their baselines."""
    fr.add(fr_document("2026-00900", "Fisheries Off Alaska", "2026-01-15", type="Rule"))
    fr.on_inspection = [UNRELATED]
    fr_family(workspace, fr)
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0  # baselines


def test_a_filing_is_announced_then_its_publication_replies_in_its_thread(
    workspace: Workspace, fr: FakeFederalRegister, slack: FakeSlack
):
    watched_desk(workspace, fr, slack)

    fr.on_inspection.append(FILING)
    filed = workspace.cli("run")
    assert filed.exit_code == 0, filed.stderr
    (message,) = messages_about(slack, "Processed Critical Minerals")
    assert "Special filing: on public inspection, publishes on Jan 20, 2026" in message["text"]
    root_ts = slack.ts_of("Processed Critical Minerals")

    fr.publish(
        "2026-01045",
        subtype="Proclamation",
        proclamation_number="11001",
        citation="91 FR 2601",
        signing_date="2026-01-14",
        pdf_url="https://www.govinfo.gov/content/pkg/FR-2026-01-20/pdf/2026-01045.pdf",
    )
    published = workspace.cli("run")
    assert published.exit_code == 0, published.stderr
    about = messages_about(slack, "Processed Critical Minerals")
    assert len(about) == 2, "an update of the earlier alert, not a second unrelated one"
    reply = about[1]
    assert reply["thread_ts"] == root_ts
    assert reply["reply_broadcast"] is True
    assert "Published in the Federal Register on Jan 20, 2026, 91 FR 2601" in reply["text"]
    assert "Proclamation 11001" in reply["blocks"][0]["text"]["text"]
    assert "govinfo.gov/content/pkg/FR-2026-01-20/pdf/2026-01045.pdf" in json.dumps(reply)
    workspace.cli("run")
    assert len(messages_about(slack, "Processed Critical Minerals")) == 2


def test_a_deleted_first_message_starts_the_story_again_and_its_thread_goes_on(
    workspace: Workspace, fr: FakeFederalRegister, slack: FakeSlack
):
    watched_desk(workspace, fr, slack)
    fr.on_inspection.append(FILING)
    workspace.cli("run")
    slack.deleted.add(slack.ts_of("Processed Critical Minerals"))  # someone deleted it

    fr.publish("2026-01045", subtype="Proclamation", proclamation_number="11001")
    assert workspace.cli("run").exit_code == 0
    (published,) = messages_about(slack, "Published in the Federal Register")
    assert "thread_ts" not in published, "top-level: the story starts again"
    restarted = slack.ts_of("Published in the Federal Register")

    fr.add(
        fr_document(
            "C1-2026-01045", FILING["title"], "2026-01-22", type="Presidential Document",
            correction_of="2026-01045",
        )
    )  # fmt: skip
    assert workspace.cli("run").exit_code == 0
    (correction,) = messages_about(slack, "C1-2026-01045")
    assert correction["thread_ts"] == restarted


def test_a_filing_that_leaves_without_publishing_is_reported_withdrawn(
    workspace: Workspace, fr: FakeFederalRegister
):
    fr.add(fr_document("2026-00900", "Fisheries Off Alaska", "2026-01-15", type="Rule"))
    fr.on_inspection = [UNRELATED]
    fr_family(workspace, fr)
    workspace.cli("run")
    fr.on_inspection.append(FILING)
    assert "publishes on Jan 20, 2026" in workspace.cli("run").stdout

    fr.on_inspection.remove(FILING)
    not_yet = workspace.cli("run")  # left the desk, the FR has not moved past Jan 20 yet
    assert "Withdrawn" not in not_yet.stdout
    fr.add(fr_document("2026-01100", "Fisheries Off Alaska", "2026-01-21", type="Rule"))
    withdrawn = workspace.cli("run")
    assert "Withdrawn from public inspection without being published" in withdrawn.stdout
    assert "it was to publish on 2026-01-20" in withdrawn.stdout
    assert "Withdrawn" not in workspace.cli("run").stdout


def test_a_published_filing_leaves_the_desk_quietly(workspace: Workspace, fr: FakeFederalRegister):
    fr.on_inspection = [UNRELATED]
    fr.add(fr_document("2026-00900", "Fisheries Off Alaska", "2026-01-15", type="Rule"))
    fr_family(workspace, fr)
    workspace.cli("run")
    fr.on_inspection.append(FILING)
    workspace.cli("run")
    fr.publish("2026-01045", citation="91 FR 2601")
    fr.add(fr_document("2026-01100", "Fisheries Off Alaska", "2026-01-21", type="Rule"))
    out = workspace.cli("run").stdout + workspace.cli("run").stdout
    assert "Withdrawn" not in out
    assert out.count("Published in the Federal Register") == 1


def test_a_federal_register_refusal_keeps_its_words(workspace: Workspace, server):
    from werkzeug import Response

    # the API's way of refusing a query: status 400 and what was wrong, in JSON
    server.expect_request("/api/v1/documents.json").respond_with_handler(
        lambda request: Response(
            json.dumps({"errors": {"fields": ["dispositon_notes is not a valid field"]}}),
            status=400,
            content_type="application/json; charset=utf-8",
        )
    )
    workspace.write_config(config(default_source("federal-register", server.url_for("/api/v1"))))
    result = workspace.cli("run")
    assert result.exit_code == 1
    assert "HTTP 400" in result.stderr
    assert "fields: dispositon_notes is not a valid field" in result.stderr


def test_an_empty_desk_is_an_error_at_the_first_check_too(
    workspace: Workspace, fr: FakeFederalRegister
):
    fr.on_inspection = []
    workspace.write_config(config(default_source("federal-register-public-inspection", fr.url)))
    first = workspace.cli("run")
    assert first.exit_code == 1
    assert "the public inspection list came back empty" in first.stderr
    status = json.loads(workspace.cli("status", "--json").stdout)["sources"][0]
    assert status["items"] == 0 and status["consecutive_failures"] == 1
    fr.on_inspection = [UNRELATED]
    baseline = workspace.cli("run")
    assert baseline.exit_code == 0, baseline.stderr
    assert "Now watching Federal Register public inspection: 1 document on file" in (
        baseline.stdout
    )

"""Source faults: the source fails for this run with a one-line reason, the other sources
run, nothing is recorded as removed, and what was published during the outage is announced
once the source recovers."""

from __future__ import annotations

import json
import time

import pytest
import yaml
from werkzeug import Request, Response

from tests.conftest import DATA, HTTP_FOR_TESTS, Workspace, fr_document, notice
from tests.fakes import FakeFederalRegister, FakeSlack
from tests.test_kinds import minerals_page

FEED = (DATA / "whitehouse_presidential_actions.rss").read_text()


def too_slow(request: Request) -> Response:
    time.sleep(0.5)  # http.timeout is 0.2 seconds here
    return Response("{}", content_type="application/json")


def results_beyond_the_api_window(request: Request) -> Response:
    day = request.args.get("conditions[publication_date][gte]", "2025-07-01")
    return Response(
        json.dumps(
            {
                "count": 20_000,
                "results": [fr_document(f"2025-9{n:04d}", "Doc", day) for n in range(5)],
            }
        ),
        content_type="application/json",
    )


FR_FAULTS = {
    "timeout": too_slow,
    "http 500": lambda r: Response("boom", status=500),
    "http 403": lambda r: Response("forbidden", status=403),
    "http 429": lambda r: Response("slow down", status=429, headers={"Retry-After": "0"}),
    "throttled html with status 200": lambda r: Response(
        "<!DOCTYPE html><html><body>Request Access</body></html>", content_type="text/html"
    ),
    "malformed json": lambda r: Response("{'count': 3,", content_type="application/json"),
    "truncated json": lambda r: Response(
        '{"count": 2, "results": [{"document_number": "20', content_type="application/json"
    ),
    "empty body": lambda r: Response("", content_type="application/json"),
    "oversized body": lambda r: Response(
        '{"count": 0, "x": "' + "x" * 300_000 + '"}', content_type="application/json"
    ),
    "redirect loop": lambda r: Response("", status=302, headers={"Location": r.full_path}),
    "beyond the 10,000-result window": results_beyond_the_api_window,
    "not a search result": lambda r: Response('["unexpected"]', content_type="application/json"),
}
EXPECTED_REASON = {
    "timeout": "timed out",
    "http 500": "HTTP 500",
    "http 403": "HTTP 403",
    "http 429": "HTTP 429",
    "throttled html with status 200": "HTML page where JSON was expected",
    "malformed json": "not valid JSON",
    "truncated json": "not valid JSON",
    "empty body": "empty body",
    "oversized body": "over the 200,000-byte limit",
    "redirect loop": "redirects",
    "beyond the 10,000-result window": "documents match for",
    "not a search result": "not a documents search result",
}
HTTP = HTTP_FOR_TESTS.replace("  timeout: 5\n", "  timeout: 0.2\n  max_bytes: 200000\n")


def two_sources(workspace: Workspace, fr: FakeFederalRegister, server, slack: FakeSlack) -> None:
    server.expect_request("/feed").respond_with_data(FEED, content_type="application/rss+xml")
    workspace.write_config(
        'slack: {channel: "#trade-alerts", digest_threshold: 1000}\n'
        + HTTP
        + yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "fr-trade",
                        "kind": "federal_register",
                        "url": fr.url,
                        "request_interval": 0,
                        "match": ["adjusting imports"],
                    },
                    {
                        "name": "wh",
                        "kind": "feed",
                        "url": server.url_for("/feed"),
                        "match": ["adjusting imports"],
                    },
                ]
            },
            sort_keys=False,
        )
    )
    workspace.use_slack(slack)


@pytest.mark.parametrize("fault", sorted(FR_FAULTS))
def test_a_failing_federal_register_costs_one_source_one_run(workspace, fr, server, slack, fault):
    fr.add(
        notice("2025-00001", "Fisheries", "2025-07-01"),
        fr_document("2025-00002", "Adjusting Imports of Tin", "2025-07-01"),
    )
    two_sources(workspace, fr, server, slack)
    assert workspace.cli("run").exit_code == 0
    items_before = {
        s["name"]: s["items"]
        for s in json.loads(workspace.cli("status", "--json").stdout)["sources"]
    }

    fr.server.clear()
    fr.server.expect_request("/feed").respond_with_data(
        FEED.replace(
            "<item>",
            "<item><title>Adjusting Imports of Lead into the United States"
            "</title><guid>wh-new</guid></item><item>",
            1,
        ),
        content_type="application/rss+xml",
    )
    fr.server.expect_request(f"{fr.prefix}/documents.json").respond_with_handler(FR_FAULTS[fault])
    broken = workspace.cli("run")
    assert broken.exit_code == 1
    (line,) = [x for x in broken.stderr.splitlines() if x.startswith("fr-trade: FAILED")]
    assert EXPECTED_REASON[fault] in line
    assert "wh: ok" in broken.stderr
    assert len([m for m in slack.messages if "Adjusting Imports of Lead" in m["text"]]) == 1
    after = {
        s["name"]: s["items"]
        for s in json.loads(workspace.cli("status", "--json").stdout)["sources"]
    }
    assert after["fr-trade"] == items_before["fr-trade"], "nothing recorded as removed"

    # a document published during the outage is announced once the source recovers
    fr.server.clear()
    recovered = FakeFederalRegister(fr.server)
    recovered.add(
        *fr.documents, fr_document("2025-00003", "Adjusting Imports of Zinc", "2025-07-02")
    )
    fr.server.expect_request("/feed").respond_with_data(FEED, content_type="application/rss+xml")
    ok = workspace.cli("run")
    assert ok.exit_code == 0, ok.stderr
    ok_again = workspace.cli("run")
    assert ok_again.exit_code == 0
    assert len([m for m in slack.messages if "Adjusting Imports of Zinc" in m["text"]]) == 1


FEED_FAULTS = {
    "html instead of a feed": (
        "<!DOCTYPE html><html><body>Maintenance</body></html>",
        "text/html",
        "HTML page where a feed was expected",
    ),
    "truncated xml": (FEED[:400], "application/rss+xml", "not a readable RSS or Atom feed"),
    "not xml at all": (
        "Service temporarily unavailable",
        "text/plain",
        "body is not XML where a feed was expected",
    ),
    "empty": ("", "application/rss+xml", "empty body"),
}


@pytest.mark.parametrize("fault", sorted(FEED_FAULTS))
def test_a_broken_feed_costs_one_source_one_run(workspace, fr, server, slack, fault):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    two_sources(workspace, fr, server, slack)
    assert workspace.cli("run").exit_code == 0
    body, content_type, reason = FEED_FAULTS[fault]
    server.clear()
    healthy = FakeFederalRegister(server)
    healthy.add(*fr.documents, fr_document("2025-00004", "Adjusting Imports of Gold", "2025-07-02"))
    server.expect_request("/feed").respond_with_data(body, content_type=content_type)
    result = workspace.cli("run")
    assert result.exit_code == 1
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("wh: FAILED")]
    assert reason in line
    assert "fr-trade: ok" in result.stderr
    assert len([m for m in slack.messages if "Adjusting Imports of Gold" in m["text"]]) == 1
    wh_items = {
        s["name"]: s["items"]
        for s in json.loads(workspace.cli("status", "--json").stdout)["sources"]
    }["wh"]
    assert wh_items == 3


def test_a_page_whose_selector_vanished_fails_and_removes_nothing(workspace, server, slack):
    page = {"html": minerals_page(["lithium", "cobalt"])}
    server.expect_request("/list").respond_with_handler(
        lambda r: Response(page["html"], content_type="text/html")
    )
    workspace.write_config(
        'slack: {channel: "#t"}\n'
        + HTTP
        + yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "list",
                        "kind": "page",
                        "url": server.url_for("/list"),
                        "selector": "article",
                        "item_selector": "li",
                    }
                ]
            }
        )
    )
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0
    page["html"] = b"<html><body><p>We moved things around</p></body></html>"
    result = workspace.cli("run")
    assert result.exit_code == 1
    assert "list: FAILED: selector 'article' matched nothing" in result.stderr
    page["html"] = minerals_page(["lithium", "cobalt", "boron"])
    assert workspace.cli("run").exit_code == 0
    (update,) = slack.messages[1:]
    assert "added: Boron; removed: none" in update["text"]

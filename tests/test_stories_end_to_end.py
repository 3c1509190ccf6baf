"""One action, one thread, through `watcher run` with the shipped sources.yaml on loopback.

The copper week of 2025 as the sources told it: the White House posted Proclamation 10962
the evening it was signed (Jul 30), CBP issued guidance the next day quoting its title, the
public inspection desk listed it on Aug 4, the Federal Register published it on Aug 5 (90 FR
37727), and CBP updated its guidance a week later citing "Proclamation 10962". Executive
Order 14326 was posted the next evening. The payloads are built here, in the shapes of the
real ones (the White House feed's WordPress RSS, the real CSMS widget feed's first item, the
Federal Register's records): titles, numbers and dates are the real ones, times of day and
message texts are not known and are stand-ins.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from werkzeug import Response

from tests.conftest import (
    DATA,
    FILING,
    HTTP_FOR_TESTS,
    UNRELATED,
    Workspace,
    default_source,
    fr_document,
)
from tests.fakes import FakeFederalRegister, FakeSlack, FakeWhiteHouse

EASTERN = ZoneInfo("America/New_York")
CSMS = (DATA / "captures" / "cbp_csms_widget_rss_2026-10_first20.xml").read_bytes()
COPPER_TEXT = (DATA / "proclamation_copper_excerpt.txt").read_text()
COPPER = "Adjusting Imports of Copper into the United States"
EO_14326 = "Further Modifying the Reciprocal Tariff Rates"


def eastern(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EASTERN)


class Csms:
    """The CSMS widget feed: the real capture's oldest message, and messages made from its
    first item's bytes."""

    def __init__(self, server) -> None:
        start = CSMS.index(b"<item>")
        self.template = CSMS[start : CSMS.index(b"</item>", start) + len(b"</item>")]
        last = CSMS.rindex(b"<item>")
        self.items = [CSMS[last : CSMS.index(b"</item>", last) + len(b"</item>")]]
        self.head, self.tail = CSMS[:start], b"</channel></rss>"
        server.expect_request("/csms.rss").respond_with_handler(
            lambda request: Response(
                self.head + b"".join(self.items) + self.tail, content_type="application/rss+xml"
            )
        )

    def message(self, number: str, title: str, when: datetime, body: str) -> None:
        item = self.template
        old_title = item[item.index(b"<title>") + 7 : item.index(b"</title>")]
        old_date = item[item.index(b"<pubDate>") + 9 : item.index(b"</pubDate>")]
        old_body = item[item.index(b"<![CDATA[") + 9 : item.index(b"]]>")]
        item = (
            item.replace(old_body, f"<p>{body}</p>".encode())  # first: it repeats the title
            .replace(old_title, f"CSMS # {number} - {title}".encode())
            .replace(old_date, format_datetime(when).encode())
            .replace(b">70087229<", f">{number}<".encode())
        )
        self.items.insert(0, item)


@pytest.fixture
def week(workspace: Workspace, server, fr: FakeFederalRegister, slack: FakeSlack):
    white_house, csms = FakeWhiteHouse(server), Csms(server)
    sources = [
        default_source(
            "whitehouse-presidential-actions", server.url_for("/presidential-actions/feed/")
        ),
        default_source("cbp-csms", server.url_for("/csms.rss")),
        default_source("federal-register-public-inspection", fr.url),
        default_source("federal-register", fr.url),
    ]
    workspace.write_config(
        yaml.safe_dump({"slack": {"channel": "#trade-alerts", "retry_wait": 0}})
        + HTTP_FOR_TESTS
        + yaml.safe_dump({"sources": sources}, sort_keys=False)
    )
    workspace.use_slack(slack)
    fr.add(fr_document("2025-14000", "Fisheries Off Alaska", "2025-07-28", type="Rule"))
    fr.on_inspection = [{**UNRELATED, "publication_date": "2025-07-30"}]
    white_house.post(
        "100", "Nominations Sent to the Senate", eastern("2025-07-28T18:00"), "Nominations", ""
    )
    return workspace, white_house, csms, fr, slack


def run_at(workspace: Workspace, moment: str) -> None:
    workspace.clock.set(eastern(moment))
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr + result.stdout


def filing(number: str, title: str, published: str, filed: str, **fields) -> dict:
    return {
        **FILING,
        "document_number": number,
        "title": title,
        "subject_1": title,
        "publication_date": published,
        "filed_at": filed,
        "html_url": f"https://www.federalregister.gov/documents/{published.replace('-', '/')}/"
        f"{number}/x",
        "pdf_url": f"https://public-inspection.federalregister.gov/{number}.pdf",
        **fields,
    }


def headers(slack: FakeSlack) -> list[tuple[str, str, str | None]]:
    """(header, text, thread root's text) of every message after the baselines' one."""
    accepted = [c for c in slack.calls if c.method == "accepted"][1:]
    texts = {c.ts: c.payload["text"] for c in accepted}
    return [
        (
            c.payload["blocks"][0]["text"]["text"],
            c.payload["text"],
            texts.get(c.payload.get("thread_ts")),
        )
        for c in accepted
    ]


def test_the_copper_week_is_one_thread(week):
    workspace, white_house, csms, fr, slack = week
    run_at(workspace, "2025-07-29T12:00")  # the baselines, one message
    assert len(slack.messages) == 1

    white_house.post("101", COPPER, eastern("2025-07-30T21:40"), "Proclamations", COPPER_TEXT)
    run_at(workspace, "2025-07-30T22:00")
    top = slack.ts_of("new: Adjusting Imports of Copper into the United States")

    csms.message(
        "65794272",
        "GUIDANCE: Section 232 Duties on Imports of Copper",
        eastern("2025-07-31T17:05"),
        "This message provides guidance on the Presidential Proclamation, Adjusting Imports "
        "of Copper into the United States, signed July 30, 2025. Effective 12:01 a.m. eastern "
        "daylight time on August 1, 2025, semi-finished copper products are subject to an "
        "additional 50 percent ad valorem duty under section 232, reported under heading "
        "9903.78.01.",
    )
    white_house.post(
        "102",
        EO_14326,
        eastern("2025-07-31T21:30"),
        "Executive Orders",
        "By the authority vested in me ... section 604 of the Trade Act of 1974 ... "
        "reciprocal tariff rates ... THE WHITE HOUSE, July 31, 2025.",
    )
    run_at(workspace, "2025-07-31T22:00")

    fr.on_inspection.append(
        filing(
            "2025-14893",
            "Adjusting Imports of Copper Into the United States",
            "2025-08-05",
            "2025-08-04T16:15:00.000-04:00",
        )
    )
    run_at(workspace, "2025-08-04T16:30")

    fr.publish(
        "2025-14893",
        subtype="Proclamation",
        proclamation_number="10962",
        signing_date="2025-07-30",
        citation="90 FR 37727",
        publication_date="2025-08-05",
    )
    fr.on_inspection.append(
        filing("2025-15010", EO_14326, "2025-08-06", "2025-08-05T08:45:00.000-04:00")
    )
    run_at(workspace, "2025-08-05T09:00")
    fr.publish(
        "2025-15010",
        subtype="Executive Order",
        executive_order_number="14326",
        signing_date="2025-07-31",
        citation="90 FR 37963",
        publication_date="2025-08-06",
    )
    run_at(workspace, "2025-08-06T09:00")

    csms.message(
        "65905512",
        "UPDATED GUIDANCE: Section 232 Duties on Imports of Copper",
        eastern("2025-08-12T15:00"),
        "This message updates CSMS # 65794272 on the implementation of Proclamation 10962, "
        "Adjusting Imports of Copper into the United States, under section 232.",
    )
    run_at(workspace, "2025-08-12T16:00")

    told = headers(slack)
    tops = [(h, t) for h, t, root in told if root is None]
    assert [h for h, _ in tops] == [
        "Proclamation (White House presidential actions) · new",
        "Executive Order (White House presidential actions) · new",
    ]
    copper = [(h, t) for h, t, root in told if root and COPPER in root]
    assert [h for h, _ in copper] == [
        "CSMS message 65794272 · new",
        "Presidential document · on public inspection",
        "Proclamation 10962 · published",
        "CSMS message 65905512 · new",
    ]
    published = copper[2][1]
    assert "Published in the Federal Register on Aug 5, 2025, 90 FR 37727" in published
    assert "6 days after it appeared in White House presidential actions" in published
    order = [h for h, t, root in told if root and EO_14326 in root]
    assert order == [
        "Presidential document · on public inspection",
        "Executive Order 14326 · published",
    ]
    # the publication is broadcast to the channel; the other stages stay in the thread
    replies = [m for m in slack.messages if m.get("thread_ts") == top]
    assert [bool(m.get("reply_broadcast")) for m in replies] == [False, False, True, False]

    stories = json.loads(workspace.cli("stories", "--json").stdout)
    (story,) = [s for s in stories if s["title"] == COPPER]
    assert story["instruments"] == ["Proclamation 10962"]
    assert [s["source"] for s in story["stages"]] == [
        "whitehouse-presidential-actions",
        "cbp-csms",
        "federal-register-public-inspection",
        "federal-register",
        "cbp-csms",
    ]
    # posted 21:40 Eastern on Jul 30; published 6:00 Eastern on Aug 5
    assert story["lead_hours"] == pytest.approx(128.3, abs=0.1)


MINERALS = "Adjusting Imports of Processed Critical Minerals and Their Derivative Products"
CHIPS = (
    "Adjusting Imports of Semiconductors, Semiconductor Manufacturing Equipment, and Their "
    "Derivative Products"
)
EO_14272 = (
    "Ensuring National Security and Economic Resilience Through Section 232 Actions on "
    "Processed Critical Minerals and Derivative Products"
)
# the White House's post of Proclamation 11001, as recorded (converted to text by a scraper)
TEXT_11001 = (DATA / "whitehouse_proclamation_11001_2026-01-14.md").read_text().split("---", 2)[2]


def test_11001_and_11002_stay_apart_and_11001_answers_eo_14272(week):
    workspace, white_house, _, fr, slack = week
    run_at(workspace, "2025-04-14T12:00")  # the baselines
    white_house.post(
        "200",
        EO_14272,
        eastern("2025-04-15T20:30"),
        "Executive Orders",
        "By the authority vested in me ... section 232 of the Trade Expansion Act of 1962 ... "
        "processed critical minerals ... THE WHITE HOUSE, April 15, 2025.",
    )
    run_at(workspace, "2025-04-15T21:00")
    fr.add(
        fr_document(
            "2025-06836",
            EO_14272,
            "2025-04-18",
            type="Presidential Document",
            subtype="Executive Order",
            executive_order_number="14272",
            signing_date="2025-04-15",
            citation="90 FR 16397",
            agencies=[{"name": "Executive Office of the President"}],
        )
    )
    run_at(workspace, "2025-04-18T09:00")
    order = slack.ts_of(f"new: {EO_14272}")

    # Jan 14, 2026: two proclamations in one evening, both "Adjusting Imports of ..."
    white_house.post(
        "300", MINERALS + " into the United States", eastern("2026-01-14T16:13"),
        "Proclamations", TEXT_11001,
    )  # fmt: skip
    white_house.post(
        "301", CHIPS + " into the United States", eastern("2026-01-14T16:20"), "Proclamations",
        "BY THE PRESIDENT OF THE UNITED STATES OF AMERICA A PROCLAMATION ... semiconductors "
        "... section 232 ...",
    )  # fmt: skip
    run_at(workspace, "2026-01-14T17:00")
    minerals = slack.ts_of(f"new: {MINERALS} into the United States")
    chips = slack.ts_of(f"new: {CHIPS} into the United States")
    assert minerals != chips
    # the critical minerals proclamation acts on EO 14272: a short reply in its thread
    (pointer,) = [m for m in slack.messages if m.get("thread_ts") == order]
    assert "acts on this action" in json.dumps(pointer)
    assert MINERALS in pointer["text"]
    # its 180-day deadline, read from its text and counted from its signing
    posted = json.dumps(next(c.payload for c in slack.calls if c.ts == minerals))
    assert "Jul 13, 2026 (within 180 days of the date of this proclamation)" in posted

    for number, title in (("2026-01045", MINERALS), ("2026-01052", CHIPS)):
        fr.on_inspection.append(
            filing(number, title + " Into The United States", "2026-01-20",
                   "2026-01-16T16:15:00.000-05:00")
        )  # fmt: skip
    run_at(workspace, "2026-01-16T16:30")
    fr.texts["2026-01045"] = TEXT_11001  # the published text states the deadline too
    fr.publish(
        "2026-01045", subtype="Proclamation", proclamation_number="11001",
        signing_date="2026-01-14", citation="91 FR 2601",
    )  # fmt: skip
    fr.publish(
        "2026-01052", subtype="Proclamation", proclamation_number="11002",
        signing_date="2026-01-14", citation="91 FR 2615",
    )  # fmt: skip
    run_at(workspace, "2026-01-20T09:00")

    told = headers(slack)
    in_minerals = [h for h, t, root in told if root and MINERALS in root and "follow" not in h]
    in_chips = [h for h, t, root in told if root and CHIPS in root]
    assert in_minerals == [
        "Presidential document · on public inspection",
        "Proclamation 11001 · published",
    ]
    assert in_chips == [
        "Presidential document · on public inspection",
        "Proclamation 11002 · published",
    ]
    # 11001's publication replies in EO 14272's thread, with its number and citation
    replies = [m for m in slack.messages if m.get("thread_ts") == order]
    assert len(replies) == 2
    assert replies[1]["blocks"][0]["text"]["text"] == "Proclamation 11001 · follow-up"
    assert "published in the Federal Register on Jan 20, 2026, 91 FR 2601" in json.dumps(replies[1])

    # the deadline is reminded in 11001's thread, 7 days and 1 day ahead, once each
    for moment in ("2026-07-06T09:00", "2026-07-06T10:00", "2026-07-12T09:00"):
        run_at(workspace, moment)
    reminders = [m for m in slack.messages if "· reminder" in m["blocks"][0]["text"]["text"]]
    assert [m["thread_ts"] for m in reminders] == [minerals, minerals]
    assert "in 7 days, on Jul 13, 2026" in json.dumps(reminders[0])
    assert "tomorrow, Jul 13, 2026" in json.dumps(reminders[1])
    assert "shall provide one of these updates" in json.dumps(reminders[0])

    stories = {s["title"]: s for s in json.loads(workspace.cli("stories", "--json").stdout)}
    story = stories[MINERALS + " into the United States"]
    assert story["instruments"] == ["Proclamation 11001"]
    assert [d["due"] for d in story["deadlines"]] == ["2026-07-13"]
    assert story["lead_hours"] == pytest.approx(133.8, abs=0.1)  # 16:13 Jan 14 to 6:00 Jan 20
    assert stories[CHIPS + " into the United States"]["instruments"] == ["Proclamation 11002"]


def test_routes_see_a_publication_as_one_and_may_broadcast_other_stages(week):
    workspace, white_house, csms, fr, slack = week
    text = workspace.config.read_text().replace(
        "  retry_wait: 0\n",
        "  retry_wait: 0\n  routes:\n"
        "  - when: {event: [published]}\n    mention: '@here'\n"
        "  - when: {source: [cbp-csms]}\n    broadcast: true\n",
        1,  # the slack section's, not the http section's
    )
    workspace.write_config(text)
    run_at(workspace, "2025-07-29T12:00")
    white_house.post("101", COPPER, eastern("2025-07-30T21:40"), "Proclamations", COPPER_TEXT)
    run_at(workspace, "2025-07-30T22:00")
    csms.message(
        "65794272",
        "GUIDANCE: Section 232 Duties on Imports of Copper",
        eastern("2025-07-31T17:05"),
        "Guidance on the Presidential Proclamation, Adjusting Imports of Copper into the "
        "United States, under section 232.",
    )
    run_at(workspace, "2025-07-31T22:00")
    # published with no filing seen first: the Federal Register's NEW becomes PUBLISHED in the
    # story, and the route for publications sees it as one
    fr.add(
        fr_document(
            "2025-14893", "Adjusting Imports of Copper Into the United States", "2025-08-05",
            type="Presidential Document", subtype="Proclamation", proclamation_number="10962",
            signing_date="2025-07-30", citation="90 FR 37727",
            agencies=[{"name": "Executive Office of the President"}],
        )
    )  # fmt: skip
    run_at(workspace, "2025-08-05T09:00")
    top = slack.ts_of("new: Adjusting Imports of Copper into the United States")
    replies = [m for m in slack.messages if m.get("thread_ts") == top]
    assert [m["blocks"][0]["text"]["text"] for m in replies] == [
        "CSMS message 65794272 · new",
        "Proclamation 10962 · published",
    ]
    assert [bool(m.get("reply_broadcast")) for m in replies] == [True, True]
    assert replies[1]["text"].startswith("<!here> Proclamation 10962 · published")

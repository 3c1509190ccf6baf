"""Messages a trade lawyer can act on: the renderer on real documents, Slack's limits and
escaping on every payload, digests, routing, threads, reminders and history."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.conftest import DATA, Workspace, fr_config, fr_document, load_json, notice
from tests.fakes import FakeFederalRegister, FakeSlack
from tests.slack_limits import live_markup, violations
from watcher.models import Alert, AlertEvent, Entry, FieldChange, Item, Link, ListChange
from watcher.plaintext import render_text
from watcher.render import render_digest, render_slack
from watcher.sources.federal_register import normalise_document


def alert_for(doc: dict, event: AlertEvent = AlertEvent.NEW, **extra) -> Alert:
    item = normalise_document(doc)
    values = {
        "source": "federal-register",
        "source_kind": "federal_register",
        "event": event,
        "channel": "#trade",
        "title": item.title,
        "item_key": item.key,
        "url": item.url,
        "item": item,
        "matched": ("adjusting imports",),
        "label": "Federal Register",
    }
    values.update(extra)
    return Alert(**values)


def payload(message) -> dict:
    return {"text": message.text, "blocks": [dict(b) for b in message.blocks]}


def block_texts(message) -> str:
    return json.dumps([dict(b) for b in message.blocks])


# --- the renderer on real documents ----------------------------------------------------------


def test_a_real_section_232_proclamation_field_by_field():
    doc = load_json("documents_search_presdocu_2017-2020_excerpt.json")["results"][0]
    message = render_slack(alert_for(doc))
    blocks = [dict(b) for b in message.blocks]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "emoji": False, "text": "Proclamation 9980 · new"},
    }
    title = blocks[1]["text"]["text"]
    assert title == (
        "*<https://www.federalregister.gov/documents/2020/01/29/2020-01806/adjusting-imports-of-"
        "derivative-aluminum-articles-and-derivative-steel-articles-into-the-united|Adjusting "
        "Imports of Derivative Aluminum Articles and Derivative Steel Articles Into the United "
        "States>*"
    )
    fields = {
        f["text"].split("\n")[0].strip("*"): f["text"].split("\n")[1] for f in blocks[2]["fields"]
    }
    assert fields == {
        "Document": "2020-01806",
        "Agency": "Executive Office of the President",
        "Signed": "Jan 24, 2020",
        "Published": "Jan 29, 2020",
        "Citation": "85 FR 5281",
    }
    context = blocks[-1]["elements"]
    assert "|Document>" in context[0]["text"] and "|PDF>" in context[0]["text"]
    assert context[1]["text"] == "Why: Federal Register matched “adjusting imports”"
    assert message.text.startswith("Proclamation 9980 · new: Adjusting Imports of Derivative")
    assert "Signed Jan 24, 2020 — Published Jan 29, 2020" in message.text


def test_a_real_agency_notice_names_its_bureau_and_docket():
    message = render_slack(alert_for(load_json("document_2025-05887.json")))
    assert message.blocks[0]["text"]["text"] == "ITA notice · new"
    text = block_texts(message)
    assert "*Agency*\\nInternational Trade Administration" in text
    assert "*Dockets*\\nC-570-161" in text
    assert "The U.S. Department of Commerce (Commerce) determines" in text


def test_instrument_names_in_headers():
    base = load_json("documents_search_presdocu_2017-2020_excerpt.json")["results"][0]
    eo = dict(
        base, proclamation_number=None, subtype="Executive Order", executive_order_number="14272"
    )
    assert render_slack(alert_for(eo)).blocks[0]["text"]["text"] == "Executive Order 14272 · new"
    listing = Alert(
        source="usgs-critical-minerals-list",
        source_kind="page",
        event=AlertEvent.LIST_CHANGED,
        channel="#t",
        title="USGS list",
        label="USGS critical minerals list",
        listing=ListChange(added=(Entry("Boron"),)),
    )
    assert render_slack(listing).blocks[0]["text"]["text"] == (
        "USGS critical minerals list update · changed"
    )
    filed = alert_for(dict(base, document_number="2026-01045"), AlertEvent.FILED)
    assert "on public inspection" in render_slack(filed).blocks[0]["text"]["text"]


def test_trade_facts_appear_and_a_document_without_any_shows_none():
    doc = load_json("documents_search_presdocu_2017-2020_excerpt.json")["results"][0]
    with_facts = alert_for(
        doc,
        facts={
            "rates": ["25 percent ad valorem"],
            "hts": ["7601"],
            "effective": ["12:01 a.m. eastern daylight time on June 4, 2025"],
        },
    )
    text = block_texts(render_slack(with_facts))
    assert "*Rates:* 25 percent ad valorem" in text
    assert "*HTSUS:* 7601" in text
    assert "*Takes effect:* 12:01 a.m. eastern daylight time on June 4, 2025" in text
    assert "Rates" not in block_texts(render_slack(alert_for(doc)))


def test_changes_are_bounded_with_a_count_and_a_link():
    doc = load_json("document_2025-05887.json")
    changes = tuple(FieldChange(f"field_{i}", "old " * 100, "new " * 100) for i in range(20))
    message = render_slack(alert_for(doc, AlertEvent.CHANGED, changes=changes))
    what_changed = next(b for b in message.blocks if "What changed" in json.dumps(b))
    shown = what_changed["text"]["text"].count("• Field ")
    assert (
        f"+{20 - shown} more changes (<https://www.federalregister.gov/"
        in (what_changed["text"]["text"])
    )
    assert not violations(payload(message))


# --- Slack's limits and escaping -------------------------------------------------------------

HOSTILE = [
    "<!channel> Proclamation",
    "<!here|here> everyone",
    "<@U123ABC> please look",
    "<http://evil.example|Click for the real proclamation>",
    "&lt;script&gt; and & ampersands",
    "<#C0123|general>",
]


@pytest.mark.parametrize("title", HOSTILE)
def test_source_text_can_never_become_slack_markup(title):
    doc = load_json("document_2025-05887.json")
    hostile = dict(doc, title=title, abstract=title, docket_ids=[title])
    for event in (AlertEvent.NEW, AlertEvent.CHANGED, AlertEvent.FILED):
        alert = alert_for(
            hostile,
            event,
            changes=(FieldChange("title", title, title + "!"),),
            matched=(title,),
            facts={"countries": [title]},
        )
        message = render_slack(alert)
        live = live_markup(payload(message))
        # the only live markup is watcher's own links to the document
        assert all(
            m.startswith("<https://www.federalregister.gov/")
            or m.startswith("<https://www.govinfo.gov/")
            for m in live
        ), live
        assert "<!" not in json.dumps(payload(message))
        assert "<@" not in json.dumps(payload(message))


def test_a_hostile_link_in_a_feed_cannot_be_live():
    alert = Alert(
        source="f",
        source_kind="feed",
        event=AlertEvent.NEW,
        channel="#t",
        title="x",
        url="javascript:alert(1)",
        item=Item(
            key="x",
            title="x",
            fingerprint="0",
            links=(Link("Read it", "javascript:alert(1)"),),
        ),
    )
    assert not live_markup(payload(render_slack(alert)))
    alert = Alert(
        source="f",
        source_kind="feed",
        event=AlertEvent.NEW,
        channel="#t",
        title="x",
        url="https://ok.gov/a|<!channel>",
    )
    assert live_markup(payload(render_slack(alert))) == ["<https://ok.gov/a%7C%3C!channel%3E|x>"]


def test_only_configured_mentions_are_live():
    doc = load_json("document_2025-05887.json")
    message = render_slack(alert_for(doc, mention="<!subteam^S0TRADE>"))
    assert live_markup(payload(message))[0] == "<!subteam^S0TRADE>"
    assert message.text.startswith("<!subteam^S0TRADE> ")


def test_a_40000_character_abstract_stays_within_every_limit():
    doc = load_json("document_2025-05887.json")
    huge = dict(
        doc,
        abstract="tariff " * 6000,
        title="T" * 5000,
        docket_ids=["D" * 3000] * 40,
        agencies=[{"name": "A" * 3000}],
    )
    for event in AlertEvent:
        message = render_slack(
            alert_for(
                huge,
                event,
                note="n" * 9000,
                changes=(FieldChange("abstract", "a" * 40000, "b" * 40000),),
            )
        )
        assert violations(payload(message)) == [], event
    assert len(render_text(alert_for(huge))) < 60_000


def test_a_digest_of_300_alerts_stays_within_limits_and_names_them_all_or_counts_them():
    doc = load_json("document_2025-05887.json")
    alerts = [
        alert_for(dict(doc, document_number=f"2025-{n:05d}", title=f"Notice {n} " + "x" * 150))
        for n in range(300)
    ]
    message = render_digest(alerts, "#trade")
    assert violations(payload(message)) == []
    text = block_texts(message)
    listed = text.count("Notice ")
    more = int(text.split("+")[-1].split(" more in the thread")[0]) if "more in" in text else 0
    assert listed + more == 300


# --- through the CLI -------------------------------------------------------------------------


def baseline(
    workspace: Workspace,
    fr: FakeFederalRegister,
    slack: FakeSlack,
    extra: str = "",
    config: str | None = None,
) -> None:
    fr.add(notice("2025-00001", "Fisheries of the Northeastern United States", "2025-07-01"))
    workspace.write_config(config or fr_config(fr.url) + extra)
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0


def test_the_full_text_gives_the_message_its_facts(workspace, fr, slack):
    baseline(workspace, fr, slack)
    copper = fr_document(
        "2025-14893",
        "Adjusting Imports of Copper Into the United States",
        "2025-07-02",
        subtype="Proclamation",
        proclamation_number="10962",
    )
    fr.texts["2025-14893"] = (DATA / "proclamation_copper_excerpt.txt").read_text()
    fr.add(copper)
    assert workspace.cli("run").exit_code == 0
    text = json.dumps(slack.messages[-1])
    for fact in (
        "50 percent ad valorem",
        "9903.78.01",
        "12:01 a.m. eastern daylight time on August 1, 2025",
        "Proclamations cited:* 10895, 10896",
        "Canada, Mexico, China",
    ):
        assert fact in text, fact
    # the full text came from the document's raw_text_url, once
    assert [r.path for r, _ in fr.server.log if "full_text" in r.path] == [
        "/api/v1/full_text/2025-14893.txt"
    ]


@pytest.mark.parametrize(("status", "tries"), [(503, 1), (404, 4)])
def test_an_unreachable_full_text_never_holds_up_the_alert(workspace, fr, slack, status, tries):
    baseline(workspace, fr, slack)
    fr.text_status = status
    fr.add(
        *(
            fr_document(f"2025-1490{n}", f"Adjusting Imports of Metal {n}", "2025-07-02")
            for n in range(4)
        )
    )
    result = workspace.cli("run")
    assert result.exit_code == 0
    assert len(slack.messages) == 5
    # a host that fails (503) is not tried again this run; one that says a document has no
    # text (404) is still asked for the next document's
    assert len([r for r, _ in fr.server.log if "full_text" in r.path]) == tries


def test_more_alerts_than_the_threshold_become_one_digest_with_details_in_its_thread(
    workspace, fr, slack
):
    baseline(workspace, fr, slack)
    fr.add(
        *(
            fr_document(f"2025-2{n:04d}", f"Adjusting Imports of Article {n}", "2025-07-02")
            for n in range(300)
        )
    )
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    messages = slack.messages[1:]
    top_level = [m for m in messages if "thread_ts" not in m]
    assert len(top_level) == 1, "the channel is not flooded"
    digest = top_level[0]
    assert "300 trade alerts" in digest["blocks"][0]["text"]["text"]
    replies = [m for m in messages if m.get("thread_ts") == slack.ts_of("300 trade alerts")]
    # a flood: 50 full alerts in the thread (slack.flood_cap), then one message listing the
    # other 250; every alert is in the state and the history
    full, (listing,) = replies[:-1], replies[-1:]
    assert len(full) == 50
    assert len({m["text"].split(": ", 1)[1][:40] for m in full}) == 50
    assert listing["blocks"][0]["text"]["text"] == "… and 250 more trade alerts"
    assert "watcher history" in json.dumps(listing)
    listed = json.dumps(listing)
    assert all(f"Adjusting Imports of Article {n}>" in listed for n in (0, 100, 249))
    history = json.loads(workspace.cli("history", "--json", "--limit", "1000").stdout)
    assert len([h for h in history if h["status"] == "sent" and h["event"] == "new"]) == 300
    assert all(not violations(m) for m in slack.messages)
    assert not [c for c in slack.calls if c.method == "refused"]


def test_a_digest_interrupted_by_slack_resumes_in_the_same_thread(workspace, fr, slack):
    baseline(workspace, fr, slack)
    fr.add(
        *(
            fr_document(f"2025-3{n:04d}", f"Adjusting Imports of Part {n}", "2025-07-02")
            for n in range(8)
        )
    )
    # the digest goes through, then Slack fails on the 4th reply (after its own retries)
    original = slack._post
    state = {"calls": 0}

    def flaky(request):
        state["calls"] += 1
        if state["calls"] == 5:
            slack.fail(3, status=503)
        return original(request)

    slack.server.clear()
    slack.server.expect_request("/api/chat.postMessage", method="POST").respond_with_handler(flaky)
    first = workspace.cli("run")
    assert first.exit_code == 1
    second = workspace.cli("run")
    assert second.exit_code == 0, second.stderr
    digests = [m for m in slack.messages if "trade alerts from watcher" in json.dumps(m)]
    assert len(digests) == 1
    root = slack.ts_of("8 trade alerts")
    replies = [m for m in slack.messages if m.get("thread_ts") == root]
    assert len(replies) == 8
    assert len({m["text"] for m in replies}) == 8, "none doubled"


def test_first_checks_of_several_sources_are_one_message(workspace, fr, slack, server):
    other = FakeFederalRegister(server, prefix="/other/api/v1")
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    other.add(notice("2025-00002", "Fisheries", "2025-07-01"))
    workspace.write_config(
        fr_config(
            fr.url,
            extra_sources=f"""\
  - name: fr-other
    kind: federal_register
    url: {other.url}
    request_interval: 0
""",
        )
    )
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0
    (message,) = slack.messages
    assert message["blocks"][0]["text"]["text"] == "Now watching 2 sources"
    assert "fr-trade" in message["text"] and "fr-other" in message["text"]


ROUTES = """\
  routes:
    - when: {instrument: [proclamation, executive order]}
      channel: "#trade-urgent"
      mention: subteam:S0TRADE
    - when: {matched: [critical minerals]}
      channel: "#minerals"
"""


def routed_config(fr_url: str) -> str:
    return fr_config(
        fr_url,
        match="""\
    match:
      - section 232
      - adjusting imports
      - critical minerals
""",
    ).replace('  channel: "#trade-alerts"\n', '  channel: "#trade-alerts"\n' + ROUTES)


def test_routes_send_proclamations_to_a_channel_with_a_mention(workspace, fr, slack):
    baseline(workspace, fr, slack, config=routed_config(fr.url))
    fr.add(
        fr_document(
            "2025-4001",
            "Adjusting Imports of Copper Into the United States",
            "2025-07-02",
            subtype="Proclamation",
            proclamation_number="10962",
        ),
        notice(
            "2025-4002",
            "Notice of Request for Public Comments on Section 232 National "
            "Security Investigation of Imports of Copper",
            "2025-07-02",
        ),
        notice("2025-4003", "Methodology for the List of Critical Minerals", "2025-07-02"),
    )
    assert workspace.cli("run").exit_code == 0
    by_channel = {}
    for message in slack.messages[1:]:
        by_channel.setdefault(message["channel"], []).append(message)
    (urgent,) = by_channel["#trade-urgent"]
    assert urgent["text"].startswith("<!subteam^S0TRADE> Proclamation 10962")
    assert "<!subteam^S0TRADE>" in json.dumps(urgent["blocks"])
    (comments,) = by_channel["#trade-alerts"]
    assert "<!subteam" not in json.dumps(comments)
    (minerals,) = by_channel["#minerals"]
    assert "Critical Minerals" in minerals["text"]


def test_route_errors_name_the_key(workspace, fr):
    workspace.write_config(
        fr_config(fr.url).replace(
            '  channel: "#trade-alerts"\n',
            '  channel: "#trade-alerts"\n  routes:\n    - when: {source: [nope], event: [typo]}\n'
            '      mention: "@everyone please"\n',
        )
    )
    result = workspace.cli("validate")
    assert result.exit_code == 2
    assert "slack.routes[0].when.event: unknown event 'typo'" in result.stderr
    assert "slack.routes[0].mention: '@everyone please' is not a mention" in result.stderr


def test_deadline_reminders_come_once_each_in_the_documents_thread(workspace, fr, slack):
    baseline(workspace, fr, slack)
    today = date.today()
    doc = notice(
        "2025-5001",
        "Notice of Request for Public Comments on Section 232 National "
        "Security Investigation of Imports of Robotics",
        "2025-07-02",
        comments_close_on=(today + timedelta(days=6)).isoformat(),
        comment_url="https://www.regulations.gov/commenton/BIS-2025-0001",
    )
    fr.add(doc)
    workspace.cli("run")
    root = slack.ts_of("Robotics")
    reminders = [m for m in slack.messages if "reminder" in m["blocks"][0]["text"]["text"]]
    assert len(reminders) == 1
    (reminder,) = reminders
    assert reminder["thread_ts"] == root
    assert "Comments close in 6 days" in reminder["text"]
    assert "regulations.gov/commenton/BIS-2025-0001" in json.dumps(reminder)
    workspace.cli("run")
    assert len([m for m in slack.messages if "reminder" in m["blocks"][0]["text"]["text"]]) == 1

    # the deadline moves to tomorrow: the 1-day reminder, once
    fr.add({**doc, "comments_close_on": (today + timedelta(days=1)).isoformat()})
    workspace.cli("run")
    workspace.cli("run")
    reminders = [m for m in slack.messages if "reminder" in m["blocks"][0]["text"]["text"]]
    assert len(reminders) == 2
    assert "Comments close tomorrow" in reminders[1]["text"]


def test_history_says_what_when_where_and_why(workspace, fr, slack):
    config = fr_config(fr.url).replace(
        '  channel: "#trade-alerts"\n',
        '  channel: "#trade-alerts"\n  workspace_url: https://acme.slack.com\n',
    )
    baseline(workspace, fr, slack, config=config)
    fr.add(
        fr_document(
            "2025-6001",
            "Adjusting Imports of Copper Into the United States",
            "2025-07-02",
            subtype="Proclamation",
            proclamation_number="10962",
        )
    )
    workspace.cli("run")
    result = workspace.cli("history", "fr-trade", "--json")
    assert result.exit_code == 0
    newest = json.loads(result.stdout)[0]
    assert newest["what"] == "Proclamation 10962 · new"
    assert newest["channel"] == "#trade-alerts" and newest["status"] == "sent"
    ts = slack.ts_of("Adjusting Imports of Copper")
    assert newest["message"] == f"https://acme.slack.com/archives/C0TRADE/p{ts.replace('.', '')}"
    assert newest["why"] == "fr-trade matched “adjusting imports”"
    plain = workspace.cli("history")
    assert "Proclamation 10962 · new" in plain.stdout
    assert workspace.cli("history", "nope").exit_code == 2

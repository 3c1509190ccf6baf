"""The default configuration replayed against 2025-2026, day by day, as a team would live it:
the shipped sources.yaml pointed at a loopback Federal Register that publishes the relevance
corpus one day at a time, `watcher run` after each day, a loopback Slack counting messages."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import yaml

from tests.conftest import DATA, HTTP_FOR_TESTS, ROOT, fr_document


def default_config_for(fr_url: str, kinds: set[str]) -> str:
    """The shipped sources.yaml, its Federal Register sources pointed at loopback, the rest
    left out (they would reach for the internet)."""
    data = yaml.safe_load((ROOT / "sources.yaml").read_text(encoding="utf-8"))
    data["sources"] = [s for s in data["sources"] if s["kind"] in kinds]
    for source in data["sources"]:
        source["url"] = fr_url
    data = {k: v for k, v in data.items() if not k.startswith("x-")}
    return HTTP_FOR_TESTS + yaml.safe_dump(data, sort_keys=False)


def corpus_documents() -> list[tuple[str, dict]]:
    with (DATA / "fr_relevance_corpus.tsv").open(encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.DictReader(handle, delimiter="\t")
            if r["publication_date"] >= "2025-01-01"
        ]
    out = []
    for n, row in enumerate(rows):
        number = row["document_number"] or f"2025-9{n:04d}"
        agencies = [{"name": a} for a in row["agencies"].split(";")]
        doc = fr_document(
            number,
            row["title"],
            row["publication_date"],
            type=row["type"],
            agencies=agencies,
            abstract=row["abstract"] or None,
        )
        out.append((row["expected"], doc))
    return out


def test_replaying_2025_2026_alerts_every_trade_document_once_and_nothing_else(
    workspace, fr, slack
):
    workspace.write_config(default_config_for(fr.url, kinds={"federal_register"}))
    workspace.use_slack(slack)

    # the day before: something unrelated on the books, so the baseline has a date to anchor
    fr.add(
        fr_document(
            "2024-31000",
            "Fisheries of the Exclusive Economic Zone Off Alaska",
            "2024-12-31",
            type="Rule",
            agencies=[{"name": "Commerce Department"}],
        )
    )
    assert workspace.cli("run").exit_code == 0

    by_day: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for expected, doc in corpus_documents():
        by_day[doc["publication_date"]].append((expected, doc))
    for day in sorted(by_day):
        fr.add(*(doc for _, doc in by_day[day]))
        result = workspace.cli("run")
        assert result.exit_code == 0, result.stderr

    messages = slack.messages[1:]  # after the baseline line
    # follow-ups: short replies in an earlier action's thread (checked below)
    follow_ups = [m for m in messages if "· follow-up" in m["blocks"][0]["text"]["text"]]
    posted = [json.dumps(m) for m in messages if m not in follow_ups]
    expected_alerts = [doc for e, day in by_day.items() for exp, doc in day if exp == "alert"]
    expected_quiet = [doc for e, day in by_day.items() for exp, doc in day if exp == "quiet"]
    assert len(expected_alerts) > 50 and len(expected_quiet) > 15
    for doc in expected_alerts:
        hits = [p for p in posted if doc["document_number"] in p]
        assert len(hits) == 1, (doc["title"], len(hits))
    for doc in expected_quiet:
        assert not [p for p in posted if doc["document_number"] in p], doc["title"]
    assert len(posted) == len(expected_alerts)

    # One action, one thread, on the real titles: what joined which story.
    def thread_of(needle: str) -> str | None:
        (message,) = [m for m in messages if needle in m["text"] and m not in follow_ups]
        return message.get("thread_ts")

    def story_of(needle: str) -> str:
        return thread_of(needle) or slack.ts_of(needle)

    steel = slack.ts_of("new: Adjusting Imports of Steel Into the United States")
    aluminum = slack.ts_of("new: Adjusting Imports of Aluminum Into the United States")
    assert thread_of("Implementation of Duties on Steel Pursuant to Proclamation") == steel
    assert thread_of("Implementation of Duties on Aluminum Pursuant") == aluminum
    assert thread_of("Aluminum Derivatives Beer and Empty Aluminum Cans") == aluminum
    # the investigation's comment request, in the thread of the order that opened it
    minerals_order = slack.ts_of("Section 232 Actions on Processed Critical Minerals")
    assert thread_of("Investigation of Imports of Processed Critical Minerals") == minerals_order
    # the proclamation that answered it: a story of its own, pointed to from the order's thread
    assert thread_of("Adjusting Imports of Processed Critical Minerals and Their") is None
    (pointer,) = [m for m in follow_ups if "Processed Critical Minerals" in m["text"]]
    assert pointer["thread_ts"] == minerals_order
    assert "acts on this action" in json.dumps(pointer)
    # amendments: their own story, and a pointer in the thread of what they amend
    timber = slack.ts_of("new: Adjusting Imports of Timber, Lumber, and Their Derivative")
    assert thread_of("Amendments to Adjusting Imports of Timber") is None
    assert [m["thread_ts"] for m in follow_ups if "Amendments to Adjusting" in m["text"]] == [
        timber
    ]
    # never merged: every other presidential document starts its own story
    for doc in expected_alerts:
        if doc["type"] == "Presidential Document":
            assert thread_of(doc["document_number"]) is None, doc["title"]
    assert len({story_of(d["document_number"]) for d in expected_alerts}) >= 40

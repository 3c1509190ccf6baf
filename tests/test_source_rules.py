"""Every non-Federal-Register source of the default configuration, measured on real content:
recall on the items a trade team must see, false alerts on the routine ones.

Each source's real items (the captures in data/captures/, labelled in
data/labels/real_items.tsv; for sources with no capture, the real titles the record gives)
go through the source's own kind and the pure decider with the default sources.yaml, as of
the capture's date. Targets: every tariff action alerts; at most 1 in 20 routine items does.
`pytest -s tests/test_source_rules.py` prints the table quoted in the README.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import feedparser

from tests.conftest import DATA, ROOT, load_json
from watcher.config import load_config
from watcher.decide import Family, decide
from watcher.models import Item, Snapshot
from watcher.settings import SourceConfig
from watcher.sources import REGISTRY, csms, feed
from watcher.sources.page import parse_page

CONFIG = load_config(ROOT / "sources.yaml", REGISTRY)
CAPTURES = DATA / "captures"


def labels(source: str) -> dict[str, str]:
    with (DATA / "labels" / "real_items.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return {r["key"]: r["expected"] for r in rows if r["source"] == source}


def alerted(source: SourceConfig, items: list[Item], today: str) -> set[str]:
    """The keys the default configuration announces, as a check after its baseline would."""
    kind = REGISTRY[source.kind]
    decision = decide(
        source, kind, Snapshot(tuple(items), complete=False), {}, baseline=False,
        family=Family(today=today),
    )  # fmt: skip
    return {a.item_key for a in decision.alerts if a.item_key}


@dataclass
class Score:
    source: str
    what: str
    must: int
    caught: int
    routine: int
    false: int
    missed: list[str]
    false_keys: list[str]

    def line(self) -> str:
        return (
            f"{self.source:<34} {self.caught:>3}/{self.must:<3} must-alert items alerted   "
            f"{self.false:>2}/{self.routine:<3} routine items alerted   ({self.what})"
        )


SCORES: list[Score] = []


def score(source: str, what: str, items: list[Item], expected: dict[str, str], today: str) -> Score:
    announced = alerted(CONFIG.source(source), items, today)
    must = [k for k, v in expected.items() if v == "alert"]
    routine = [k for k, v in expected.items() if v == "quiet"]
    result = Score(
        source,
        what,
        len(must),
        sum(1 for k in must if k in announced),
        len(routine),
        sum(1 for k in routine if k in announced),
        [k for k in must if k not in announced],
        [k for k in routine if k in announced],
    )
    SCORES.append(result)
    return result


def meets_targets(result: Score) -> None:
    assert result.missed == [], f"tariff actions missed: {result.missed}"
    assert result.false * 20 <= max(result.routine, 1), f"false alerts: {result.false_keys}"


# --- CBP CSMS: 20 real messages --------------------------------------------------------------


def csms_items() -> list[Item]:
    parsed = feedparser.parse((CAPTURES / "cbp_csms_widget_rss_2026-10_first20.xml").read_bytes())
    items = []
    for entry in parsed.entries:
        record = csms.record_of(entry, 40_000)
        items.append(csms.item_of(record["number"], record))
    return items


def test_cbp_csms_on_twenty_real_messages():
    items = csms_items()
    expected = labels("cbp-csms")
    assert sorted(i.key for i in items) == sorted(expected)
    meets_targets(
        score("cbp-csms", "20 real messages, Sep-Oct 2026", items, expected, "2026-10-03")
    )


def test_an_updated_guidance_message_carries_the_message_it_updates():
    updated = next(i for i in csms_items() if i.key == "70054007")
    assert updated.title.startswith("UPDATED GUIDANCE: Section 232 Duties")
    assert updated.updates == "69395344"
    assert updated.reference == "CSMS # 70054007"


# --- USTR: the real feed ---------------------------------------------------------------------


def ustr_items(raw: bytes) -> list[Item]:
    source = CONFIG.source("ustr-news")
    options = source.options
    assert isinstance(options, feed.FeedOptions)
    parsed = feedparser.parse(raw)
    return [
        feed.normalise_entry(
            e, source.url, options.summary_chars, summary_selector=options.summary_selector
        )
        for e in parsed.entries
    ]


def test_ustr_news_on_the_real_feed_and_on_real_trade_action_titles():
    raw = (CAPTURES / "ustr_rss_2026-10-03.xml").read_bytes()
    items = ustr_items(raw)
    expected = labels("ustr-news")
    # Tariff actions as a feed entry would carry them: real titles from the Federal Register
    # record of 2020-2026 (the feed's own October capture holds none), as variants of a
    # real entry.
    second = raw.index(b"<item>", raw.index(b"<item>") + 1)
    template = raw[second : raw.index(b"</item>", second) + len(b"</item>")]
    actions = [
        "Economic Impact of Section 232 and 301 Tariffs on U.S. Industries",
        "Request for Public Comments on the Section 232 Exclusions Process",
        "Modifying Reciprocal Tariff Rates To Reflect Trading Partner Retaliation and Alignment",
        "Amendment to Reciprocal Tariffs and Updated Duties as Applied to Low-Value Imports "
        "From the People's Republic of China",
    ]
    variants = b"".join(
        template.replace(b"14454 at", f"{9000 + n} at".encode()).replace(
            b"USTR Seeks Public Comment on the 2027 Joint Review of USMCA", title.encode()
        )
        for n, title in enumerate(actions)
    )
    first_item = raw.index(b"<item>")
    derived = ustr_items(raw[:first_item] + variants + raw[first_item:])
    expected |= {f"{9000 + n} at https://ustr.gov": "alert" for n in range(len(actions))}
    assert len(derived) == len(items) + len(actions)
    result = score(
        "ustr-news",
        "the real feed, 10 items; 4 real tariff-action titles as entries",
        derived,
        expected,
        "2026-10-03",
    )
    meets_targets(result)


def test_the_ustr_description_is_read_without_its_title_author_and_date():
    (usmca,) = [
        i for i in ustr_items((CAPTURES / "ustr_rss_2026-10-03.xml").read_bytes())
        if i.key == "14454 at https://ustr.gov"
    ]  # fmt: skip
    assert usmca.summary.startswith("WASHINGTON – Today, the Office of the U.S. Trade")
    assert "pbrouillette" not in usmca.summary and "10/02/2026" not in usmca.summary


def test_the_2009_post_never_alerts_even_when_it_matches():
    raw = (CAPTURES / "ustr_rss_2026-10-03.xml").read_bytes()
    raw = raw.replace(b"Weekly Trade Focus: APEC", b"Section 301 Tariff Action on APEC", 1)
    (old,) = [i for i in ustr_items(raw) if i.key == "250 at https://ustr.gov"]
    assert old.title == "Section 301 Tariff Action on APEC"
    assert alerted(CONFIG.source("ustr-news"), [old], "2026-10-03") == set()
    assert alerted(CONFIG.source("ustr-news"), [old], "2009-07-21") == {old.key}


# --- White House: the real titles of 2025-2026 and real non-trade documents -----------------


def whitehouse_items() -> tuple[list[Item], dict[str, str]]:
    """Feed entries with the real titles the White House gives its actions (the Federal
    Register publishes them under the same titles), built in test code."""
    rows = list(
        csv.DictReader((DATA / "fr_relevance_corpus.tsv").open(encoding="utf-8"), delimiter="\t")
    )
    real = [
        r for r in rows
        if r["type"] == "Presidential Document" and r["provenance"].startswith("fixture")
        and r["publication_date"] >= "2025"
    ]  # fmt: skip
    routine = [r["title"] for r in load_json("documents_search_presdocu_2017-2020_excerpt.json")[
        "results"] if r.get("subtype") == "Memorandum"]  # fmt: skip
    routine += [
        r["title"]
        for r in load_json("public_inspection_current_2020-08-11.json")["results"]
        if r.get("type") == "Presidential Document"
    ]
    items, expected = [], {}
    for n, title in enumerate([r["title"] for r in real] + routine):
        record = {"title": title, "link": f"https://www.whitehouse.gov/p/{n}", "summary": "",
                  "published": "2026-10-01T00:00:00Z", "updated": None, "author": None,
                  "categories": []}  # fmt: skip
        items.append(feed.item_of(str(n), record))
        expected[str(n)] = "alert" if n < len(real) else "quiet"
    return items, expected


def test_the_white_house_feed_rules_on_real_titles():
    items, expected = whitehouse_items()
    result = score(
        "whitehouse-presidential-actions",
        "real titles: 2025-2026 trade actions, non-trade memoranda",
        items,
        expected,
        "2026-10-03",
    )
    meets_targets(result)


# --- USGS news: the real feed item and the real list notices --------------------------------


def test_usgs_news_rules_on_the_real_item_and_real_list_titles():
    source = CONFIG.source("usgs-news-critical-minerals")
    parsed = feedparser.parse((DATA / "usgs_news_2026-05_one_item.xml").read_bytes())
    items = [feed.normalise_entry(e, source.url, 2000) for e in parsed.entries]
    expected = {items[0].key: "quiet"}
    for n, title in enumerate(
        [
            "2022 Final List of Critical Minerals",
            "2025 Draft List of Critical Minerals",
            "Final 2025 List of Critical Minerals",
        ]
    ):
        record = {"title": title, "link": f"https://www.usgs.gov/news/{n}", "summary": "",
                  "published": "2026-05-01T00:00:00Z", "updated": None, "author": None,
                  "categories": []}  # fmt: skip
        items.append(feed.item_of(f"list-{n}", record))
        expected[f"list-{n}"] = "alert"
    result = score(
        "usgs-news-critical-minerals",
        "1 real feed item; 3 real list titles as entries",
        items,
        expected,
        "2026-05-05",
    )
    meets_targets(result)


# --- BIS: the real page ----------------------------------------------------------------------


def bis_items(content: bytes) -> list[Item]:
    source = CONFIG.source("bis-section-232-investigations")
    items, listing = parse_page(content, source.url, source, "text/html; charset=utf-8")
    assert listing
    return items


def test_the_bis_page_s_entries_are_its_links_not_its_phones_or_e_mail_tokens():
    items = bis_items((CAPTURES / "bis_section-232-steel-aluminum_2026-04.html").read_bytes())
    texts = [i.title for i in items]
    assert len(items) == 28
    assert not [t for t in texts if "202-482" in t or "[email" in t]
    assert not [i for i in items if i.url and ("cdn-cgi" in i.url or i.url.startswith("tel:"))]
    # two proclamations linked to one document are two entries
    assert sum("Proclamation 1078" in t for t in texts) == 2
    assert any(t.startswith("Presidential Proclamation 10947 of June 3, 2025") for t in texts)


def test_bis_news_rules_on_real_titles():
    """Every real BIS Section 232 title of the 2020-2026 record, as a listing entry, and the
    press release of Aug 19, 2025. No capture of BIS's export-control releases exists, so the
    routine side is not measured here (`watcher inspect bis-news` after deploying)."""
    source = CONFIG.source("bis-news")
    rows = csv.DictReader((DATA / "fr_relevance_corpus.tsv").open(encoding="utf-8"), delimiter="\t")
    titles = [r["title"] for r in rows if "Industry and Security" in r["agencies"]]
    titles.append(
        "Department of Commerce Adds 407 Product Categories to Steel and Aluminum Tariffs"
    )
    items = [
        REGISTRY["page"].restore(source, f"k{n}", {"text": t, "url": f"https://www.bis.gov/{n}"})
        for n, t in enumerate(titles)
    ]
    expected = {f"k{n}": "alert" for n in range(len(titles))}
    what = f"{len(titles)} real BIS Section 232 titles (no capture of the listing)"
    meets_targets(score("bis-news", what, items, expected, "2026-10-03"))


def test_print_the_table(capsys):
    """The measured table (run with -s): recall on tariff actions, false alerts on routine."""
    with capsys.disabled():
        print("\nsource                             recall on must-alert          false alerts")
        for result in SCORES:
            print(result.line())
    assert {s.source for s in SCORES} >= {"cbp-csms", "ustr-news"}


def test_the_federal_register_kinds_are_measured_elsewhere():
    """tests/test_match.py and tests/test_replay.py hold the Federal Register rules to the
    real 2020-2026 record; this file covers every other default source."""
    others = {s.name for s in CONFIG.sources} - {
        "federal-register",
        "federal-register-public-inspection",
    }
    measured = {
        "cbp-csms",
        "ustr-news",
        "whitehouse-presidential-actions",
        "usgs-news-critical-minerals",
        "bis-section-232-investigations",
        "bis-news",
    }
    # The USGS list (found by content, tests/test_pages_by_content.py) and USTR's Section 301
    # page have no capture to measure on.
    assert others - measured == {"usgs-critical-minerals-list", "ustr-section-301"}

"""The story rules on real titles: what is the same action, what only looks like one.

Titles are the real ones: the Federal Register's 2020-2026 trade record in the fixtures
(`data/trade_documents_2020-2026.tsv`), the White House's spelling of the same titles (its
lower-case "into the United States"), the public inspection desk's "(Memorandum of ...)"
(`data/public_inspection_current_2020-08-11.json`), and the three proclamations of Jul 20,
2026 on Canadian discrimination, posted in the same minute.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest

from tests.conftest import DATA, load_json
from watcher.facts import cited_instruments
from watcher.linking import Incoming, link_all
from watcher.models import Alert, AlertEvent, Item
from watcher.stories import normalise_title, same_subject, subject_of

RECORD = list(
    csv.DictReader((DATA / "trade_documents_2020-2026.tsv").open(encoding="utf-8"), delimiter="\t")
)
CORPUS = {
    r["document_number"]: r
    for r in csv.DictReader(
        (DATA / "fr_relevance_corpus.tsv").open(encoding="utf-8"), delimiter="\t"
    )
}
PRESIDENTIAL = [
    r for r in RECORD if CORPUS.get(r["document_number"], {}).get("type") == "Presidential Document"
]
CANADA = [
    "Imposing Additional Duties to Offset Canadian Discrimination Against the Commerce of the "
    f"United States with Respect to {what}"
    for what in ("Motor Vehicles", "Alcoholic Beverages", "Dairy")
]


# -- titles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # the White House and the Federal Register write one title two ways
        (
            "Adjusting Imports of Processed Critical Minerals and Their Derivative Products into "
            "the United States",
            "Adjusting Imports of Processed Critical Minerals and Their Derivative Products Into "
            "The United States",
        ),
        (
            "Adjusting Imports of Copper into the United States",
            "ADJUSTING IMPORTS OF COPPER INTO THE UNITED STATES",
        ),
        ("Tariffs on Steel & Aluminum", "Tariffs on Steel and Aluminum"),
        ("Medium- and Heavy-Duty Vehicles", "Medium and Heavy Duty Vehicles"),
        (
            "Imports From the People’s Republic of China",
            "Imports From the People's Republic of China",
        ),
        # the public inspection desk adds the instrument and its date
        (
            "COVID-19 Response and Economic Recovery Facilitation in Arizona; Extension of Use "
            "of National Guard (Memorandum of August 7, 2020)",
            "COVID-19 Response and Economic Recovery Facilitation in Arizona; Extension of Use "
            "of National Guard",
        ),
    ],
)
def test_one_title_written_two_ways_is_one_title(one, other):
    assert normalise_title(one) == normalise_title(other)


def test_the_desk_s_real_presidential_titles_lose_their_suffix():
    desk = load_json("public_inspection_current_2020-08-11.json")["results"]
    titles = [d["title"] for d in desk if d["type"] == "Presidential Document"]
    assert len(titles) == 3
    for title in titles:
        assert "memorandum" not in normalise_title(title)
        assert normalise_title(title).endswith("extension of use of national guard")


def test_every_distinct_real_title_stays_distinct():
    titles = {r["title"] for r in RECORD} | set(CANADA)
    normalised = {normalise_title(t) for t in titles}
    assert len(normalised) == len(titles)


def test_subjects_of_section_232_actions():
    assert subject_of("Adjusting Imports of Copper Into the United States") == {"copper"}
    minerals = subject_of(
        "Ensuring National Security and Economic Resilience Through Section 232 Actions on "
        "Processed Critical Minerals and Derivative Products"
    )
    proclamation = subject_of(
        "Adjusting Imports of Processed Critical Minerals and Their Derivative Products Into "
        "The United States"
    )
    assert minerals == proclamation == {"processed", "critical", "mineral", "derivative", "product"}
    timber = subject_of(
        "Notice of Request for Public Comments on Section 232 National Security Investigation of "
        "Imports of Timber and Lumber"
    )
    assert same_subject(
        timber,
        subject_of(
            "Adjusting Imports of Timber, Lumber, and Their Derivative Products Into the United "
            "States"
        ),
    )
    assert not same_subject(
        subject_of("Adjusting Imports of Aluminum Into the United States"),
        subject_of("Adjusting Imports of Steel Into the United States"),
    )
    assert subject_of(CANADA[0]) is None
    assert subject_of("Further Modifying the Reciprocal Tariff Rates") is None


# -- citations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        ("pursuant to Proclamation 10895", [("proclamation", "10895")]),
        (
            "Certain Canadian Products Excluded from Importation into the United States; "
            "Presidential Proclamations 11061, 11062, and 11063",
            [("proclamation", "11061"), ("proclamation", "11062"), ("proclamation", "11063")],
        ),
        (
            "On February 25, 2025, I issued Executive Order 14220 (...). In Proclamation 10895 "
            "of February 10, 2025",
            [("executive order", "14220"), ("proclamation", "10895")],
        ),
        ("Delegation of Authority-Executive Order 14163 and Presidential Proclamation 10949",
         [("executive order", "14163"), ("proclamation", "10949")]),
        # numbers that are not instruments
        ("19 U.S.C. 1862; section 232; 90 FR 37727; heading 9903.78.01; the year 2025", []),
        ("Proclamation of July 30, 2025", []),
    ],
)  # fmt: skip
def test_citations_in_the_order_cited(text, cited):
    assert cited_instruments(text) == cited


# -- linking: never merge two actions ---------------------------------------------------------


def presidential(key: str, title: str, day: str, source: str = "fr", number: str | None = None):
    item = Item(
        key=key,
        title=title,
        fingerprint=key,
        published_on=day,
        instrument="Proclamation",
        number=number,
        doc_type="Presidential Document" if source == "fr" else None,
    )
    alert = Alert(
        source=source,
        source_kind="x",
        event=AlertEvent.NEW,
        channel="#c",
        title=title,
        item_key=key,
        item=item,
        thread_key=f"{source}:{key}",
    )
    at = datetime.fromisoformat(day).replace(tzinfo=UTC).isoformat(timespec="seconds")
    return Incoming(alert, f"{source}:{key}", "published" if source == "fr" else None, at)


def stories_of(incoming: list[Incoming]) -> list[int]:
    placements, _ = link_all(incoming, [])
    return [p.story_id for p in placements if p is not None]


def test_no_two_real_presidential_documents_merge():
    incoming = [
        presidential(r["document_number"], r["title"], r["publication_date"]) for r in PRESIDENTIAL
    ]
    assert len(incoming) > 25
    ids = stories_of(incoming)
    assert len(set(ids)) == len(ids)


def test_the_same_title_years_apart_is_two_actions():
    aluminum = [r for r in PRESIDENTIAL if r["title"].startswith("Adjusting Imports of Aluminum")]
    assert len(aluminum) >= 2  # 2020 and 2025 in the record
    ids = stories_of([presidential(r["document_number"], r["title"], r["publication_date"])
                      for r in aluminum])  # fmt: skip
    assert len(set(ids)) == len(aluminum)


def test_three_proclamations_posted_in_one_minute_are_three_stories_each_joined_by_its_own():
    posted = [presidential(f"wh{n}", t, "2026-07-20", source="wh") for n, t in enumerate(CANADA)]
    published = [
        presidential(f"2026-1550{n}", t, "2026-07-23", number=str(11046 + n))
        for n, t in enumerate(CANADA)
    ]
    placements, _ = link_all(posted + published, [])
    ids = [p.story_id for p in placements if p is not None]
    assert len(set(ids[:3])) == 3
    assert ids[3:] == ids[:3]


def test_numbers_decide_when_both_sides_have_one():
    title = "Adjusting Imports of Aluminum Into the United States"
    ids = stories_of(
        [
            presidential("a", title, "2025-02-18", number="10895"),
            presidential("b", title, "2025-03-01", number="10900"),
        ]
    )
    assert ids[0] != ids[1]


def test_the_same_title_a_month_apart_is_not_joined():
    title = "Adjusting Imports of Copper Into the United States"
    day = datetime(2025, 7, 30)
    ids = stories_of(
        [
            presidential("wh1", title, day.date().isoformat(), source="wh"),
            presidential("x", title, (day + timedelta(days=40)).date().isoformat()),
        ]
    )
    assert ids[0] != ids[1]


def test_pairs_of_real_titles_never_share_a_story():
    """Every pair of different real presidential titles, posted a day apart by the White
    House and published by the Federal Register: two stories, never one."""
    titles = sorted({r["title"] for r in PRESIDENTIAL} | set(CANADA))
    for one, other in combinations(titles, 2):
        ids = stories_of(
            [
                presidential("wh1", one, "2026-01-14", source="wh"),
                presidential("fr2", other, "2026-01-15"),
            ]
        )
        assert ids[0] != ids[1], (one, other)


def test_two_proclamations_of_one_title_ten_days_apart_stay_two_across_sources():
    """Jan and Feb 2021: two aluminum proclamations, both "Adjusting Imports of Aluminum Into
    the United States", published Jan 25 (2021-01711) and Feb 4 (2021-02490)."""
    title = "Adjusting Imports of Aluminum Into the United States"
    ids = stories_of(
        [
            presidential("wh-a", title, "2021-01-19", source="wh"),
            presidential("2021-01711", title, "2021-01-25", number="10139"),
            presidential("wh-b", title, "2021-02-01", source="wh"),
            presidential("2021-02490", title, "2021-02-04", number="10144"),
        ]
    )
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]

"""Matching: phrase semantics, rules, and the default configuration's precision and recall
on real Federal Register documents (both sides: what must alert, and what must not)."""

from __future__ import annotations

import csv

import pytest

from tests.conftest import DATA, ROOT, load_json
from watcher.config import load_config
from watcher.match import (
    MatchView,
    Phrase,
    Rule,
    RuleSet,
    compile_phrases,
    judge,
    normalise_text,
    normalise_type,
)
from watcher.models import Item
from watcher.sources import REGISTRY
from watcher.sources.federal_register import normalise_document


def item(
    title: str,
    summary: str = "",
    doc_type: str | None = None,
    agencies: tuple[str, ...] = (),
    subtype: str | None = None,
) -> Item:
    return Item(
        key="k",
        title=title,
        record={},
        fingerprint="",
        summary=summary,
        doc_type=doc_type,
        subtype=subtype,
        agencies=agencies,
    )


@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        ("section 232", "Investigation Under Section 232 of the Act", True),
        ("section 232", "SECTION  232", True),
        ("section 232", "section 2321", False),
        ("section 232", "subsection 232", False),
        ("tariff", "tariffs", False),
        ("tariff*", "Reciprocal Tariffs", True),
        ("tariff*", "tariff-rate quota", True),
        ("duty free", "duty-free treatment", True),
        ("duty-free", "duty free treatment", True),
        ("import", "important", False),
        ("U.S. Customs", "the U.S. Customs and Border Protection", True),
        ("People's Republic", "People’s Republic of China", True),
    ],
)
def test_phrases_are_case_insensitive_whole_words(phrase, text, found):
    assert Phrase.compile(phrase).found_in(normalise_text(text)) is found


def test_a_rule_needs_all_its_conditions():
    rule = Rule(
        all=compile_phrases(["critical minerals"]),
        agency=compile_phrases(["Geological Survey"]),
    )
    rules = RuleSet(match=(rule,))
    usgs = ("Interior Department", "Geological Survey")
    assert judge(item("Critical Minerals Methodology", agencies=usgs), rules).relevant
    assert not judge(
        item("Critical Minerals Accelerator", agencies=("Energy Department",)), rules
    ).relevant
    assert not judge(item("Water Data", agencies=usgs), rules).relevant


def test_unless_is_an_exception_to_its_own_rule_only():
    rules = RuleSet(
        match=(
            Rule(any=compile_phrases(["section 232"]), unless=compile_phrases(["mortgage"])),
            Rule(any=compile_phrases(["nursing"])),
        )
    )
    assert not judge(item("Section 232 mortgage insurance"), rules).relevant
    assert judge(item("Section 232 mortgage insurance for nursing homes"), rules).relevant


def test_types_match_labels_codes_and_subtypes():
    rule = Rule(types=frozenset({normalise_type("PRESDOCU")}))
    assert rule.holds(MatchView.of(item("x", doc_type="Presidential Document"))) == ()
    assert rule.holds(MatchView.of(item("x", doc_type="Notice"))) is None
    procl = Rule(types=frozenset({normalise_type("Proclamation")}))
    rules = RuleSet(match=(procl,))
    assert judge(
        item("x", doc_type="Presidential Document", subtype="Proclamation"), rules
    ).relevant
    assert not judge(
        item("x", doc_type="Presidential Document", subtype="Memorandum"), rules
    ).relevant


def test_exclude_wins_and_no_match_rules_means_everything():
    everything = RuleSet(exclude=(Rule(any=compile_phrases(["antidumping"])),))
    assert judge(item("Anything at all"), everything).relevant
    verdict = judge(item("Antidumping duty order"), everything)
    assert not verdict.relevant and verdict.excluded_by == ("antidumping",)


def test_the_verdict_names_the_phrases_that_matched():
    rules = RuleSet(match=(Rule(any=compile_phrases(["section 232", "tariff*"])),))
    assert judge(item("Section 232 tariffs"), rules).matched == ("section 232", "tariff*")


# --- the default configuration against what the Federal Register publishes ----------------

DEFAULT_RULES = load_config(ROOT / "sources.yaml", REGISTRY).source("federal-register").rules


def corpus() -> list[dict[str, str]]:
    with (DATA / "fr_relevance_corpus.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.parametrize("row", corpus(), ids=lambda r: f"{r['expected']}:{r['title'][:50]}")
def test_default_rules_on_the_trade_corpus(row):
    verdict = judge(
        item(row["title"], row["abstract"], row["type"], tuple(row["agencies"].split(";"))),
        DEFAULT_RULES,
    )
    assert verdict.relevant is (row["expected"] == "alert"), verdict


def test_every_2025_2026_fixture_document_alerts():
    rows = [r for r in corpus() if r["provenance"].startswith("fixture")]
    assert len(rows) == 76
    missed = [
        r["title"]
        for r in rows
        if not judge(
            item(r["title"], r["abstract"], r["type"], tuple(r["agencies"].split(";"))),
            DEFAULT_RULES,
        ).relevant
    ]
    assert missed == []


def test_a_real_day_of_public_inspection_raises_no_false_alarm():
    """100 real documents filed on 2020-08-11: antidumping reviews, FERC filings, ITC
    investigations, sanctions... none is a Section 232, tariff or critical minerals action."""
    documents = load_json("public_inspection_current_2020-08-11.json")["results"]
    assert len(documents) == 100
    alarms = [
        d["title"]
        for d in documents
        if judge(item(d["title"], "", d["type"], tuple(d["agency_names"])), DEFAULT_RULES).relevant
    ]
    assert alarms == []


def test_real_presidential_documents_split_as_they_should():
    results = load_json("documents_search_presdocu_2017-2020_excerpt.json")["results"]
    verdicts = {
        d["document_number"]: judge(normalise_document(d), DEFAULT_RULES).relevant for d in results
    }
    relevant = {k for k, v in verdicts.items() if v}
    assert relevant == {
        d["document_number"] for d in results if d["title"].startswith("Adjusting Imports")
    }
    assert len(relevant) == 16


def test_an_antidumping_determination_from_2025_stays_quiet():
    doc = normalise_document(load_json("document_2025-05887.json"))
    assert not judge(doc, DEFAULT_RULES).relevant

"""The trade-fact extractor on real proclamation text, with the expected facts written by
hand from reading it, and on the traps that would make it guess."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import DATA
from watcher.facts import TradeFacts, extract
from watcher.reference import CRITICAL_MINERALS_2022, CRITICAL_MINERALS_ADDED_2025


def test_the_reference_list_is_the_usgs_list():
    lists = yaml.safe_load((DATA / "critical_minerals.yaml").read_text())
    assert list(CRITICAL_MINERALS_2022) == lists["list_2022"]
    assert list(CRITICAL_MINERALS_ADDED_2025) == lists["added_2025"]
    assert len(CRITICAL_MINERALS_2022) == 50 and len(CRITICAL_MINERALS_ADDED_2025) == 10


def test_proclamation_11001_as_the_white_house_posted_it():
    """Read by hand: Proclamation 11001 opens negotiations; it sets no rate, cites no HTSUS
    heading and no earlier proclamation by number, names no country, and names ten critical
    minerals in paragraph 4. It was signed on the fourteenth day of January 2026. "100 percent
    net-import reliant" (paragraph 6) is a statistic, not a duty rate."""
    text = (DATA / "whitehouse_proclamation_11001_2026-01-14.md").read_text()
    assert extract(text) == TradeFacts(
        minerals=(
            "lithium",
            "gallium",
            "germanium",
            "indium",
            "yttrium",
            "cobalt",
            "nickel",
            "uranium",
            "praseodymium",
            "terbium",
        ),
        signed="2026-01-14",
    )


def test_a_copper_tariff_proclamation():
    """Hand-made excerpt in the words of the July 2025 copper proclamation (see
    data/README.md); expected facts written by reading it."""
    facts = extract((DATA / "proclamation_copper_excerpt.txt").read_text())
    assert facts.proclamations == ("10895", "10896")
    assert facts.executive_orders == ("14220",)
    assert facts.rates == ("50 percent ad valorem",)
    assert facts.effective == ("12:01 a.m. eastern daylight time on August 1, 2025",)
    assert facts.hts == ("9903.78.01", "7406", "7407", "7408", "9903.78.02")
    assert facts.minerals == ("copper", "aluminum", "cobalt")  # "would lead to" is not lead
    assert facts.countries == ("Canada", "Mexico", "China")
    assert facts.signed == "2025-07-30"


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("Proclamations 9704, 9705, and 9711 of 2018", "proclamations", ("9704", "9705", "9711")),
        ("Presidential Proclamation 10414", "proclamations", ("10414",)),
        (
            "Executive Orders 14193, 14194, and 14195",
            "executive_orders",
            ("14193", "14194", "14195"),
        ),
        ("Executive Order 9066", "executive_orders", ()),
        ("subheadings 8471.30.01 and 8517.62.00", "hts", ("8471.30.01", "8517.62.00")),
        ("19 U.S.C. 1862(c)(3)(A)", "hts", ()),
        ("a cost of $1,234.56 per ton", "hts", ()),
        ("90 FR 14957, page 2025.04", "hts", ()),
        ("a tariff of 25% on vehicles", "rates", ("25 percent ad valorem",)),
        ("an ad valorem rate of duty of 10 percent", "rates", ("10 percent ad valorem",)),
        ("imports rose 40 percent in 2024", "rates", ()),
        ("effective on April 5, 2025", "effective", ("April 5, 2025",)),
        ("at 12:01 a.m. EDT on April 9, 2025", "effective", ("12:01 a.m. EDT on April 9, 2025",)),
        ("deposits of copper, lead, and zinc", "minerals", ("copper", "lead", "zinc")),
        ("this could lead to delays", "minerals", ()),
        ("tin-plated steel", "minerals", ()),
        ("metallurgical coal and potash", "minerals", ("metallurgical coal", "potash")),
        ("the Republic of Korea and Japan", "countries", ("South Korea", "Japan")),
        ("the Democratic People's Republic of Korea", "countries", ("North Korea",)),
        (
            "trade with the EU and the United Kingdom",
            "countries",
            ("European Union", "United Kingdom"),
        ),
        ("a turkey farm in Georgia", "countries", ()),
    ],
)
def test_facts_and_traps(text, field, expected):
    assert getattr(extract(text), field) == expected


def test_a_text_with_no_facts_has_none():
    facts = extract("Fisheries of the Exclusive Economic Zone Off Alaska; Pacific Cod.")
    assert not facts
    assert facts.as_record() == {}


def test_facts_survive_a_round_trip_through_the_outbox():
    facts = extract((DATA / "proclamation_copper_excerpt.txt").read_text())
    assert TradeFacts.from_record(facts.as_record()) == facts

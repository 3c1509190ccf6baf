"""The pure decisions: diff, baseline, relevance, corrections, silent and volatile fields."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import fr_config
from watcher.config import parse_config
from watcher.decide import decide
from watcher.diff import diff_snapshot, field_changes
from watcher.fingerprint import fingerprint
from watcher.models import AlertEvent, ChangeKind, FieldChange, Item, Snapshot, StoredItem
from watcher.sources.federal_register import KIND

SOURCE = parse_config(fr_config("http://127.0.0.1:1/api/v1"), Path("s.yaml")).source("fr-trade")


def doc(key: str, title: str, **extra: object) -> Item:
    record = {"document_number": key, "title": title, **extra}
    return Item(
        key=key,
        title=title,
        record=record,
        fingerprint=fingerprint(record, KIND.volatile),
        corrects=extra.get("correction_of"),
    )  # type: ignore[arg-type]


def stored(item: Item, relevant: bool = True) -> StoredItem:
    return StoredItem(
        item.key,
        item.fingerprint,
        relevant,
        item.record,
        item.title,
        item.url,
        "2025-01-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    )


def snap(*items: Item, complete: bool = False) -> Snapshot:
    return Snapshot(items=items, complete=complete)


def run(snapshot: Snapshot, previous: dict[str, StoredItem], baseline: bool = False):
    return decide(SOURCE, KIND, snapshot, previous, baseline=baseline)


RELEVANT = doc("2025-1", "Adjusting Imports of Copper Into the United States")
OTHER = doc("2025-2", "Fisheries of the Northeastern United States")


def test_field_changes_list_what_differs_in_order():
    assert field_changes(
        {"a": 1, "b": 2, "url": "x"}, {"a": 1, "b": 3, "c": 4, "url": "y"}, ignore={"url"}
    ) == (FieldChange("b", 2, 3), FieldChange("c", None, 4))


def test_diff_finds_new_and_changed_and_only_complete_snapshots_lose_items():
    changed = doc(
        "2025-1", "Adjusting Imports of Copper Into the United States", effective_on="2025-08-01"
    )
    previous = {"2025-1": stored(RELEVANT), "2025-9": stored(OTHER)}
    kinds = [(c.kind, c.key) for c in diff_snapshot(snap(changed, OTHER), previous)]
    assert kinds == [(ChangeKind.CHANGED, "2025-1"), (ChangeKind.NEW, "2025-2")]
    complete = diff_snapshot(snap(changed, complete=True), previous)
    assert (ChangeKind.REMOVED, "2025-9") in [(c.kind, c.key) for c in complete]


def test_baseline_records_everything_and_says_one_line():
    decision = run(snap(RELEVANT, OTHER), {}, baseline=True)
    assert len(decision.writes) == 2
    (alert,) = decision.alerts
    assert alert.event is AlertEvent.BASELINE
    assert "2 documents recorded, 1 of them match" in alert.note


def test_new_relevant_items_alert_and_irrelevant_ones_are_recorded_quietly():
    decision = run(snap(RELEVANT, OTHER), {})
    assert [(a.event, a.item_key) for a in decision.alerts] == [(AlertEvent.NEW, "2025-1")]
    assert decision.alerts[0].matched == ("adjusting imports",)
    assert {(w.item.key, w.relevant) for w in decision.writes} == {
        ("2025-1", True),
        ("2025-2", False),
    }


def test_unchanged_items_make_no_alert():
    assert run(snap(RELEVANT), {"2025-1": stored(RELEVANT)}).alerts == ()


def test_a_change_only_to_corrections_is_recorded_silently():
    corrected = doc("2025-1", RELEVANT.title, corrections=["C1-2025-1"])
    decision = run(snap(corrected), {"2025-1": stored(RELEVANT)})
    assert decision.alerts == ()
    assert decision.writes[0].changed


def test_a_correction_inherits_relevance_from_the_document_it_corrects():
    correction = doc("C1-2025-1", "Correction", correction_of="2025-1")
    decision = run(snap(correction), {"2025-1": stored(RELEVANT)})
    (alert,) = decision.alerts
    assert alert.event is AlertEvent.CORRECTION
    assert alert.thread_key == "fr:2025-1"
    assert alert.note == f"corrects 2025-1: {RELEVANT.title}"


def test_a_correction_of_an_irrelevant_document_stays_quiet():
    correction = doc("C1-2025-2", "Correction", correction_of="2025-2")
    assert run(snap(correction), {"2025-2": stored(OTHER, relevant=False)}).alerts == ()


def test_a_changed_relevant_item_alerts_with_its_changes_in_its_thread():
    changed = doc("2025-1", RELEVANT.title, effective_on="2025-08-01")
    (alert,) = run(snap(changed), {"2025-1": stored(RELEVANT)}).alerts
    assert alert.event is AlertEvent.CHANGED
    assert alert.changes == (FieldChange("effective_on", None, "2025-08-01", "Effective", True),)
    assert alert.thread_key == "fr:2025-1"


def test_an_item_that_becomes_relevant_is_news_not_an_update():
    became = doc("2025-2", "Adjusting Imports of Fish")
    (alert,) = run(snap(became), {"2025-2": stored(OTHER, relevant=False)}).alerts
    assert alert.event is AlertEvent.NEW
    assert "now matches" in alert.note


def test_a_relevant_item_leaving_a_complete_source_is_reported():
    decision = run(snap(complete=True), {"2025-1": stored(RELEVANT)})
    (alert,) = decision.alerts
    assert alert.event is AlertEvent.REMOVED and decision.removed == ("2025-1",)

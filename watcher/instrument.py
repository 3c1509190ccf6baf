"""What kind of instrument an alert is about, as a trade lawyer names it. Pure functions.

`instrument_name` is the header of a message ("Proclamation 11001", "Executive Order 14272",
"BIS notice", "USGS critical minerals list update"); `instrument_type` is the plain category
routing rules match on ("proclamation", "executive order", "notice", "list", ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from watcher.models import Alert, AlertEvent

AGENCY_SHORT = {
    "industry and security bureau": "BIS",
    "bureau of industry and security": "BIS",
    "international trade administration": "ITA",
    "u.s. customs and border protection": "CBP",
    "customs and border protection bureau": "CBP",
    "trade representative, office of united states": "USTR",
    "office of the united states trade representative": "USTR",
    "geological survey": "USGS",
    "international trade commission": "USITC",
    "commerce department": "Commerce",
    "interior department": "Interior",
    "homeland security department": "DHS",
    "treasury department": "Treasury",
    "state department": "State",
    "executive office of the president": "EOP",
}
DEPARTMENTS = frozenset(
    {
        "commerce department",
        "interior department",
        "homeland security department",
        "treasury department",
        "agriculture department",
        "energy department",
    }
)
DOC_TYPE_WORD = {"Proposed Rule": "proposed rule", "Rule": "rule", "Notice": "notice"}


def short_agency(name: str) -> str:
    return AGENCY_SHORT.get(name.casefold(), name)


def issuing_agency(agencies: Sequence[str]) -> str | None:
    """The most specific agency: a bureau before its department."""
    if not agencies:
        return None
    specific = [a for a in agencies if a.casefold() not in DEPARTMENTS]
    return specific[0] if specific else agencies[-1]


def _presidential_subtype(record: Mapping[str, Any]) -> str | None:
    subtype = record.get("subtype")
    if subtype:
        return str(subtype)
    if record.get("proclamation_number"):
        return "Proclamation"
    if record.get("executive_order_number"):
        return "Executive Order"
    categories = [str(c).casefold() for c in record.get("categories") or []]
    if "proclamations" in categories:
        return "Proclamation"
    if "executive orders" in categories:
        return "Executive Order"
    if any("memorand" in c for c in categories):
        return "Memorandum"
    return None


def instrument_type(alert: Alert) -> str:
    """The category of instrument, lower case: what routing rules match on."""
    record = alert.record
    if alert.event is AlertEvent.LIST_CHANGED:
        return "list"
    if alert.event is AlertEvent.BASELINE:
        return "baseline"
    subtype = _presidential_subtype(record)
    if record.get("type") == "Presidential Document" or (alert.source_kind == "feed" and subtype):
        return (subtype or "presidential document").casefold()
    if record.get("type"):
        return str(record["type"]).casefold()
    return alert.source_kind


def instrument_name(alert: Alert) -> str:
    """The instrument as a header names it."""
    record = alert.record
    label = alert.label or alert.source
    if alert.event is AlertEvent.BASELINE:
        return alert.title
    if alert.event is AlertEvent.LIST_CHANGED:
        return f"{label} update"
    if record.get("proclamation_number"):
        return f"Proclamation {record['proclamation_number']}"
    if record.get("executive_order_number"):
        return f"Executive Order {record['executive_order_number']}"
    doc_type = record.get("type")
    subtype = _presidential_subtype(record)
    if doc_type == "Presidential Document":
        return subtype or "Presidential document"
    if doc_type:
        agency = issuing_agency(record.get("agencies") or [])
        word = DOC_TYPE_WORD.get(str(doc_type), str(doc_type).lower())
        return f"{short_agency(agency)} {word}" if agency else str(doc_type)
    if alert.source_kind == "feed" and subtype:
        return f"{subtype} ({label})"
    return label

"""What kind of instrument an alert is about, as a trade lawyer names it. Pure functions.

`instrument_name` is the header of a message ("Proclamation 11001", "Executive Order 14272",
"BIS notice", "USGS critical minerals list update"); `instrument_type` is the plain category
routing rules match on ("proclamation", "executive order", "notice", "list", ...). Both read
the typed fields every kind fills (`Item.instrument`, `Item.number`, `Item.agencies`).
"""

from __future__ import annotations

from collections.abc import Sequence

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
# Instruments an agency issues: the header names the agency ("BIS notice").
AGENCY_INSTRUMENTS = frozenset({"notice", "rule", "proposed rule"})
# Instruments the President issues.
PRESIDENTIAL = frozenset(
    {"proclamation", "executive order", "memorandum", "presidential document", "determination"}
)


def short_agency(name: str) -> str:
    return AGENCY_SHORT.get(name.casefold(), name)


def issuing_agency(agencies: Sequence[str]) -> str | None:
    """The most specific agency: a bureau before its department."""
    if not agencies:
        return None
    specific = [a for a in agencies if a.casefold() not in DEPARTMENTS]
    return specific[0] if specific else agencies[-1]


def instrument_type(alert: Alert) -> str:
    """The category of instrument, lower case: what routing rules match on."""
    if alert.event is AlertEvent.LIST_CHANGED:
        return "list"
    if alert.event is AlertEvent.BASELINE:
        return "baseline"
    item = alert.item
    if item is not None and item.instrument:
        return item.instrument.casefold()
    return alert.source_kind


def instrument_name(alert: Alert) -> str:
    """The instrument as a header names it."""
    label = alert.label or alert.source
    if alert.event is AlertEvent.BASELINE:
        return alert.title
    if alert.event is AlertEvent.LIST_CHANGED:
        return f"{label} update"
    item = alert.item
    if item is None or not item.instrument:
        return label
    if item.number:
        return f"{item.instrument} {item.number}"
    kind = item.instrument.casefold()
    if kind in AGENCY_INSTRUMENTS:
        agency = issuing_agency(item.agencies)
        return f"{short_agency(agency)} {kind}" if agency else item.instrument
    if kind in PRESIDENTIAL and item.doc_type is None:  # a White House post: say whose
        return f"{item.instrument} ({label})"
    return item.instrument

"""Sample messages, saved in docs/messages/ as Block Kit payloads a person can paste into
Slack's Block Kit Builder to see them as the channel will.

This test fails when the renderer changes and the samples were not regenerated:
`WATCHER_UPDATE_SAMPLES=1 pytest tests/test_message_samples.py`."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import DATA, ROOT, load_json
from watcher.enrich import with_facts
from watcher.models import Alert, AlertEvent, Entry, FieldChange, ListChange
from watcher.render import render_baselines, render_digest, render_slack
from watcher.sources import public_inspection
from watcher.sources.federal_register import normalise_document

SAMPLES = ROOT / "docs" / "messages"


def _fr(doc: dict, event: AlertEvent, **extra) -> Alert:
    item = normalise_document(doc)
    values = {
        "source": "federal-register",
        "source_kind": "federal_register",
        "event": event,
        "channel": "#trade-alerts",
        "title": item.title,
        "item_key": item.key,
        "url": item.url,
        "item": item,
        "label": "Federal Register",
        "matched": ("adjusting imports",),
    }
    values.update(extra)
    return Alert(**values)


def samples() -> dict[str, object]:
    base = load_json("documents_search_presdocu_2017-2020_excerpt.json")["results"][0]
    copper = dict(
        base,
        document_number="2025-14893",
        title="Adjusting Imports of Copper Into the United States",
        proclamation_number="10962",
        signing_date="2025-07-30",
        publication_date="2025-08-05",
        citation="90 FR 37727",
        html_url="https://www.federalregister.gov/documents/2025/08/05/2025-14893/"
        "adjusting-imports-of-copper-into-the-united-states",
        pdf_url="https://www.govinfo.gov/content/pkg/FR-2025-08-05/pdf/2025-14893.pdf",
    )
    published = with_facts(
        _fr(copper, AlertEvent.PUBLISHED, mention="<!subteam^S0TRADE>"),
        (DATA / "proclamation_copper_excerpt.txt").read_text(),
    )
    bis = dict(
        base,
        document_number="2025-07273",
        type="Notice",
        subtype=None,
        proclamation_number=None,
        signing_date=None,
        citation="90 FR 17580",
        title="Notice of Request for Public Comments on Section 232 National Security "
        "Investigation of Imports of Processed Critical Minerals and Derivative Products",
        abstract="On April 22, 2025, the Secretary of Commerce initiated an investigation "
        "to determine the effects on the national security of imports of processed "
        "critical minerals and their derivative products.",
        agencies=[{"name": "Commerce Department"}, {"name": "Industry and Security Bureau"}],
        comments_close_on="2025-05-16",
        docket_ids=["BIS-2025-0025"],
        comment_url="https://www.regulations.gov/commenton/BIS-2025-0025-0001",
        publication_date="2025-04-25",
    )
    filing = public_inspection.item_of(
        {
            "document_number": "2026-01045",
            "title": "Adjusting Imports of Processed Critical "
            "Minerals and Their Derivative Products Into The United States",
            "type": "Presidential Document",
            "filing_type": "special",
            "publication_date": "2026-01-20",
            "agencies": ["Executive Office of the President"],
            "pdf_url": "https://public-inspection.federalregister.gov/2026-01045.pdf",
        }
    )
    filed = Alert(
        source="federal-register-public-inspection",
        source_kind="federal_register_public_inspection",
        event=AlertEvent.FILED,
        channel="#trade-alerts",
        title=filing.title,
        item_key=filing.key,
        url=filing.url,
        item=filing,
        matched=("critical mineral*",),
        label="Federal Register public inspection",
    )
    minerals = Alert(
        source="usgs-critical-minerals-list",
        source_kind="page",
        event=AlertEvent.LIST_CHANGED,
        channel="#trade-alerts",
        title="USGS critical minerals list",
        label="USGS critical minerals list",
        url="https://www.usgs.gov/programs/mineral-resources-program/science/"
        "about-2025-list-critical-minerals",
        listing=ListChange(
            added=tuple(
                Entry(m.capitalize())
                for m in (
                    "boron",
                    "copper",
                    "lead",
                    "metallurgical coal",
                    "phosphate",
                    "potash",
                    "rhenium",
                    "silicon",
                    "silver",
                    "uranium",
                )
            )
        ),
    )
    changed = _fr(
        bis,
        AlertEvent.CHANGED,
        changes=(
            FieldChange("comments_close_on", "2025-05-16", "2025-05-30", "Comments close", True),
            FieldChange(
                "docket_ids", ["BIS-2025-0025"], ["BIS-2025-0025", "BIS-2025-0026"], "Dockets"
            ),
        ),
    )
    reminder = _fr(bis, AlertEvent.REMINDER, note="Comments close tomorrow, May 16, 2025")
    out: dict[str, object] = {
        "proclamation-published": render_slack(published),
        "bis-notice-new": render_slack(_fr(bis, AlertEvent.NEW, matched=("section 232",))),
        "public-inspection-special-filing": render_slack(filed),
        "usgs-list-update": render_slack(minerals),
        "document-changed": render_slack(changed),
        "deadline-reminder": render_slack(reminder),
        "digest": render_digest(
            [published, filed, minerals, changed, reminder, _fr(bis, AlertEvent.NEW)],
            "#trade-alerts",
        ),
        "first-run": render_baselines(
            [
                Alert(
                    source=n,
                    source_kind="feed",
                    event=AlertEvent.BASELINE,
                    channel="#t",
                    title=f"Now watching {n}",
                    label=n,
                    note=f"{c} entries recorded, {r} of them "
                    "match this source's rules; from now on each new or changed one is announced.",
                )
                for n, c, r in (
                    ("White House presidential actions", 10, 2),
                    ("Federal Register", 412, 7),
                    ("CBP CSMS messages", 25, 3),
                )
            ]
        ),
    }
    return out


@pytest.mark.parametrize("name", sorted(samples()))
def test_saved_samples_match_the_renderer(name):
    message = samples()[name]
    current = (
        json.dumps(
            {"text": message.text, "blocks": [dict(b) for b in message.blocks]},
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    path = SAMPLES / f"{name}.json"
    if os.environ.get("WATCHER_UPDATE_SAMPLES"):
        path.write_text(current, encoding="utf-8")
    assert path.exists(), f"run WATCHER_UPDATE_SAMPLES=1 pytest {__file__}"
    assert path.read_text(encoding="utf-8") == current

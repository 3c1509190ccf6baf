"""How early watcher knew: the 2025-2026 Section 232 and reciprocal-tariff actions replayed
through the White House feed, the public inspection desk and the Federal Register, on
loopback, with the shipped sources.yaml, and the lead each story records over the Federal
Register's publication.

The actions, their signing and publication dates are the Federal Register's record
(`data/lead_times_2025-2026.tsv`, transcribed by hand from it, not captured). When each
stage appeared that day is not in the record, so the replay assumes it: the White House
posts the evening of the signing (19:00 Eastern; 16:13 for Proclamation 11001, as its post
records), the desk lists the document as a special filing at 16:15 Eastern the business day
before publication, and the Federal Register publishes at 6:00 Eastern. The figures measure
watcher's linking and arithmetic on those times; on the live feeds the same stories carry the
real times.

Used by `tests/test_lead_times.py` and `bench/lead_times.py`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pytest_httpserver import HTTPServer

from tests.conftest import (
    DATA,
    FILING,
    HTTP_FOR_TESTS,
    UNRELATED,
    Workspace,
    default_source,
    fr_document,
)
from tests.fakes import FakeFederalRegister, FakeWhiteHouse

EASTERN = ZoneInfo("America/New_York")
POSTED_AT = time(19, 0)
RECORDED_POSTS = {"2026-01045": time(16, 13)}  # the White House's post of 11001 says so
FILED_AT = time(16, 15)
PUBLISHED_AT = time(6, 0)


@dataclass(frozen=True)
class Action:
    document_number: str
    instrument: str
    number: str
    signed: date
    published: date
    title: str

    @property
    def name(self) -> str:
        return f"{self.instrument} {self.number}".strip() if self.number else self.instrument

    @property
    def posted(self) -> datetime:
        at = RECORDED_POSTS.get(self.document_number, POSTED_AT)
        return datetime.combine(self.signed, at, EASTERN)

    @property
    def filed(self) -> datetime:
        day = self.published - timedelta(days=1)
        while day.weekday() >= 5:  # the desk is open on business days
            day -= timedelta(days=1)
        return datetime.combine(day, FILED_AT, EASTERN)

    @property
    def publication(self) -> datetime:
        return datetime.combine(self.published, PUBLISHED_AT, EASTERN)

    @property
    def white_house_title(self) -> str:
        """The White House writes "into the United States" in lower case."""
        return self.title.replace(" Into the United States", " into the United States").replace(
            " Into The United States", " into the United States"
        )

    def lead_hours(self, since: datetime) -> float:
        return round((self.publication - since).total_seconds() / 3600, 1)


def actions() -> list[Action]:
    with (DATA / "lead_times_2025-2026.tsv").open(encoding="utf-8") as handle:
        return [
            Action(
                r["document_number"],
                r["instrument"],
                r["number"],
                date.fromisoformat(r["signed"]),
                date.fromisoformat(r["published"]),
                r["title"],
            )
            for r in csv.DictReader(handle, delimiter="\t")
        ]


@dataclass(frozen=True)
class Outcome:
    action: Action
    stories: int  # stories holding a stage of this action (1 when linked right)
    sources: tuple[str, ...]  # the sources of its story's stages, in order
    lead_hours: float | None  # as `watcher stories` reports it
    stage_keys: frozenset[str]


@contextmanager
def _server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def replay(root: Path, chosen: list[Action] | None = None) -> list[Outcome]:
    """Every action through the three sources, run by run in time order; the outcome of each."""
    chosen = chosen if chosen is not None else actions()
    with _server() as server:
        white_house, fr = FakeWhiteHouse(server), FakeFederalRegister(server)
        workspace = Workspace(root)
        sources = [
            default_source(
                "whitehouse-presidential-actions", server.url_for("/presidential-actions/feed/")
            ),
            default_source("federal-register-public-inspection", fr.url),
            default_source("federal-register", fr.url),
        ]
        workspace.write_config(
            yaml.safe_dump({"slack": {"channel": "#trade-alerts"}})
            + HTTP_FOR_TESTS
            + yaml.safe_dump({"sources": sources}, sort_keys=False)
        )
        first = min(a.posted for a in chosen) - timedelta(days=2)
        fr.add(fr_document("2024-30000", "Fisheries Off Alaska", first.date().isoformat()))
        fr.on_inspection = [{**UNRELATED, "publication_date": first.date().isoformat()}]
        _run(workspace, first)

        events: list[tuple[datetime, str, Action]] = []
        for action in chosen:
            events += [
                (action.posted, "post", action),
                (action.filed, "file", action),
                (action.publication, "publish", action),
            ]
        moments = sorted({when for when, _, _ in events})
        for moment in moments:
            for when, what, action in events:
                if when == moment:
                    _apply(what, action, white_house, fr)
            _run(workspace, moment + timedelta(minutes=5))
        stories = json.loads(workspace.cli("stories", "--json", "--limit", "0").stdout)
    return [_outcome(action, stories) for action in chosen]


def _apply(what: str, action: Action, white_house: FakeWhiteHouse, fr: FakeFederalRegister) -> None:
    if what == "post":
        category = "Proclamations" if action.instrument == "Proclamation" else "Executive Orders"
        white_house.post(
            action.document_number, action.white_house_title, action.posted, category, ""
        )
    elif what == "file":
        fr.on_inspection.append(
            {
                **FILING,
                "document_number": action.document_number,
                "title": action.title,
                "subject_1": action.title,
                "publication_date": action.published.isoformat(),
                "filed_at": action.filed.isoformat(),
                "html_url": f"https://www.federalregister.gov/d/{action.document_number}",
                "pdf_url": "https://public-inspection.federalregister.gov/"
                f"{action.document_number}.pdf",
            }
        )
    else:
        numbers: dict[str, Any] = (
            {"proclamation_number": action.number}
            if action.instrument == "Proclamation"
            else {"executive_order_number": action.number or None}
        )
        fr.publish(
            action.document_number,
            subtype=action.instrument,
            signing_date=action.signed.isoformat(),
            publication_date=action.published.isoformat(),
            **numbers,
        )


def _run(workspace: Workspace, moment: datetime) -> None:
    workspace.clock.set(moment)
    result = workspace.cli("run")
    if result.exit_code != 0:
        raise AssertionError(f"run at {moment} failed: {result.stderr}{result.stdout}")


def _outcome(action: Action, stories: list[dict[str, Any]]) -> Outcome:
    titles = (action.title, action.white_house_title)
    mine = [s for s in stories if any(st["title"] in titles for st in s["stages"])]
    story = mine[0] if mine else {"stages": [], "lead_hours": None}
    return Outcome(
        action,
        len(mine),
        tuple(s["source"] for s in story["stages"]),
        story["lead_hours"],
        frozenset(s["url"] or "" for s in story["stages"]),
    )

"""`federal_register_public_inspection`: documents on the Federal Register's public
inspection desk, filed a day or more before they publish.

Reads `{url}/public-inspection-documents/current.json`. The list is complete: a document
that leaves it has either published (the published document, keyed by the same document
number, carries the story on in the same Slack thread) or been withdrawn. Special filings
(posted outside the regular 8:45 a.m. schedule, often urgent presidential documents) are marked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from watcher.bounds import Bounds
from watcher.errors import SourceError
from watcher.fingerprint import fingerprint
from watcher.http import CheckFetcher, Expect
from watcher.match import normalise_text
from watcher.models import Item, Link, Snapshot, SourceMemory
from watcher.settings import KindOptions, SourceConfig
from watcher.sources.base import Role, SourceKind
from watcher.sources.fr_api import REQUEST_INTERVAL, agency_names, instrument_of

# Re-uploads of the PDF change these without the filing changing.
VOLATILE = frozenset({"pdf_url", "pdf_updated_at", "pdf_file_size", "raw_text_url", "html_url"})


@dataclass(frozen=True)
class PublicInspectionOptions(KindOptions):
    # Seconds between requests to the API host, as the Federal Register asks.
    request_interval: Annotated[float, Bounds(ge=0, le=60)] = REQUEST_INTERVAL


def _text(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = normalise_text(str(value))
    return cleaned or None


def record_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """One public inspection document as the record watcher keeps."""
    number = _text(doc.get("document_number"))
    if not number:
        raise ValueError("filing without a document_number")
    title = _text(doc.get("title")) or " ".join(
        t for t in (_text(doc.get("subject_1")), _text(doc.get("subject_2"))) if t
    )
    return {
        "document_number": number,
        "title": title or "(untitled)",
        "type": _text(doc.get("type")),
        "subtype": _text(doc.get("subtype")),
        "agencies": agency_names(doc),
        "filing_type": _text(doc.get("filing_type")),
        "filed_at": _text(doc.get("filed_at")),
        "publication_date": _text(doc.get("publication_date")),
        "docket_ids": [str(d) for d in doc.get("docket_numbers") or [] if d],
        "editorial_note": _text(doc.get("editorial_note")),
        "num_pages": doc.get("num_pages"),
        "proclamation_number": _text(doc.get("proclamation_number")),
        "executive_order_number": _text(doc.get("executive_order_number")),
        "html_url": _text(doc.get("html_url")),
        "pdf_url": _text(doc.get("pdf_url")),
        "raw_text_url": _text(doc.get("raw_text_url")),
        "pdf_updated_at": _text(doc.get("pdf_updated_at")),
        "pdf_file_size": doc.get("pdf_file_size"),
    }


def item_of(record: Mapping[str, Any]) -> Item:
    """The typed item a filing's record stands for."""
    instrument, number = instrument_of(record)
    links = tuple(
        Link(label, str(record[key]))
        for key, label in (("pdf_url", "PDF"), ("html_url", "Where it will publish"))
        if record.get(key)
    )
    return Item(
        key=str(record["document_number"]),
        title=record.get("title") or "(untitled)",
        record=record,
        fingerprint=fingerprint(record, VOLATILE),
        # html_url already points at where the document will be once published.
        url=record.get("pdf_url") or record.get("html_url"),
        body=record.get("editorial_note") or "",
        published_on=record.get("publication_date"),
        doc_type=record.get("type"),
        subtype=record.get("subtype"),
        agencies=tuple(record.get("agencies") or ()),
        instrument=instrument,
        number=number,
        reference=str(record["document_number"]),
        dockets=tuple(record.get("docket_ids") or ()),
        special=record.get("filing_type") == "special",
        text_url=record.get("raw_text_url"),
        links=links,
    )


def normalise_filing(doc: Mapping[str, Any]) -> Item:
    """One public inspection document as an Item keyed by its document number."""
    return item_of(record_of(doc))


def restore(source: SourceConfig, key: str, record: Mapping[str, Any]) -> Item:
    return item_of(record)


def check(fetcher: CheckFetcher, source: SourceConfig, memory: SourceMemory) -> Snapshot:
    """Fetch the current public inspection list."""
    endpoint = source.url.rstrip("/") + "/public-inspection-documents/current.json"
    options = source.options
    assert isinstance(options, PublicInspectionOptions)
    fetched = fetcher.get(endpoint, expect=Expect.JSON, min_interval=options.request_interval)
    try:
        data = json.loads(fetched.content)
    except ValueError as exc:
        raise SourceError(f"{endpoint}: the answer is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SourceError(f"{endpoint}: the answer is not a public inspection list")
    results = data.get("results") or []  # absent, not empty, when nothing is on file
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise SourceError(f"{endpoint}: `results` is not a list of documents")
    if not results and int(data.get("count") or 0) > 0:
        raise SourceError(f"{endpoint}: count says {data['count']} but no results came")
    if not results:
        # The desk always has documents on file; an empty list is a glitch, at the first
        # check as at any other: taken at its word it would record an empty desk as the
        # baseline, or make every filing on it look withdrawn.
        raise SourceError(
            f"{endpoint}: the public inspection list came back empty (the desk always has "
            "documents on file); nothing was recorded"
        )
    items: dict[str, Item] = {}
    skipped = 0
    for doc in results:
        try:
            item = normalise_filing(doc)
        except ValueError:
            skipped += 1
            continue
        items[item.key] = item
    notes = (f"{skipped} filing(s) without a document_number were skipped",) if skipped else ()
    return Snapshot(
        items=tuple(items.values()),
        complete=True,
        cursor={
            "count": len(items),
            **{
                k: data[k]
                for k in ("special_filings_updated_at", "regular_filings_updated_at")
                if data.get(k)
            },
        },
        notes=notes,
    )


KIND = SourceKind(
    name="federal_register_public_inspection",
    summary="documents on the Federal Register's public inspection desk, before they publish",
    options=PublicInspectionOptions,
    check=check,
    restore=restore,
    volatile=VOLATILE,
    labels={
        "title": "Title",
        "publication_date": "Publishes",
        "filing_type": "Filing",
        "editorial_note": "Editorial note",
        "docket_ids": "Dockets",
        "num_pages": "Pages",
    },
    date_fields=frozenset({"publication_date"}),
    noun=("document on file", "documents on file"),
    family="fr",
    role=Role.INSPECTION,
)

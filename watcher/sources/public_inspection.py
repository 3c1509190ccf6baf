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
from typing import Any

from watcher.config import SourceConfig
from watcher.errors import SourceError
from watcher.fingerprint import fingerprint
from watcher.http import Expect, Fetcher
from watcher.match import normalise_text
from watcher.models import Item, Snapshot, SourceMemory
from watcher.sources.base import KindOptions, Role, SourceKind
from watcher.sources.federal_register import FR_INTERVAL, agency_names

# Re-uploads of the PDF change these without the filing changing.
VOLATILE = frozenset({"pdf_url", "pdf_updated_at", "pdf_file_size", "raw_text_url", "html_url"})


@dataclass(frozen=True)
class PublicInspectionOptions(KindOptions):
    """No options of its own: `url`, `match` and `exclude` say everything."""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = normalise_text(str(value))
    return cleaned or None


def normalise_filing(doc: Mapping[str, Any]) -> Item:
    """One public inspection document as an Item keyed by its document number."""
    number = _text(doc.get("document_number"))
    if not number:
        raise ValueError("filing without a document_number")
    title = _text(doc.get("title")) or " ".join(
        t for t in (_text(doc.get("subject_1")), _text(doc.get("subject_2"))) if t
    )
    record: dict[str, Any] = {
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
    return Item(
        key=number,
        title=record["title"],
        record=record,
        fingerprint=fingerprint(record, VOLATILE),
        # html_url already points at where the document will be once published.
        url=record["pdf_url"] or record["html_url"],
        summary="",
        published=record["publication_date"],
        doc_type=record["type"],
        subtype=record["subtype"],
        agencies=tuple(record["agencies"]),
    )


def check(fetcher: Fetcher, source: SourceConfig, memory: SourceMemory) -> Snapshot:
    """Fetch the current public inspection list."""
    endpoint = source.url.rstrip("/") + "/public-inspection-documents/current.json"
    before = fetcher.requests
    fetched = fetcher.get(endpoint, expect=Expect.JSON, min_interval=FR_INTERVAL)
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
    if not results and int(memory.cursor.get("count") or 0) > 0:
        # The desk always has documents on file; an empty list is a glitch, and taking it at
        # its word would make every filing look withdrawn.
        raise SourceError(f"{endpoint}: the public inspection list came back empty")
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
        requests=fetcher.requests - before,
        notes=notes,
    )


KIND = SourceKind(
    name="federal_register_public_inspection",
    summary="documents on the Federal Register's public inspection desk, before they publish",
    options=PublicInspectionOptions,
    check=check,
    volatile=VOLATILE,
    noun=("document on file", "documents on file"),
    family="federal_register",
    role=Role.INSPECTION,
)

"""`federal_register`: published documents from the Federal Register API.

Queries `{url}/documents.json` with the source's `conditions`, newest first, only the fields
watcher uses, and a publication-date window: from the newest document already seen minus
`overlap_days`, or on the first check `lookback_days` back from the newest document the API
has (anchored on the API's own newest date, not this machine's clock).

How the API is queried, paged and split into date windows is in `fr_api`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, cast

from watcher.bounds import Bounds
from watcher.fingerprint import fingerprint, strip_cache_buster
from watcher.http import CheckFetcher
from watcher.match import normalise_type
from watcher.models import Item, Link, Snapshot, SourceMemory
from watcher.settings import KindOptions, SourceConfig
from watcher.sources.base import Role, SourceKind
from watcher.sources.fr_api import (
    REQUEST_INTERVAL,
    ConditionValue,
    Query,
    QuerySpec,
    agency_names,
    dates_of,
    document_number_of,
    instrument_of,
    number_of,
    parse_date,
    strings_of,
    text_of,
    type_filter,
)

CURSOR = "newest_publication_date"  # how far a check has read: the newest publication date

VOLATILE = frozenset(
    {
        "html_url",
        "pdf_url",
        "public_inspection_pdf_url",
        "raw_text_url",
        "comment_url",
        "regulations_dot_gov_url",
    }
)


@dataclass(frozen=True)
class FederalRegisterOptions(KindOptions):
    conditions: dict[str, ConditionValue] = field(default_factory=dict)
    per_page: Annotated[int, Bounds(ge=2, le=2000)] = 1000
    max_pages: Annotated[int, Bounds(ge=1, le=50)] = 10
    lookback_days: Annotated[int, Bounds(ge=1, le=3660)] = 30
    overlap_days: Annotated[int, Bounds(ge=0, le=60)] = 3
    request_interval: Annotated[float, Bounds(ge=0, le=60)] = REQUEST_INTERVAL

    def problems(self) -> list[tuple[str, str]]:
        if "publication_date" in self.conditions:
            return [
                (
                    "conditions",
                    "watcher sets conditions[publication_date] itself from "
                    "what it has seen; use lookback_days for the first check",
                )
            ]
        return []


def query_spec(base_url: str, options: FederalRegisterOptions) -> QuerySpec:
    return QuerySpec(
        base_url=base_url,
        conditions=options.conditions,
        per_page=options.per_page,
        max_pages=options.max_pages,
        request_interval=options.request_interval,
    )


# ---------------------------------------------------------------------------------------------
# Normalising one document


def record_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """One API result as the record watcher keeps (and diffs field by field)."""
    number = text_of(doc.get("document_number"))
    if not number:
        raise ValueError("document without a document_number")
    return {
        "document_number": number,
        "title": text_of(doc.get("title")) or "(untitled)",
        "type": text_of(doc.get("type")),
        "subtype": text_of(doc.get("subtype")),
        "abstract": text_of(doc.get("abstract")),
        "action": text_of(doc.get("action")),
        "agencies": agency_names(doc),
        "publication_date": text_of(doc.get("publication_date")),
        "signing_date": text_of(doc.get("signing_date")),
        "effective_on": text_of(doc.get("effective_on")),
        "comments_close_on": text_of(doc.get("comments_close_on")),
        "dates": text_of(doc.get("dates")),
        "citation": text_of(doc.get("citation")),
        "volume": doc.get("volume"),
        "start_page": doc.get("start_page"),
        "end_page": doc.get("end_page"),
        "proclamation_number": number_of(doc.get("proclamation_number")),
        "executive_order_number": number_of(doc.get("executive_order_number")),
        "presidential_document_number": number_of(doc.get("presidential_document_number")),
        "docket_ids": strings_of(doc.get("docket_ids")),
        "regulation_id_numbers": strings_of(doc.get("regulation_id_numbers")),
        "correction_of": document_number_of(doc.get("correction_of")),
        "corrections": sorted(
            n for n in (document_number_of(c) for c in doc.get("corrections") or []) if n
        ),
        "disposition_notes": text_of(doc.get("disposition_notes")),
        "executive_order_notes": text_of(doc.get("executive_order_notes")),
        "html_url": text_of(doc.get("html_url")),
        "pdf_url": text_of(doc.get("pdf_url")),
        "public_inspection_pdf_url": strip_cache_buster(
            text_of(doc.get("public_inspection_pdf_url"))
        ),
        "raw_text_url": text_of(doc.get("raw_text_url")),
        "comment_url": text_of(doc.get("comment_url")),
        "regulations_dot_gov_url": text_of(doc.get("regulations_dot_gov_url")),
    }


def document_links(record: Mapping[str, Any]) -> tuple[Link, ...]:
    links = [
        Link(label, str(record[key]))
        for key, label in (
            ("html_url", "Document"),
            ("pdf_url", "PDF"),
            ("comment_url", "Comment"),
        )
        if record.get(key)
    ]
    if record.get("regulations_dot_gov_url") and not record.get("comment_url"):
        links.append(Link("Docket", str(record["regulations_dot_gov_url"])))
    return tuple(links)


def item_of(record: Mapping[str, Any]) -> Item:
    """The typed item a document's record stands for."""
    number = str(record["document_number"])
    corrects = record.get("correction_of")
    if corrects is None and number[:3] in ("C1-", "C2-", "R1-", "R2-"):
        corrects = number[3:]
    instrument, instrument_number = instrument_of(record)
    return Item(
        key=number,
        title=record.get("title") or "(untitled)",
        record=record,
        fingerprint=fingerprint(record, VOLATILE),
        url=record.get("html_url"),
        summary=record.get("abstract") or "",
        body="\n".join(str(record[k]) for k in ("action", "dates") if record.get(k)),
        published_on=record.get("publication_date"),
        signed_on=record.get("signing_date"),
        effective_on=record.get("effective_on"),
        comments_close_on=record.get("comments_close_on"),
        doc_type=record.get("type"),
        subtype=record.get("subtype"),
        agencies=tuple(record.get("agencies") or ()),
        instrument=instrument,
        number=instrument_number,
        reference=number,
        citation=record.get("citation"),
        dockets=tuple(record.get("docket_ids") or ()),
        corrects=corrects,
        text_url=record.get("raw_text_url"),
        links=document_links(record),
    )


def normalise_document(doc: Mapping[str, Any]) -> Item:
    """One API result as an Item keyed by its document number."""
    return item_of(record_of(doc))


def restore(source: SourceConfig, key: str, record: Mapping[str, Any]) -> Item:
    return item_of(record)


# How messages name a document's fields when they report what changed.
LABELS = {
    "title": "Title",
    "abstract": "Abstract",
    "type": "Type",
    "subtype": "Subtype",
    "action": "Action",
    "agencies": "Agencies",
    "publication_date": "Published",
    "signing_date": "Signed",
    "effective_on": "Effective",
    "comments_close_on": "Comments close",
    "dates": "Dates",
    "citation": "Citation",
    "proclamation_number": "Proclamation number",
    "executive_order_number": "Executive order number",
    "docket_ids": "Dockets",
    "corrections": "Corrections",
    "correction_of": "Corrects",
    "disposition_notes": "Disposition notes",
}
DATE_FIELDS = frozenset({"publication_date", "signing_date", "effective_on", "comments_close_on"})


def progress(cursor: Mapping[str, Any]) -> str | None:
    """The newest publication date a check has seen."""
    seen = cursor.get(CURSOR)
    return str(seen) if seen else None


def check(fetcher: CheckFetcher, source: SourceConfig, memory: SourceMemory) -> Snapshot:
    """Fetch the documents of this check's window and normalise them."""
    options = cast(FederalRegisterOptions, source.options)
    query = Query(fetcher, query_spec(source.url, options), memory.validators)
    today = datetime.now(UTC).date()
    newest_seen = parse_date(memory.cursor.get(CURSOR))
    notes: list[str] = []

    if newest_seen is not None:
        gte = newest_seen - timedelta(days=options.overlap_days)
        docs = query.window(gte, None, today, conditional=True)
        if query.not_modified:
            return Snapshot(
                items=(),
                complete=False,
                unchanged=True,
                cursor=dict(memory.cursor),
                validators=dict(memory.validators),
            )
    else:
        # First check: find the newest date the API has, then look back from it.
        probe = query.page([], 1)
        dates = dates_of(probe.results)
        if not dates:
            docs = []
            gte = None
        else:
            gte = max(dates) - timedelta(days=options.lookback_days)
            if probe.count <= len(probe.results):
                docs = probe.results
            else:
                docs = query.window(gte, None, today)

    types, subtypes = type_filter(options.conditions)
    items: dict[str, Item] = {}
    skipped = 0
    for doc in docs:
        published = parse_date(doc.get("publication_date"))
        if gte is not None and published is not None and published < gte:
            continue  # outside the window asked for (a server that ignores the date condition)
        try:
            item = normalise_document(doc)
        except ValueError:
            skipped += 1
            continue
        if types and item.doc_type and normalise_type(item.doc_type) not in types:
            continue  # the query asked for other types: a server that ignored the condition
        if subtypes and item.subtype and normalise_type(item.subtype) not in subtypes:
            continue
        items[item.key] = item
    notes += query.notes
    if skipped:
        notes.append(f"{skipped} result(s) without a document_number were skipped")

    newest = max(
        [d for d in (parse_date(i.published_on) for i in items.values()) if d]
        + ([newest_seen] if newest_seen else []),
        default=None,
    )
    cursor = {CURSOR: newest.isoformat()} if newest else dict(memory.cursor)
    return Snapshot(
        items=tuple(items.values()),
        complete=False,
        cursor=cursor,
        validators=query.validators,
        notes=tuple(notes),
    )


def backfill(
    fetcher: CheckFetcher, source: SourceConfig, since: date, until: date | None
) -> Snapshot:
    """Every document published from `since` to `until`, however many: the date window is
    split until each part fits in what the API will page through."""
    query = Query(fetcher, query_spec(source.url, cast(FederalRegisterOptions, source.options)))
    today = datetime.now(UTC).date()
    docs = query.window(since, until, today)
    items: dict[str, Item] = {}
    for doc in docs:
        try:
            item = normalise_document(doc)
        except ValueError:
            continue
        items[item.key] = item
    newest = max(
        (d for d in (parse_date(i.published_on) for i in items.values()) if d), default=None
    )
    return Snapshot(
        items=tuple(items.values()),
        complete=False,
        cursor={CURSOR: newest.isoformat()} if newest else {},
        notes=tuple(query.notes),
    )


KIND = SourceKind(
    name="federal_register",
    summary="published Federal Register documents matching `conditions`, via the FR API",
    options=FederalRegisterOptions,
    check=check,
    restore=restore,
    volatile=VOLATILE,
    silent=frozenset({"corrections"}),
    labels=LABELS,
    date_fields=DATE_FIELDS,
    noun=("document", "documents"),
    family="fr",  # the Federal Register's kinds share document numbers: one thread per document
    role=Role.PUBLISHED,
    progress=progress,
    backfill=backfill,
)

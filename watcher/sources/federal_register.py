"""`federal_register`: published documents from the Federal Register API.

Queries `{url}/documents.json` with the source's `conditions`, newest first, only the fields
watcher uses, and a publication-date window: from the newest document already seen minus
`overlap_days`, or on the first check `lookback_days` back from the newest document the API
has (anchored on the API's own newest date, not this machine's clock).

The API quietly misbehaves in ways that would lose documents (see tests/data/README.md):
`results` is absent when `count` is 0, `per_page` outside 2..2000 becomes 20, and it never
pages past 10,000 results or page 50 (it silently serves page 1 again). So pages are bounded,
and a window with more results than can be paged is split in two by date until each fits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, cast
from urllib.parse import urlencode, urlsplit

from annotated_types import Interval

from watcher.errors import SourceError
from watcher.fingerprint import fingerprint, strip_cache_buster
from watcher.http import CheckFetcher, Expect, Validators
from watcher.match import normalise_text, normalise_type
from watcher.models import Item, Link, Snapshot, SourceMemory
from watcher.settings import KindOptions, SourceConfig
from watcher.sources.base import Role, SourceKind

API_RESULT_WINDOW = 10_000  # the API serves no result past the 10,000th of a query
# Seconds between requests: the Federal Register asks for no more than about 5 a second.
REQUEST_INTERVAL = 0.2
CURSOR = "newest_publication_date"  # how far a check has read: the newest publication date

FIELDS = (
    "abstract",
    "action",
    "agencies",
    "citation",
    "comment_url",
    "comments_close_on",
    "correction_of",
    "corrections",
    "dates",
    "disposition_notes",
    "docket_ids",
    "document_number",
    "effective_on",
    "end_page",
    "executive_order_notes",
    "executive_order_number",
    "html_url",
    "pdf_url",
    "presidential_document_number",
    "proclamation_number",
    "public_inspection_pdf_url",
    "publication_date",
    "raw_text_url",
    "regulation_id_numbers",
    "regulations_dot_gov_url",
    "signing_date",
    "start_page",
    "subtype",
    "title",
    "type",
    "volume",
)

# Shown in messages, never a reason to call a document changed: links move, comment pages
# open and close, cache-busters tick.
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

ConditionValue = str | int | float | bool | list[str | int] | dict[str, str | int | list[str]]


@dataclass(frozen=True)
class FederalRegisterOptions(KindOptions):
    conditions: dict[str, ConditionValue] = field(default_factory=dict)
    per_page: Annotated[int, Interval(ge=2, le=2000)] = 1000
    max_pages: Annotated[int, Interval(ge=1, le=50)] = 10
    lookback_days: Annotated[int, Interval(ge=1, le=3660)] = 30
    overlap_days: Annotated[int, Interval(ge=0, le=60)] = 3
    request_interval: Annotated[float, Interval(ge=0, le=60)] = REQUEST_INTERVAL

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


# ---------------------------------------------------------------------------------------------
# Query building


def condition_params(conditions: Mapping[str, ConditionValue]) -> list[tuple[str, str]]:
    """`{type: [RULE, NOTICE], term: x}` -> `conditions[type][]=RULE&...&conditions[term]=x`."""
    params: list[tuple[str, str]] = []
    for key, value in conditions.items():
        params += _expand(f"conditions[{key}]", value)
    return params


def _expand(name: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        out: list[tuple[str, str]] = []
        for sub, subvalue in value.items():
            out += _expand(f"{name}[{sub}]", subvalue)
        return out
    if isinstance(value, list):
        return [(f"{name}[]", _scalar(v)) for v in value]
    return [(name, _scalar(value))]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def base_params(options: FederalRegisterOptions) -> list[tuple[str, str]]:
    params = condition_params(options.conditions)
    params += [("fields[]", f) for f in FIELDS]
    params += [("order", "newest"), ("per_page", str(options.per_page))]
    return params


# ---------------------------------------------------------------------------------------------
# Normalising one document


def document_number_of(reference: Any) -> str | None:
    """`https://.../api/v1/documents/C1-2019-19930` (or `.json?x`) -> `C1-2019-19930`."""
    if not reference:
        return None
    if isinstance(reference, Mapping):
        reference = reference.get("document_number") or reference.get("json_url")
        if not reference:
            return None
    path = urlsplit(str(reference)).path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    return last.removesuffix(".json") or None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = normalise_text(str(value))
    return cleaned or None


def _number(value: Any) -> str | None:
    # The API gives proclamation and executive order numbers as strings ("9980"), sometimes
    # as null; an int from another server must fingerprint the same as the string.
    if value is None or value == "":
        return None
    return str(value).strip()


def _strings(values: Any) -> list[str]:
    if not values:
        return []
    if isinstance(values, str):
        values = [values]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def agency_names(doc: Mapping[str, Any]) -> list[str]:
    """Agency names from `agencies` (name, else raw_name), else from `agency_names`."""
    names: list[str] = []
    for agency in doc.get("agencies") or []:
        if isinstance(agency, Mapping):
            name = agency.get("name") or agency.get("raw_name")
            if name:
                names.append(normalise_text(str(name)))
        elif isinstance(agency, str):
            names.append(normalise_text(agency))
    if not names:
        names = [normalise_text(str(n)) for n in doc.get("agency_names") or [] if n]
    return list(dict.fromkeys(names))


def record_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """One API result as the record watcher keeps (and diffs field by field)."""
    number = _text(doc.get("document_number"))
    if not number:
        raise ValueError("document without a document_number")
    return {
        "document_number": number,
        "title": _text(doc.get("title")) or "(untitled)",
        "type": _text(doc.get("type")),
        "subtype": _text(doc.get("subtype")),
        "abstract": _text(doc.get("abstract")),
        "action": _text(doc.get("action")),
        "agencies": agency_names(doc),
        "publication_date": _text(doc.get("publication_date")),
        "signing_date": _text(doc.get("signing_date")),
        "effective_on": _text(doc.get("effective_on")),
        "comments_close_on": _text(doc.get("comments_close_on")),
        "dates": _text(doc.get("dates")),
        "citation": _text(doc.get("citation")),
        "volume": doc.get("volume"),
        "start_page": doc.get("start_page"),
        "end_page": doc.get("end_page"),
        "proclamation_number": _number(doc.get("proclamation_number")),
        "executive_order_number": _number(doc.get("executive_order_number")),
        "presidential_document_number": _number(doc.get("presidential_document_number")),
        "docket_ids": _strings(doc.get("docket_ids")),
        "regulation_id_numbers": _strings(doc.get("regulation_id_numbers")),
        "correction_of": document_number_of(doc.get("correction_of")),
        "corrections": sorted(
            n for n in (document_number_of(c) for c in doc.get("corrections") or []) if n
        ),
        "disposition_notes": _text(doc.get("disposition_notes")),
        "executive_order_notes": _text(doc.get("executive_order_notes")),
        "html_url": _text(doc.get("html_url")),
        "pdf_url": _text(doc.get("pdf_url")),
        "public_inspection_pdf_url": strip_cache_buster(
            _text(doc.get("public_inspection_pdf_url"))
        ),
        "raw_text_url": _text(doc.get("raw_text_url")),
        "comment_url": _text(doc.get("comment_url")),
        "regulations_dot_gov_url": _text(doc.get("regulations_dot_gov_url")),
    }


def instrument_of(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(instrument, number) as a trade lawyer names them: ("Proclamation", "10962"),
    ("Executive Order", "14272"), ("Notice", None), ..."""
    proclamation = record.get("proclamation_number")
    order = record.get("executive_order_number")
    if record.get("type") == "Presidential Document":
        subtype = record.get("subtype")
        if proclamation:
            return subtype or "Proclamation", str(proclamation)
        if order:
            return subtype or "Executive Order", str(order)
        return subtype or "Presidential document", None
    return record.get("type"), None


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


# ---------------------------------------------------------------------------------------------
# Fetching


class _Page:
    def __init__(
        self,
        count: int,
        results: list[Mapping[str, Any]],
        has_next: bool,
        validators: Validators | None = None,
        not_modified: bool = False,
    ):
        self.count = count
        self.results = results
        self.has_next = has_next
        self.validators = validators
        self.not_modified = not_modified


def query_key(endpoint: str, params: list[tuple[str, str]]) -> str:
    """The request as one string: what HTTP validators are remembered under."""
    return endpoint + "?" + urlencode(params)


class _Query:
    """One check's conversation with the documents endpoint."""

    def __init__(
        self,
        fetcher: CheckFetcher,
        source: SourceConfig,
        known: Mapping[str, Mapping[str, str]] | None = None,
    ):
        self.fetcher = fetcher
        self.source = source
        self.options = cast(FederalRegisterOptions, source.options)
        self.endpoint = source.url.rstrip("/") + "/documents.json"
        self.params = base_params(self.options)
        self.cap = min(API_RESULT_WINDOW, self.options.per_page * self.options.max_pages)
        self.notes: list[str] = []
        self.known = known or {}  # validators from the last check, by query
        self.validators: dict[str, dict[str, str]] = {}  # to remember for the next one
        self.not_modified = False

    def page(
        self, window: list[tuple[str, str]], number: int, *, conditional: bool = False
    ) -> _Page:
        params = [*self.params, *window]
        if number > 1:
            params.append(("page", str(number)))
        # The query encoded once, as the full URL: also the key its validators are kept under.
        key = query_key(self.endpoint, params)
        known = Validators.from_dict(self.known.get(key)) if conditional else None
        fetched = self.fetcher.get(
            key, expect=Expect.JSON, validators=known, min_interval=self.options.request_interval
        )
        if fetched.not_modified:
            return _Page(0, [], False, known, not_modified=True)
        if conditional and fetched.validators.as_dict():
            self.validators = {key: fetched.validators.as_dict()}
        try:
            data = json.loads(fetched.content)
        except ValueError as exc:
            raise SourceError(f"{self.endpoint}: the answer is not valid JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("count", 0), int):
            raise SourceError(f"{self.endpoint}: the answer is not a documents search result")
        if "errors" in data and not data.get("results"):
            raise SourceError(f"{self.endpoint}: the API refused the query: {data['errors']}")
        count = int(data.get("count") or 0)
        # With count 0 the API leaves `results` out altogether rather than sending [].
        results = data.get("results") or []
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise SourceError(f"{self.endpoint}: `results` is not a list of documents")
        return _Page(count, results, bool(data.get("next_page_url")))

    def window(
        self, gte: date | None, lte: date | None, today: date, *, conditional: bool = False
    ) -> list[Mapping[str, Any]]:
        """Every document published in [gte, lte], splitting the window when it is too big.

        `conditional`: ask with the validators of the last check; a 304 (the whole answer
        unchanged) sets `not_modified` and returns nothing.
        """
        bounds = []
        if gte:
            bounds.append(("conditions[publication_date][gte]", gte.isoformat()))
        if lte:
            bounds.append(("conditions[publication_date][lte]", lte.isoformat()))
        first = self.page(bounds, 1, conditional=conditional)
        if first.not_modified:
            self.not_modified = True
            return []
        if first.has_next or first.count > len(first.results):
            self.validators = {}  # a 304 on page 1 would not vouch for the other pages
        cap = self.cap
        if first.results and len(first.results) < min(first.count, self.options.per_page):
            # The server pages smaller than asked (a proxy, or a per_page it ignored): the
            # number of results that fit in max_pages shrinks with it.
            cap = min(API_RESULT_WINDOW, len(first.results) * self.options.max_pages)
        if first.count > cap:
            top = lte or max([today, *_dates(first.results)])
            if gte is None or gte >= top:
                raise SourceError(
                    f"{first.count:,} documents match for {gte or 'all time'}, more than the "
                    f"{cap:,} the API can page through; narrow `conditions`"
                )
            middle = gte + (top - gte) // 2
            return self.window(middle + timedelta(days=1), top, today) + self.window(
                gte, middle, today
            )
        results = list(first.results)
        has_next = first.has_next
        number = 1
        # next_page_url tells whether there is more; the next page is asked of the configured
        # base URL with page=N, so a proxy or loopback server is never bypassed.
        while has_next and number < self.options.max_pages and len(results) < first.count:
            number += 1
            page = self.page(bounds, number)
            if not page.results:
                break
            results += page.results
            has_next = page.has_next
        if len(results) < first.count:
            # Documents published while we paged shift pages; the overlap of the next check's
            # window picks up anything this one missed, but say so.
            self.notes.append(
                f"the API counted {first.count:,} documents but served {len(results):,}"
            )
        return results


def _dates(results: Iterable[Mapping[str, Any]]) -> list[date]:
    out = []
    for doc in results:
        parsed = _parse_date(doc.get("publication_date"))
        if parsed:
            out.append(parsed)
    return out


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _type_filter(conditions: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """Types and presidential subtypes the query asked for, to re-check on what came back."""

    def values(key: str) -> frozenset[str]:
        raw = conditions.get(key)
        if raw is None:
            return frozenset()
        items = raw if isinstance(raw, list) else [raw]
        return frozenset(normalise_type(str(v)) for v in items)

    return values("type"), values("presidential_document_type")


def progress(cursor: Mapping[str, Any]) -> str | None:
    """The newest publication date a check has seen."""
    seen = cursor.get(CURSOR)
    return str(seen) if seen else None


def check(fetcher: CheckFetcher, source: SourceConfig, memory: SourceMemory) -> Snapshot:
    """Fetch the documents of this check's window and normalise them."""
    query = _Query(fetcher, source, memory.validators)
    options = query.options
    today = datetime.now(UTC).date()
    newest_seen = _parse_date(memory.cursor.get(CURSOR))
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
        dates = _dates(probe.results)
        if not dates:
            docs = []
            gte = None
        else:
            gte = max(dates) - timedelta(days=options.lookback_days)
            if probe.count <= len(probe.results):
                docs = probe.results
            else:
                docs = query.window(gte, None, today)

    types, subtypes = _type_filter(options.conditions)
    items: dict[str, Item] = {}
    skipped = 0
    for doc in docs:
        published = _parse_date(doc.get("publication_date"))
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
        [d for d in (_parse_date(i.published_on) for i in items.values()) if d]
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
    query = _Query(fetcher, source)
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
        (d for d in (_parse_date(i.published_on) for i in items.values()) if d), default=None
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

"""The Federal Register API as the Federal Register kinds talk to it: the documents endpoint's
query, its pages and date windows, and the fields of its documents.

The API quietly misbehaves in ways that would lose documents (see tests/data/README.md):
`results` is absent when `count` is 0, `per_page` outside 2..2000 becomes 20, and it never
pages past 10,000 results or page 50 (it silently serves page 1 again). So pages are bounded,
and a window with more results than can be paged is split in two by date until each fits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from watcher.errors import SourceError
from watcher.http import CheckFetcher, Expect, Validators
from watcher.match import normalise_text, normalise_type

API_RESULT_WINDOW = 10_000  # the API serves no result past the 10,000th of a query
# Date windows one query may be split into before giving up: enough for a year or more of the
# whole Federal Register (about 30,000 documents a year), and a bound on a server that miscounts.
MAX_WINDOWS = 64
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
ConditionValue = str | int | float | bool | list[str | int] | dict[str, str | int | list[str]]


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


def base_params(conditions: Mapping[str, ConditionValue], per_page: int) -> list[tuple[str, str]]:
    params = condition_params(conditions)
    params += [("fields[]", f) for f in FIELDS]
    params += [("order", "newest"), ("per_page", str(per_page))]
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


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = normalise_text(str(value))
    return cleaned or None


def number_of(value: Any) -> str | None:
    # The API gives proclamation and executive order numbers as strings ("9980"), sometimes
    # as null; an int from another server must fingerprint the same as the string.
    if value is None or value == "":
        return None
    return str(value).strip()


def strings_of(values: Any) -> list[str]:
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


# ---------------------------------------------------------------------------------------------
# Querying


class Page:
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


@dataclass(frozen=True)
class QuerySpec:
    """What a query asks of the documents endpoint, and how politely."""

    base_url: str
    conditions: Mapping[str, ConditionValue]
    per_page: int
    max_pages: int
    request_interval: float


class Query:
    """One check's conversation with the documents endpoint."""

    def __init__(
        self,
        fetcher: CheckFetcher,
        spec: QuerySpec,
        known: Mapping[str, Mapping[str, str]] | None = None,
    ):
        self.fetcher = fetcher
        self.spec = spec
        self.endpoint = spec.base_url.rstrip("/") + "/documents.json"
        self.params = base_params(spec.conditions, spec.per_page)
        self.cap = min(API_RESULT_WINDOW, spec.per_page * spec.max_pages)
        self.notes: list[str] = []
        self.known = known or {}  # validators from the last check, by query
        self.validators: dict[str, dict[str, str]] = {}  # to remember for the next one
        self.not_modified = False
        self.windows = 0

    def page(
        self, window: list[tuple[str, str]], number: int, *, conditional: bool = False
    ) -> Page:
        params = [*self.params, *window]
        if number > 1:
            params.append(("page", str(number)))
        # The query encoded once, as the full URL: also the key its validators are kept under.
        key = query_key(self.endpoint, params)
        known = Validators.from_dict(self.known.get(key)) if conditional else None
        fetched = self.fetcher.get(
            key, expect=Expect.JSON, validators=known, min_interval=self.spec.request_interval
        )
        if fetched.not_modified:
            return Page(0, [], False, known, not_modified=True)
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
        return Page(count, results, bool(data.get("next_page_url")))

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
        if first.results and len(first.results) < min(first.count, self.spec.per_page):
            # The server pages smaller than asked (a proxy, or a per_page it ignored): the
            # number of results that fit in max_pages shrinks with it.
            cap = min(API_RESULT_WINDOW, len(first.results) * self.spec.max_pages)
        if first.count > cap:
            top = lte or max([today, *dates_of(first.results)])
            if gte is None or gte >= top:
                raise SourceError(
                    f"{first.count:,} documents match for {gte or 'all time'}, more than the "
                    f"{cap:,} the API can page through; narrow `conditions`"
                )
            self.windows += 1
            if self.windows > MAX_WINDOWS:
                raise SourceError(
                    f"{first.count:,} documents match for {gte} to {top}, and splitting the "
                    f"period into {MAX_WINDOWS} date windows did not bring each under the "
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
        while has_next and number < self.spec.max_pages and len(results) < first.count:
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


def dates_of(results: Iterable[Mapping[str, Any]]) -> list[date]:
    out = []
    for doc in results:
        parsed = parse_date(doc.get("publication_date"))
        if parsed:
            out.append(parsed)
    return out


def parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def type_filter(conditions: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """Types and presidential subtypes the query asked for, to re-check on what came back."""

    def values(key: str) -> frozenset[str]:
        raw = conditions.get(key)
        if raw is None:
            return frozenset()
        items = raw if isinstance(raw, list) else [raw]
        return frozenset(normalise_type(str(v)) for v in items)

    return values("type"), values("presidential_document_type")

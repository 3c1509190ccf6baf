"""What a response must be to be used: the kind of body a caller expects, the validators of
a conditional request, the checks that turn a wrong body into a one-line error, and which
failures are worth another try (and how long the server asked us to wait)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from watcher.errors import FetchError

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0  # seconds; a server asking for longer is treated as down for this run


class Expect(Enum):
    """What a caller expects the body to be; anything else is a fetch error."""

    JSON = "JSON"
    FEED = "an RSS or Atom feed"
    HTML = "an HTML page"
    TEXT = "text"


@dataclass(frozen=True)
class Validators:
    """HTTP cache validators remembered between checks for conditional requests."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("etag", self.etag), ("last_modified", self.last_modified)) if v}

    @classmethod
    def from_dict(cls, data: Mapping[str, str] | None) -> Validators:
        data = data or {}
        return cls(etag=data.get("etag"), last_modified=data.get("last_modified"))


@dataclass(frozen=True)
class Fetched:
    """A successful response (or a 304 when validators were sent)."""

    url: str
    status: int
    content: bytes
    content_type: str
    validators: Validators = field(default_factory=Validators)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


ACCEPT = {
    Expect.JSON: "application/json",
    Expect.FEED: "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.1",
    Expect.HTML: "text/html, application/xhtml+xml;q=0.9, */*;q=0.1",
    Expect.TEXT: "text/plain, */*;q=0.5",
}


def looks_like_html(content: bytes) -> bool:
    head = content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]


def check_content(content: bytes, content_type: str, expect: Expect, url: str) -> None:
    """Refuse a body that is not what the caller asked for.

    The Federal Register answers a throttled client with an HTML "Request Access" page and
    status 200; parsed as data it would look like an empty result and hide a whole day.
    """
    shown = shorten(url)
    media = content_type.split(";")[0].strip().lower()
    if not content.strip():
        raise FetchError(f"GET {shown}: empty body where {expect.value} was expected")
    if expect is Expect.JSON:
        if "json" in media:
            return
        if media == "text/html" or looks_like_html(content):
            raise FetchError(
                f"GET {shown}: got an HTML page where JSON was expected "
                "(throttled or blocked by the server?)"
            )
        if media in ("", "text/plain", "application/octet-stream") and content.lstrip()[:1] in (
            b"{",
            b"[",
        ):
            return
        raise FetchError(f"GET {shown}: content type {media!r} where JSON was expected")
    if expect is Expect.FEED:
        if media in ("text/html", "application/xhtml+xml") or looks_like_html(content):
            raise FetchError(f"GET {shown}: got an HTML page where a feed was expected")
        if content.lstrip()[:1] != b"<":
            raise FetchError(f"GET {shown}: body is not XML where a feed was expected")
        return
    if expect is Expect.HTML and "json" in media:
        raise FetchError(f"GET {shown}: got JSON where an HTML page was expected")


def shorten(url: str, limit: int = 160) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


class Retryable(Exception):
    """A response worth another try; carries the server's Retry-After, if it gave one."""

    def __init__(self, message: str, retry_after: float | None):
        super().__init__(message)
        self.retry_after = retry_after


def retry_hook(exc: Exception) -> bool | float:
    """stamina's backoff hook: whether to retry, or how long to wait when the server said."""
    from watcher.wire import TransportError

    if isinstance(exc, Retryable):
        if exc.retry_after is None:
            return True
        if exc.retry_after > MAX_RETRY_AFTER:
            return False
        return exc.retry_after
    return isinstance(exc, TransportError)  # never UnsupportedProtocol, which is not one


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils  # here: a run whose servers never say Retry-After never loads it

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_detail(body: bytes, content_type: str = "") -> str:
    """What a server said about refusing a request, when it said it in JSON: the Federal
    Register answers a bad query with `{"errors": {"fields": ["... is not a valid field"]}}`,
    words worth more to the reader than "HTTP 400"."""
    if "json" not in content_type.lower() and not body.lstrip().startswith(b"{"):
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("errors", "error", "message", "detail"):
        if data.get(key):
            text = _flatten(data[key])
            return text if len(text) <= 300 else text[:299] + "…"
    return ""


def _flatten(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_flatten(inner)}" for key, inner in value.items())
    if isinstance(value, list):
        return ", ".join(_flatten(inner) for inner in value)
    return " ".join(str(value).split())

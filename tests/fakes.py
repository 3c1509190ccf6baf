"""Loopback stand-ins for the real services, speaking their wire formats.

`FakeFederalRegister` serves `documents.json` the way the real API does (see
tests/data/README.md): filters by publication date and type, newest first, pages with
`next_page_url`, leaves `results` out when `count` is 0, and can answer like a throttled API
(an HTML page with status 200). `FakeSlack` answers `chat.postMessage` like Slack's Web API
and records what it was sent; it can fail on demand.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.slack_limits import violations

TYPE_CODES = {
    "PRESDOCU": "Presidential Document",
    "RULE": "Rule",
    "PRORULE": "Proposed Rule",
    "NOTICE": "Notice",
}

THROTTLED_PAGE = (
    "<!DOCTYPE html><html><head><title>Federal Register :: Request Access</title></head>"
    "<body><h1>Request Access</h1><p>Due to aggressive automated scraping of FederalRegister"
    ".gov and eCFR.gov, programmatic access to these sites is limited...</p></body></html>"
)


class FakeFederalRegister:
    """The documents endpoint of the Federal Register API, on loopback."""

    def __init__(self, server: HTTPServer, prefix: str = "/api/v1"):
        self.server = server
        self.prefix = prefix
        self.documents: list[dict[str, Any]] = []
        self.on_inspection: list[dict[str, Any]] = []  # the public inspection desk
        self.throttled = False
        self.status: int | None = None  # answer every request with this status instead
        self.page_size_limit: int | None = None  # page smaller than asked, like a proxy might
        self.texts: dict[str, str] = {}  # full texts by document number; others answer 404
        self.text_status: int | None = None  # answer every full-text request with this status
        self.etags = False  # answer with an ETag, and 304 to a request that has it
        self.requests: list[dict[str, list[str]]] = []
        self.lock = threading.Lock()
        server.expect_request(f"{prefix}/documents.json").respond_with_handler(self._documents)
        server.expect_request(
            f"{prefix}/public-inspection-documents/current.json"
        ).respond_with_handler(self._inspection)
        server.expect_request(
            re.compile(rf"{re.escape(prefix)}/full_text/.*")
        ).respond_with_handler(self._full_text)
        server.expect_request(
            re.compile(rf"{re.escape(prefix)}/documents/[^/]+\.json")
        ).respond_with_handler(self._document)

    @property
    def url(self) -> str:
        return self.server.url_for(self.prefix)

    def add(self, *docs: Mapping[str, Any]) -> None:
        with self.lock:
            for doc in docs:
                self.documents = [
                    d for d in self.documents if d["document_number"] != doc["document_number"]
                ]
                self.documents.append(self._local_text_url(dict(doc)))

    def _local_text_url(self, doc: dict[str, Any]) -> dict[str, Any]:
        # The recorded documents point their raw text at federalregister.gov; here it is served
        # on loopback, so a test never reaches for the internet.
        doc["raw_text_url"] = self.server.url_for(
            f"{self.prefix}/full_text/{doc['document_number']}.txt"
        )
        return doc

    def _document(self, request: Request) -> Response:
        """One document by number, as `GET /documents/{number}.json` answers it."""
        number = request.path.rsplit("/", 1)[-1].removesuffix(".json")
        with self.lock:
            found = [d for d in self.documents if d["document_number"] == number]
        if not found:
            return Response(
                json.dumps({"errors": {"document_number": [f"{number} not found"]}}),
                status=404,
                content_type="application/json",
            )
        return Response(json.dumps(found[0]), content_type="application/json; charset=utf-8")

    def _full_text(self, request: Request) -> Response:
        number = request.path.rsplit("/", 1)[-1].removesuffix(".txt")
        if self.text_status:
            return Response("unavailable", status=self.text_status, content_type="text/plain")
        if number not in self.texts:
            return Response("not found", status=404, content_type="text/plain")
        return Response(self.texts[number], content_type="text/plain; charset=utf-8")

    def _documents(self, request: Request) -> Response:
        args = parse_qs(request.query_string.decode(), keep_blank_values=True)
        with self.lock:
            self.requests.append(args)
            docs = list(self.documents)
        if self.throttled:
            return Response(THROTTLED_PAGE, status=200, content_type="text/html; charset=utf-8")
        if self.status:
            return Response("upstream trouble", status=self.status, content_type="text/plain")
        gte = _one(args, "conditions[publication_date][gte]")
        lte = _one(args, "conditions[publication_date][lte]")
        types = {TYPE_CODES.get(t, t) for t in args.get("conditions[type][]", [])}
        if gte:
            docs = [d for d in docs if d["publication_date"] >= gte]
        if lte:
            docs = [d for d in docs if d["publication_date"] <= lte]
        if types:
            docs = [d for d in docs if d.get("type") in types]
        docs.sort(key=lambda d: (d["publication_date"], d["document_number"]), reverse=True)
        per_page = int(_one(args, "per_page") or 20)
        if not 2 <= per_page <= 2000:
            per_page = 20  # what the real API does, silently
        if self.page_size_limit:
            per_page = min(per_page, self.page_size_limit)
        page = int(_one(args, "page") or 1)
        if page > 50 or (page - 1) * per_page >= 10_000:
            page = 1  # likewise
        fields = args.get("fields[]")
        chunk = docs[(page - 1) * per_page : page * per_page]
        if fields:
            chunk = [{k: d.get(k) for k in fields} for d in chunk]
        total_pages = max(1, -(-len(docs) // per_page))
        body: dict[str, Any] = {"count": len(docs), "total_pages": total_pages}
        if chunk:
            body["results"] = chunk  # the real API leaves `results` out when count is 0
        if page < total_pages:
            body["next_page_url"] = (
                f"https://www.federalregister.gov/api/v1/documents.json?page={page + 1}"
            )
        text = json.dumps(body)
        if self.etags:
            etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:16] + '"'
            if request.headers.get("If-None-Match") == etag:
                return Response(status=304, headers={"ETag": etag})
            return Response(
                text, content_type="application/json; charset=utf-8", headers={"ETag": etag}
            )
        return Response(text, content_type="application/json; charset=utf-8")

    def publish(self, number: str, **fields: Any) -> dict[str, Any]:
        """Move a document from the inspection desk into the published documents."""
        with self.lock:
            filing = next(d for d in self.on_inspection if d["document_number"] == number)
            self.on_inspection.remove(filing)
        doc = {
            "document_number": number,
            "title": filing["title"],
            "type": filing["type"],
            "publication_date": filing["publication_date"],
            "agencies": filing["agencies"],
            "html_url": filing["html_url"],
            **fields,
        }
        self.add(doc)
        return doc

    def _inspection(self, request: Request) -> Response:
        if self.throttled:
            return Response(THROTTLED_PAGE, status=200, content_type="text/html; charset=utf-8")
        with self.lock:
            docs = list(self.on_inspection)
        body: dict[str, Any] = {
            "count": len(docs),
            "special_filings_updated_at": "2026-01-15T16:15:00.000-05:00",
            "regular_filings_updated_at": "2026-01-15T08:45:00.000-05:00",
        }
        if docs:
            body["results"] = docs
        return Response(json.dumps(body), content_type="application/json; charset=utf-8")


def _one(args: Mapping[str, list[str]], key: str) -> str | None:
    values = args.get(key)
    return values[0] if values else None


@dataclass
class SlackCall:
    method: str  # "accepted" or "refused"
    payload: dict[str, Any]
    ts: str | None = None


@dataclass
class FakeSlack:
    """chat.postMessage on loopback: `{"ok": true, "channel": ..., "ts": ...}` or errors."""

    server: HTTPServer
    calls: list[SlackCall] = field(default_factory=list)
    failures: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    _counter: Any = field(default_factory=lambda: itertools.count(1))
    # what auth.test and conversations.list answer (`watcher doctor`)
    scopes: str = "chat:write,channels:read,groups:read"
    auth_error: str | None = None  # e.g. "invalid_auth"
    channels: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2  # conversations.list pages, so that a test meets a cursor
    listed: int = 0  # conversations.list calls answered
    deleted: set[str] = field(default_factory=set)  # messages deleted in Slack, by ts

    def __post_init__(self) -> None:
        self.server.expect_request("/api/chat.postMessage", method="POST").respond_with_handler(
            self._post
        )
        self.server.expect_request("/api/auth.test", method="POST").respond_with_handler(
            self._auth_test
        )
        self.server.expect_request("/api/conversations.list", method="POST").respond_with_handler(
            self._conversations_list
        )

    def add_channel(self, name: str, *, member: bool = True, **more: Any) -> None:
        number = len(self.channels) + 1
        self.channels.append(
            {"id": f"C{number:08d}", "name": name, "is_member": member, "is_archived": False} | more
        )

    def _answer(self, body: dict[str, Any]) -> Response:
        # Slack names the token's scopes on every Web API answer
        return Response(
            json.dumps(body),
            content_type="application/json",
            headers={"x-oauth-scopes": self.scopes},
        )

    def _auth_test(self, request: Request) -> Response:
        if self.auth_error:
            return self._answer({"ok": False, "error": self.auth_error})
        assert request.headers.get("Authorization", "").startswith("Bearer ")
        return self._answer(
            {
                "ok": True,
                "team": "Acme Trade",
                "user": "watcher",
                "user_id": "U0BOT",
                "bot_id": "B1",
            }
        )

    def _conversations_list(self, request: Request) -> Response:
        self.listed += 1
        if "channels:read" not in self.scopes.split(","):
            return self._answer({"ok": False, "error": "missing_scope", "needed": "channels:read"})
        form = dict(request.form.items())
        start = int(form.get("cursor") or 0)
        page = self.channels[start : start + self.page_size]
        more = start + self.page_size < len(self.channels)
        return self._answer(
            {
                "ok": True,
                "channels": page,
                "response_metadata": {"next_cursor": str(start + self.page_size) if more else ""},
            }
        )

    @property
    def url(self) -> str:
        return self.server.url_for("/api/")

    def fail(
        self,
        times: int,
        status: int = 200,
        error: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` posts with this status (and `{"ok": false, error}`)."""
        body = {"ok": False, "error": error} if error else {}
        for _ in range(times):
            self.failures.append((status, body, headers or {}))

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The payloads Slack accepted."""
        return [c.payload for c in self.calls if c.method == "accepted"]

    def ts_of(self, needle: str) -> str:
        """The ts Slack gave the first accepted message whose payload contains `needle`."""
        for call in self.calls:
            if call.method == "accepted" and needle in json.dumps(call.payload):
                assert call.ts is not None
                return call.ts
        raise AssertionError(f"no message contains {needle!r}")

    def _post(self, request: Request) -> Response:
        if request.is_json:
            payload = request.get_json()
        else:
            payload = dict(request.form.items())
            if isinstance(payload.get("blocks"), str):
                payload["blocks"] = json.loads(payload["blocks"])
        assert request.headers.get("Authorization", "").startswith("Bearer ")
        if self.failures:
            status, body, headers = self.failures.pop(0)
            self.calls.append(SlackCall("refused", payload))
            if body:
                return Response(
                    json.dumps(body),
                    status=status,
                    headers=headers,
                    content_type="application/json",
                )
            return Response(
                "<html>oops</html>", status=status, headers=headers, content_type="text/html"
            )
        if payload.get("thread_ts") in self.deleted:
            self.calls.append(SlackCall("refused", payload))
            return Response(
                json.dumps({"ok": False, "error": "thread_not_found"}),
                content_type="application/json",
            )
        problems = violations(payload)
        if problems:
            # what Slack answers a message over its limits
            self.calls.append(SlackCall("refused", payload))
            error = "msg_too_long" if any("text has" in p for p in problems) else "invalid_blocks"
            return Response(
                json.dumps({"ok": False, "error": error, "problems": problems}),
                content_type="application/json",
            )
        ts = f"1700000000.{next(self._counter):06d}"
        self.calls.append(SlackCall("accepted", payload, ts))
        return Response(
            json.dumps(
                {
                    "ok": True,
                    "channel": "C0TRADE",
                    "ts": ts,
                    "message": {"text": payload.get("text")},
                }
            ),
            content_type="application/json",
        )


class FakeWhiteHouse:
    """The White House's presidential-actions feed (WordPress RSS, newest first) and its
    posts' pages, on loopback."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.posts: list[tuple[str, str, datetime, str, str]] = []
        self.pages: dict[str, str] = {}
        server.expect_request("/presidential-actions/feed/").respond_with_handler(self._feed)
        server.expect_request("/presidential-actions/post").respond_with_handler(self._page)

    def post(self, slug: str, title: str, when: datetime, category: str, text: str) -> None:
        self.posts.insert(0, (slug, title, when, category, text.split("\n\n", 1)[-1][:300]))
        self.pages[slug] = text

    def _feed(self, request: Request) -> Response:
        items = "".join(
            f"<item><title>{title}</title>"
            f"<link>{self.server.url_for('/presidential-actions/post')}?p={slug}</link>"
            f"<pubDate>{format_datetime(when.astimezone(UTC))}</pubDate>"
            f"<category><![CDATA[{category}]]></category>"
            f'<guid isPermaLink="false">https://www.whitehouse.gov/?p={slug}</guid>'
            f"<description><![CDATA[{excerpt}]]></description></item>"
            for slug, title, when, category, excerpt in self.posts
        )
        return Response(
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Presidential Actions</title><link>https://www.whitehouse.gov/</link>"
            f"{items}</channel></rss>",
            content_type="application/rss+xml; charset=UTF-8",
        )

    def _page(self, request: Request) -> Response:
        text = self.pages[request.args["p"]]
        return Response(
            f"<html><body><main><pre>{text}</pre></main></body></html>",
            content_type="text/html; charset=utf-8",
        )

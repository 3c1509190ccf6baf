"""Fetching a document's full text for its trade facts: best effort, never a reason to fail.

One attempt per document, and once a host has failed to answer, no more tries at it in the
same run: a slow or unreachable text server must not hold up alerts that are ready to go. A
host that answers "not found" for one document is still asked for the next.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from watcher.errors import FetchError
from watcher.http import CheckFetcher, Expect

MAX_DOCUMENTS = 50  # full texts fetched per run, at most
MAX_CHARS = 400_000  # of a text kept for reading facts


class TextFetcher:
    """Fetches full texts for one run (from any worker), remembering which hosts failed."""

    def __init__(self, budget: int = MAX_DOCUMENTS):
        self.budget = budget
        self.failed_hosts: set[str] = set()
        self._lock = threading.Lock()

    def text(self, url: str, fetcher: CheckFetcher) -> str | None:
        """The text at `url`, fetched through the check it is for; None when it cannot be
        had (the alert goes out without its facts rather than wait)."""
        host = urlsplit(url).netloc
        with self._lock:
            if not host or host in self.failed_hosts or self.budget <= 0:
                return None
            self.budget -= 1
        try:
            fetched = fetcher.get(url, expect=Expect.TEXT, attempts=1, from_content=True)
        except FetchError as exc:
            if exc.status is None or exc.status >= 500 or exc.status in (403, 429):
                with self._lock:
                    self.failed_hosts.add(host)
            return None
        return document_text(fetched.content, fetched.content_type)[:MAX_CHARS]


def document_text(content: bytes, content_type: str = "") -> str:
    """Plain text of a document: as is, or the main part of an HTML page (read as a stream,
    keeping only that part)."""
    head = content[:1024].lstrip().lower()
    if (
        "html" not in content_type.lower()
        and not head.startswith((b"<!doctype", b"<html"))
        and b"<pre" not in head
    ):
        return content.decode("utf-8", errors="replace")
    from watcher.htmlpart import read_part, text_of

    part = read_part(content, ["main", "article", "pre", "body"], content_type)
    return text_of(part.element, "\n") if part is not None else ""

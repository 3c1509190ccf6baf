"""All of watcher's HTTP: one httpx client, retries, limits, politeness, content checks.

A source asks for a URL and says what it expects (JSON, a feed, an HTML page); it gets the
bytes back or a FetchError with one line a person can act on. Retries (transport errors, 429,
5xx) back off exponentially with jitter through stamina and honour `Retry-After`.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from watcher.errors import FetchError
from watcher.responses import (
    ACCEPT,
    Expect,
    Fetched,
    Validators,
    check_content,
    shorten,
)
from watcher.settings import HttpSettings

if TYPE_CHECKING:
    import ssl

    import httpx

# httpx and stamina are imported where they are used, so that a run with nothing to fetch
# (and `watcher --help`) does not pay for them.

__all__ = [
    "CheckFetcher",
    "Expect",
    "Fetched",
    "Fetcher",
    "Validators",
    "check_content",
    "parse_retry_after",
]

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0  # seconds; a server asking for longer is treated as down for this run


class _Retryable(Exception):
    """A response worth another try; carries the server's Retry-After, if it gave one."""

    def __init__(self, message: str, retry_after: float | None):
        super().__init__(message)
        self.retry_after = retry_after


def _retry_hook(exc: Exception) -> bool | float:
    """stamina's backoff hook: whether to retry, or how long to wait when the server said."""
    import httpx

    if isinstance(exc, _Retryable):
        if exc.retry_after is None:
            return True
        if exc.retry_after > MAX_RETRY_AFTER:
            return False
        return exc.retry_after
    return isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.UnsupportedProtocol)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _HostGate:
    """Politeness: at most N requests in flight in all and per host, and a minimum gap
    between the starts of two requests to one host."""

    def __init__(self, concurrency: int, per_host: int, interval: float):
        self._overall = threading.BoundedSemaphore(concurrency)
        self._per_host = per_host
        self._interval = interval
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def enter(self, host: str, interval: float = 0.0) -> Iterator[None]:
        gap = max(self._interval, interval)
        with self._lock:
            slot = self._slots.setdefault(host, threading.BoundedSemaphore(self._per_host))
        with slot, self._overall:
            if gap:
                with self._lock:
                    now = time.monotonic()
                    start = max(now, self._next_start.get(host, now))
                    self._next_start[host] = start + gap
                if start > now:
                    time.sleep(start - now)
            yield


class Tally:
    """Requests made and bytes received, for one check's report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes_received = 0

    def add(self, *, requests: int = 0, bytes_received: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.bytes_received += bytes_received


class Fetcher:
    """The HTTP machinery of a run: a connection pool per host and the politeness gate.
    Thread-safe; each check fetches through its own `CheckFetcher`, which counts for it."""

    def __init__(self, settings: HttpSettings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self._transport = transport
        # One client (one connection pool) per host: httpcore's pool walks all its connections
        # for every request it assigns, which costs more CPU than the requests themselves
        # once dozens of connections share one pool. Per host, a pool stays small.
        self._clients: dict[str, httpx.Client] = {}
        self._clients_lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        self._gate = _HostGate(settings.concurrency, settings.per_host, settings.per_host_interval)

    def for_check(self) -> CheckFetcher:
        """A view of this fetcher for one source's check, counting that check's requests."""
        return CheckFetcher(self)

    def _client(self, origin: str) -> httpx.Client:
        with self._clients_lock:
            client = self._clients.get(origin)
            if client is None:
                import httpx

                settings = self.settings
                client = httpx.Client(
                    # https needs the CA bundle, loaded once for all clients (it costs
                    # milliseconds and megabytes each time); plain http never uses it.
                    verify=self._tls_context() if origin.startswith("https:") else False,
                    timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
                    limits=httpx.Limits(
                        max_connections=settings.per_host,
                        max_keepalive_connections=settings.per_host,
                    ),
                    follow_redirects=True,
                    max_redirects=settings.max_redirects,
                    headers={"User-Agent": settings.user_agent},
                    transport=self._transport,
                )
                self._clients[origin] = client
            return client

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            import ssl

            import certifi

            self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls

    def close(self) -> None:
        with self._clients_lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        expect: Expect,
        params: Any = None,
        validators: Validators | None = None,
        attempts: int | None = None,
        min_interval: float = 0.0,
        tally: Tally | None = None,
    ) -> Fetched:
        """GET a URL, retrying what is worth retrying; raise FetchError otherwise."""
        import httpx

        tally = tally or Tally()

        shown = shorten(url)
        attempts = attempts or self.settings.attempts
        try:
            try:
                return self._get_once(url, expect, params, validators, min_interval, tally)
            except Exception as exc:
                if attempts <= 1 or not _retry_hook(exc):
                    raise
                failure: Exception | None = exc
            # Most requests succeed the first time, so stamina (and tenacity) are loaded only
            # for a retry. The failure above counts as stamina's first attempt: it backs off
            # (or waits what Retry-After asked) before the second, exactly as if it had made it.
            import stamina

            for attempt in stamina.retry_context(
                on=_retry_hook,
                attempts=attempts,
                timeout=self.settings.retry_budget,
                wait_initial=self.settings.retry_wait,
                wait_max=max(self.settings.retry_wait, 30.0),
                wait_jitter=1.0,
            ):
                with attempt:
                    if failure is not None:
                        earlier, failure = failure, None
                        raise earlier
                    return self._get_once(url, expect, params, validators, min_interval, tally)
        except _Retryable as exc:
            raise FetchError(f"GET {shown}: {exc}") from None
        except httpx.TooManyRedirects:
            raise FetchError(
                f"GET {shown}: more than {self.settings.max_redirects} redirects (a loop?)"
            ) from None
        except httpx.TimeoutException as exc:
            raise FetchError(f"GET {shown}: timed out ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"GET {shown}: {type(exc).__name__}: {exc}") from None
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    def _get_once(
        self,
        url: str,
        expect: Expect,
        params: Any,
        validators: Validators | None,
        min_interval: float,
        tally: Tally,
    ) -> Fetched:
        headers = {"Accept": ACCEPT[expect]}
        if validators:
            headers.update(validators.headers())
        parts = urlsplit(url)
        host = parts.netloc
        with (
            self._gate.enter(host, min_interval),
            self._client(f"{parts.scheme}://{host}").stream(
                "GET", url, params=params, headers=headers
            ) as response,
        ):
            tally.add(requests=1)
            final_url = str(response.url)
            if response.status_code != 200:
                # Read what little there is, so the connection goes back to the pool for the
                # next request to this host instead of being closed.
                self._read_capped(response, final_url, tally, quiet=True)
            if response.status_code == 304 and validators:
                return Fetched(final_url, 304, b"", "", validators)
            if response.status_code in RETRYABLE_STATUS:
                raise _Retryable(
                    _status_text(response),
                    parse_retry_after(response.headers.get("Retry-After")),
                )
            if response.status_code >= 400:
                raise FetchError(f"GET {shorten(final_url)}: {_status_text(response)}")
            if response.status_code != 200:
                raise FetchError(f"GET {shorten(final_url)}: unexpected {_status_text(response)}")
            content = self._read_capped(response, final_url, tally)
        content_type = response.headers.get("Content-Type", "")
        check_content(content, content_type, expect, final_url)
        return Fetched(
            url=final_url,
            status=200,
            content=content,
            content_type=content_type,
            validators=Validators(
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            ),
        )

    def _read_capped(
        self, response: httpx.Response, url: str, tally: Tally, quiet: bool = False
    ) -> bytes:
        if quiet:
            # an error page or a 304: a bounded read, and never an error of its own
            try:
                return b"".join(_bounded(response.iter_bytes(), 65_536))
            except Exception:
                return b""
        cap = self.settings.max_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(
                f"GET {shorten(url)}: response of {int(declared):,} bytes is over the "
                f"{cap:,}-byte limit (http.max_bytes)"
            )
        chunks = []
        size = 0
        # iter_bytes decompresses, so the cap also stops a small gzip that inflates hugely
        for chunk in response.iter_bytes():
            size += len(chunk)
            tally.add(bytes_received=len(chunk))
            if size > cap:
                raise FetchError(
                    f"GET {shorten(url)}: response is over the {cap:,}-byte limit (http.max_bytes)"
                )
            chunks.append(chunk)
        return b"".join(chunks)


class CheckFetcher:
    """One check's way to the network: the run's pools and politeness, its own tally."""

    def __init__(self, fetcher: Fetcher):
        self.fetcher = fetcher
        self.tally = Tally()

    @property
    def requests(self) -> int:
        return self.tally.requests

    def get(
        self,
        url: str,
        *,
        expect: Expect,
        params: Any = None,
        validators: Validators | None = None,
        attempts: int | None = None,
        min_interval: float = 0.0,
    ) -> Fetched:
        return self.fetcher.get(
            url,
            expect=expect,
            params=params,
            validators=validators,
            attempts=attempts,
            min_interval=min_interval,
            tally=self.tally,
        )


def _bounded(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return
        yield chunk


def _status_text(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()

"""All of watcher's HTTP: connection pools, politeness, retries, deadlines, redirects, limits.

A source asks for a URL and says what it expects (JSON, a feed, an HTML page); it gets the
bytes back or a FetchError with one line a person can act on. Retries (transport errors, 429,
5xx) back off exponentially with jitter through stamina and honour `Retry-After`. Every
request ends by its deadline (`http.deadline`, or the check's if sooner), connect, reads,
redirects, retries and waits together; each redirect is vetted, and a URL found in content
may lead only where its source allows (`watcher.netguard`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from watcher.errors import FetchError
from watcher.responses import (
    ACCEPT,
    RETRYABLE_STATUS,
    Expect,
    Fetched,
    Retryable,
    Validators,
    check_content,
    error_detail,
    parse_retry_after,
    retry_hook,
    shorten,
)
from watcher.settings import HttpSettings
from watcher.timing import IDLE, CpuClock
from watcher.traffic import HostGate, Tally
from watcher.turns import UNLIMITED, Turns

if TYPE_CHECKING:
    import ssl

    from watcher.netguard import Origin
    from watcher.wire import Pool, Response

# The wire (h11) and stamina are imported where they are used, so that a run with nothing to
# fetch (and `watcher --help`) does not pay for them.

__all__ = [
    "CheckFetcher",
    "Expect",
    "Fetched",
    "Fetcher",
    "Validators",
    "check_content",
    "parse_retry_after",
]

REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Fetcher:
    """The HTTP machinery of a run: a connection pool per host and the politeness gate.
    Thread-safe; each check fetches through its own `CheckFetcher`, which counts for it and
    knows where its URLs may lead."""

    def __init__(self, settings: HttpSettings, cpu: CpuClock = IDLE, turns: Turns = UNLIMITED):
        self.settings = settings
        self.cpu = cpu  # the run's CPU by phase: requests are `fetch`
        self.turns = turns  # a request gives its thread's turn at the CPU up while it waits
        # One pool of keep-alive connections per origin (`watcher.wire`), on sockets opened
        # by `watcher.nettransport` (addresses vetted, every read clipped to the deadline).
        self._clients: dict[str, Pool] = {}
        self._clients_lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        self._gate = HostGate(settings.concurrency, settings.per_host, settings.per_host_interval)

    def for_check(
        self,
        source_url: str = "",
        fetch_hosts: frozenset[str] = frozenset(),
        deadline: float | None = None,
    ) -> CheckFetcher:
        """A view of this fetcher for one source's check: its requests counted, its content's
        URLs kept to where the source allows, all of it done within `deadline` seconds."""
        from watcher.netguard import Origin

        return CheckFetcher(self, Origin(source_url, fetch_hosts), deadline)

    def _client(self, origin: str) -> Pool:
        with self._clients_lock:
            client = self._clients.get(origin)
            if client is None:
                from watcher.nettransport import open_connection
                from watcher.wire import Pool

                # https needs the CA bundle, loaded once for all pools (it costs
                # milliseconds and megabytes each time); plain http never uses it.
                tls = self._tls_context() if origin.startswith("https:") else None
                client = Pool(
                    origin,
                    partial(open_connection, tls=tls),
                    keep=self.settings.per_host,
                    connect_timeout=self.settings.connect_timeout,
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
            for client in set(self._clients.values()):
                client.close()
            self._clients.clear()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request ----------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        expect: Expect,
        validators: Validators | None = None,
        attempts: int | None = None,
        min_interval: float = 0.0,
        tally: Tally | None = None,
        origin: Origin | None = None,
        from_content: bool = False,
        ends: float | None = None,
    ) -> Fetched:
        """GET a URL, retrying what is worth retrying; raise FetchError otherwise.

        The whole request (connect, every read, redirects, retries and their waits) ends by
        `http.deadline` seconds from now, or by `ends` (a time.monotonic()) if sooner. A URL
        `from_content` must lead where `origin` allows."""
        from watcher.netguard import AddressRefused, DeadlinePassed, Origin, Reach, guarded
        from watcher.wire import Timeout, TransportError, UnsupportedProtocol

        tally = tally or Tally()
        origin = origin or Origin(url)
        shown = shorten(url)
        started = time.monotonic()
        deadline = started + self.settings.deadline
        if ends is not None:
            deadline = min(deadline, ends)
        try:
            reach = origin.content_reach(url) if from_content else Reach(internal=True, url=url)
            call = _Call(url, expect, validators, min_interval, tally, origin, deadline)
            with guarded(deadline, reach), self.turns.waiting(), self.cpu.phase("fetch"):
                return self._with_retries(call, attempts or self.settings.attempts)
        except Retryable as exc:
            raise FetchError(f"GET {shown}: {exc}") from None
        except AddressRefused as exc:
            raise FetchError(f"GET {shown}: {exc}") from None
        except (DeadlinePassed, Timeout) as exc:
            if time.monotonic() >= deadline - 0.05:
                whose = (
                    "the check's deadline (limits.check_deadline)"
                    if ends is not None and ends < started + self.settings.deadline
                    else f"{self.settings.deadline:g}s (http.deadline)"
                )
                raise FetchError(f"GET {shown}: no complete answer within {whose}") from None
            raise FetchError(f"GET {shown}: timed out ({type(exc).__name__})") from None
        except (TransportError, UnsupportedProtocol) as exc:
            raise FetchError(f"GET {shown}: {type(exc).__name__}: {exc}") from None

    def _with_retries(self, call: _Call, attempts: int) -> Fetched:
        def once() -> Fetched:
            return self._get_once(call)

        try:
            return once()
        except Exception as exc:
            if attempts <= 1 or not retry_hook(exc) or time.monotonic() >= call.deadline:
                raise
            failure: Exception | None = exc
        # Most requests succeed the first time, so stamina (and tenacity) are loaded only for
        # a retry. The failure above counts as stamina's first attempt: it backs off (or waits
        # what Retry-After asked) before the second, exactly as if it had made it.
        import stamina

        wait = self.settings.retry_wait
        for attempt in stamina.retry_context(
            on=retry_hook,
            attempts=attempts,
            timeout=max(0.001, min(self.settings.retry_budget, call.deadline - time.monotonic())),
            wait_initial=wait,
            wait_max=max(wait, 30.0),
            wait_jitter=min(1.0, 2 * wait),
        ):
            with attempt:
                if failure is not None:
                    earlier, failure = failure, None
                    raise earlier
                return once()
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    def _get_once(self, call: _Call) -> Fetched:
        """One attempt: the request and the redirects it leads to, each hop vetted. Once a
        redirect has gone out to a public address, no later hop may come back inside."""
        from watcher.netguard import Reach, guarded, reach

        current, hop = call.url, reach()
        for _ in range(self.settings.max_redirects + 1):
            with guarded(call.deadline, hop):
                outcome = self._exchange(call, current)
            if isinstance(outcome, Fetched):
                return outcome
            target = urljoin(current, outcome)
            if urlsplit(target).scheme not in ("http", "https"):
                raise FetchError(f"GET {shorten(current)}: redirect to a non-http URL refused")
            next_hop = call.origin.redirect_reach(target)
            hop = next_hop if hop.internal else Reach(internal=False, url=target)
            current = target
        raise FetchError(
            f"GET {shorten(call.url)}: more than {self.settings.max_redirects} redirects (a loop?)"
        )

    def _exchange(self, call: _Call, url: str) -> Fetched | str:
        """One request (to `url`: the call's own, or where a redirect led) and its answer:
        what it fetched, or where a redirect points."""
        from watcher.nettransport import clipped

        expect, validators, tally = call.expect, call.validators, call.tally
        headers = {
            "Accept": ACCEPT[expect],
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": self.settings.user_agent,
        }
        if validators:
            headers.update(validators.headers())
        parts = urlsplit(url)
        host = parts.netloc
        pool = self._client(f"{parts.scheme}://{host}")
        read = self.settings.timeout
        with (
            self._gate.enter(host, call.min_interval),
            self.cpu.request(),
            closing(pool.get(url, headers, read_timeout=read, clip=clipped)) as response,
        ):
            tally.add(requests=1)
            location = response.header("Location")
            if response.status_code in REDIRECTS and location:
                self._read_capped(response, url, tally, quiet=True)
                return location
            said = b""
            if response.status_code != 200:
                # Read what little there is, so the connection goes back to the pool for the
                # next request to this host instead of being closed.
                said = self._read_capped(response, url, tally, quiet=True)
            if response.status_code == 304 and validators:
                return Fetched(url, 304, b"", "", validators)
            if response.status_code in RETRYABLE_STATUS:
                raise Retryable(
                    _status_text(response),
                    parse_retry_after(response.header("Retry-After")),
                )
            if response.status_code >= 400:
                detail = error_detail(said, response.header("Content-Type") or "")
                raise FetchError(
                    f"GET {shorten(url)}: {_status_text(response)}"
                    + (f": {detail}" if detail else ""),
                    status=response.status_code,
                )
            if response.status_code != 200:
                raise FetchError(f"GET {shorten(url)}: unexpected {_status_text(response)}")
            content = self._read_capped(response, url, tally)
        content_type = response.header("Content-Type") or ""
        check_content(content, content_type, expect, url)
        return Fetched(
            url=url,
            status=200,
            content=content,
            content_type=content_type,
            validators=Validators(
                etag=response.header("ETag"),
                last_modified=response.header("Last-Modified"),
            ),
        )

    def _read_capped(
        self, response: Response, url: str, tally: Tally, quiet: bool = False
    ) -> bytes:
        if quiet:
            # an error page, a redirect or a 304: a bounded read, never an error of its own
            try:
                return b"".join(_bounded(response.iter_bytes(), 65_536))
            except Exception:
                return b""
        cap = self.settings.max_bytes
        declared = response.header("Content-Length")
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
    """One check's way to the network: the run's pools and politeness, its own tally, its
    source's origin (where URLs from its content may lead) and its deadline."""

    def __init__(self, fetcher: Fetcher, origin: Origin, deadline: float | None = None):
        self.fetcher = fetcher
        self.origin = origin
        self.tally = Tally()
        self.deadline = deadline  # seconds a check may take, counted from `begin()`
        self.ends: float | None = None

    def begin(self) -> None:
        """The check starts now: its deadline counts from here."""
        if self.deadline is not None:
            self.ends = time.monotonic() + self.deadline

    @property
    def requests(self) -> int:
        return self.tally.requests

    def get(
        self,
        url: str,
        *,
        expect: Expect,
        validators: Validators | None = None,
        attempts: int | None = None,
        min_interval: float = 0.0,
        from_content: bool = False,
    ) -> Fetched:
        """GET for this check. `from_content`: the URL was found in the source's content
        (a link, a full-text address), so it may lead only to the source's own host or to
        one it lists in `fetch_hosts`."""
        return self.fetcher.get(
            url,
            expect=expect,
            validators=validators,
            attempts=attempts,
            min_interval=min_interval,
            tally=self.tally,
            origin=self.origin,
            from_content=from_content,
            ends=self.ends,
        )


@dataclass(frozen=True)
class _Call:
    """What stays the same through one GET's retries and redirects."""

    url: str
    expect: Expect
    validators: Validators | None
    min_interval: float
    tally: Tally
    origin: Origin
    deadline: float  # time.monotonic() by which it is all over


def _bounded(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return
        yield chunk


def _status_text(response: Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()

"""HTTP/1.1 on the wire: a GET, its answer read as a stream, and a keep-alive pool per origin.

h11 (python-hyper's HTTP/1.1 state machine, the one httpcore itself speaks) does the
protocol: framing, chunked bodies, keep-alive. This module only moves bytes between it and
a socket opened by `watcher.nettransport` (every address vetted, every connect and read
clipped to the request's deadline). watcher makes GETs to a handful of hosts and follows
redirects itself, so it needs none of a general client's layers (cookies, auth, proxies,
HTTP/2); measured on 200 sources, httpx and httpcore cost about 60 ms to import and 0.3 ms of
CPU per request where this costs a third of that (`python bench/bench.py`, fetch phase).
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlsplit

import h11

log = logging.getLogger(__name__)

READ_SIZE = 65_536  # the most a decoded piece of a body holds
RECEIVE_SIZE = 16_384  # the most one read from a socket takes (each thread has a buffer)
_buffers = threading.local()  # each thread's receive buffer, reused for all its reads
MAX_HEAD = 100 * 1024  # the most a response's status line and headers may take
_UNSAFE = "%/:=&?~#+!$,;'@()*[]"  # characters a target keeps as they are


class TransportError(Exception):
    """The exchange failed below HTTP (connect, TLS, a read, a broken answer): retryable."""


class ConnectError(TransportError):
    """No connection: refused, unresolvable, or the TLS handshake failed."""


class Timeout(TransportError):
    """A connect or read took longer than its timeout."""


class ProtocolError(TransportError):
    """The server broke HTTP, or closed the connection mid-answer."""


class UnsupportedProtocol(Exception):
    """Not an http or https URL: never worth a retry."""


Connect = Callable[[str, int, float], socket.socket]  # (host, port, timeout) -> open socket
Clip = Callable[[float], float]  # a timeout -> no longer than what is left of the deadline


class Connection:
    """One socket to one origin, speaking HTTP/1.1 through h11."""

    def __init__(self, sock: socket.socket, read_timeout: float, clip: Clip):
        self.sock = sock
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self.read_timeout = read_timeout
        self.clip = clip  # the request's deadline, applied to every read and write
        self.reused = False  # it has answered before: a failure may be a stale keep-alive

    def send(self, target: str, host: str, headers: dict[str, str]) -> None:
        fields = [("Host", host), *headers.items()]
        request = h11.Request(method="GET", target=target, headers=fields)
        data = self.h11.send(request) + (self.h11.send(h11.EndOfMessage()) or b"")
        self.sock.settimeout(self.clip(self.read_timeout))
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise Timeout("timed out sending the request") from None
        except OSError as exc:
            raise ProtocolError(f"sending the request failed: {exc}") from None

    def next_event(self) -> h11.Event | type[h11.PAUSED]:
        """The next thing the server said, reading from the socket as needed."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise ProtocolError(f"the server broke HTTP: {exc}") from None
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]  # NEED_DATA is handled here
            self.sock.settimeout(self.clip(self.read_timeout))
            try:
                data = _receive(self.sock)
            except TimeoutError:
                raise Timeout("timed out reading the answer") from None
            except OSError as exc:
                raise ProtocolError(f"reading the answer failed: {exc}") from None
            self.h11.receive_data(data)  # b"" at the end of the stream

    def reusable(self) -> bool:
        """Whether the exchange ended cleanly with the connection open: it can take another."""
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            self.reused = True
            return True
        return False

    def stale(self) -> bool:
        """An idle connection with something to read has been closed by the server."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        self.sock.close()


class Response:
    """A response's status and headers; its body read (and decoded) as a stream."""

    def __init__(self, head: h11.Response, connection: Connection, pool: Pool):
        self.status_code = head.status_code
        self.reason_phrase = head.reason.decode("latin-1")
        headers: dict[str, str] = {}
        for name, value in head.headers:
            key, text = name.decode("latin-1"), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        self.headers = headers  # names in lower case (as h11 gives them)
        self._connection: Connection | None = connection
        self._pool = pool
        self._ended = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def iter_raw(self) -> Iterator[bytes]:
        """The body as sent (content-coded, if it was)."""
        connection = self._connection
        while connection is not None and not self._ended:
            event = connection.next_event()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._ended = True
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                raise ProtocolError("the server closed the connection mid-answer")

    def iter_bytes(self) -> Iterator[bytes]:
        """The body decoded (gzip, deflate), in pieces of at most READ_SIZE bytes, so that a
        reader counting them stops a small body that inflates hugely before it has."""
        coding = (self.header("Content-Encoding") or "identity").strip().lower()
        if coding in ("gzip", "x-gzip"):
            yield from _inflated(self.iter_raw(), zlib.MAX_WBITS | 16)
        elif coding == "deflate":
            yield from _inflated(self.iter_raw(), zlib.MAX_WBITS, raw_fallback=True)
        else:
            yield from self.iter_raw()

    def close(self) -> None:
        """Done with it: the connection goes back to the pool if the answer was read to its
        end, and is closed otherwise."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._ended and connection.reusable():
            self._pool.release(connection)
        else:
            connection.close()


def _receive(sock: socket.socket) -> bytes:
    """What the socket has, up to RECEIVE_SIZE bytes, read into this thread's buffer and
    copied out at its size: `recv(65536)` allocates 64 KiB per read and shrinks it, and
    dozens of threads doing that at once fragmented the C heap (a steady run of 800 sources
    left 31 MB free but not returned in it; now 0.2 MB)."""
    buffer = getattr(_buffers, "view", None)
    if buffer is None:
        buffer = _buffers.view = memoryview(bytearray(RECEIVE_SIZE))
    size = sock.recv_into(buffer)
    return bytes(buffer[:size])


def _inflated(chunks: Iterator[bytes], wbits: int, raw_fallback: bool = False) -> Iterator[bytes]:
    inflater = zlib.decompressobj(wbits)
    first = True
    for chunk in chunks:
        data = chunk
        while data:
            try:
                piece = inflater.decompress(data, READ_SIZE)
            except zlib.error as exc:
                if first and raw_fallback:  # "deflate" sent without its zlib header
                    inflater, raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise ProtocolError(f"the body does not decode: {exc}") from None
            first = False
            data = inflater.unconsumed_tail
            if piece:
                yield piece
    while piece := inflater.decompress(b"", READ_SIZE):  # what it still holds, in pieces
        yield piece


class Pool:
    """Idle keep-alive connections to one origin (scheme://host:port), reused newest first.
    How many requests go to a host at once is the politeness gate's business (`traffic`)."""

    def __init__(self, origin: str, connect: Connect, *, keep: int, connect_timeout: float):
        parts = urlsplit(origin)
        default = 443 if parts.scheme == "https" else 80
        self.host = parts.hostname or ""
        self.port = parts.port or default
        self.host_header = _host_text(self.host) + (f":{self.port}" if self.port != default else "")
        self._connect = connect
        self._keep = keep
        self._connect_timeout = connect_timeout
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def get(
        self,
        url: str,
        headers: dict[str, str],
        *,
        read_timeout: float,
        clip: Clip,
    ) -> Response:
        """Send a GET for `url` and return the response once its head has arrived. A reused
        connection the server had quietly closed is replaced by a new one, once."""
        target = _target(url)
        while True:
            connection = self._idle_connection()
            fresh = connection is None
            if connection is None:
                sock = self._connect(self.host, self.port, self._connect_timeout)
                connection = Connection(sock, read_timeout, clip)
            connection.read_timeout, connection.clip = read_timeout, clip
            try:
                connection.send(target, self.host_header, headers)
                head = _head(connection)
            except ProtocolError:
                connection.close()
                if fresh:
                    raise
                continue  # a keep-alive the server dropped: once more, on a new connection
            except BaseException:
                connection.close()
                raise
            log.debug("GET %s -> %s", url, head.status_code)
            return Response(head, connection, self)

    def _idle_connection(self) -> Connection | None:
        while True:
            with self._lock:
                if not self._idle:
                    return None
                connection = self._idle.pop()
            if not connection.stale():
                return connection
            connection.close()

    def release(self, connection: Connection) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def _head(connection: Connection) -> h11.Response:
    while True:
        event = connection.next_event()
        if isinstance(event, h11.Response):
            return event
        if isinstance(event, h11.InformationalResponse):
            continue  # 100 Continue and the like: the real answer follows
        raise ProtocolError("the server closed the connection without answering")


def _target(url: str) -> str:
    """The request target (path and query) of a URL, non-ASCII characters percent-encoded."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsupportedProtocol(f"not an http or https URL: {url!r}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return target if target.isascii() and " " not in target else quote(target, safe=_UNSAFE)


def _host_text(host: str) -> str:
    """A host as a Host header writes it: IDNA for a non-ASCII name, brackets for IPv6."""
    host = host if host.isascii() else host.encode("idna").decode("ascii")
    return f"[{host}]" if ":" in host else host

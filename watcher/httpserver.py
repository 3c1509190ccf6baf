"""A small HTTP server for `watcher serve`: every request answered, nothing waited on for
ever, nothing read without bound.

Connections are handled on one asyncio loop, so a thousand idle or half-open connections
cost no threads; h11 parses HTTP (a `Content-Length` that is negative or not a number is a
400). Each connection has deadlines for its headers and its body; a POST must say its
length (411 otherwise), and a body over `max_body` is refused (413), counted on the bytes
actually read as well as on what the header claims. The work itself runs in a bounded pool
of threads: when all are busy, the answer is 503 with `Retry-After`, at once, rather than a
queue that grows or a reset connection. Each response closes its connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import h11

from watcher import __version__, stopping

log = logging.getLogger(__name__)

Handler = Callable[[str, str, Mapping[str, str], bytes], tuple[int, Mapping[str, Any]]]


@dataclass(frozen=True)
class ServerLimits:
    max_body: int = 64 * 1024  # bytes a request body may have
    header_timeout: float = 5.0  # seconds to send the request line and headers
    body_timeout: float = 10.0  # seconds to send the body
    workers: int = 4  # requests handled at once; more are answered 503
    connections: int = 512  # open connections; more are answered 503 at once
    backlog: int = 1024  # connections the kernel queues before we accept them


class _Refuse(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


def serve(handle: Handler, host: str, port: int, limits: ServerLimits | None = None) -> None:
    """Serve until a stop is requested (`watcher.stopping`)."""
    asyncio.run(_Server(handle, limits or ServerLimits()).run(host, port))


class _Server:
    def __init__(self, handle: Handler, limits: ServerLimits):
        self.handle = handle
        self.limits = limits
        self.pool = ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="serve")
        self.busy = 0  # requests in the pool
        self.open = 0  # connections open

    async def run(self, host: str, port: int) -> None:
        server = await asyncio.start_server(
            self.connection, host, port, backlog=self.limits.backlog, limit=16 * 1024
        )
        try:
            while not stopping.requested():
                await asyncio.sleep(0.2)
        finally:
            server.close()
            await server.wait_closed()
            self.pool.shutdown(wait=False, cancel_futures=True)

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=16 * 1024)
        try:
            if self.open > self.limits.connections:
                raise _Refuse(503, "too many connections", {"Retry-After": "1"})
            method, path, headers = await self._request(conn, reader)
            body = await self._body(conn, reader, method, headers)
            status, answer = await self._answer(method, path, headers, body)
            await self._send(writer, status, answer)
        except _Refuse as refused:
            await self._send(writer, refused.status, {"error": str(refused)}, refused.headers)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: nobody to answer
        finally:
            self.open -= 1
            writer.close()

    async def _read(self, reader: asyncio.StreamReader, timeout: float) -> bytes:
        try:
            return await asyncio.wait_for(reader.read(16 * 1024), timeout)
        except TimeoutError:
            raise _Refuse(408, "the request was not sent in time") from None

    async def _request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[str, str, dict[str, str]]:
        loop = asyncio.get_running_loop()
        ends = loop.time() + self.limits.header_timeout
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise _Refuse(400, f"bad request: {exc}") from None
            if isinstance(event, h11.Request):
                headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers
                }
                return event.method.decode("ascii"), event.target.decode("latin-1"), headers
            if event is h11.NEED_DATA:
                left = ends - loop.time()
                if left <= 0:
                    raise _Refuse(408, "the request was not sent in time")
                conn.receive_data(await self._read(reader, left))
                continue
            raise _Refuse(400, "bad request")

    async def _body(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        method: str,
        headers: dict[str, str],
    ) -> bytes:
        declared = headers.get("content-length")
        if declared is None:
            if method == "POST" or "transfer-encoding" in headers:
                raise _Refuse(411, "say the body's length in Content-Length")
            return b""
        if int(declared) > self.limits.max_body:  # h11 has checked it is a number >= 0
            raise _Refuse(413, f"a body may have at most {self.limits.max_body} bytes")
        loop = asyncio.get_running_loop()
        ends = loop.time() + self.limits.body_timeout
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise _Refuse(400, f"bad request: {exc}") from None
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > self.limits.max_body:
                    raise _Refuse(413, f"a body may have at most {self.limits.max_body} bytes")
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            elif event is h11.NEED_DATA:
                left = ends - loop.time()
                if left <= 0:
                    raise _Refuse(408, "the body was not sent in time")
                data = await self._read(reader, left)
                if not data:
                    raise _Refuse(400, "the body ended before its length")
                conn.receive_data(data)

    async def _answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Mapping[str, Any]]:
        if self.busy >= self.limits.workers:
            raise _Refuse(503, "busy; try again in a moment", {"Retry-After": "1"})
        self.busy += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.pool, self.handle, method, path, headers, body)
        except Exception:
            log.exception("the request for %s %s failed", method, path)
            return 500, {"error": "internal error; see watcher's log"}
        finally:
            self.busy -= 1

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        answer: Mapping[str, Any],
        extra: Mapping[str, str] | None = None,
    ) -> None:
        """The response, written whole (also before a request was complete: a 408 or a 503
        must be answered too, which h11 would not send before a request)."""
        data = json.dumps(answer).encode()
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            "Content-Type: application/json",
            f"Content-Length: {len(data)}",
            "Connection: close",
            f"Server: watcher/{__version__}",
            *(f"{name}: {value}" for name, value in (extra or {}).items()),
        ]
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
            await asyncio.wait_for(writer.drain(), 5.0)
        except (ConnectionError, TimeoutError):
            pass

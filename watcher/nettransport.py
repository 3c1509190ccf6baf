"""The guards of `watcher.netguard` where httpx meets the socket: a network backend for
httpcore that vets every address before connecting and clips every connect and read to the
request's deadline, and the transport that puts it under httpx. Imported with httpx, only
when there is something to fetch."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from watcher.netguard import AddressRefused, Reach, clip, is_internal, never_reached
from watcher.netguard import reach as current_reach


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's own synchronous backend, with every connect vetted and clipped to the
    thread's deadline, and every stream it opens clipped too."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        reach = current_reach()
        addresses = _vetted(host, port, reach)
        error: Exception | None = None
        for address in addresses:  # connect to the address vetted, never resolve again
            try:
                stream = self._inner.connect_tcp(
                    address, port, clip(timeout), local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return _GuardedStream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise AddressRefused("watcher does not connect to Unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _addresses(host: str, port: int) -> list[str]:
    """The addresses a host name stands for (an address stands for itself)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    return [str(info[4][0]) for info in infos]


def _vetted(host: str, port: int, reach: Reach) -> list[str]:
    allowed: list[str] = []
    refused = ""
    for text in _addresses(host, port):
        address = ipaddress.ip_address(text.split("%")[0])
        why = never_reached(address)
        if why is None and is_internal(address) and not reach.internal:
            why = "an internal address, and a redirect from a public host may not lead there"
        if why is None:
            allowed.append(text)
        else:
            refused = f"{host} is {address}: {why}"
    if not allowed:
        raise AddressRefused(f"refused to connect: {refused}")
    return list(dict.fromkeys(allowed))


class _GuardedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, clip(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, clip(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _GuardedStream(self._inner.start_tls(ssl_context, server_hostname, clip(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, with its connection pool on the guarded backend (the one part
    httpx does not let a caller pass in; `tests/test_netguard.py` holds this to it)."""

    def __init__(self, *, ssl_context: Any, limits: httpx.Limits):
        super().__init__(verify=ssl_context if ssl_context is not None else False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(),
        )

"""The guards of `watcher.netguard` where watcher meets the socket: every address vetted
after DNS and before connecting, every connect, TLS handshake, read and write clipped to the
request's deadline. `watcher.wire` speaks HTTP over the sockets opened here, and opens no
others. Imported only when there is something to fetch."""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING

from watcher.netguard import AddressRefused, Reach, clip, is_internal, never_reached
from watcher.netguard import reach as current_reach
from watcher.wire import ConnectError, Timeout

if TYPE_CHECKING:
    import ssl  # only https loads it (`Fetcher`)


def open_connection(
    host: str, port: int, timeout: float, *, tls: ssl.SSLContext | None
) -> socket.socket:
    """A socket connected to `host` (TLS-wrapped, certificate checked, when `tls` is given):
    to an address this thread's request may reach, resolved once and never again."""
    addresses = _vetted(host, port, current_reach())
    error: Exception | None = None
    for address in addresses:
        try:
            # as bytes: a str makes the socket module load the IDNA codec for an address
            target = (address.encode("ascii"), port)
            sock = socket.create_connection(target, timeout=clipped(timeout))  # type: ignore[arg-type]
        except TimeoutError:
            error = Timeout(f"connecting to {host} ({address}) timed out")
            continue
        except OSError as exc:
            error = ConnectError(f"connecting to {host} ({address}): {exc.strerror or exc}")
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is None:
            return sock
        return _handshake(sock, host, timeout, tls)
    assert error is not None
    raise error


def clipped(timeout: float) -> float:
    """A socket timeout no longer than what is left of this thread's request deadline."""
    left = clip(timeout)
    return timeout if left is None else left


def _handshake(
    sock: socket.socket, host: str, timeout: float, tls: ssl.SSLContext
) -> socket.socket:
    sock.settimeout(clipped(timeout))
    try:
        return tls.wrap_socket(sock, server_hostname=host)
    except TimeoutError:
        sock.close()
        raise Timeout(f"the TLS handshake with {host} timed out") from None
    except OSError as exc:  # ssl.SSLError among them: a certificate that does not verify
        sock.close()
        raise ConnectError(f"TLS with {host}: {exc}") from None


def _addresses(host: str, port: int) -> list[str]:
    """The addresses a host name stands for (an address stands for itself)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    name = host.encode("ascii") if host.isascii() else host.encode("idna")
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
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

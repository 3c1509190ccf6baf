"""Where a request may connect, and by when it must be done: enforced at the socket, where
neither a DNS answer nor a redirect can hide anything.

A socket's timeout applies to each read, so a server that sends one byte every few seconds could
hold a request for ever; and a URL taken from content (a feed entry's link, a document's
full-text address) or a redirect could lead into the operator's own network, to a cloud
metadata service for one. So every request watcher makes runs inside `guarded(...)`, which
tells the connections of its thread the moment the request must be done by and which
addresses it may reach; the network backend here enforces both on every connect and read.

Which URLs may be fetched at all is `Origin`'s business: a source's configured URL is the
operator's choice; a URL from its content, or a redirect to another host, may go only to the
source's own host, to hosts it lists in `fetch_hosts`, or (redirects) to public addresses.
Link-local and metadata addresses are never reached, whatever the configuration says.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

# Never reached: cloud metadata services live here (169.254.169.254, fd00:ec2::254).
_METADATA = (ipaddress.ip_network("fd00:ec2::254/128"),)


class AddressRefused(Exception):
    """A request was about to reach an address it may not."""


class DeadlinePassed(Exception):
    """A request ran out of time (connect, reads and retries together)."""


def never_reached(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is never connected to, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if any(address in network for network in _METADATA):
        return "a cloud metadata address"
    if address.is_unspecified or address.is_multicast:
        return "not an address a web server has"
    return None


def is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, shared or otherwise not a public Internet address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not address.is_global


@dataclass(frozen=True)
class Reach:
    """Which addresses one request may connect to."""

    internal: bool  # loopback and private addresses too (a host the operator chose)
    url: str = ""  # for the message when an address is refused


@dataclass
class _Guard:
    deadline: float | None = None  # time.monotonic() by which the request must be done
    reach: Reach = Reach(internal=True)


_local = threading.local()


def _guard() -> _Guard:
    guard: _Guard | None = getattr(_local, "guard", None)
    return guard if guard is not None else _Guard()


@contextmanager
def guarded(deadline: float | None, reach: Reach) -> Iterator[None]:
    """Within this block, this thread's connections end by `deadline` and reach only what
    `reach` allows."""
    previous = getattr(_local, "guard", None)
    _local.guard = _Guard(deadline, reach)
    try:
        yield
    finally:
        _local.guard = previous


def remaining() -> float | None:
    """Seconds left before this thread's request deadline (None: no deadline)."""
    guard = _guard()
    return None if guard.deadline is None else guard.deadline - time.monotonic()


def clip(timeout: float | None) -> float | None:
    """A socket timeout, no longer than what is left of the request's deadline."""
    return _clip(timeout)


def reach() -> Reach:
    """What this thread's request may connect to."""
    return _guard().reach


def _clip(timeout: float | None) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise DeadlinePassed("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


# ---------------------------------------------------------------------------------------------
# Which URLs a check may follow


def host_key(url: str) -> tuple[str, int | None]:
    """(host, port), the port None when it is the scheme's default: http and https of one
    host are the same host."""
    parts = urlsplit(url)
    port = parts.port
    if (parts.scheme, port) in (("http", 80), ("https", 443)):
        port = None
    return (parts.hostname or "").casefold(), port


def _listed(entries: Iterable[str]) -> frozenset[tuple[str, int | None]]:
    out = set()
    for entry in entries:
        host, _, port = entry.strip().casefold().partition(":")
        out.add((host, int(port) if port.isdigit() else None))
    return frozenset(out)


@dataclass(frozen=True)
class Origin:
    """Where the URLs of one source's check may lead."""

    url: str  # the source's configured URL: its host is the source's own
    fetch_hosts: frozenset[str] = frozenset()  # more hosts its content may send us to

    def _trusted(self, url: str) -> bool:
        key = host_key(url)
        listed = _listed(self.fetch_hosts)
        return key == host_key(self.url) or key in listed or (key[0], None) in listed

    def content_reach(self, url: str) -> Reach:
        """How a URL taken from the source's content may be fetched; AddressRefused when it
        may not be fetched at all."""
        if not self._trusted(url):
            host = urlsplit(url).netloc
            raise AddressRefused(
                f"{host} is not this source's own host; a URL found in its content is fetched "
                "only from there or from hosts listed in the source's `fetch_hosts`"
            )
        return Reach(internal=True, url=url)

    def redirect_reach(self, url: str) -> Reach:
        """Where a redirect may go: the source's own or listed hosts, else public addresses
        only."""
        return Reach(internal=self._trusted(url), url=url)

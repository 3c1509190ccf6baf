"""`watcher serve`'s HTTP server under hostile clients: lengths that lie, bodies too big,
idle and half-open connections, a crowd of requests. Every request gets an answer."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from watcher import stopping
from watcher.httpserver import ServerLimits, serve

LIMITS = ServerLimits(max_body=1024, header_timeout=0.2, body_timeout=0.2, workers=2)


def handle(method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Any]:
    if path.startswith("/slow"):
        time.sleep(0.05)
    return 200, {"method": method, "path": path, "length": len(body)}


@pytest.fixture
def base() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stopping.reset()
    thread = threading.Thread(target=serve, args=(handle, "127.0.0.1", port, LIMITS), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(url + "/ready", timeout=1)
            break
        except httpx.HTTPError:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    yield url
    stopping.request("test over")
    thread.join(5)
    stopping.reset()


def raw(base: str, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send bytes as they are and read the whole answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize("length", [b"-1", b"abc", b"1e9"])
def test_a_length_that_is_not_a_length_is_a_400(base, length):
    answer = raw(base, b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + b"\r\n\r\n")
    assert status_of(answer) == 400


def test_a_body_over_the_cap_is_refused_without_being_read(base):
    head = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 400000000\r\n\r\n"
    assert status_of(raw(base, head)) == 413


def test_a_body_longer_than_its_length_is_cut_at_its_length(base):
    answer = raw(base, b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n" + b"x" * 5000)
    assert status_of(answer) == 200
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["length"] == 3


def test_a_post_must_say_its_length(base):
    chunked = (
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    assert status_of(raw(base, chunked)) == 411


def test_a_request_sent_too_slowly_is_answered_408(base):
    answer = raw(base, b"POST /x HTTP/1.1\r\nHost: a\r\n", wait=5)  # and then nothing
    assert status_of(answer) == 408


def test_garbage_is_a_400(base):
    assert status_of(raw(base, b"\x16\x03\x01 not http at all\r\n\r\n")) == 400


def test_idle_and_half_open_connections_hold_nothing_up(base):
    host, port = base.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port))) for _ in range(300)]
    try:
        started = time.monotonic()
        answer = httpx.get(base + "/healthz", timeout=5)
        assert answer.status_code == 200
        assert time.monotonic() - started < 2, "answered beside 300 idle connections"
    finally:
        for sock in idle:
            sock.close()


def test_a_crowd_of_requests_is_answered_every_one(base):
    def one(n: int) -> int:
        return status_of(raw(base, f"GET /slow?n={n} HTTP/1.1\r\nHost: a\r\n\r\n".encode()))

    with ThreadPoolExecutor(max_workers=100) as pool:
        statuses = list(pool.map(one, range(200)))
    assert len(statuses) == 200, "no request went unanswered or was reset"
    assert set(statuses) <= {200, 503}
    assert statuses.count(200) >= 2, "the workers kept working"
    busy = httpx.get(base + "/healthz")  # and the server is fine afterwards
    assert busy.status_code == 200

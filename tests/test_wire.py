"""HTTP/1.1 on the wire (`watcher.wire`) against servers that behave as real ones do, and as
real ones misbehave: keep-alive reused, a keep-alive the server dropped replaced, chunked and
compressed bodies, bodies to the end of the stream, answers cut short, TLS verified."""

from __future__ import annotations

import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from watcher.errors import FetchError
from watcher.http import Expect, Fetcher
from watcher.settings import HttpSettings

SETTINGS = HttpSettings(per_host_interval=0, attempts=2, retry_wait=0, timeout=5, deadline=10)


class Scripted:
    """A TCP server whose every connection is handled by `script(conn, n)` (n counts the
    connections from 0): the test writes the bytes a server sends."""

    def __init__(self, script: Callable[[socket.socket, int], None]):
        self.script = script
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            n, self.connections = self.connections, self.connections + 1
            threading.Thread(target=self._handle, args=(conn, n), daemon=True).start()

    def _handle(self, conn: socket.socket, n: int) -> None:
        try:
            self.script(conn, n)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    return data


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[socket.socket, int], None]], Scripted]]:
    servers: list[Scripted] = []

    def make(script: Callable[[socket.socket, int], None]) -> Scripted:
        servers.append(Scripted(script))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def get(url: str, expect: Expect = Expect.JSON, settings: HttpSettings = SETTINGS) -> bytes:
    with Fetcher(settings) as fetcher:
        return fetcher.get(url, expect=expect).content


# --- keep-alive --------------------------------------------------------------------------------


class KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        KeepAlive.seen.append((self.path, self.headers.get("Host", "")))
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_requests_to_one_host_share_a_kept_alive_connection():
    connections = []

    class Counting(ThreadingHTTPServer):
        def process_request(self, request, client_address):  # type: ignore[no-untyped-def]
            connections.append(client_address)
            super().process_request(request, client_address)

    server = Counting(("127.0.0.1", 0), KeepAlive)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    KeepAlive.seen.clear()
    try:
        with Fetcher(SETTINGS) as fetcher:
            for n in range(5):
                url = f"http://127.0.0.1:{port}/doc/{n}?q=ü x"
                assert fetcher.get(url, expect=Expect.JSON).content == b'{"ok": true}'
    finally:
        server.shutdown()
        server.server_close()
    assert len(connections) == 1
    assert KeepAlive.seen[0] == ("/doc/0?q=%C3%BC%20x", f"127.0.0.1:{port}")


def test_a_kept_alive_connection_the_server_dropped_is_replaced_without_an_error(scripted):
    # The server answers one request per connection and then closes it, without saying so
    # (as a server does when its keep-alive timeout passes between two requests).
    def once(conn: socket.socket, n: int) -> None:
        read_request(conn)
        body = f'{{"connection": {n}}}'.encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        conn.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    server = scripted(once)
    settings = HttpSettings(per_host_interval=0, attempts=1, timeout=5)
    with Fetcher(settings) as fetcher:
        first = fetcher.get(server.url + "/a", expect=Expect.JSON).content
        second = fetcher.get(server.url + "/b", expect=Expect.JSON).content
    assert (first, second) == (b'{"connection": 0}', b'{"connection": 1}')


# --- bodies ------------------------------------------------------------------------------------


def test_a_chunked_body_is_read_whole(scripted):
    def chunked(conn: socket.socket, n: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        conn.sendall(b"Transfer-Encoding: chunked\r\n\r\n")
        for part in (b'{"count": ', b"3", b"}"):
            conn.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        conn.sendall(b"0\r\n\r\n")

    assert get(scripted(chunked).url + "/x") == b'{"count": 3}'


def test_a_body_that_ends_with_the_connection_is_read_whole(scripted):
    def http10(conn: socket.socket, n: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n")
        conn.sendall(b'{"count": ')
        conn.sendall(b"4}")

    assert get(scripted(http10).url + "/x") == b'{"count": 4}'


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # as the standard says: zlib-wrapped
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # as some servers send it: raw
    ],
    ids=["gzip", "deflate", "raw-deflate"],
)
def test_compressed_bodies_are_decoded(scripted, coding, encode):
    body = b'{"results": [' + b",".join(b'"%d"' % n for n in range(5000)) + b"]}"

    def compressed(conn: socket.socket, n: int) -> None:
        request = read_request(conn)
        assert b"Accept-Encoding: gzip, deflate" in request
        data = encode(body)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        conn.sendall(b"Content-Encoding: %s\r\n" % coding.encode())
        conn.sendall(b"Content-Length: %d\r\n\r\n" % len(data) + data)

    assert get(scripted(compressed).url + "/x") == body


def test_an_answer_cut_short_is_an_error_after_its_retries(scripted):
    def cut(conn: socket.socket, n: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        conn.sendall(b'Content-Length: 1000\r\n\r\n{"count": ')

    server = scripted(cut)
    with pytest.raises(FetchError, match=r"ProtocolError: .*closed connection without sending"):
        get(server.url + "/x")
    assert server.connections == 2  # retried once (attempts: 2), on a new connection


def test_a_server_that_does_not_speak_http_is_an_error(scripted):
    def garbage(conn: socket.socket, n: int) -> None:
        read_request(conn)
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    with pytest.raises(FetchError, match="the server broke HTTP"):
        get(scripted(garbage).url + "/x")


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server for `localhost` with a self-signed certificate (made by openssl)."""
    if shutil.which("openssl") is None:  # pragma: no cover - Debian has it
        pytest.skip("no openssl to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive)
    server.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://localhost:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_https_verifies_the_certificate(tls_server):
    url, _ = tls_server
    with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
        get(url + "/x", settings=HttpSettings(attempts=1, timeout=5))


def test_https_with_a_trusted_certificate_is_read(tls_server):
    url, cert = tls_server
    with Fetcher(HttpSettings(attempts=1, timeout=5)) as fetcher:
        fetcher._tls = ssl.create_default_context(cafile=str(cert))  # trust this one only
        assert fetcher.get(url + "/x", expect=Expect.JSON).content == b'{"ok": true}'
        # and the name checked is the one asked for
        numeric = url.replace("localhost", "127.0.0.1")
        with pytest.raises(FetchError, match=r"CERTIFICATE_VERIFY_FAILED|match"):
            fetcher.get(numeric + "/x", expect=Expect.JSON)


@pytest.mark.parametrize("size", [0, 1000, 16 * 65_536, 16 * 65_536 + 1])
def test_inflating_gives_every_byte_whatever_the_pieces(size):
    """Inflated in bounded pieces (a bomb is stopped by its reader), nothing is left in the
    inflater at the end: bodies that fill the last piece exactly, fed whole or 7 bytes at
    a time."""
    from watcher.wire import _inflated

    body = bytes(range(256)) * (size // 256) + b"\0" * (size % 256)
    for data, wbits in ((gzip.compress(body), zlib.MAX_WBITS | 16), (zlib.compress(body), 15)):
        for step in (max(1, len(data)), 7):
            pieces = [data[i : i + step] for i in range(0, len(data), step)]
            out = list(_inflated(iter(pieces), wbits))
            assert b"".join(out) == body
            assert all(len(piece) <= 65_536 for piece in out)

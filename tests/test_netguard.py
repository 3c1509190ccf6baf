"""Nothing hangs, nothing reaches inside: a dripping server loses to the request's deadline,
SIGTERM ends a run in seconds, and URLs from content or redirects never reach an internal
listener or a metadata address."""

from __future__ import annotations

import ipaddress
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import (
    HTTP_FOR_TESTS,
    SLACK_FOR_TESTS,
    Workspace,
    fr_config,
    fr_document,
    notice,
)
from tests.fakes import FakeFederalRegister, FakeSlack
from watcher.errors import FetchError
from watcher.http import Expect, Fetcher
from watcher.netguard import is_internal, never_reached
from watcher.nettransport import open_connection
from watcher.settings import HttpSettings

# --- a server that drips -------------------------------------------------------------------


class Drip:
    """A TCP server that answers HTTP one byte every `every` seconds, for ever."""

    def __init__(self, every: float = 0.05, headers_first: bool = False):
        self.every = every
        self.headers_first = headers_first
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.connections = 0
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 999999\r\n\r\n"
        )
        try:
            conn.recv(65536)
            if self.headers_first:
                conn.sendall(head)
                head = b'{"count": 0, "x": "' + b"x" * 999_000
            for byte in head:
                if self.stop.wait(self.every):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def drip() -> Iterator[Drip]:
    server = Drip()
    yield server
    server.close()


@pytest.mark.parametrize("headers_first", [False, True], ids=["headers", "body"])
def test_a_dripping_server_loses_to_the_request_deadline(headers_first):
    server = Drip(headers_first=headers_first)
    try:
        settings = HttpSettings(deadline=0.25, timeout=5, attempts=3, retry_wait=0)
        started = time.monotonic()
        with Fetcher(settings) as fetcher, pytest.raises(FetchError) as caught:
            fetcher.get(server.url + "/x", expect=Expect.JSON)
        assert "no complete answer within 0.25s (http.deadline)" in str(caught.value)
        assert time.monotonic() - started < 5, "the deadline, not the per-read timeout"
    finally:
        server.close()


def test_a_dripping_source_costs_its_own_check_and_the_good_alert_goes_out(
    workspace: Workspace, drip: Drip, server, slack: FakeSlack
):
    feed = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{}</channel></rss>'
    items = ["<item><title>Old</title><guid>1</guid></item>"]
    server.expect_request("/feed").respond_with_handler(
        lambda r: Response(feed.format("".join(items)), content_type="application/rss+xml")
    )
    good = f"  - name: good\n    kind: feed\n    url: {server.url_for('/feed')}\n"
    workspace.write_config(
        fr_config(drip.url + "/api/v1", extra_sources=good).replace(
            "  timeout: 5\n", "  timeout: 5\n  deadline: 0.25\n"
        )
    )
    workspace.use_slack(slack)
    first = workspace.cli("run")
    assert "good: ok" in first.stderr
    items.insert(0, "<item><title>Tariff on copper cathodes</title><guid>2</guid></item>")
    result = workspace.cli("run")
    assert result.exit_code == 1
    assert "good: ok" in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("fr-trade: FAILED")]
    assert "no complete answer within 0.25s (http.deadline)" in line
    assert any("copper cathodes" in json.dumps(m) for m in slack.messages)


def test_sigterm_ends_a_run_waiting_on_a_dripping_server_within_seconds(
    workspace: Workspace, drip: Drip
):
    workspace.write_config(
        fr_config(drip.url + "/api/v1").replace(
            "  timeout: 5\n", "  timeout: 60\n  deadline: 600\n"
        )
    )
    process = workspace.spawn("run")
    deadline = time.monotonic() + 20
    while drip.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert drip.connections, "the run reached the dripping server"
    process.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    _, err = process.communicate(timeout=20)
    assert time.monotonic() - stopped < 6, "a stop request ends the run within seconds"
    assert process.returncode == 1
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    again = workspace.cli("status", "--json")
    assert "another run" not in again.stderr


# --- nothing reaches inside ------------------------------------------------------------------


@pytest.fixture(scope="module")
def _internal_server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.2", port=0)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def internal(_internal_server: HTTPServer) -> HTTPServer:
    """A listener on another loopback address: watcher must never talk to it from content."""
    _internal_server.clear()
    _internal_server.expect_request("/secret").respond_with_data(
        "Proclamation 99999: 50 percent ad valorem", content_type="text/plain"
    )
    return _internal_server


def wh_feed(link: str) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>WH</title>'
        "<item><title>Adjusting Imports of Copper Into the United States</title>"
        f"<link>{link}</link><guid>copper</guid>"
        "<category>Proclamations</category></item></channel></rss>"
    )


def feed_source(url: str, extra: str = "") -> str:
    return (
        SLACK_FOR_TESTS
        + HTTP_FOR_TESTS
        + f"sources:\n  - name: wh\n    kind: feed\n    url: {url}\n    full_text: true\n{extra}"
    )


def test_a_feed_link_to_an_internal_host_is_never_fetched(
    workspace: Workspace, server, internal: HTTPServer
):
    entries: list[str] = []
    server.expect_request("/feed").respond_with_handler(
        lambda r: Response(
            wh_feed(entries[0]) if entries else wh_feed("https://x.gov/"),
            content_type="application/rss+xml",
        )
    )
    workspace.write_config(feed_source(server.url_for("/feed")).replace("copper", "x"))
    assert workspace.cli("run").exit_code == 0  # baseline of an empty-ish feed
    server.clear()
    server.expect_request("/feed").respond_with_data(
        wh_feed(internal.url_for("/secret")).replace("<guid>copper", "<guid>new"),
        content_type="application/rss+xml",
    )
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    assert "Adjusting Imports of Copper" in result.stdout, "the alert goes out without facts"
    assert "99999" not in result.stdout and "50 percent" not in result.stdout
    assert internal.log == [], "the internal listener never saw a request"

    # listed by the operator in fetch_hosts, the same host may be read
    workspace.write_config(
        feed_source(server.url_for("/feed"), f"    fetch_hosts: ['127.0.0.2:{internal.port}']\n")
    )
    server.clear()
    server.expect_request("/feed").respond_with_data(
        wh_feed(internal.url_for("/secret")).replace("<guid>copper", "<guid>newer"),
        content_type="application/rss+xml",
    )
    listed = workspace.cli("run")
    assert "Proclamations cited: 99999" in listed.stdout
    assert len(internal.log) == 1


def test_a_federal_register_text_url_to_an_internal_host_is_never_fetched(
    workspace: Workspace, fr: FakeFederalRegister, internal: HTTPServer
):
    fr.add(notice("2025-00001", "Fisheries", "2025-07-01"))
    workspace.write_config(fr_config(fr.url))
    assert workspace.cli("run").exit_code == 0
    fr.add(fr_document("2025-00002", "Adjusting Imports of Tin", "2025-07-02"))
    fr.documents[-1]["raw_text_url"] = internal.url_for("/secret")
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    assert "Adjusting Imports of Tin" in result.stdout
    assert "99999" not in result.stdout
    assert internal.log == []


@pytest.mark.parametrize(
    "target, reason",
    [
        ("internal", "an internal address, and a redirect from a public host may not lead there"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "a cloud metadata address"),
    ],
)
def test_a_redirect_into_the_network_is_refused(
    workspace: Workspace, server, internal: HTTPServer, target, reason
):
    location = internal.url_for("/secret") if target == "internal" else target
    server.expect_request("/feed").respond_with_data("", status=302, headers={"Location": location})
    workspace.write_config(feed_source(server.url_for("/feed")))
    result = workspace.cli("run")
    assert result.exit_code == 1
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("wh: FAILED")]
    assert "refused to connect" in line and reason in line
    assert internal.log == []


def test_a_redirect_to_the_same_host_is_followed(workspace: Workspace, server):
    server.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/feed"})
    server.expect_request("/feed").respond_with_data(
        wh_feed("https://x.gov/a"), content_type="application/rss+xml"
    )
    workspace.write_config(feed_source(server.url_for("/old")))
    assert workspace.cli("run").exit_code == 0


def test_addresses_never_reached_and_internal_ones():
    never = ["169.254.169.254", "fe80::1", "fd00:ec2::254", "::ffff:169.254.169.254", "0.0.0.0"]
    assert all(never_reached(ipaddress.ip_address(a)) for a in never)
    fine = ["127.0.0.1", "10.0.0.1", "192.168.1.1", "8.8.8.8", "2001:4860:4860::8888"]
    assert not any(never_reached(ipaddress.ip_address(a)) for a in fine)
    assert all(is_internal(ipaddress.ip_address(a)) for a in ["127.0.0.2", "10.1.2.3", "::1"])
    assert not is_internal(ipaddress.ip_address("8.8.8.8"))


def test_every_pool_connects_through_the_guarded_connect():
    with Fetcher(HttpSettings()) as fetcher:
        for origin in ("http://127.0.0.1:1", "https://www.federalregister.gov"):
            connect = fetcher._client(origin)._connect
            assert connect.func is open_connection  # type: ignore[attr-defined]


def test_a_metadata_address_is_refused_before_any_connection():
    settings = HttpSettings(attempts=1, deadline=2)
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match="refused to connect"):
        fetcher.get("http://169.254.169.254/latest/meta-data/", expect=Expect.JSON)


def test_an_internal_listener_can_still_be_a_configured_source(
    workspace: Workspace, internal: HTTPServer
):
    """The configured URL stays the operator's choice: tests and staging use loopback."""
    internal.expect_request("/feed").respond_with_data(
        wh_feed("https://x.gov/a"), content_type="application/rss+xml"
    )
    workspace.write_config(feed_source(internal.url_for("/feed")))
    assert workspace.cli("run").exit_code == 0


def _unused(request: Request) -> Response:  # pragma: no cover - a handler that must not run
    raise AssertionError("reached")

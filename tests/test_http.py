"""The HTTP layer against loopback servers: retries, limits, content checks, politeness."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from watcher import HOMEPAGE
from watcher.errors import FetchError
from watcher.http import Expect, Fetcher, Validators, parse_retry_after
from watcher.responses import Retryable, retry_hook
from watcher.settings import HttpSettings
from watcher.wire import ConnectError, ProtocolError, Timeout, UnsupportedProtocol

SETTINGS = HttpSettings(per_host_interval=0, attempts=3, timeout=5, max_bytes=10_000)


def test_user_agent_names_the_project_and_its_home_page(server):
    server.expect_request("/x").respond_with_json({})
    with Fetcher(SETTINGS) as fetcher:
        fetcher.get(server.url_for("/x"), expect=Expect.JSON)
    request, _ = server.log[0]
    assert request.headers["User-Agent"].startswith("watcher/")
    assert HOMEPAGE in request.headers["User-Agent"]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retried_then_succeed(server, status):
    server.expect_ordered_request("/x").respond_with_data("busy", status=status)
    server.expect_ordered_request("/x").respond_with_json({"ok": True})
    with Fetcher(SETTINGS) as fetcher:
        check = fetcher.for_check()
        fetched = check.get(server.url_for("/x"), expect=Expect.JSON)
    assert json.loads(fetched.content) == {"ok": True}
    assert check.requests == 2


def test_giving_up_says_why_in_one_line(server):
    server.expect_request("/x").respond_with_data("busy", status=503)
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(server.url_for("/x"), expect=Expect.JSON)
    assert str(caught.value) == f"GET {server.url_for('/x')}: HTTP 503 SERVICE UNAVAILABLE"
    assert len(server.log) == 3


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_client_errors_are_not_retried(server, status):
    server.expect_request("/x").respond_with_data("no", status=status)
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError, match=f"HTTP {status}"):
        fetcher.get(server.url_for("/x"), expect=Expect.JSON)
    assert len(server.log) == 1


def test_retry_after_sets_the_wait_and_an_absurd_one_gives_up():
    assert retry_hook(Retryable("429", 7.0)) == 7.0
    assert retry_hook(Retryable("503", None)) is True
    assert retry_hook(Retryable("429", 3600.0)) is False
    assert retry_hook(ConnectError("refused")) is True
    assert retry_hook(Timeout("slow")) is True
    assert retry_hook(ProtocolError("closed mid-answer")) is True
    assert retry_hook(ValueError("bug")) is False
    assert retry_hook(UnsupportedProtocol("gopher")) is False


def test_retry_after_parsing():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:45 GMT", now) == 45.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_throttled_html_page_with_status_200_is_an_error(server):
    server.expect_request("/x").respond_with_data(
        "<!DOCTYPE html><html><body>Request Access</body></html>", content_type="text/html"
    )
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError, match="HTML page where JSON"):
        fetcher.get(server.url_for("/x"), expect=Expect.JSON)


def test_html_mislabelled_as_json_is_caught_too(server):
    server.expect_request("/x").respond_with_data(
        "<html><body>Request Access</body></html>", content_type="text/plain"
    )
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError, match="HTML page"):
        fetcher.get(server.url_for("/x"), expect=Expect.JSON)


def test_a_feed_that_is_really_a_web_page_is_an_error(server):
    server.expect_request("/feed").respond_with_data(
        "<!doctype html><html><head></head></html>", content_type="text/html"
    )
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError, match="where a feed"):
        fetcher.get(server.url_for("/feed"), expect=Expect.FEED)


def test_an_empty_body_is_an_error(server):
    server.expect_request("/x").respond_with_data("", content_type="application/json")
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError, match="empty body"):
        fetcher.get(server.url_for("/x"), expect=Expect.JSON)


def test_declared_oversized_bodies_are_refused_before_reading(server):
    server.expect_request("/big").respond_with_data("x" * 20_000, content_type="application/json")
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError, match="over the 10,000-byte"):
        fetcher.get(server.url_for("/big"), expect=Expect.JSON)


def test_streamed_oversized_bodies_are_cut_off(server):
    def chunks():
        for _ in range(100):
            yield b"x" * 1000

    server.expect_request("/big").respond_with_response(
        Response(chunks(), content_type="application/json", direct_passthrough=True)
    )
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError, match="over the 10,000-byte"):
        fetcher.get(server.url_for("/big"), expect=Expect.JSON)


def test_a_gzip_bomb_is_measured_after_inflating(server):
    bomb = gzip.compress(b"[" + b"0," * 50_000 + b"0]")
    assert len(bomb) < 10_000
    server.expect_request("/bomb").respond_with_data(
        bomb, content_type="application/json", headers={"Content-Encoding": "gzip"}
    )
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError, match="over the"):
        fetcher.get(server.url_for("/bomb"), expect=Expect.JSON)


def test_redirects_are_followed_but_a_loop_is_an_error(server):
    server.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    server.expect_request("/new").respond_with_json([1])
    server.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with Fetcher(SETTINGS) as fetcher:
        assert json.loads(fetcher.get(server.url_for("/old"), expect=Expect.JSON).content) == [1]
        with pytest.raises(FetchError, match="redirects"):
            fetcher.get(server.url_for("/loop"), expect=Expect.JSON)


def test_conditional_requests_send_validators_and_understand_304(server):
    server.expect_ordered_request("/feed").respond_with_data(
        "<rss/>",
        content_type="application/rss+xml",
        headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jun 2026 00:00:00 GMT"},
    )
    server.expect_ordered_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    with Fetcher(SETTINGS) as fetcher:
        first = fetcher.get(server.url_for("/feed"), expect=Expect.FEED)
        assert first.validators == Validators('"v1"', "Mon, 01 Jun 2026 00:00:00 GMT")
        second = fetcher.get(
            server.url_for("/feed"), expect=Expect.FEED, validators=first.validators
        )
    assert second.not_modified


def test_a_refused_connection_is_retried_then_reported(unused_port):
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError, match="ConnectError"):
        check = fetcher.for_check()
        check.get(f"http://127.0.0.1:{unused_port}/x", expect=Expect.JSON)
    assert check.requests == 0


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_https_hosts_verify_certificates_and_http_hosts_load_no_ca_bundle():
    fetcher = Fetcher(SETTINGS)
    plain = fetcher._client("http://127.0.0.1:1")
    assert fetcher._tls is None, "plain http loaded the CA bundle"
    secure = fetcher._client("https://www.federalregister.gov")
    assert fetcher._tls is not None
    assert fetcher._tls.verify_mode.name == "CERT_REQUIRED"
    assert fetcher._tls.check_hostname
    assert secure._connect.keywords["tls"] is fetcher._tls  # type: ignore[attr-defined]
    assert plain._connect.keywords["tls"] is None  # type: ignore[attr-defined]
    fetcher.close()


def test_a_kind_can_ask_for_a_gap_between_requests_to_its_host(server):
    server.expect_request("/x").respond_with_json({})
    started = []
    with Fetcher(SETTINGS) as fetcher:
        for _ in range(4):
            started.append(time.monotonic())
            fetcher.get(server.url_for("/x"), expect=Expect.JSON, min_interval=0.05)
    # the 4 requests needed at least three 0.05 s gaps between their starts
    assert time.monotonic() - started[0] >= 0.15

"""Honest lists and bounded input: a list or feed over `max_entries` is an error that says so
(never a silent cut that reads as "removed"), and a page is read keeping only its part.
Memory peaks are measured in bench/parse_memory.py, not here."""

from __future__ import annotations

import json

from werkzeug import Response

from tests.conftest import HTTP_FOR_TESTS, SLACK_FOR_TESTS, Workspace
from watcher.htmlpart import encoding_of, read_part, select, text_of


def entries_page(count: int, first: int = 0) -> bytes:
    rows = "".join(f"<li><a href='/e{n}'>Tariff entry {n}</a></li>" for n in range(first, count))
    return f"<html><body><main><ul>{rows}</ul></main></body></html>".encode()


def page_config(url: str, extra: str = "") -> str:
    return (
        SLACK_FOR_TESTS
        + HTTP_FOR_TESTS
        + f"sources:\n  - name: list\n    kind: page\n    url: {url}\n    selector: main\n"
        + "    item_selector: li\n"
        + extra
    )


def test_a_list_over_max_entries_is_an_error_and_nothing_counts_as_removed(
    workspace: Workspace, server
):
    pages = {"now": entries_page(5000)}
    server.expect_request("/list").respond_with_handler(
        lambda r: Response(pages["now"], content_type="text/html")
    )
    workspace.write_config(page_config(server.url_for("/list")))
    assert workspace.cli("run").exit_code == 0  # 5,000 entries, under the default 10,000

    pages["now"] = entries_page(100_000)
    result = workspace.cli("run")
    assert result.exit_code == 1
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("list: FAILED")]
    # refused while it was read: the part outgrew what 10,000 entries take
    assert "more than" in line and "max_entries (10,000)" in line
    assert "nothing was recorded" in line
    status = json.loads(workspace.cli("status", "--json").stdout)
    assert status["sources"][0]["items"] == 5000

    # one entry more at the top: reported as added, nothing reported as removed
    pages["now"] = entries_page(5000, first=-1)
    added = workspace.cli("run")
    assert added.exit_code == 0, added.stderr
    assert "+ Tariff entry -1" in added.stdout
    assert "removed" not in added.stdout.replace("removed: none", "")


def test_a_source_may_set_its_own_max_entries(workspace: Workspace, server):
    server.expect_request("/list").respond_with_data(entries_page(30), content_type="text/html")
    workspace.write_config(page_config(server.url_for("/list"), "    max_entries: 25\n"))
    result = workspace.cli("run")
    assert result.exit_code == 1
    assert (
        "item_selector 'li' matched 30 entries, more than max_entries (25); nothing was "
        "recorded, nothing counts as removed" in result.stderr
    )


def test_a_feed_over_max_entries_is_refused_before_it_is_parsed(workspace: Workspace, server):
    items = "".join(f"<item><title>t{n}</title><guid>{n}</guid></item>" for n in range(90_000))
    server.expect_request("/feed").respond_with_data(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    workspace.write_config(
        SLACK_FOR_TESTS
        + HTTP_FOR_TESTS
        + f"sources:\n  - name: feed\n    kind: feed\n    url: {server.url_for('/feed')}\n"
    )
    result = workspace.cli("run")
    assert result.exit_code == 1
    assert "the feed has about 90,000 entries, more than max_entries (10,000)" in result.stderr


def test_the_part_is_read_whatever_surrounds_it():
    filler = "<div class='x'><p>filler <a href='/a'>a</a></p></div>" * 2000
    page = (
        "<html><head><title>The list</title></head><body><nav><ul><li>Home</li></ul></nav>"
        f"<div>{filler}</div><main><h2>Critical minerals</h2><ul><li>Boron</li><li>Copper</li>"
        f"</ul><script>var x = 1;</script></main><footer>{filler}</footer></body></html>"
    ).encode()
    part = read_part(page, ["article", "main"])
    assert part is not None and part.selector == "main" and part.page_title == "The list"
    assert [text_of(li, " ") for li in select(part.element, "li")] == ["Boron", "Copper"]
    assert "var x" not in text_of(part.element, " ")


def test_a_preferred_selector_nested_in_a_later_one_still_wins():
    page = b"<html><body><main><p>intro</p><article><ul><li>A</li></ul></article></main></body>"
    part = read_part(page, ["article", "main"])
    assert part is not None and part.selector == "article"


def test_a_nesting_bomb_neither_hangs_nor_grows():
    bomb = b"<html><body><main>" + b"<div>" * 200_000 + b"x" + b"</div>" * 200_000 + b"</main>"
    part = read_part(bomb, ["main"])
    assert part is not None  # libxml2's depth limit cut the nesting short; nothing hung


def test_encodings_come_from_the_header_the_page_or_the_bytes():
    assert encoding_of(b"<html>", "text/html; charset=ISO-8859-1") == "iso8859-1"
    assert encoding_of(b'<html><head><meta charset="windows-1252">') == "cp1252"
    assert encoding_of("<p>Türkiye</p>".encode()) == "utf-8"
    assert encoding_of("<p>Türkiye</p>".encode("cp1252")) == "cp1252"
    part = read_part("<main>two\u00a0thousand</main>".encode(), ["main"])
    assert part is not None and text_of(part.element, "") == "two\u00a0thousand"


def test_a_page_read_leaves_nothing_for_the_cyclic_collector():
    """lxml's pull parser and its pending events hold each other: unreleased, each page read
    stayed in memory until a collection the run makes rare (found on a first run of 800
    sources: one parser and its whole document per page)."""
    import gc

    from watcher.htmlpart import read_part

    page = (
        b"<html><head><title>t</title></head><body><main><ul>"
        + b"".join(b"<li><a href='/n/%d'>Notice %d</a></li>" % (n, n) for n in range(50))
        + b"</ul></main><footer>f</footer></body></html>"
    )
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            part = read_part(page, ["main"])  # found early: the rest is never parsed
            assert part is not None
            del part
            assert read_part(page, ["section"]) is None  # not found: read to the end
        assert gc.collect() == 0
    finally:
        gc.enable()

"""Each source kind parsed from recorded inputs (real captures where the shared fixtures have
them, hand-made files shaped like the real formats where they do not: see data/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA, HTTP_FOR_TESTS, load_json
from watcher.config import parse_config
from watcher.errors import SourceError
from watcher.models import SourceMemory
from watcher.sources.feed import normalise_entry
from watcher.sources.page import clean_lines, parse_page
from watcher.sources.public_inspection import normalise_filing
from watcher.urls import normalise_link


def source(kind_yaml: str, name: str = "s"):
    text = 'slack: {channel: "#t"}\n' + HTTP_FOR_TESTS + "sources:\n" + kind_yaml
    return parse_config(text, Path("sources.yaml")).source(name)


# --- public inspection -----------------------------------------------------------------------


def test_every_recorded_public_inspection_filing_parses():
    results = load_json("public_inspection_current_2020-08-11.json")["results"]
    items = [normalise_filing(d) for d in results]
    assert len({i.key for i in items}) == 100
    special = [i for i in items if i.record["filing_type"] == "special"]
    assert len(special) == 12
    first = items[0]
    assert first.key == "2020-17086"
    assert first.record["publication_date"] == "2020-08-12"
    assert first.agencies == ("Centers for Medicare & Medicaid Services",)
    presidential = [i for i in items if i.doc_type == "Presidential Document"]
    assert len(presidential) == 3


def test_a_re_uploaded_pdf_is_not_a_change():
    raw = load_json("public_inspection_current_2020-08-11.json")["results"][0]
    base = normalise_filing(raw).fingerprint
    again = dict(raw, pdf_updated_at="2020-08-05T09:00:00.000-04:00", pdf_file_size=1)
    assert normalise_filing(again).fingerprint == base
    assert normalise_filing(dict(raw, publication_date="2020-08-13")).fingerprint != base


# --- feeds -----------------------------------------------------------------------------------


def parse_feed(name: str):
    import feedparser

    parsed = feedparser.parse((DATA / name).read_bytes())
    return [normalise_entry(e, "https://example.gov/", 2000) for e in parsed.entries]


def test_the_real_usgs_feed_with_its_traps():
    (item,) = parse_feed("usgs_news_2026-05_one_item.xml")
    assert item.key == "b1c73d37-5cee-43b5-8019-93ba7c1c5756"  # the guid
    assert item.url == (
        "https://www.usgs.gov/observatories/yvo/news/"
        "can-a-geological-thermometer-help-forecast-hydrothermal-explosions"
    )  # &amp;amp; repaired, utm_* gone
    assert item.published_on == "2026-05-04T04:30:00Z"  # EDT to UTC
    assert item.summary.startswith("Hydrothermal explosions are notoriously hard to predict.")
    assert "<p>" not in item.summary


def test_white_house_feed_entries():
    items = parse_feed("whitehouse_presidential_actions.rss")
    assert [i.key for i in items] == [
        "https://www.whitehouse.gov/?p=71820",
        "https://www.whitehouse.gov/?p=71790",
        "https://www.whitehouse.gov/?p=71781",
    ]
    first = items[0]
    assert first.title.startswith("Adjusting Imports of Processed Critical Minerals")
    assert first.published_on == "2026-01-14T21:13:17Z"
    assert "section 232 of the Trade Expansion Act" in first.summary
    assert first.record["categories"] == ["Proclamations"]


def test_feed_links_lose_their_tracking_parameters():
    import feedparser

    # the real CSMS widget feed, its first link given GovDelivery's tracking parameters
    raw = (DATA / "captures" / "cbp_csms_widget_rss_2026-10_first20.xml").read_bytes()
    first = raw.index(b"</link>", raw.index(b"<item>"))
    tracked = raw[:first] + b"?utm_medium=email&amp;utm_source=govdelivery&amp;page=2" + raw[first:]
    entry = feedparser.parse(tracked).entries[0]
    assert "utm_medium" in entry.link
    item = normalise_entry(entry, "https://content.govdelivery.com/", 2000)
    assert item.url is not None and item.url.endswith("?page=2")
    assert item.published_on == "2026-10-01T17:57:17Z"


def test_atom_feeds_and_entries_without_guid():
    import feedparser

    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id>
<updated>2026-01-01T00:00:00Z</updated>
<entry><title>Tariff news</title><link href="https://x.gov/a?utm_campaign=z&amp;id=3"/>
<updated>2026-01-02T10:00:00+02:00</updated><summary>s</summary></entry>
</feed>"""
    (entry,) = feedparser.parse(atom).entries
    entry.pop("id", None)
    item = normalise_entry(entry, "https://x.gov/", 100)
    assert item.key == "https://x.gov/a?id=3"
    assert item.published_on == "2026-01-02T08:00:00Z"


def test_feed_keys_fall_back_to_a_hash_of_title_and_link():
    a = normalise_entry({"title": "A"}, "https://x.gov/", 10)
    b = normalise_entry({"title": "B"}, "https://x.gov/", 10)
    assert a.key.startswith("sha256:") and a.key != b.key
    assert normalise_entry({"title": "A"}, "https://x.gov/", 10).key == a.key


def test_volatile_feed_fields_do_not_change_the_fingerprint():
    import time

    base = {"title": "T", "link": "https://x.gov/a", "id": "g1"}
    one = normalise_entry({**base, "updated_parsed": time.gmtime(0)}, "https://x.gov/", 10)
    two = normalise_entry({**base, "updated_parsed": time.gmtime(99)}, "https://x.gov/", 10)
    assert one.fingerprint == two.fingerprint


@pytest.mark.parametrize(
    ("link", "normal"),
    [
        (
            "https://x.gov/a?utm_source=rss&amp;amp;utm_medium=rss&amp;amp;id=1",
            "https://x.gov/a?id=1",
        ),
        ("HTTPS://X.GOV/a#section", "https://x.gov/a"),
        ("/relative/path", "https://base.gov/relative/path"),
        ("javascript:alert(1)", None),
        ("https://x.gov/file.pdf?1743770708", "https://x.gov/file.pdf"),
    ],
)
def test_link_normalisation(link, normal):
    assert normalise_link(link, "https://base.gov/") == normal


# --- pages -----------------------------------------------------------------------------------


def minerals_page(minerals: list[str], stamp: str = "November 7, 2025") -> bytes:
    items = "\n".join(f"      <li>{m.capitalize()}</li>" for m in minerals)
    return f"""<!DOCTYPE html><html><head><title>About the 2025 List of Critical Minerals |
U.S. Geological Survey</title><script>var t = {hash(stamp)};</script></head><body>
<header><nav><ul><li><a href="/science">Science</a></li><li><a href="/news">News</a></li></ul>
</nav></header>
<main><article><h1>About the 2025 List of Critical Minerals</h1>
  <p>The final 2025 List of Critical Minerals includes the following:</p>
  <ul>
{items}
  </ul>
  <p>Page Last Modified: {stamp}</p>
</article></main>
<footer><ul><li><a href="/privacy">Privacy</a></li></ul></footer></body></html>""".encode()


PAGE = """\
  - name: s
    kind: page
    url: https://www.usgs.gov/list
    selector: [article, main]
"""


def test_a_list_page_becomes_entries_without_chrome_or_stamps():
    items, listing = parse_page(
        minerals_page(["lithium", "cobalt"]),
        "https://www.usgs.gov/list",
        source(PAGE + "    item_selector: li\n"),
    )
    assert listing
    assert [i.title for i in items] == ["Lithium", "Cobalt"]  # no nav or footer entries


def test_a_text_page_is_one_item_of_lines_without_volatile_ones():
    (item,), listing = parse_page(
        minerals_page(["lithium"]), "https://www.usgs.gov/list", source(PAGE)
    )
    assert not listing
    assert item.record["lines"] == [
        "About the 2025 List of Critical Minerals",
        "The final 2025 List of Critical Minerals includes the following:",
        "Lithium",
    ]
    (again,), _ = parse_page(
        minerals_page(["lithium"], stamp="December 1, 2025"),
        "https://www.usgs.gov/list",
        source(PAGE),
    )
    assert again.fingerprint == item.fingerprint


def test_entries_carry_their_links_resolved_against_the_page():
    page = (DATA / "captures" / "bis_section-232-steel-aluminum_2026-04.html").read_bytes()
    items, _ = parse_page(
        page,
        "https://www.bis.gov/about-bis/bis-leadership-and-offices/SIES/section-232-investigations/"
        "section-232-steel-aluminum",
        source("""\
  - name: s
    kind: page
    url: https://www.bis.gov/x
    selector: "#main-content"
    item_selector: "a[href^='/']"
"""),
    )
    # the page's own relative links, resolved against the page's URL
    assert (
        "Section 232 Investigations",
        "https://www.bis.gov/about-bis/bis-leadership-and-offices/SIES/section-232-investigations",
    ) in [(i.title, i.url) for i in items]
    assert len(items) == 4
    assert all(i.url and i.url.startswith("https://www.bis.gov/") for i in items)


def test_a_selector_that_matches_nothing_is_an_error():
    with pytest.raises(SourceError, match="selector '#list' matched nothing"):
        parse_page(
            b"<html><body><p>moved</p></body></html>",
            "https://x.gov/",
            source(PAGE.replace("[article, main]", "'#list'")),
        )
    with pytest.raises(SourceError, match="item_selector 'td' matched nothing"):
        parse_page(
            minerals_page(["tin"]), "https://x.gov/", source(PAGE + "    item_selector: td\n")
        )


def test_ignore_patterns_and_bad_selectors():
    assert clean_lines("Visits: 123\nReal text\n", [__import__("re").compile(r"Visits: \d+")]) == [
        "Real text"
    ]
    bad = source(PAGE.replace("[article, main]", "'main >>> ['"))
    with pytest.raises(SourceError, match="not a valid CSS selector 'main >>> \\['"):
        parse_page(b"<main></main>", "https://x.gov/", bad)
    with pytest.raises(Exception, match="not a valid regular expression"):
        source(PAGE + "    ignore: ['(unclosed']\n")


def test_memory_is_not_needed_to_parse():
    assert SourceMemory().validators == {}


def test_links_resolve_exactly_as_urljoin_resolves_them():
    from urllib.parse import urljoin

    from watcher.urls import join

    bases = [
        "http://127.0.0.3:4000/page/5.html",
        "https://www.cbp.gov/trade/programs-administration/trade-remedies?x=1#top",
        "https://www.usgs.gov",
        "https://www.usgs.gov/",
        "https://ustr.gov/a/b/",
        "http://[::1]:8080/x/y",
        "https://h.gov/a;p=1/b",
        "file:///etc/passwd",
    ]
    links = [
        "/notices/1-2", "feed3-4", "a/b/c", "../x", "./x", "x/../y", "x/..", "?q=2", "#f",
        "//other.gov/x", "/a/./b", "/a//b", "a:b", "x:y/z", "a/x:y", "mailto:x", "a b",
        "/a?b=c#d", "name.html", "/", "é", "a/b?c=d", "1", "\tx", "/\x00",
    ]  # fmt: skip
    for base in bases:
        for link in links:
            assert join(base, link) == urljoin(base, link), (base, link)


def test_a_link_already_normal_is_given_back_exactly_as_the_full_parse_would():
    from watcher.urls import _parsed, normalise_link, unescape_fully

    links = [
        "https://www.federalregister.gov/documents/2026/01/20/2026-01045/adjusting-imports",
        "http://127.0.0.3:4000/feed/feed3-4", "https://WWW.CBP.GOV/trade", "HTTPS://x.gov/a",
        "https://x.gov", "https://x.gov/", "https://x.gov/a%20b", "https://x.gov/a?utm_source=r",
        "https://x.gov/a#top", "https://x.gov/a;jsessionid=1", "https://user@x.gov/a",
        "https://[::1]:8080/x", "https://x.gov/é", "ftp://x.gov/a", "https://x.gov/a b",
        "https://x.gov:443/a/../b", "https://x.gov/a&amp;b", "https://x.gov//a",
    ]  # fmt: skip
    for link in links:
        assert normalise_link(link) == _parsed(unescape_fully(link)), link

"""The fast feed reader gives, for every recorded feed, the records and keys feedparser gives
(so an upgrade announces nothing again), and leaves anything unusual to feedparser."""

from __future__ import annotations

import feedparser
import pytest

from tests.conftest import DATA
from watcher import feedxml
from watcher.sources import csms
from watcher.sources.feed import entry_key, record_of

BASE = "https://www.example.gov/feed/"
FEEDS = [
    DATA / "captures" / "ustr_rss_2026-10-03.xml",
    DATA / "captures" / "cbp_csms_widget_rss_2026-10_first20.xml",
    DATA / "usgs_news_2026-05_one_item.xml",
    DATA / "whitehouse_presidential_actions.rss",
]
# Shapes the recorded feeds do not have, written here: Atom with relative links and XHTML
# content, RSS 1.0, permalink guids relative to the feed, dc: dates and creators.
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id>
<updated>2026-01-01T00:00:00Z</updated>
<entry><title type="html">Tariff &lt;b&gt;news&lt;/b&gt;</title><id>urn:1</id>
<link rel="related" href="/other"/><link href="/a?id=3"/>
<updated>2026-01-02T10:00:00+02:00</updated><published>2026-01-01T09:00:00Z</published>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Section <b>232</b></p></div>
</content>
<author><name> USTR </name></author><category term="Trade"/></entry>
<entry><title>No id</title><link rel="alternate" href="https://x.gov/b"/>
<summary>s</summary></entry>
</feed>"""
RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://x.gov/"><title>t</title><link>https://x.gov/</link></channel>
<item rdf:about="https://x.gov/1"><title>One</title><link>https://x.gov/1</link>
<description>Duties</description><dc:date>2026-03-04T05:06:07-05:00</dc:date>
<dc:creator>BIS</dc:creator><dc:subject>Trade</dc:subject></item>
</rdf:RDF>"""
RSS2 = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Relative guid</title><guid>item-7</guid>
<pubDate>Mon, 04 May 2026 12:00:00 EDT</pubDate>
<description><![CDATA[<p>A <a href="/x">link</a></p>]]></description></item>
<item><title>Content only</title><guid isPermaLink="false">abc</guid>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[<p>Body</p>]]></content:encoded>
<category>Trade</category><category> </category></item>
</channel></rss>"""


def feedparser_entries(raw: bytes) -> list:
    return feedparser.parse(
        raw,
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers={"content-type": "application/xml", "content-location": BASE},
    ).entries


@pytest.mark.parametrize(
    "raw",
    [path.read_bytes() for path in FEEDS] + [ATOM, RSS1, RSS2],
    ids=[path.name for path in FEEDS] + ["atom", "rss1", "rss2"],
)
def test_the_same_records_and_keys_as_feedparser(raw):
    slow = feedparser_entries(raw)
    fast = feedxml.parse(raw, BASE)
    assert fast is not None and len(fast) == len(slow) > 0
    for a, b in zip(slow, fast, strict=True):
        ra, rb = record_of(a, BASE, 2000), record_of(b, BASE, 2000)
        assert ra == rb
        assert entry_key(a, ra["link"], ra["title"]) == entry_key(b, rb["link"], rb["title"])
        assert csms.record_of(a, 40_000) == csms.record_of(b, 40_000)


@pytest.mark.parametrize(
    "raw",
    [
        b"<rss><channel><item><title>Unclosed</title></channel></rss>",  # malformed
        b"<?xml version='1.0'?><rss><channel><item><title>a&nbsp;b</title></item></channel></rss>",
        b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>]><rss><channel/></rss>",
        b"<html><body>not a feed</body></html>",
        b"",
    ],
    ids=["malformed", "html-entity", "dtd", "html", "empty"],
)
def test_anything_unusual_is_left_to_feedparser(raw):
    assert feedxml.parse(raw, BASE) is None

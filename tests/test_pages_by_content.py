"""The USGS critical minerals list, found by what it holds rather than by its template.

No capture of the USGS "About the 2025 List of Critical Minerals" page exists, so the pages
here are hand-made in the shapes such pages take (a list in an article beside navigation
lists, a table, two columns, one sentence), holding the real lists of 2022 and 2025
(data/critical_minerals.yaml). Whatever the shape, the shipped configuration must read exactly
the minerals; a page without the list must be an error that removes nothing.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import DATA, ROOT, Workspace
from tests.test_sources_end_to_end import config, default_source, serve_page
from watcher.config import load_config
from watcher.errors import SourceError
from watcher.sources import REGISTRY
from watcher.sources.page import parse_page

LISTS = yaml.safe_load((DATA / "critical_minerals.yaml").read_text())
LIST_2022: list[str] = LISTS["list_2022"]
LIST_2025: list[str] = LISTS["list_2022"] + LISTS["added_2025"]
SOURCE = load_config(ROOT / "sources.yaml", REGISTRY).source("usgs-critical-minerals-list")

CHROME = """<header><nav><ul><li><a href="/science">Science</a></li>
<li><a href="/news">Lithium and cobalt in the news</a></li><li><a href="/maps">Maps</a></li>
</ul></nav></header>"""
RELATED = """<aside><h2>Related</h2><ul><li><a href="/a">Gallium and germanium supply</a></li>
<li><a href="/b">Nickel mining in Minnesota</a></li><li><a href="/c">Graphite</a></li></ul>
</aside>"""


def page(body: str) -> bytes:
    return (
        "<!DOCTYPE html><html><head><title>About the 2025 List of Critical Minerals</title>"
        f"</head><body>{CHROME}<main>{body}</main>"
        "<footer><ul><li><a href='/privacy'>Privacy</a></li></ul></footer></body></html>"
    ).encode()


def in_article(minerals: list[str]) -> bytes:
    items = "".join(f"<li>{m.capitalize()}</li>" for m in minerals)
    return page(
        "<article><h1>About the 2025 List</h1><p>The list includes lithium, nickel and more."
        f"</p><ul>{items}</ul></article>{RELATED}"
    )


def as_table(minerals: list[str]) -> bytes:
    rows = "".join(
        f"<tr><td>{m.capitalize()}</td><td>Used in batteries, alloys and electronics</td></tr>"
        for m in minerals
    )
    return page(
        "<h1>About the 2025 List</h1><table><thead><tr><th>Mineral commodity</th>"
        f"<th>Primary uses</th></tr></thead><tbody>{rows}</tbody></table>{RELATED}"
    )


def in_two_columns(minerals: list[str]) -> bytes:
    half = len(minerals) // 2
    left = "".join(f"<li>{m.capitalize()}</li>" for m in minerals[:half])
    right = "".join(f"<li>{m.capitalize()}</li>" for m in minerals[half:])
    return page(
        f'<div class="row"><div class="col"><ul>{left}</ul></div>'
        f'<div class="col"><ul>{right}</ul></div></div>{RELATED}'
    )


def as_sentence(minerals: list[str]) -> bytes:
    listed = ", ".join(minerals[:-1]) + f", and {minerals[-1]}"
    return page(
        "<p>Lithium and cobalt matter to batteries, as gallium does to chips.</p>"
        f"<p>The final 2025 List of Critical Minerals includes the following {len(minerals)}"
        f" mineral commodities: {listed}.</p>{RELATED}"
    )


SHAPES = [in_article, as_table, in_two_columns, as_sentence]


def read(content: bytes) -> list[str]:
    items, listing = parse_page(content, SOURCE.url, SOURCE, "text/html; charset=utf-8")
    assert listing
    return [i.title.casefold() for i in items]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.__name__)
@pytest.mark.parametrize("minerals", [LIST_2022, LIST_2025], ids=["2022", "2025"])
def test_the_list_is_read_exactly_whatever_the_shape(shape, minerals):
    assert read(shape(minerals)) == minerals


@pytest.mark.parametrize(
    "content",
    [
        page("<h1>Page moved</h1><p>This page has moved.</p>" + RELATED),
        # prose naming many minerals is no list
        page(
            "<p>"
            + " ".join(f"Research on {m} continues in several states this year." for m in LIST_2022)
            + "</p>"
        ),
        # a list of a third of them: a draft excerpt or a "related" box, not the list
        in_article(LIST_2025[:20]),
    ],
    ids=["moved", "prose", "excerpt"],
)
def test_a_page_without_the_list_is_an_error(content):
    with pytest.raises(SourceError, match="the list of critical minerals was not found"):
        read(content)


def test_the_change_to_a_table_of_60_reads_as_ten_additions(workspace: Workspace, server, slack):
    current = {"html": in_article(LIST_2022)}
    url = serve_page(server, "/list", current)
    workspace.write_config(config(default_source("usgs-critical-minerals-list", url)))
    workspace.use_slack(slack)
    assert workspace.cli("run").exit_code == 0
    assert "50 entries recorded" in slack.messages[0]["text"]

    # the site is redesigned and the new list published on the same day: a table of 60
    current["html"] = as_table(LIST_2025)
    result = workspace.cli("run")
    assert result.exit_code == 0, result.stderr
    (message,) = slack.messages[1:]
    added = ", ".join(m.capitalize() for m in LISTS["added_2025"])
    assert f"added: {added}; removed: none" in message["text"]

    current["html"] = page("<p>Temporarily unavailable</p>")
    failed = workspace.cli("run")
    assert failed.exit_code == 1 and "was not found" in failed.stderr
    assert json.loads(workspace.cli("status", "--json").stdout)["sources"][0]["items"] == 60
    assert len(slack.messages) == 2

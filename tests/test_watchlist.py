"""Does it touch us? The watchlist against documents' own text.

Real texts: the CBP CSMS messages of the capture (70050970: Canadian products under HTSUS
headings 0404 ... 8711; 70054007: pharmaceuticals, subheadings such as 3004.49.00 and the
9903.04 duty lines, the EU and its members), real Federal Register titles, and the White
House's post of Proclamation 11001. The copper proclamation excerpt is hand-made
(data/README.md); the aluminum annex and the FERC filing below are written here.
"""

from __future__ import annotations

import json

import feedparser
import pytest
import yaml

from tests.conftest import DATA, HTTP_FOR_TESTS, Workspace, default_source, fr_document
from tests.fakes import FakeFederalRegister, FakeSlack, FakeWhiteHouse
from watcher.hts import Code, mentions
from watcher.sources import csms
from watcher.watchlist import check, compile_watchlist

COPPER = (DATA / "proclamation_copper_excerpt.txt").read_text()
TEXT_11001 = (DATA / "whitehouse_proclamation_11001_2026-01-14.md").read_text()
MESSAGES = {
    e.id: csms.record_of(e, 40_000)
    for e in feedparser.parse(
        (DATA / "captures" / "cbp_csms_widget_rss_2026-10_first20.xml").read_bytes()
    ).entries
}
CANADA = MESSAGES["70050970"]["text"]
PHARMA = MESSAGES["70054007"]["text"]


def watching(**spec) -> object:
    return compile_watchlist(spec)


def touched(spec: dict, text: str) -> dict[str, str]:
    return {t.entry: t.why for t in check(watching(**spec), text).touches}


# -- HTS codes, the way annexes write them -----------------------------------------------------


def test_a_copper_proclamation_touches_a_watched_subheading_through_its_heading_list():
    verdict = check(watching(hts=["7407.10.50", "8544.42.90"]), COPPER)
    (touch,) = verdict.touches
    assert (touch.entry, touch.why) == ("7407.10.50", "heading 7407 named")
    assert "headings 7406, 7407 and 7408" in touch.span
    # its duty lines are shown, never a touch
    assert verdict.duty_lines == ("9903.78.01", "9903.78.02")


def test_an_aluminum_annex_touches_chapter_76_and_not_copper():
    annex = (
        "derivative aluminum articles classified in chapter 76 of the HTSUS, and articles of "
        "subheading 8708.10.30 ... reported under heading 9903.85.07"
    )  # written here, in the words of the 2025 aluminum annexes
    assert touched({"hts": ["chapter 76", "7407.10.50", "8708.10"]}, annex) == {
        "chapter 76": "named",
        "8708.10": "subheading 8708.10.30 named",
    }


@pytest.mark.parametrize(
    ("watched", "text", "why"),
    [
        ("7407.10.50", "of headings 7401 through 7419", "headings 7401 through 7419 named"),
        ("7407.10.50", "goods of chapter 74", "chapter 74 named"),
        ("7407.10.50", "products of chapters 72 through 76", "chapters 72 through 76 named"),
        ("7605", "HTSUS 7601-7609", "headings 7601 through 7609 named"),
        ("8544.42.90", "subheadings 8544.42.20 through 8544.49.30",
         "subheadings 8544.42.20 through 8544.49.30 named"),
        ("chapter 74", "heading 7407.21.50 of the HTSUS", "subheading 7407.21.50 named"),
        ("7407", "subheading 7407.10.50", "subheading 7407.10.50 named"),
        ("chapter 73", "steel articles of chapters 72 and 73", "named"),
        ("8471.30.0100", "statistical reporting number 8471.30.0100", "named"),
    ],
)  # fmt: skip
def test_codes_ranges_and_chapters_both_ways(watched, text, why):
    assert touched({"hts": [watched]}, text) == {watched: why}


@pytest.mark.parametrize(
    ("watched", "text"),
    [
        ("7407.10.50", "articles of heading 7407.21"),  # a sibling subheading
        ("7407", "headings 7408 through 7419"),
        ("chapter 74", "chapters 72 and 73"),
        # numbers that are not HTS codes
        ("7401", "Docket No. ER25-7401-000: a tariff filing under section 205 of the FPA"),
        ("2025", "effective in 2025, 90 FR 37727"),
        ("1862", "19 U.S.C. 1862, as amended"),
        ("1096", "Proclamation 10962 of July 30, 2025"),
        ("chapter 3", "chapter 3 of title 19, United States Code"),
        # a duty line is not a product, whatever is watched
        ("9903", None),
    ],
)
def test_what_is_not_a_touch(watched, text):
    if text is None:
        with pytest.raises(ValueError, match="duty line"):
            Code.parse(watched)
        return
    assert touched({"hts": [watched]}, text) == {}


def test_the_real_canadian_guidance_touches_wine_and_canada():
    assert touched({"hts": ["2204.21", "7407"], "countries": ["Canada", "Mexico"]}, CANADA) == {
        "2204.21": "heading 2204 named",
        "Canada": "named",
    }


def test_the_real_pharmaceutical_guidance_touches_its_subheadings_not_its_duty_lines():
    verdict = check(watching(hts=["3004.49", "2937.23.50", "8544.42"]), PHARMA)
    assert {t.entry: t.why for t in verdict.touches} == {
        "3004.49": "subheading 3004.49.00 named",
        "2937.23.50": "named",
    }
    assert {"9903.04.66", "9903.94.70"} <= set(verdict.duty_lines)
    # it names its chapters 29 and 30 too: a watched code there is touched
    assert touched({"hts": ["3002.90"]}, PHARMA) == {"3002.90": "chapter 30 named"}
    assert [m for m in mentions(PHARMA) if m.code.duty_line]


# -- countries, minerals, phrases -------------------------------------------------------------


def test_countries_by_name_alias_and_eu_membership():
    title = (
        "Amendment to Reciprocal Tariffs and Updated Duties as Applied to Low-Value Imports "
        "From the People's Republic of China"
    )  # a real Federal Register title
    assert touched({"countries": ["China"]}, title) == {"China": "named"}
    eu = touched({"countries": ["Germany", "Chile", "UK"]}, PHARMA)
    assert eu == {"Germany": "named", "United Kingdom": "named"}  # "UK" is the United Kingdom
    # a member the text does not name is touched when it speaks of the European Union
    union = "goods of the European Union are subject to a 15 percent rate"  # written here
    assert touched({"countries": ["Portugal", "Chile"]}, union) == {
        "Portugal": "an EU member: the European Union is named"
    }
    assert touched({"countries": ["Korea"]}, "imports from the Republic of Korea") == {
        "South Korea": "named"
    }
    assert (
        touched({"countries": ["South Korea"]}, "the Democratic People's Republic of Korea") == {}
    )


def test_minerals_and_phrases():
    found = touched({"minerals": ["gallium", "rare earths", "tin"]}, TEXT_11001)
    assert found.get("gallium") == "named"
    assert touched({"minerals": ["tin"]}, "this would lead to a tin-plated ...") == {}
    assert touched({"terms": ["copper cathodes"]}, COPPER) == {}
    assert touched({"terms": ["cathodes"]}, COPPER) == {"cathodes": "named"}


# -- configuration ----------------------------------------------------------------------------


def config(watchlist: dict, sources: list[dict], routes: list | None = None) -> str:
    slack: dict = {"channel": "#trade-alerts", "retry_wait": 0}
    if routes:
        slack["routes"] = routes
    return (
        yaml.safe_dump({"slack": slack, "watchlist": watchlist})
        + HTTP_FOR_TESTS
        + yaml.safe_dump({"sources": sources}, sort_keys=False)
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"hts": ["7407.10.50", "74071"]}, "watchlist.hts[1]: '74071' is not an HTS code"),
        ({"hts": ["7407.1"]}, "watchlist.hts[0]: '7407.1' is not an HTS code"),
        ({"hts": ["9903.78.01"]}, "chapter 99 duty line, not a product"),
        ({"minerals": ["copper", "unobtainium"]},
         "watchlist.minerals[1]: 'unobtainium' is not on the USGS critical minerals list"),
        ({"mention": "@everyone"}, "watchlist.mention"),
        ({"countries": []}, "a watchlist needs hts codes, countries, minerals or terms"),
    ],
)  # fmt: skip
def test_bad_watchlist_entries_exit_2_naming_the_entry(workspace: Workspace, entry, message):
    workspace.write_config(
        config(entry, [{"name": "p", "kind": "page", "url": "https://example.gov/"}])
    )
    result = workspace.cli("validate")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "sources.yaml:" in result.stderr


# -- end to end -------------------------------------------------------------------------------


WATCHLIST = {
    "hts": ["7407.10.50", "8544.42.90"],
    "countries": ["Chile", "Mexico"],
    "minerals": ["copper"],
    "mention": "subteam:S0PRODUCTS",
}


def test_an_alert_says_what_it_touches_and_its_later_stages_inherit_it(
    workspace: Workspace, server, fr: FakeFederalRegister, slack: FakeSlack
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    eastern = ZoneInfo("America/New_York")
    white_house = FakeWhiteHouse(server)
    sources = [
        default_source(
            "whitehouse-presidential-actions", server.url_for("/presidential-actions/feed/")
        ),
        default_source("federal-register", fr.url),
    ]
    routes = [{"when": {"watchlist": True}, "channel": "#our-products"}]
    workspace.write_config(config(WATCHLIST, sources, routes))
    workspace.use_slack(slack)
    fr.add(fr_document("2025-14000", "Fisheries Off Alaska", "2025-07-28", type="Rule"))
    workspace.clock.set(datetime(2025, 7, 29, 12, tzinfo=eastern))
    assert workspace.cli("run").exit_code == 0

    white_house.post(
        "101", "Adjusting Imports of Copper into the United States",
        datetime(2025, 7, 30, 21, 40, tzinfo=eastern), "Proclamations", COPPER,
    )  # fmt: skip
    white_house.post(
        "102", "Further Modifying the Reciprocal Tariff Rates",
        datetime(2025, 7, 30, 21, 45, tzinfo=eastern), "Executive Orders",
        "reciprocal tariff rates for the products of Switzerland and India",
    )  # fmt: skip
    workspace.clock.set(datetime(2025, 7, 30, 22, tzinfo=eastern))
    assert workspace.cli("run").exit_code == 0
    (copper,) = [m for m in slack.messages if "Copper" in m["text"]]
    assert copper["channel"] == "#our-products"
    line = copper["blocks"][1]["text"]["text"]
    assert line.startswith("<!subteam^S0PRODUCTS> *Touches your watchlist: 7407.10.50 (heading")
    assert "Mexico" in line and "copper" in line and "Chile" not in line
    assert "Touches your watchlist" in copper["text"]
    (tariffs,) = [m for m in slack.messages if "Reciprocal" in m["text"]]
    assert tariffs["channel"] == "#trade-alerts"
    assert "watchlist" not in json.dumps(tariffs)  # no "no match" noise

    # the Federal Register publishes it, with no text to read: it inherits the verdict
    fr.add(
        fr_document(
            "2025-14893", "Adjusting Imports of Copper Into the United States", "2025-08-05",
            type="Presidential Document", subtype="Proclamation", proclamation_number="10962",
            signing_date="2025-07-30", agencies=[{"name": "Executive Office of the President"}],
        )
    )  # fmt: skip
    workspace.clock.set(datetime(2025, 8, 5, 9, tzinfo=eastern))
    assert workspace.cli("run").exit_code == 0
    (published,) = [m for m in slack.messages if "Proclamation 10962" in m["text"]]
    # routed by the verdict it inherits, into the thread of the post in #our-products
    assert published["thread_ts"] == slack.ts_of("Adjusting Imports of Copper into the United")
    assert "Touches your watchlist: 7407.10.50 (heading 7407 named)" in json.dumps(published)
    assert "<!subteam^S0PRODUCTS>" in json.dumps(published["blocks"])


def test_watchlist_check_on_a_file_a_url_and_a_document_number(
    workspace: Workspace, server, fr: FakeFederalRegister, tmp_path
):
    workspace.write_config(config(WATCHLIST, [default_source("federal-register", fr.url)]))
    document = tmp_path / "copper.txt"
    document.write_text(COPPER)
    result = workspace.cli("watchlist", "check", str(document))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "touches your watchlist:" in out
    assert "7407.10.50       heading 7407 named" in out
    assert "«" in out and "headings 7406, 7407 and 7408" in out
    assert "not touched: 8544.42.90, Chile" in out
    assert "duty lines named (chapter 99, not products): 9903.78.01, 9903.78.02" in out

    server.expect_request("/annex.html").respond_with_data(
        f"<html><body><nav>Home</nav><main><pre>{COPPER}</pre></main></body></html>",
        content_type="text/html",
    )
    by_url = json.loads(workspace.cli("watchlist", "check", server.url_for("/annex.html"),
                                      "--json").stdout)  # fmt: skip
    assert [t["entry"] for t in by_url["touches"]] == ["7407.10.50", "Mexico", "copper"]

    fr.add(fr_document("2025-14893", "Adjusting Imports of Copper Into the United States",
                       "2025-08-05"))  # fmt: skip
    fr.texts["2025-14893"] = COPPER
    by_number = workspace.cli("watchlist", "check", "2025-14893")
    assert by_number.exit_code == 0, by_number.stderr
    assert by_number.stdout.startswith("2025-14893: Adjusting Imports of Copper")
    assert "7407.10.50       heading 7407 named" in by_number.stdout

    missing = workspace.cli("watchlist", "check", "nonsense")
    assert missing.exit_code == 2
    assert "neither a file, a URL nor a Federal Register document number" in missing.stderr

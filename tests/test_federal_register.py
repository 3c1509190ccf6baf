"""The federal_register kind: real payloads parsed, fingerprints that ignore what changes by
itself, the query it sends, and its paging and windows against a loopback API."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import fr_config, fr_document, load_json
from tests.fakes import FakeFederalRegister
from watcher.config import parse_config
from watcher.errors import SourceError
from watcher.http import Fetcher
from watcher.models import SourceMemory
from watcher.settings import HttpSettings
from watcher.sources.federal_register import check as fr_check
from watcher.sources.federal_register import normalise_document
from watcher.sources.fr_api import condition_params, document_number_of

HTTP = HttpSettings(per_host_interval=0, attempts=1, timeout=5)


def test_every_recorded_search_result_parses():
    data = load_json("documents_search_presdocu_2017-2020_excerpt.json")
    items = [normalise_document(d) for d in data["results"]]
    assert len(items) == 20
    first = items[0]
    assert first.key == "2020-01806"
    assert first.record["proclamation_number"] == "9980"
    assert first.record["signing_date"] == "2020-01-24"
    assert first.doc_type == "Presidential Document" and first.subtype == "Proclamation"
    assert first.agencies == ("Executive Office of the President",)
    assert first.url and first.url.startswith("https://www.federalregister.gov/documents/")


def test_corrections_and_republications_are_linked_both_ways():
    items = {
        i.key: i
        for i in map(
            normalise_document,
            load_json("documents_search_presdocu_2017-2020_excerpt.json")["results"],
        )
    }
    assert items["C1-2019-19930"].corrects == "2019-19930"
    assert items["C1-2019-19930"].record["correction_of"] == "2019-19930"
    assert items["2019-19930"].record["corrections"] == ["C1-2019-19930"]
    assert items["R1-2017-02032"].corrects == "2017-02032"
    assert items["2017-02032"].record["corrections"] == ["R1-2017-02032"]
    assert items["2019-19930"].corrects is None


def test_single_document_responses_of_both_eras_parse():
    doc = normalise_document(load_json("document_2025-05887.json"))
    assert doc.key == "2025-05887"
    assert doc.record["docket_ids"] == ["C-570-161"]
    assert doc.record["public_inspection_pdf_url"] == (
        "https://public-inspection.federalregister.gov/2025-05887.pdf"
    )
    assert doc.agencies == ("Commerce Department", "International Trade Administration")
    for raw in load_json("documents_by_number_2020-17469_2020-17393.json")["results"]:
        assert normalise_document(raw).key == raw["document_number"]


def test_the_fingerprint_ignores_what_changes_by_itself():
    raw = load_json("document_2025-05887.json")
    base = normalise_document(raw).fingerprint
    noisy = dict(
        raw,
        page_views={"count": 9999, "last_updated": "2026-01-01 00:00:00 -0500"},
        regulations_dot_gov_info={"checked_regulationsdotgov_at": "2026-01-01T00:00:00Z"},
        images={"x": {"large": "https://s3.amazonaws.com/x.png?1"}},
        images_metadata={"x": {}},
        public_inspection_pdf_url="https://public-inspection.federalregister.gov/"
        "2025-05887.pdf?1799999999",
        comment_url="https://www.regulations.gov/commenton/X",
        title=raw["title"] + "  ",
    )
    assert normalise_document(noisy).fingerprint == base
    for field, value in [
        ("title", "Something else"),
        ("abstract", "Changed."),
        ("effective_on", "2025-05-01"),
        ("corrections", ["https://www.federalregister.gov/api/v1/documents/C1-2025-05887"]),
        ("disposition_notes", "Superseded"),
        ("citation", "90 FR 1"),
        ("subtype", "Rule"),
    ]:
        assert normalise_document(dict(raw, **{field: value})).fingerprint != base, field


def test_numbers_fingerprint_the_same_as_strings_or_ints():
    raw = load_json("documents_search_presdocu_2017-2020_excerpt.json")["results"][0]
    assert (
        normalise_document(raw).fingerprint
        == normalise_document(dict(raw, proclamation_number=9980)).fingerprint
    )


def test_condition_params_follow_the_api_shape():
    params = condition_params(
        {
            "term": '"section 232" | tariff',
            "type": ["PRESDOCU", "NOTICE"],
            "agencies": ["industry-and-security-bureau"],
            "significant": True,
            "effective_date": {"gte": "2025-01-01"},
        }
    )
    assert params == [
        ("conditions[term]", '"section 232" | tariff'),
        ("conditions[type][]", "PRESDOCU"),
        ("conditions[type][]", "NOTICE"),
        ("conditions[agencies][]", "industry-and-security-bureau"),
        ("conditions[significant]", "1"),
        ("conditions[effective_date][gte]", "2025-01-01"),
    ]


@pytest.mark.parametrize(
    ("reference", "number"),
    [
        ("https://www.federalregister.gov/api/v1/documents/2019-19930", "2019-19930"),
        (
            "https://www.federalregister.gov/api/v1/documents/C1-2019-19930.json?x=1",
            "C1-2019-19930",
        ),
        ("2019-19930", "2019-19930"),
        (None, None),
    ],
)
def test_document_numbers_from_references(reference, number):
    assert document_number_of(reference) == number


def source_for(url: str, extra: str = "") -> object:
    text = fr_config(url).replace("    match:", extra + "    match:") if extra else fr_config(url)
    return parse_config(text, Path("sources.yaml")).source("fr-trade")


def days(start: int, count: int, per_day: int, month: str = "2025-03") -> list[dict]:
    docs = []
    for day in range(start, start + count):
        for n in range(per_day):
            docs.append(
                fr_document(
                    f"2025-{day:02d}{n:03d}", f"Doc {day}/{n}", f"{month}-{day:02d}", type="Notice"
                )
            )
    return docs


def test_query_asks_for_explicit_fields_newest_first_and_a_window(fr: FakeFederalRegister):
    fr.add(*days(1, 10, 2))
    source = source_for(fr.url)
    with Fetcher(HTTP) as fetcher:
        snap = fr_check(
            fetcher, source, SourceMemory(cursor={"newest_publication_date": "2025-03-08"})
        )
    (request,) = fr.requests
    assert request["order"] == ["newest"]
    assert "document_number" in request["fields[]"] and "title" in request["fields[]"]
    assert "page_views" not in request["fields[]"]
    assert request["conditions[publication_date][gte]"] == ["2025-03-05"]  # 3 days of overlap
    assert {i.published_on for i in snap.items} == {f"2025-03-{d:02d}" for d in range(5, 11)}
    assert snap.cursor == {"newest_publication_date": "2025-03-10"}
    assert not snap.complete


def test_first_check_looks_back_from_the_newest_document_not_the_clock(fr):
    fr.add(*days(1, 28, 1, month="2025-02"), *days(1, 10, 1, month="2025-03"))
    source = source_for(fr.url, "    lookback_days: 7\n    per_page: 5\n")
    with Fetcher(HTTP) as fetcher:
        snap = fr_check(fetcher, source, SourceMemory())
    assert fr.requests[1]["conditions[publication_date][gte]"] == ["2025-03-03"]
    assert sorted(i.published_on for i in snap.items)[0] == "2025-03-03"
    assert len(snap.items) == 8
    assert snap.cursor == {"newest_publication_date": "2025-03-10"}


def test_pages_are_followed_with_the_configured_base_url(fr):
    fr.add(*days(1, 5, 5))
    source = source_for(fr.url, "    per_page: 10\n")
    with Fetcher(HTTP) as fetcher:
        snap = fr_check(
            fetcher, source, SourceMemory(cursor={"newest_publication_date": "2025-03-04"})
        )
    assert len(snap.items) == 25
    assert [r.get("page", ["1"])[0] for r in fr.requests] == ["1", "2", "3"]


def test_too_many_results_for_the_api_window_are_split_by_date(fr):
    # per_page 2 x max_pages 2 = at most 4 results can be paged for one query
    fr.add(*days(1, 6, 2))
    source = source_for(fr.url, "    per_page: 2\n    max_pages: 2\n    overlap_days: 0\n")
    with Fetcher(HTTP) as fetcher:
        snap = fr_check(
            fetcher, source, SourceMemory(cursor={"newest_publication_date": "2025-03-01"})
        )
    assert len(snap.items) == 12  # every document, none lost to the window
    assert len({i.key for i in snap.items}) == 12
    assert any("conditions[publication_date][lte]" in r for r in fr.requests)


def test_a_server_paging_smaller_than_asked_loses_nothing(fr):
    fr.add(*days(1, 6, 5))
    fr.page_size_limit = 3  # asked for 1000 a page, served 3: max_pages 2 now holds only 6
    source = source_for(fr.url, "    max_pages: 2\n    overlap_days: 0\n")
    with Fetcher(HTTP) as fetcher:
        snap = fr_check(
            fetcher, source, SourceMemory(cursor={"newest_publication_date": "2025-03-01"})
        )
    assert len({i.key for i in snap.items}) == 30


def test_a_single_day_too_big_to_page_is_an_error_not_a_silent_loss(fr):
    fr.add(*days(1, 1, 6))
    source = source_for(fr.url, "    per_page: 2\n    max_pages: 2\n    overlap_days: 0\n")
    with Fetcher(HTTP) as fetcher, pytest.raises(SourceError, match="more than the 4"):
        fr_check(fetcher, source, SourceMemory(cursor={"newest_publication_date": "2025-03-01"}))


def test_no_results_means_no_results_key_and_no_error(fr):
    source = source_for(fr.url)
    with Fetcher(HTTP) as fetcher:
        snap = fr_check(
            fetcher, source, SourceMemory(cursor={"newest_publication_date": "2025-03-01"})
        )
    assert snap.items == ()
    assert snap.cursor == {"newest_publication_date": "2025-03-01"}


def test_a_server_that_ignores_the_type_condition_cannot_leak_other_types(fr):
    fr.add(
        fr_document(
            "2025-00001", "Adjusting Imports of Tin", "2025-03-01", type="Presidential Document"
        ),
        fr_document("2025-00002", "Adjusting Imports of Lead", "2025-03-01", type="Rule"),
    )
    fr.documents[1]["type"] = "Rule"
    source = source_for(fr.url, "    conditions:\n      type: [PRESDOCU]\n")
    # make the fake ignore the type filter, like a careless proxy would
    original = fr._documents

    def ignoring_types(request):
        request.args = request.args.copy()
        request.environ["QUERY_STRING"] = request.query_string.decode().replace(
            "conditions%5Btype%5D%5B%5D=PRESDOCU", ""
        )
        return original(request)

    fr.server.clear()
    fr.server.expect_request(f"{fr.prefix}/documents.json").respond_with_handler(ignoring_types)
    with Fetcher(HTTP) as fetcher:
        snap = fr_check(
            fetcher, source, SourceMemory(cursor={"newest_publication_date": "2025-03-01"})
        )
    assert [i.key for i in snap.items] == ["2025-00001"]


def test_malformed_answers_are_source_errors(server):
    for body, content_type, message in [
        ("{not json", "application/json", "not valid JSON"),
        ('["a list"]', "application/json", "not a documents search result"),
        ('{"count": 1, "results": "nope"}', "application/json", "not a list of documents"),
        ("", "application/json", "empty body"),
    ]:
        server.clear()
        server.expect_request("/api/v1/documents.json").respond_with_data(
            body, content_type=content_type
        )
        source = source_for(server.url_for("/api/v1"))
        with Fetcher(HTTP) as fetcher, pytest.raises(SourceError, match=message):
            fr_check(
                fetcher, source, SourceMemory(cursor={"newest_publication_date": "2025-03-01"})
            )


def test_documents_without_a_number_are_skipped_with_a_note(server):
    server.expect_request("/api/v1/documents.json").respond_with_data(
        json.dumps(
            {
                "count": 2,
                "results": [
                    {"document_number": None, "title": "x", "publication_date": "2025-03-01"},
                    fr_document("2025-00003", "Fine", "2025-03-01"),
                ],
            }
        ),
        content_type="application/json",
    )
    source = source_for(server.url_for("/api/v1"))
    with Fetcher(HTTP) as fetcher:
        snap = fr_check(
            fetcher, source, SourceMemory(cursor={"newest_publication_date": "2025-03-01"})
        )
    assert [i.key for i in snap.items] == ["2025-00003"]
    assert any("without a document_number" in n for n in snap.notes)


def test_an_unchanged_window_costs_a_304(fr):
    fr.etags = True
    fr.add(*days(1, 3, 2))
    source = source_for(fr.url)
    memory = SourceMemory(cursor={"newest_publication_date": "2025-03-03"})
    with Fetcher(HTTP) as fetcher:
        first = fr_check(fetcher, source, memory)
        assert len(first.items) == 6 and first.validators
        again = fr_check(
            fetcher, source, SourceMemory(cursor=first.cursor, validators=first.validators)
        )
        assert again.unchanged and again.items == ()
        fr.add(fr_document("2025-99999", "New", "2025-03-03", type="Notice"))
        changed = fr_check(
            fetcher, source, SourceMemory(cursor=first.cursor, validators=first.validators)
        )
    assert not changed.unchanged and len(changed.items) == 7
    assert fr.requests[1].get("conditions[publication_date][gte]") == ["2025-02-28"]


def test_backfill_records_a_past_period_beyond_the_page_window_and_announces_nothing(workspace, fr):
    fr.add(*days(1, 20, 3))  # 60 documents
    workspace.write_config(
        fr_config(fr.url).replace(
            "    kind: federal_register\n",
            "    kind: federal_register\n    per_page: 5\n    max_pages: 2\n",
        )
    )
    past = workspace.cli("backfill", "fr-trade", "--since", "2025-03-01", "--until", "2025-03-10")
    assert past.exit_code == 0, past.stderr
    assert "back-filled 30 documents" in past.stderr
    assert "has not had its first check: that check is its baseline" in past.stderr
    assert (
        json.loads(workspace.cli("status", "--json").stdout)["sources"][0]["baseline_done"] is False
    )
    result = workspace.cli("backfill", "fr-trade", "--since", "2025-03-01")  # up to now
    assert result.exit_code == 0, result.stderr
    assert "back-filled 60 documents" in result.stderr and "none announced" in result.stderr
    assert "first check" not in result.stderr
    status = json.loads(workspace.cli("status", "--json").stdout)
    assert status["sources"][0]["items"] == 60
    assert status["alerts"] == {"pending": 0, "sent": 0, "failed": 0}
    fr.add(fr_document("2025-77777", "Adjusting Imports of Tin", "2025-03-21", type="Notice"))
    run = workspace.cli("run")
    assert "Adjusting Imports of Tin" in run.stdout
    assert "Now watching" not in run.stdout, "the back-fill was the baseline"
    assert workspace.cli("backfill", "nope", "--since", "2025-01-01").exit_code == 2
    backwards = workspace.cli(
        "backfill", "fr-trade", "--since", "2025-03-10", "--until", "2025-03-01"
    )
    assert backwards.exit_code == 2
    assert "--since 2025-03-10 is after --until 2025-03-01" in backwards.stderr


def test_a_backfill_reports_its_progress(workspace, fr):
    from watcher.backfill import backfill
    from watcher.sources import REGISTRY

    fr.add(*days(1, 20, 3))
    workspace.write_config(
        fr_config(fr.url).replace(
            "    kind: federal_register\n",
            "    kind: federal_register\n    per_page: 5\n    max_pages: 2\n",
        )
    )
    config = parse_config(workspace.config.read_text(), workspace.config)
    heard: list[tuple[int, int]] = []
    report = backfill(
        config,
        workspace.state,
        "fr-trade",
        date(2025, 3, 1),
        None,
        registry=REGISTRY,
        progress=lambda requests, received: heard.append((requests, received)),
    )
    assert report.documents == 60
    assert heard and heard[-1][0] == report.requests and heard[-1][1] > 0

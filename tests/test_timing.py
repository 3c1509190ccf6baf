"""Where a run's CPU goes (`watcher run --timings`): phases charged from the run's own clocks,
nested phases never counted twice, and the peak of requests in flight."""

from __future__ import annotations

import json
import threading

from werkzeug import Request, Response

from tests.conftest import HTTP_FOR_TESTS, SLACK_FOR_TESTS, Workspace
from watcher.timing import PHASES, CpuClock


class Ticking:
    """A CPU clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_phase_entered_from_another_pauses_it_and_nothing_is_counted_twice():
    thread, process = Ticking(), Ticking()
    process.now = 0.25  # what the process spent before the run: `start`
    clock = CpuClock(thread_clock=thread, process_clock=process, children_clock=lambda: 0.0)
    with clock.phase("parse"):
        thread.now += 0.010
        with clock.phase("fetch"):  # a request made in the middle of a check
            thread.now += 0.004
        thread.now += 0.001
    with clock.phase("commit"):
        thread.now += 0.002
    process.now = 0.25 + 0.017 + 0.003  # 3 ms that no phase claimed
    split = dict(clock.split().seconds)
    assert split["start"] == 0.25
    assert round(split["parse"], 6) == 0.011
    assert round(split["fetch"], 6) == 0.004
    assert round(split["commit"], 6) == 0.002
    assert round(split["other"], 6) == 0.003
    assert round(clock.split().total, 6) == round(process.now, 6)
    assert list(split) == list(PHASES)


def test_the_peak_counts_requests_in_flight_at_the_same_moment():
    clock = CpuClock()
    with clock.request(), clock.request():
        with clock.request():
            pass
        with clock.request():
            pass
    with clock.request():
        pass
    assert clock.split().peak_in_flight == 3


def test_each_thread_charges_its_own_phase():
    clock = CpuClock()
    ready = threading.Barrier(2, timeout=5)

    def worker() -> None:
        with clock.phase("parse"):
            ready.wait()  # both threads are inside their phases at once
            sum(range(20_000))

    other = threading.Thread(target=worker)
    other.start()
    with clock.phase("decide"):
        ready.wait()
        sum(range(20_000))
    other.join()
    split = dict(clock.split().seconds)
    assert split["parse"] > 0 and split["decide"] > 0


FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Tariff on copper {n}</title><guid>g{n}</guid><link>https://x.gov/{n}</link></item>
</channel></rss>"""


def test_run_with_timings_reports_every_phase_and_the_requests_in_flight(
    workspace: Workspace, server
):
    # Three feeds whose server answers none until all three requests have arrived: the run
    # had three in flight at once, and says so.
    arrived = threading.Barrier(3, timeout=5)

    def answer(n: int):
        def respond(request: Request) -> Response:
            arrived.wait()
            return Response(FEED.format(n=n), content_type="application/rss+xml")

        return respond

    sources = ""
    for n in range(3):
        server.expect_request(f"/feed{n}").respond_with_handler(answer(n))
        sources += f"  - name: feed-{n}\n    kind: feed\n    url: {server.url_for(f'/feed{n}')}\n"
    workspace.write_config(SLACK_FOR_TESTS + HTTP_FOR_TESTS + "sources:\n" + sources)

    result = workspace.cli("--log-format", "json", "run", "--timings")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    (timing,) = [line for line in lines if line.get("event") == "timing"]
    assert timing["peak_in_flight"] == 3
    assert set(timing["cpu_s"]) == set(PHASES)
    assert timing["cpu_s"]["start"] > 0  # the interpreter and the imports, at least
    assert all(seconds >= 0 for seconds in timing["cpu_s"].values())

    arrived.reset()
    text = workspace.cli("run", "--timings")
    assert text.exit_code == 0, text.stderr
    (line,) = [x for x in text.stderr.splitlines() if x.startswith("timing: ")]
    assert "fetch" in line and "parse" in line and "decide" in line and "commit" in line
    assert line.endswith("at most 3 request(s) in flight at once")


def test_without_timings_the_run_says_nothing_about_them(workspace: Workspace, server):
    server.expect_request("/feed").respond_with_data(
        FEED.format(n=1), content_type="application/rss+xml"
    )
    workspace.write_config(
        SLACK_FOR_TESTS
        + HTTP_FOR_TESTS
        + f"sources:\n  - name: feed\n    kind: feed\n    url: {server.url_for('/feed')}\n"
    )
    result = workspace.cli("--log-format", "json", "run")
    assert result.exit_code == 0, result.stderr
    assert not [x for x in result.stderr.splitlines() if '"timing"' in x]

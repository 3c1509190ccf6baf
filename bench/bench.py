"""Benchmark: watcher against urlwatch on the same loopback sources, with the figures.

    python bench/bench.py                      # 200 sources, 50 ms latency, 10 hosts
    python bench/bench.py --sources 50 --skip-urlwatch

Loopback servers, one per address (127.0.0.2, 127.0.0.3, ...: each agency is its own host in
production, and per-host politeness should not be what is measured), serve RSS feeds, HTML
pages and Federal Register API answers, each after `--latency` seconds, with ETag and
Last-Modified so that a client that asks conditionally gets a 304. Both tools run as child
processes, `--repeats` times from an empty state each (medians reported): a first run, a
steady-state run with nothing changed, a run after 5% of the sources changed. urlwatch is
installed into its own virtual environment by this script (bench/.urlwatch-venv), and so is
watcher (bench/.watcher-venv, `pip install .` of this checkout), each as a user would
install it. Then watcher alone: start-up (`--help`, a run
with nothing due) and a back-fill of 10,000 Federal Register documents (paged by date windows).

For each: wall time, CPU time (user + system of the child), peak RSS, requests made, bytes
served, the most requests in flight at once (as the servers saw them), and the ratios
watcher/urlwatch; for watcher, its CPU by phase from its own clocks (`run --timings`:
start, fetch, parse, decide, enrich, link, commit, deliver, other), so that a regression
shows where it is.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher.timing import PHASES  # noqa: E402

URLWATCH_VENV = ROOT / "bench" / ".urlwatch-venv"
WATCHER_VENV = ROOT / "bench" / ".watcher-venv"
STAMP = email.utils.formatdate(1_767_225_600, usegmt=True)


# ---------------------------------------------------------------------------------------------
# The loopback sources


class Content:
    """What every path serves, with a version per source that a phase can bump."""

    def __init__(self, backfill_docs: int):
        self.versions: dict[str, int] = {}
        self.lock = threading.Lock()
        self.requests = 0
        self.bytes = 0
        self.in_flight = 0
        self.peak = 0  # the most requests in flight at once since the last reset
        spread = max(1, backfill_docs)
        self.bulk = [
            self._doc(n, date(2025, 1, 1) + timedelta(days=n * 200 // spread))
            for n in range(backfill_docs)
        ]
        self.bulk.sort(key=lambda d: (d["publication_date"], d["document_number"]), reverse=True)

    @staticmethod
    def _doc(n: int, day: date, version: int = 0) -> dict[str, object]:
        title = (
            f"Adjusting Imports of Article {n} Into the United States"
            if n % 7 == 0
            else f"Fisheries of the Exclusive Economic Zone; Notice {n}"
        )
        return {
            "document_number": f"2025-{n:05d}",
            "title": title + ("" if not version else f" (revision {version})"),
            "type": "Notice",
            "subtype": None,
            "publication_date": day.isoformat(),
            "abstract": "The agency announces the action described in this notice. " * 3,
            "agencies": [
                {"name": "Commerce Department", "slug": "commerce-department"},
                {"name": "Industry and Security Bureau", "slug": "industry-and-security-bureau"},
            ],
            "html_url": f"https://www.federalregister.gov/documents/{day:%Y/%m/%d}/2025-{n:05d}/x",
            "pdf_url": f"https://www.govinfo.gov/content/pkg/FR-{day}/pdf/2025-{n:05d}.pdf",
            "citation": f"90 FR {1000 + n}",
            "docket_ids": [],
            "corrections": [],
        }

    def version(self, key: str) -> int:
        with self.lock:
            return self.versions.get(key, 0)

    def bump(self, keys: list[str]) -> None:
        with self.lock:
            for key in keys:
                self.versions[key] = self.versions.get(key, 0) + 1

    def count(self, size: int) -> None:
        with self.lock:
            self.requests += 1
            self.bytes += size

    def arrived(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def answered(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def reset_counts(self) -> tuple[int, int, int]:
        with self.lock:
            counts = (self.requests, self.bytes, self.peak)
            self.requests = self.bytes = self.peak = 0
        return counts

    # -- bodies ---------------------------------------------------------------------------

    def feed(self, n: int) -> tuple[str, str]:
        v = self.version(f"feed{n}")
        items = "".join(
            f"<item><title>{'Tariff action' if (i + v) % 5 == 0 else 'News'} {n}-{i + v}</title>"
            f"<link>https://agency{n}.example.gov/news/{i + v}?utm_source=rss</link>"
            f"<guid>feed{n}-{i + v}</guid><pubDate>Mon, 04 May 2026 00:30:00 EDT</pubDate>"
            f"<description>&lt;p&gt;Item {i + v} of feed {n}, about tariffs and trade."
            f"&lt;/p&gt;</description></item>"
            for i in range(20)
        )
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {n}</title><link>https://agency{n}.example.gov/</link>"
            f"<description>feed</description>{items}</channel></rss>"
        )
        return body, "application/rss+xml; charset=utf-8"

    def page(self, n: int) -> tuple[str, str]:
        v = self.version(f"page{n}")
        entries = "".join(
            f'<li><a href="/notices/{n}-{i + v}">Section 232 notice {n}-{i + v}</a></li>'
            for i in range(30)
        )
        body = (
            f"<!DOCTYPE html><html><head><title>Page {n}</title><script>var t=1;</script>"
            f"</head><body><nav><ul><li><a href='/'>Home</a></li></ul></nav><main>"
            f"<h1>Notices {n}</h1><ul>{entries}</ul><p>Page last updated: today</p>"
            f"</main><footer>footer</footer></body></html>"
        )
        return body, "text/html; charset=utf-8"

    def federal_register(self, n: int) -> tuple[str, str]:
        v = self.version(f"fr{n}")
        docs = [
            self._doc(
                1000 * n + i,
                date(2026, 1, 20) - timedelta(days=i // 10),
                version=v if i == 0 else 0,
            )
            for i in range(50)
        ]
        return json.dumps(
            {"count": len(docs), "total_pages": 1, "results": docs}
        ), "application/json; charset=utf-8"

    def bulk_search(self, query: str) -> tuple[str, str]:
        args = parse_qs(query)
        gte = (args.get("conditions[publication_date][gte]") or [""])[0]
        lte = (args.get("conditions[publication_date][lte]") or ["9999"])[0]
        docs = [d for d in self.bulk if gte <= str(d["publication_date"]) <= lte]
        per_page = int((args.get("per_page") or ["20"])[0])
        per_page = per_page if 2 <= per_page <= 2000 else 20
        page = int((args.get("page") or ["1"])[0])
        if page > 50 or (page - 1) * per_page >= 10_000:
            page = 1  # what the real API does
        chunk = docs[(page - 1) * per_page : page * per_page]
        body: dict[str, object] = {"count": len(docs)}
        if chunk:
            body["results"] = chunk
        if page * per_page < min(len(docs), 10_000):
            body["next_page_url"] = (
                f"https://www.federalregister.gov/api/v1/documents.json?page={page + 1}"
            )
        return json.dumps(body), "application/json; charset=utf-8"


def make_handler(content: Content, latency: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            content.arrived()
            try:
                self._answer()
            finally:
                content.answered()

        def _answer(self) -> None:
            time.sleep(latency)
            parts = urlsplit(self.path)
            path = parts.path
            try:
                if path.startswith("/feed/"):
                    body, kind = content.feed(int(path.split("/")[2].split(".")[0]))
                elif path.startswith("/page/"):
                    body, kind = content.page(int(path.split("/")[2].split(".")[0]))
                elif path.startswith("/bulk/"):
                    body, kind = content.bulk_search(parts.query)
                elif path.startswith("/fr"):
                    body, kind = content.federal_register(int(path.split("/")[1][2:]))
                else:
                    self.send_error(404)
                    return
            except (ValueError, IndexError):
                self.send_error(404)
                return
            data = body.encode()
            etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                content.count(0)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", STAMP)
            self.end_headers()
            self.wfile.write(data)
            content.count(len(data))

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def start_servers(content: Content, hosts: int, latency: float) -> list[str]:
    bases = []
    handler = make_handler(content, latency)
    for i in range(hosts):
        server = ThreadingHTTPServer((f"127.0.0.{2 + i}", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        bases.append(f"http://127.0.0.{2 + i}:{server.server_address[1]}")
    return bases


# ---------------------------------------------------------------------------------------------
# Jobs for both tools


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # feed | page | fr
    url: str
    key: str  # version key in Content


def sources(count: int, bases: list[str]) -> list[Source]:
    """Two Federal Register sources on one host (as in production: one API, which asks for
    at most 5 requests a second), then feeds and pages spread over the other hosts."""
    out = []
    fr_host = bases[0]
    others = bases[1:] or bases
    for n in range(count):
        base = others[n % len(others)]
        if n < 2:
            out.append(Source(f"fr{n}", "fr", f"{fr_host}/fr{n}/api/v1", f"fr{n}"))
        elif n % 3 == 2:
            out.append(Source(f"page{n}", "page", f"{base}/page/{n}.html", f"page{n}"))
        else:
            out.append(Source(f"feed{n}", "feed", f"{base}/feed/{n}.xml", f"feed{n}"))
    return out


def watcher_config(items: list[Source], extra: str = "") -> str:
    lines = ['slack: {channel: "#trade-alerts"}', "sources:"]
    for s in items:
        if s.kind == "feed":
            lines.append(
                f"  - {{name: {s.name}, kind: feed, url: '{s.url}', match: ['tariff*']{extra}}}"
            )
        elif s.kind == "page":
            lines.append(
                f"  - {{name: {s.name}, kind: page, url: '{s.url}', selector: main, "
                f"item_selector: li{extra}}}"
            )
        else:
            lines.append(
                f"  - {{name: {s.name}, kind: federal_register, url: '{s.url}', "
                f"match: ['adjusting imports']{extra}}}"
            )
    return "\n".join(lines) + "\n"


def urlwatch_jobs(items: list[Source]) -> str:
    docs = []
    for s in items:
        if s.kind == "fr":
            url = f"{s.url}/documents.json?order=newest&per_page=1000"
            docs.append({"name": s.name, "url": url})
        elif s.kind == "page":
            docs.append({"name": s.name, "url": s.url, "filter": [{"css": "main li"}, "html2text"]})
        else:
            docs.append({"name": s.name, "url": s.url})
    import yaml

    return "---\n".join(yaml.safe_dump(d) for d in docs)


URLWATCH_CONFIG = """\
display: {new: true, error: true, unchanged: false, empty-diff: false}
report:
  text: {line_length: 75, details: true, footer: false, minimal: false, separate: false}
  stdout: {enabled: true, color: false}
  html: {diff: unified}
  markdown: {details: true, footer: false, minimal: false, separate: false}
  email: {enabled: false}
job_defaults: {all: {}, shell: {}, url: {}, browser: {}}
"""


# ---------------------------------------------------------------------------------------------
# Measuring a child process


@dataclass(frozen=True)
class Measure:
    wall: float
    cpu: float
    rss_mb: float
    requests: int
    bytes: int
    code: int
    peak: int  # the most requests in flight at once, as the servers saw them
    split: dict[str, float] | None = None  # watcher's CPU by phase (`run --timings`)


# Each command is started by a small launcher that forks it and reports its usage: Linux
# carries the forking process's peak memory into a child's peak at exec, so a child forked by
# this (large) script would report at least this script's size.
LAUNCHER = """
import json, os, sys, time
report, command = sys.argv[1], sys.argv[2:]
started = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execv(command[0], command)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - started
with open(report, "w") as out:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
               "rss_mb": usage.ru_maxrss / 1024, "code": os.waitstatus_to_exitcode(status)}, out)
"""


def measure(command: list[str], content: Content, env: dict[str, str], cwd: Path) -> Measure:
    content.reset_counts()
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        process = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, report.name, *command],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, said = process.communicate()
        usage = json.loads(Path(report.name).read_text())
    requests, size, peak = content.reset_counts()
    return Measure(
        usage["wall"],
        usage["cpu"],
        usage["rss_mb"],
        requests,
        size,
        usage["code"],
        peak,
        _split(said),
    )


def _split(stderr: bytes) -> dict[str, float] | None:
    """The CPU by phase from watcher's `timing` record (`--log-format json run --timings`)."""
    for line in stderr.decode(errors="replace").splitlines():
        if line.startswith("{") and '"timing"' in line:
            record = json.loads(line)
            if record.get("event") == "timing":
                return {k: float(v) for k, v in record["cpu_s"].items()}
    return None


def median_of(runs: list[Measure]) -> Measure:
    def mid(values: list[float]) -> float:
        return statistics.median(values)

    splits = [r.split for r in runs if r.split]
    split = {k: mid([s[k] for s in splits]) for k in splits[0]} if splits else None
    return Measure(
        mid([r.wall for r in runs]),
        mid([r.cpu for r in runs]),
        mid([r.rss_mb for r in runs]),
        int(mid([r.requests for r in runs])),
        int(mid([r.bytes for r in runs])),
        max(r.code for r in runs),
        int(mid([r.peak for r in runs])),
        split,
    )


def watcher_executable() -> Path:
    """watcher as deployed, in a virtual environment of its own (bench/.watcher-venv), like
    urlwatch: `pip install .` of this checkout (byte-compiled, without the test extras), so
    neither a development environment's extra packages nor an editable checkout's
    compile-on-import (under PYTHONDONTWRITEBYTECODE) is measured."""
    python = WATCHER_VENV / "bin" / "python"
    if not python.exists():
        print("installing watcher into bench/.watcher-venv ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(WATCHER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT)], check=True)
    else:  # this checkout's code, the dependencies as installed
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--force-reinstall",
                "--no-deps",
                str(ROOT),
            ],
            check=True,
        )
    return WATCHER_VENV / "bin" / "watcher"


def urlwatch_python() -> Path:
    python = URLWATCH_VENV / "bin" / "python"
    if not (URLWATCH_VENV / "bin" / "urlwatch").exists():
        print("installing urlwatch into bench/.urlwatch-venv ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(URLWATCH_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "urlwatch", "cssselect"], check=True
        )
    return URLWATCH_VENV / "bin" / "urlwatch"


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """A tool under test: its command and how to give it an empty state."""

    name: str
    command: list[str]
    reset: Callable[[], None]


def phases(
    tools: list[Tool],
    content: Content,
    items: list[Source],
    env: dict[str, str],
    cwd: Path,
    repeats: int,
) -> dict[str, dict[str, Measure]]:
    """Each phase `repeats` times for every tool, medians: from an empty state, a first
    run, a run with nothing changed, and a run after 5% of the sources changed. The tools
    take turns within each repetition, so a machine that slows down for a while slows both
    alike and the ratios hold. Between the first run and the steady one, a run that is not
    measured: watcher's Federal Register query moves its date window to the newest document
    a first run saw, so the second run reads those two sources in full once (as cron's
    second run does); the steady state is what every run after that costs."""
    runs = {tool.name: {label: list[Measure]() for label in PHASE_LABELS} for tool in tools}
    for _ in range(repeats):
        for tool in tools:
            tool.reset()
            measured = runs[tool.name]
            measured["first run"].append(measure(tool.command, content, env, cwd))
            measure(tool.command, content, env, cwd)  # settling (see above), for all alike
            measured["steady, nothing changed"].append(measure(tool.command, content, env, cwd))
        content.bump([s.key for s in items[::20]])  # 5%
        for tool in tools:
            changed = measure(tool.command, content, env, cwd)
            runs[tool.name]["5% of sources changed"].append(changed)
    return {
        name: {label: median_of(measured) for label, measured in by_phase.items()}
        for name, by_phase in runs.items()
    }


PHASE_LABELS = ("first run", "steady, nothing changed", "5% of sources changed")


def row(label: str, m: Measure) -> str:
    return (
        f"  {label:<26} {m.wall:7.2f} s wall {m.cpu:7.2f} s CPU {m.rss_mb:7.1f} MB "
        f"{m.requests:6d} req {m.bytes / 1e6:8.2f} MB {m.peak:4d} at once  exit {m.code}"
    )


def split_row(label: str, m: Measure) -> str:
    assert m.split is not None
    parts = " ".join(f"{phase} {m.split[phase]:5.3f}" for phase in PHASES if phase in m.split)
    return f"  {label:<26} {parts}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--hosts",
        type=int,
        default=11,
        help="loopback addresses: one for the Federal Register, the rest for feeds and pages",
    )
    parser.add_argument("--backfill", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-urlwatch", action="store_true")
    parser.add_argument(
        "--memory-sizes",
        default="50,200,400,800",
        help="numbers of sources whose first run's peak memory is shown (empty: none)",
    )
    args = parser.parse_args()

    content = Content(args.backfill)
    bases = start_servers(content, args.hosts, args.latency)
    items = sources(args.sources, bases)
    work = Path(tempfile.mkdtemp(prefix="watcher-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WATCHER_"))}
    watcher = [
        str(watcher_executable()),
        "--config",
        str(work / "watcher.yaml"),
        "--state-dir",
        str(work / "state"),
    ]
    (work / "watcher.yaml").write_text(watcher_config(items))
    print(
        f"{args.sources} sources on {args.hosts} loopback hosts, {args.latency * 1000:.0f} ms "
        f"per response; {os.cpu_count()} CPUs\n"
    )

    def fresh(*paths: Path) -> Callable[[], None]:
        def reset() -> None:
            for path in paths:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)

        return reset

    run = [*watcher, "--log-format", "json", "run", "--timings"]
    tools = [Tool("watcher", run, fresh(work / "state"))]
    if not args.skip_urlwatch:
        uw = urlwatch_python()
        (work / "urls.yaml").write_text(urlwatch_jobs(items))
        (work / "urlwatch.yaml").write_text(URLWATCH_CONFIG)
        command = [
            str(uw),
            "--urls",
            str(work / "urls.yaml"),
            "--config",
            str(work / "urlwatch.yaml"),
            "--cache",
            str(work / "cache.db"),
            "--hooks",
            str(work / "hooks.py"),
        ]
        tools.append(Tool("urlwatch", command, fresh(work / "cache.db")))
    results = phases(tools, content, items, env, work, args.repeats)

    for tool, measured in results.items():
        print(tool)
        for label, m in measured.items():
            print(row(label, m))
    print("\nwatcher's CPU by phase, seconds (its own clocks: `watcher run --timings`)")
    for label, m in results["watcher"].items():
        if m.split:
            print(split_row(label, m))
    if "urlwatch" in results:
        print("\nwatcher / urlwatch")
        for label in results["watcher"]:
            w, u = results["watcher"][label], results["urlwatch"][label]
            print(
                f"  {label:<26} wall {w.wall / u.wall:5.2f}  CPU {w.cpu / u.cpu:5.2f}  "
                f"RSS {w.rss_mb / u.rss_mb:5.2f}  requests {w.requests / max(1, u.requests):5.2f}"
                f"  bytes {w.bytes / max(1, u.bytes):5.2f}"
            )

    # memory by number of sources: a first run's peak should not grow with them
    sizes = [int(n) for n in args.memory_sizes.split(",") if n.strip()]
    if sizes:
        print("\nwatcher's first run by number of sources (peak RSS, CPU; median of 3)")
    for size in sizes:
        sized = Path(tempfile.mkdtemp(prefix="watcher-sized-"))
        (sized / "watcher.yaml").write_text(watcher_config(sources(size, bases)))
        command = [
            str(WATCHER_VENV / "bin" / "watcher"),
            "--config",
            str(sized / "watcher.yaml"),
            "--state-dir",
            str(sized / "state"),
            "run",
        ]
        firsts = []
        for _ in range(3):
            shutil.rmtree(sized / "state", ignore_errors=True)
            firsts.append(measure(command, content, env, sized))
        m = median_of(firsts)
        print(f"  {size:5d} sources            {m.rss_mb:7.1f} MB {m.cpu:7.2f} s CPU")
        shutil.rmtree(sized, ignore_errors=True)

    # start-up
    help_runs = [measure([*watcher, "--help"], content, env, work) for _ in range(10)]
    quiet = Path(tempfile.mkdtemp(prefix="watcher-quiet-"))
    (quiet / "watcher.yaml").write_text(watcher_config(items[:20], extra=", every: 1d"))
    quiet_cmd = [
        str(WATCHER_VENV / "bin" / "python"),
        "-m",
        "watcher",
        "--config",
        str(quiet / "watcher.yaml"),
        "--state-dir",
        str(quiet / "state"),
        "run",
    ]
    measure(quiet_cmd, content, env, quiet)
    idle = [measure(quiet_cmd, content, env, quiet) for _ in range(10)]
    steady = results["watcher"]["steady, nothing changed"]
    # the CPU an unchanged source adds: steady runs with a tenth of the sources and with all
    few = items[: max(1, args.sources // 10)]
    small = Path(tempfile.mkdtemp(prefix="watcher-small-"))
    (small / "watcher.yaml").write_text(watcher_config(few))
    small_cmd = [
        str(WATCHER_VENV / "bin" / "python"),
        "-m",
        "watcher",
        "--config",
        str(small / "watcher.yaml"),
        "--state-dir",
        str(small / "state"),
        "run",
    ]
    for _ in range(3):
        measure(small_cmd, content, env, small)
    small_cpu = median_of(
        [measure(small_cmd, content, env, small) for _ in range(args.repeats)]
    ).cpu
    marginal = (steady.cpu - small_cpu) / max(1, args.sources - len(few))
    shutil.rmtree(small, ignore_errors=True)
    print("\nwatcher start-up (median of 10)")
    print(f"  watcher --help             {median_of(help_runs).wall * 1000:7.0f} ms wall")
    print(
        f"  run with nothing due       {median_of(idle).wall * 1000:7.0f} ms wall "
        f"({median_of(idle).requests} requests)"
    )
    print(
        f"  CPU per unchanged source   {marginal * 1000:7.2f} ms (a steady run of "
        f"{args.sources} sources against one of {len(few)}; the whole run / "
        f"{args.sources}: {steady.cpu / args.sources * 1000:.2f} ms)"
    )

    # back-fill
    if args.backfill:
        fill = Path(tempfile.mkdtemp(prefix="watcher-backfill-"))
        (fill / "watcher.yaml").write_text(
            'slack: {channel: "#t"}\nsources:\n'
            f"  - {{name: fr-bulk, kind: federal_register, url: '{bases[0]}/bulk/api/v1', "
            "match: ['adjusting imports']}\n"
        )
        command = [
            str(WATCHER_VENV / "bin" / "python"),
            "-m",
            "watcher",
            "--config",
            str(fill / "watcher.yaml"),
            "--state-dir",
            str(fill / "state"),
            "backfill",
            "fr-bulk",
            "--since",
            "2025-01-01",
            "--until",
            "2025-12-31",
        ]
        m = measure(command, content, env, fill)
        print(f"\nback-fill of {args.backfill} Federal Register documents (date windows)")
        print(row("watcher backfill", m))
        shutil.rmtree(fill, ignore_errors=True)
    shutil.rmtree(quiet, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Soak test: hundreds of `watcher run` cycles against loopback servers, with random source
faults, random Slack faults and random kills, then a count of every alert.

    python bench/soak.py --cycles 300

Each cycle publishes a few new relevant Federal Register documents (and some irrelevant
ones), may break the Federal Register for that cycle, may make Slack fail some posts, runs
`python -m watcher run` in a child process and may SIGKILL it at a random moment. At the end
faults stop and runs continue until the outbox is empty; then every expected alert is
counted in what the loopback Slack accepted: delivered once, lost, or duplicated. A duplicate
is only possible when a kill lands between Slack accepting a message and the state recording
it (the window README.md describes); the figures say how often that happened.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_httpserver import HTTPServer  # noqa: E402
from werkzeug import Request, Response  # noqa: E402

from tests.fakes import FakeFederalRegister, FakeSlack  # noqa: E402

CONFIG = """\
slack:
  channel: "#trade-alerts"
  digest_threshold: 4
  timeout: 2
http:
  per_host_interval: 0
  attempts: 2
  retry_budget: 3
  timeout: 2
  connect_timeout: 1
sources:
  - name: fr
    kind: federal_register
    url: {url}
    match: [adjusting imports]
"""


class FaultySlack:
    """The loopback Slack, failing a random share of posts in the ways Slack does."""

    def __init__(self, slack: FakeSlack, rng: random.Random):
        self.slack = slack
        self.rng = rng
        self.rate = 0.0
        self.faults: Counter[str] = Counter()
        original = slack._post

        def handler(request: Request) -> Response:
            if self.rng.random() < self.rate:
                kind = self.rng.choice(["500", "503", "ratelimited", "slow", "reset"])
                self.faults[f"slack {kind}"] += 1
                if kind == "ratelimited":
                    return Response(
                        json.dumps({"ok": False, "error": "ratelimited"}),
                        status=429,
                        headers={"Retry-After": "0"},
                        content_type="application/json",
                    )
                if kind == "slow":
                    time.sleep(2.5)  # longer than slack.timeout: the client gives up
                    return Response("late", status=503)
                if kind == "reset":
                    return Response("", status=502)
                return Response("oops", status=int(kind))
            return original(request)

        slack.server.clear()
        slack.server.expect_request("/api/chat.postMessage", method="POST").respond_with_handler(
            handler
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--kill-rate", type=float, default=0.2)
    parser.add_argument("--source-fault-rate", type=float, default=0.15)
    parser.add_argument("--slack-fault-rate", type=float, default=0.15)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    source_server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    slack_server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    source_server.start()
    slack_server.start()
    fr = FakeFederalRegister(source_server)
    slack = FakeSlack(slack_server)
    faulty = FaultySlack(slack, rng)
    work = Path(tempfile.mkdtemp(prefix="watcher-soak-"))
    (work / "sources.yaml").write_text(CONFIG.format(url=fr.url))
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-soak",
        "SLACK_API_URL": slack.url,
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "watcher",
        "--config",
        str(work / "sources.yaml"),
        "--state-dir",
        str(work / "state"),
        "run",
    ]

    expected: list[str] = []
    faults: Counter[str] = Counter()
    exits: Counter[int] = Counter()
    day = 0
    serial = 0
    fr.add(
        {
            "document_number": "2025-00000",
            "title": "Fisheries",
            "type": "Notice",
            "publication_date": "2025-01-01",
            "html_url": "https://example.gov/0",
        }
    )
    started = time.monotonic()
    for cycle in range(args.cycles):
        day += 1 if rng.random() < 0.5 else 0
        date = f"2025-{1 + day // 28:02d}-{1 + day % 28:02d}"
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            serial += 1
            number = f"2025-{serial:05d}"
            relevant = rng.random() < 0.7
            title = f"Adjusting Imports of Article {serial}" if relevant else f"Notice {serial}"
            fr.add(
                {
                    "document_number": number,
                    "title": title,
                    "type": "Notice",
                    "publication_date": date,
                    "html_url": f"https://example.gov/{number}",
                }
            )
            if relevant and cycle > 0:  # the first run is a baseline
                expected.append(number)
        fr.status = None
        fr.throttled = False
        if cycle > 0 and rng.random() < args.source_fault_rate:
            if rng.random() < 0.5:
                fr.status = rng.choice([500, 502, 503, 403])
                faults[f"source HTTP {fr.status}"] += 1
            else:
                fr.throttled = True
                faults["source throttled (HTML, status 200)"] += 1
        faulty.rate = args.slack_fault_rate
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if rng.random() < args.kill_rate:
            time.sleep(rng.uniform(0.0, 1.5))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                faults["kill -9 during a run"] += 1
        exits[process.wait()] += 1

    # faults stop; runs go on until everything is delivered
    fr.status = None
    fr.throttled = False
    faulty.rate = 0.0
    settle_runs = 0
    while settle_runs < 20:
        settle_runs += 1
        if subprocess.run(command, env=env, capture_output=True).returncode == 0:
            status = subprocess.run(
                [*command[:-1], "status", "--json"], env=env, capture_output=True, text=True
            )
            if json.loads(status.stdout)["alerts"]["pending"] == 0:
                break
    elapsed = time.monotonic() - started

    # one message per alert; digests only list them (their details are replies, counted)
    items = [
        json.dumps(m)
        for m in slack.messages
        if "trade alerts from watcher" not in json.dumps(m.get("blocks", [])[:1])
    ]
    counts = {n: sum(1 for m in items if n in m) for n in expected}
    delivered = sum(1 for c in counts.values() if c >= 1)
    lost = sum(1 for c in counts.values() if c == 0)
    duplicated = sum(1 for c in counts.values() if c > 1)
    faults.update(faulty.faults)

    print(f"cycles:                  {args.cycles} (+{settle_runs} to drain), {elapsed:.0f} s")
    print(f"alerts expected:         {len(expected)}")
    print(f"alerts delivered:        {delivered}")
    print(f"alerts lost:             {lost}")
    print(f"alerts duplicated:       {duplicated}")
    print(f"faults injected:         {sum(faults.values())}")
    for name, count in sorted(faults.items()):
        print(f"  {name:<35} {count}")
    print(f"run exit codes:          {dict(sorted(exits.items()))}")
    source_server.stop()
    slack_server.stop()
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()

"""Peak memory of `watcher check` on hostile or huge inputs, each in a child process.

    python bench/parse_memory.py

A loopback server serves: a 20 MB page whose watched list is small (the rest is markup a
page could carry), 10 MB of nested <div>s, a page listing 100,000 entries, a 15 MB feed of
90,000 entries, and for reference an ordinary page and feed. For each, the peak RSS of the
child (as /usr/bin/time reports it), its wall and CPU time, and how the check ended. These
figures set the memory limits of deploy/kubernetes/cronjob.yaml and docker-compose.yml (with
a margin).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bodies() -> dict[str, tuple[bytes, str]]:
    filler = b"<div class='x'><p>Lorem ipsum dolor sit amet <a href='/a'>link</a></p></div>"
    entries = b"".join(b"<li><a href='/e%d'>Entry %d</a></li>" % (n, n) for n in range(500))
    big = (
        b"<html><body><main><ul>"
        + entries
        + b"</ul></main><footer>"
        + filler * (20_000_000 // len(filler))
        + b"</footer></body></html>"
    )
    last = (
        b"<html><body><div>"
        + filler * (20_000_000 // len(filler))
        + b"</div><main><ul>"
        + entries
        + b"</ul></main></body></html>"
    )
    huge_part = b"<html><body><main>" + filler * (20_000_000 // len(filler)) + b"</main>"
    nested = b"<html><body><main>" + b"<div>" * 2_000_000 + b"</div>" * 2_000_000 + b"</main>"
    many = (
        b"<html><body><main><ul>"
        + b"".join(b"<li><a href='/e%d'>Entry %d</a></li>" % (n, n) for n in range(100_000))
        + b"</ul></main></body></html>"
    )
    item = b"<item><title>Entry %d with a title of ordinary length</title><guid>%d</guid></item>"
    feed = b"".join(item % (n, n) for n in range(90_000))
    ordinary_feed = b"".join(item % (n, n) for n in range(50))
    html = "text/html; charset=utf-8"
    rss = "application/rss+xml"
    wrap = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>%s</channel></rss>'
    return {
        "/page-20mb": (big, html),
        "/page-20mb-list-last": (last, html),
        "/page-20mb-all-part": (huge_part, html),
        "/nested-10mb": (nested[:10_000_000] + b"</main></body></html>", html),
        "/page-100k-entries": (many, html),
        "/feed-90k-entries": (wrap % feed, rss),
        "/ordinary-page": (b"<html><body><main><ul>" + entries + b"</ul></main></body>", html),
        "/ordinary-feed": (wrap % ordinary_feed, rss),
    }


def serve(content: dict[str, tuple[bytes, str]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = content[self.path]
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    content = bodies()
    server = serve(content)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print("peak memory of one `watcher check`, each in its own process\n")
    print(f"{'input':<22}{'size':>9}{'peak RSS':>11}{'wall':>8}{'CPU':>8}  outcome")
    for path, (body, kind) in content.items():
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "sources.yaml"
            source = (
                f"  - name: s\n    kind: page\n    url: {base}{path}\n"
                "    selector: main\n    item_selector: li\n"
                if kind.startswith("text/html")
                else f"  - name: s\n    kind: feed\n    url: {base}{path}\n"
            )
            config.write_text(
                'slack: {channel: "#t"}\nhttp: {max_bytes: 30000000}\nsources:\n' + source
            )
            report = Path(tmp) / "time"
            started = time.monotonic()
            process = subprocess.run(
                [
                    "/usr/bin/time",
                    "-f",
                    "%M %U %S",
                    "-o",
                    str(report),
                    sys.executable,
                    "-m",
                    "watcher",
                    "--config",
                    str(config),
                    "--state-dir",
                    str(Path(tmp) / "state"),
                    "check",
                    "s",
                ],
                capture_output=True,
                text=True,
                env={**os.environ, "SLACK_BOT_TOKEN": ""},
                check=False,
            )
            wall = time.monotonic() - started
            peak_kb, user, system = report.read_text().split()[-3:]
            cpu = float(user) + float(system)
            line = next(
                (x for x in process.stderr.splitlines() if x.startswith("s: ")), "?"
            ).removeprefix("s: ")
            print(
                f"{path.strip('/'):<22}{len(body) / 1e6:>7.1f}MB{int(peak_kb) / 1024:>9.1f}MB"
                f"{wall:>7.2f}s{cpu:>7.2f}s  {line[:90]}"
            )
    server.shutdown()


if __name__ == "__main__":
    main()

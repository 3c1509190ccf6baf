"""Where a run's CPU goes: `watcher run` against the benchmark's loopback sources, for one
phase, sampled by py-spy across every thread (cProfile sees only the main thread, and counts
its waits for the GIL as work).

    python bench/profile_run.py --phase first      # the first run (baselines)
    python bench/profile_run.py --phase steady     # nothing changed
    python bench/profile_run.py --phase changed    # 5% of the sources changed

Prints the functions with the most samples of their own and the most samples in all (py-spy
is installed on demand: `pip install py-spy`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench import Content, sources, start_servers, watcher_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", choices=["first", "steady", "changed"], default="steady")
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    content = Content(0)
    bases = start_servers(content, 11, args.latency)
    items = sources(args.sources, bases)
    work = Path(tempfile.mkdtemp(prefix="watcher-profile-"))
    (work / "sources.yaml").write_text(watcher_config(items))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WATCHER_"))}
    compiling = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "watcher")], check=True, env=compiling
    )
    command = [sys.executable, "-m", "watcher", "--config", "sources.yaml", "--state-dir", "state"]
    profile = work / "run.txt"
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
    profiled = [str(spy), "record", "--rate", "1000", "--format", "raw", "--threads",
                "--nonblocking", "-o", str(profile), "--", *command, "run"]  # fmt: skip
    if args.phase != "first":
        subprocess.run([*command, "run"], cwd=work, env=env, capture_output=True, check=False)
        subprocess.run([*command, "run"], cwd=work, env=env, capture_output=True, check=False)
    if args.phase == "changed":
        content.bump([s.key for s in items[::20]])
    subprocess.run(profiled, cwd=work, env=env, capture_output=True, check=False)
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if not f.startswith("thread ")]
        if not frames:
            continue
        n = int(count)
        samples += n
        own[_short(frames[-1])] += n
        for name in {_short(f) for f in frames}:
            total[name] += n
    print(f"{samples} samples ({args.phase} run, every thread)\n")
    for title, counter in (("own", own), ("in all", total)):
        print(f"most samples {title}:")
        for name, n in counter.most_common(args.top):
            print(f"  {n / samples:6.1%}  {name}")
        print()


def _short(frame: str) -> str:
    """ "parse (feedparser/api.py:216)" without the site-packages prefix."""
    return frame.replace(str(ROOT) + "/", "").split("site-packages/")[-1]


if __name__ == "__main__":
    main()

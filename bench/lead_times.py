"""How long before the Federal Register watcher tells of a trade action: the 2025-2026
Section 232 and reciprocal-tariff actions replayed through the White House feed, the public
inspection desk and the Federal Register (loopback servers, the shipped sources.yaml), and
the lead each action's story records.

    python bench/lead_times.py

The dates are the Federal Register's record; the times of day are assumptions (see
tests/leadreplay.py): the figures show what watcher computes from them, the same way it
computes them from the live feeds.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from tests.leadreplay import actions, replay

    chosen = actions()
    with tempfile.TemporaryDirectory() as scratch:
        outcomes = replay(Path(scratch), chosen)
    print(f"{len(chosen)} actions of 2025-2026, each through 3 sources\n")
    header = (
        f"{'action':<22} {'signed':<11} {'published':<11} {'stages':>6} "
        f"{'White House':>12} {'desk':>7}"
    )
    print(header)
    print("-" * len(header))
    wh, desk, wrong = [], [], 0
    for outcome in outcomes:
        action = outcome.action
        desk_lead = action.lead_hours(action.filed)
        lead = outcome.lead_hours
        wrong += outcome.stories != 1 or len(outcome.sources) != 3
        wh.append(lead or 0.0)
        desk.append(desk_lead)
        print(
            f"{action.name:<22} {action.signed.isoformat():<11} {action.published.isoformat():<11}"
            f" {len(outcome.sources):>6} {lead if lead is not None else '-':>11}h {desk_lead:>6}h"
        )
    print()
    for what, leads in (("White House feed", wh), ("public inspection", desk)):
        print(
            f"lead over the Federal Register, {what}: median {statistics.median(leads):.1f} h, "
            f"range {min(leads):.1f}-{max(leads):.1f} h"
        )
    print(f"actions not told as one story of three stages: {wrong}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())

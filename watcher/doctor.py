"""`watcher doctor`: after deploying, is everything in place? The Slack setup (see
`slackcheck.py`) and every source fetched once: reachable, parsed, how many items, the newest.
Pure: findings in, a verdict and a table out; the command does the fetching."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watcher.probe import Probe
from watcher.slackcheck import Finding
from watcher.wording import clip

NO_TOKEN = Finding(
    "token",
    False,
    "no SLACK_BOT_TOKEN (nor SLACK_BOT_TOKEN_FILE): alerts would print to standard output",
    "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (README: Slack setup)",
)


def source_finding(result: Probe, noun: tuple[str, str]) -> Finding:
    """What a source's probe says about it, with the fix when it failed."""
    name = result.source.name
    if result.error is not None or result.snapshot is None:
        return Finding(
            name,
            False,
            result.error or "no answer",
            f"`watcher inspect {name}` shows what it holds; correct its url, selector or "
            "options in the configuration",
        )
    items = result.snapshot.items
    count = f"{len(items):,} {noun[0] if len(items) == 1 else noun[1]}"
    detail = f"{count} in {result.seconds:.1f}s"
    dated = [i for i in items if i.published_on]
    if dated:
        newest = max(dated, key=lambda i: i.published_on or "")
        detail += f"; newest {(newest.published_on or '')[:10]}: {clip(newest.title, 70)}"
    elif items:  # a page's entries carry no dates: its first one shows it parsed right
        detail += f"; first: {clip(items[0].title, 70)}"
    return Finding(name, True, detail)


@dataclass(frozen=True)
class Checkup:
    slack: tuple[Finding, ...]
    sources: tuple[Finding, ...]

    @property
    def to_fix(self) -> int:
        return sum(1 for f in (*self.slack, *self.sources) if f.ok is False)

    @property
    def unchecked(self) -> int:
        return sum(1 for f in (*self.slack, *self.sources) if f.ok is None)

    def as_dict(self) -> dict[str, Any]:
        def rows(findings: Sequence[Finding]) -> list[Mapping[str, Any]]:
            return [
                {"what": f.what, "ok": f.ok, "detail": f.detail, "fix": f.fix or None}
                for f in findings
            ]

        return {
            "ok": self.to_fix == 0,
            "to_fix": self.to_fix,
            "slack": rows(self.slack),
            "sources": rows(self.sources),
        }


def render_checkup(checkup: Checkup) -> str:
    """The checkup as a table: one line per check, its fix under it."""
    width = max((len(f.what) for f in (*checkup.slack, *checkup.sources)), default=10)
    lines: list[str] = []
    for title, findings in (("Slack", checkup.slack), ("Sources", checkup.sources)):
        if not findings:
            continue
        lines.append(title)
        for finding in findings:
            mark = {True: "ok", False: "FIX", None: "?"}[finding.ok]
            lines.append(f"  {mark:<4} {finding.what:<{width}}  {finding.detail}")
            if finding.fix and finding.ok is not True:
                lines.append(f"  {'':<4} {'':<{width}}  -> {finding.fix}")
        lines.append("")
    if checkup.to_fix:
        lines.append(
            f"{checkup.to_fix} thing{'s' if checkup.to_fix != 1 else ''} to fix before "
            "watcher can be trusted"
        )
    else:
        lines.append("everything checked is in place")
    if checkup.unchecked:
        lines[-1] += f" ({checkup.unchecked} could not be checked: see '?' above)"
    return "\n".join(lines)

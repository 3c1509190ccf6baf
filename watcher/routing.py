"""Which channel an alert goes to, and who is mentioned: the `slack.routes` rules. Pure.

Routes are tried in order; the first whose conditions all hold decides the channel (when it
names one) and the mention (when it names one). Conditions:
  source:         the alert's source is one of these names
  kind:           the source's kind is one of these
  instrument:     proclamation, executive order, memorandum, presidential document, notice,
                  rule, proposed rule, list, ...
  event:          new, filed, published, withdrawn, correction, changed, removed,
                  list_changed, reminder
  matched:        one of these phrases is among the terms that matched, or in the title
  special_filing: the document is a public inspection special filing (true/false)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from watcher.instrument import instrument_type
from watcher.match import Phrase, compile_phrases, normalise_text
from watcher.models import Alert, AlertEvent

_MENTION = re.compile(r"^<(?:!here|!channel|!everyone|!subteam\^[A-Z0-9]+|@[UW][A-Z0-9]+)>$")


def slack_mention(text: str) -> str:
    """`@here`, `subteam:S0123ABC`, `user:U0123ABC`, or Slack's own `<!subteam^S0123ABC>`."""
    text = text.strip()
    if _MENTION.match(text):
        return text
    friendly = {"@here": "<!here>", "@channel": "<!channel>"}
    if text in friendly:
        return friendly[text]
    kind, _, ident = text.partition(":")
    if kind in ("subteam", "usergroup") and re.fullmatch(r"S[A-Z0-9]+", ident):
        return f"<!subteam^{ident}>"
    if kind == "user" and re.fullmatch(r"[UW][A-Z0-9]+", ident):
        return f"<@{ident}>"
    raise ValueError(
        f"{text!r} is not a mention Slack understands; write @here, subteam:S0123ABC (a user "
        "group ID), user:U0123ABC, or <!subteam^S0123ABC>"
    )


@dataclass(frozen=True)
class Route:
    """One routing rule, validated."""

    sources: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    instruments: frozenset[str] = frozenset()
    events: frozenset[AlertEvent] = frozenset()
    matched: tuple[Phrase, ...] = ()
    special_filing: bool | None = None
    watchlist: bool | None = None
    channel: str | None = None
    mention: str | None = None
    broadcast: bool = False

    def applies(self, alert: Alert) -> bool:
        if self.sources and alert.source not in self.sources:
            return False
        if self.kinds and alert.source_kind not in self.kinds:
            return False
        if self.instruments and instrument_type(alert) not in self.instruments:
            return False
        if self.events and alert.event not in self.events:
            return False
        if self.matched:
            terms = {normalise_text(t).casefold() for t in alert.matched}
            title = normalise_text(alert.title)
            if not any(p.text.casefold() in terms or p.found_in(title) for p in self.matched):
                return False
        if self.special_filing is not None:
            special = alert.item is not None and alert.item.special
            if special is not self.special_filing:
                return False
        return self.watchlist is None or bool(alert.touches) is self.watchlist


def compile_route(spec: Mapping[str, Any]) -> Route:
    """The Route a validated route spec describes: `{when: {...}, channel, mention}`."""
    when = spec.get("when", {})
    return Route(
        sources=frozenset(when.get("source", ())),
        kinds=frozenset(when.get("kind", ())),
        instruments=frozenset(i.strip().casefold() for i in when.get("instrument", ())),
        events=frozenset(AlertEvent(e) for e in when.get("event", ())),
        matched=compile_phrases(when.get("matched", ())),
        special_filing=when.get("special_filing"),
        watchlist=when.get("watchlist"),
        channel=spec.get("channel"),
        mention=spec.get("mention"),
        broadcast=bool(spec.get("broadcast")),
    )


def route(alert: Alert, routes: Sequence[Route]) -> Alert:
    """The alert with the channel and mention of the first route that applies."""
    for rule in routes:
        if rule.applies(alert):
            return replace(
                alert,
                channel=rule.channel or alert.channel,
                mention=rule.mention or alert.mention,
                broadcast=rule.broadcast or alert.broadcast,
            )
    return alert

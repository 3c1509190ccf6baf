"""The link phase of a run: a source's decided alerts placed in their stories, against the
stories the state holds (`linking.py` decides; this module reads the state for it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from watcher.models import STORY_EVENTS, Alert
from watcher.routing import Route, route
from watcher.sources.base import SourceKind
from watcher.store import Store, iso

if TYPE_CHECKING:
    from watcher.linking import Placement

# The decisions (`linking`, `stories`) are loaded only when an alert tells a story: a first
# run's lines, one per source, tell none, and loading them cost it ~20 ms.

# Stories whose last stage is older than this are not looked at: an action's stages, its
# guidance and the later actions on it come within two years.
STORY_MEMORY = timedelta(days=800)


def link_alerts(
    store: Store,
    kind: SourceKind,
    alerts: Sequence[Alert],
    now: datetime,
    routes: Sequence[Route] = (),
    mention: str | None = None,
) -> tuple[tuple[Alert, ...], list[Placement | None]]:
    """The alerts as they will be sent (threaded in their stories, then routed: a route sees
    a publication as the publication it is, and the watchlist a story touched as touched), and
    their placements (none when no alert tells a story)."""
    if not any(a.event in STORY_EVENTS for a in alerts):
        return tuple(route(a, routes) for a in alerts), []
    from watcher.linking import Incoming, link_all, stage_at
    from watcher.stories import stage_time

    role = kind.role.value if kind.role else None
    incoming = [
        Incoming(
            alert=alert,
            own_key=kind.thread_key(alert.source, alert.item_key)
            if alert.item_key
            else alert.thread_key,
            role=role,
            at=stage_at(stage_time(alert.item, role, now)),
        )
        for alert in alerts
    ]
    placed, _ = link_all(incoming, store.stories.load(since=iso(now - STORY_MEMORY)))
    placements = [_routed(p, routes, mention) for p in placed]
    sent = tuple(
        p.alert if p is not None else route(a, routes)
        for p, a in zip(placements, alerts, strict=True)
    )
    return sent, placements


def _routed(
    placement: Placement | None, routes: Sequence[Route], mention: str | None
) -> Placement | None:
    if placement is None:
        return None
    alert = placement.alert
    if alert.touches and mention and not alert.touches_mention:
        alert = replace(alert, touches_mention=mention)  # the story touched it before
    alert = route(alert, routes)
    stage = replace(placement.stage, channel=alert.channel)
    return replace(placement, alert=alert, stage=stage)


def pointers(placements: Sequence[Placement | None]) -> list[Alert]:
    """The short replies the placements add in other stories' threads."""
    return [alert for p in placements if p is not None for _, alert in p.pointers]

"""Fetching sources once, as their first check would, without state: for `watcher inspect`
and `watcher doctor`, which show what a source holds and record nothing.

A probe uses the run's own machinery (the same fetcher, deadlines and worker threads), so
what it shows is what a run would see, except that no validators are sent (a 304 would show
nothing) and no cursor narrows the query (a Federal Register source reads its first check's
`lookback_days`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from watcher.errors import SourceError
from watcher.fetching import Fetching, GaveUp, TextsRead
from watcher.http import Fetcher
from watcher.models import Snapshot, SourceMemory
from watcher.settings import Config, SourceConfig
from watcher.sources import Registry


@dataclass(frozen=True)
class Probe:
    """One source fetched and parsed: its snapshot, or why not."""

    source: SourceConfig
    seconds: float
    requests: int
    snapshot: Snapshot | None = None
    error: str | None = None


def probe(config: Config, sources: Sequence[SourceConfig], registry: Registry) -> Iterator[Probe]:
    """Each source's check, as it finishes."""
    if not sources:
        return
    with Fetcher(config.http) as fetcher:
        fetching = Fetching(
            fetcher,
            sources,
            {s.name: SourceMemory() for s in sources},
            registry,
            config.limits,
            everyone=sources,
            settled=lambda name: True,  # nothing is decided: no source waits for another
            concurrency=config.http.concurrency,
        )
        try:
            for event in fetching.events():
                if isinstance(event, TextsRead):  # pragma: no cover - a probe reads no texts
                    continue
                requests = event.fetcher.requests
                if isinstance(event, GaveUp):
                    yield Probe(event.source, 0.0, requests, error=event.reason)
                elif event.error is not None:
                    yield Probe(
                        event.source, event.seconds, requests, error=_described(event.error)
                    )
                else:
                    yield Probe(event.source, event.seconds, requests, snapshot=event.snapshot)
        finally:
            fetching.close()


def _described(error: BaseException) -> str:
    if isinstance(error, SourceError):
        return str(error)
    return f"unexpected {type(error).__name__}: {error}"

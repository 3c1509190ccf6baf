"""The settings the rest of the program runs on: frozen values, validated before they get here.

A leaf of the import graph: `config` builds these from sources.yaml, and every other module
reads them. Nothing here knows about source kinds beyond the base of their options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from watcher import USER_AGENT
from watcher.match import RuleSet
from watcher.routing import Route

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from watcher.watchlist import Watchlist


@dataclass(frozen=True)
class KindOptions:
    """Base of every kind's options: a frozen dataclass, validated from the YAML by pydantic
    (number bounds as `watcher.bounds.Bounds`; unknown keys are errors), and rebuilt from the
    validated configuration's snapshot without pydantic."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012 - read by pydantic, never changed

    def problems(self) -> list[tuple[str, str]]:
        """(key, message) for what the types cannot say (checked whenever the configuration
        is validated)."""
        return []

    def deep_problems(self) -> list[tuple[str, str]]:
        """(key, message) for problems too costly to look for on every run (a CSS selector's
        syntax): `watcher validate` looks for them; a run meets them as a source error."""
        return []


@dataclass(frozen=True)
class HttpSettings:
    """How watcher talks HTTP: timeouts, limits, politeness."""

    timeout: float = 30.0  # seconds to wait for each read
    connect_timeout: float = 10.0
    # Seconds one request may take in all: connect, every read, redirects, retries and the
    # waits between them. A server that answers one byte at a time loses the race.
    deadline: float = 120.0
    max_bytes: int = 20_000_000
    attempts: int = 4
    retry_budget: float = 90.0  # seconds one request may spend retrying, all attempts together
    retry_wait: float = 0.5  # seconds before the first retry; doubles after each (with jitter)
    max_redirects: int = 5
    concurrency: int = 64  # requests in flight in all (sources on many hosts at once)
    per_host: int = 8  # requests in flight to one host
    # Seconds between the starts of two requests to one host, for every host. Kinds may ask
    # for more on their own hosts (the Federal Register's `request_interval`).
    per_host_interval: float = 0.0
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class SlackSettings:
    """Where alerts go and how they are grouped."""

    channel: str
    routes: tuple[Route, ...] = ()
    digest_threshold: int = 5  # more alerts than this for one channel in one run: a digest
    flood_cap: int = 50  # full alerts in a digest's thread; the rest listed in one message
    reminders: tuple[int, ...] = (7, 1)  # days before a comment deadline or effective date
    workspace_url: str | None = None  # https://acme.slack.com, for message links in history
    ops_channel: str | None = None  # where health notices go (default: channel)
    timeout: float = 30.0  # seconds to wait for Slack's answer
    retries: int = 2  # more tries after a rate limit, a 5xx or a dropped connection
    retry_wait: float = 0.5  # seconds before the first retry (Slack's Retry-After wins)
    allowed_users: frozenset[str] = frozenset()  # who may use /watcher (empty: anyone)
    allowed_channels: frozenset[str] = frozenset()  # where /watcher may be used (empty: anywhere)

    @property
    def operations(self) -> str:
        return self.ops_channel or self.channel


@dataclass(frozen=True)
class HealthSettings:
    failures_before_notice: int = 3


@dataclass(frozen=True)
class ScheduleSettings:
    """How `watcher schedule` paces sources that do not say, and the zone of cron times."""

    timezone: str = "America/New_York"
    every: timedelta = timedelta(minutes=15)

    @property
    def zone(self) -> ZoneInfo:
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class LimitSettings:
    """How long things may take, and how big they may be, before watcher gives up on them."""

    check_deadline: float = 300.0  # seconds for one source's check, full texts included
    run_deadline: float = 900.0  # seconds for a whole run; what is not done waits for the next
    state_wait: float = 15.0  # seconds a write waits for another process's lock on the state
    # Entries a page's list or a feed may have (lines, for a page watched as text): more is
    # an error that says so, never a silent cut that would read as "removed".
    max_entries: int = 10_000


@dataclass(frozen=True)
class SourceConfig:
    """One configured source, validated. `options` is the kind's own options (a frozen
    dataclass)."""

    name: str
    kind: str
    url: str
    channel: str
    rules: RuleSet
    options: KindOptions
    every: timedelta | None = None
    enabled: bool = True
    label: str | None = None  # a human name for messages ("USGS critical minerals list")
    expect: timedelta | None = None  # a notice when nothing changed for this long
    crons: tuple[str, ...] = ()  # times to check, as cron expressions in schedule.timezone
    # Hosts besides the source's own that URLs found in its content may be fetched from.
    fetch_hosts: frozenset[str] = frozenset()
    max_entries: int = LimitSettings.max_entries  # limits.max_entries, or the source's own
    # Entries dated longer ago than this are recorded, never announced (a feed whose order is
    # not chronological, or that republishes an old post).
    max_age: timedelta | None = None


@dataclass(frozen=True)
class Config:
    path: Path
    slack: SlackSettings
    http: HttpSettings
    sources: tuple[SourceConfig, ...] = field(default_factory=tuple)
    health: HealthSettings = field(default_factory=HealthSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    watchlist: Watchlist | None = None  # what the team trades, checked against every alert

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sources)

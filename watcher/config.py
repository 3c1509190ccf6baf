"""The configuration: frozen settings for the rest of the program, and how they are loaded.

`load_config` reads sources.yaml; `config_schema` checks it (pydantic) into a spec of plain
values, and `assemble` builds the settings from that spec. A state directory remembers the
spec of the file last checked (`config_cache`), so a run with an unchanged file skips the
checking, and pydantic, altogether.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from watcher import HOMEPAGE, __version__
from watcher.durations import parse_duration
from watcher.errors import ConfigError, Problem
from watcher.match import RuleSet, compile_rule
from watcher.routing import Route, compile_route

if TYPE_CHECKING:
    from watcher.sources.base import KindOptions

# ---------------------------------------------------------------------------------------------
# Settings handed to the rest of the program


@dataclass(frozen=True)
class HttpSettings:
    """How watcher talks HTTP: timeouts, limits, politeness."""

    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_bytes: int = 20_000_000
    attempts: int = 4
    retry_budget: float = 90.0  # seconds one request may spend retrying, all attempts together
    max_redirects: int = 5
    concurrency: int = 64  # requests in flight in all (sources on many hosts at once)
    per_host: int = 8  # requests in flight to one host
    # Seconds between the starts of two requests to one host, for every host. Kinds add
    # their own: the Federal Register asks for no more than about 5 requests a second, so its
    # kinds keep 0.2 s between requests to its host whatever this says.
    per_host_interval: float = 0.0
    user_agent: str = f"watcher/{__version__} (+{HOMEPAGE})"


@dataclass(frozen=True)
class SlackSettings:
    """Where alerts go and how they are grouped."""

    channel: str
    routes: tuple[Route, ...] = ()
    digest_threshold: int = 5  # more alerts than this for one channel in one run: a digest
    reminders: tuple[int, ...] = (7, 1)  # days before a comment deadline or effective date
    workspace_url: str | None = None  # https://acme.slack.com, for message links in history
    ops_channel: str | None = None  # where health notices go (default: channel)
    timeout: int = 30  # seconds to wait for Slack's answer
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
        return ZoneInfo(self.timezone)


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


@dataclass(frozen=True)
class Config:
    path: Path
    slack: SlackSettings
    http: HttpSettings
    sources: tuple[SourceConfig, ...] = field(default_factory=tuple)
    health: HealthSettings = field(default_factory=HealthSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sources)


# ---------------------------------------------------------------------------------------------
# Loading


def load_config(path: Path, *, deep: bool = False, cache_dir: Path | None = None) -> Config:
    """Read and validate a configuration file; raise ConfigError listing every problem.

    `deep` also runs the checks too slow for every run (CSS selector syntax), as
    `watcher validate` does. With `cache_dir` (the state directory), a file byte for byte the
    one validated last time is built from the remembered spec instead of checked again."""
    from watcher import config_cache

    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem(str(path), "no such file (pass --config PATH or set WATCHER_CONFIG)")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), f"cannot read: {exc}")]) from None
    digest = hashlib.sha256(raw).hexdigest()
    if cache_dir is not None and not deep:
        spec = config_cache.read(cache_dir, digest)
        if spec is not None:
            try:
                return assemble(path, spec)
            except (KeyError, TypeError, ValueError):
                pass  # a spec this version cannot read: check the file again
    config, spec = _checked(text, path, deep=deep)
    if cache_dir is not None:
        config_cache.write(cache_dir, digest, spec)
    return config


def parse_config(text: str, path: Path, *, deep: bool = False) -> Config:
    """Validate configuration text; `path` is used in messages and kept on the Config."""
    return _checked(text, path, deep=deep)[0]


def _checked(text: str, path: Path, *, deep: bool) -> tuple[Config, dict[str, Any]]:
    from watcher.config_schema import validate

    spec = validate(text, path, deep=deep)
    return assemble(path, spec), spec


def assemble(path: Path, spec: Mapping[str, Any]) -> Config:
    """The settings a validated spec describes (see `config_schema.validate`): pure, and
    without pydantic."""
    from watcher.sources import REGISTRY  # here, not at import: the registry imports config types

    slack = spec["slack"]
    schedule = spec["schedule"]
    http = {k: v for k, v in spec["http"].items() if v is not None}  # user_agent: the default
    return Config(
        path=path,
        slack=SlackSettings(
            channel=slack["channel"],
            routes=tuple(compile_route(r) for r in slack["routes"]),
            digest_threshold=slack["digest_threshold"],
            reminders=tuple(slack["reminders"]),
            workspace_url=slack["workspace_url"],
            ops_channel=slack["ops_channel"],
            timeout=slack["timeout"],
            allowed_users=frozenset(slack["commands"]["allowed_users"]),
            allowed_channels=frozenset(slack["commands"]["allowed_channels"]),
        ),
        health=HealthSettings(**spec["health"]),
        schedule=ScheduleSettings(
            timezone=schedule["timezone"], every=parse_duration(schedule["every"])
        ),
        http=HttpSettings(**http),
        sources=tuple(_source(s, REGISTRY[s["kind"]].options) for s in spec["sources"]),
    )


def _source(spec: Mapping[str, Any], options: type[KindOptions]) -> SourceConfig:
    return SourceConfig(
        name=spec["name"],
        kind=spec["kind"],
        url=spec["url"],
        channel=spec["channel"],
        rules=RuleSet(
            match=tuple(compile_rule(r) for r in spec["match"]),
            exclude=tuple(compile_rule(r) for r in spec["exclude"]),
        ),
        options=options(**spec["options"]),
        every=parse_duration(spec["every"]) if spec["every"] else None,
        enabled=spec["enabled"],
        label=spec["label"],
        expect=parse_duration(spec["expect"]) if spec["expect"] else None,
        crons=tuple(spec["cron"]),
    )

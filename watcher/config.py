"""Loading the configuration: sources.yaml in, frozen settings (`watcher.settings`) out.

`load_config` reads sources.yaml; `config_schema` checks it (pydantic) into a spec of plain
values, and `assemble` builds the settings from that spec. A state directory remembers the
spec of the file last checked (`config_cache`), so a run with an unchanged file skips the
checking, and pydantic, altogether. The kinds' options are checked against the registry the
caller hands in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watcher import config_cache
from watcher.durations import parse_duration
from watcher.errors import ConfigError, Problem
from watcher.match import RuleSet, compile_rule
from watcher.routing import compile_route
from watcher.settings import (
    Config,
    HealthSettings,
    HttpSettings,
    KindOptions,
    LimitSettings,
    ScheduleSettings,
    SlackSettings,
    SourceConfig,
)
from watcher.sources import REGISTRY, Registry

if TYPE_CHECKING:
    from watcher.watchlist import Watchlist

# ---------------------------------------------------------------------------------------------
# Loading


def load_config(
    path: Path, registry: Registry, *, deep: bool = False, cache_dir: Path | None = None
) -> Config:
    """Read and validate a configuration file; raise ConfigError listing every problem.

    `deep` also runs the checks too slow for every run (CSS selector syntax), as
    `watcher validate` does. With `cache_dir` (the state directory), a file byte for byte the
    one validated last time is built from the remembered spec instead of checked again."""
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
                return assemble(path, spec, registry)
            except (KeyError, TypeError, ValueError):
                pass  # a spec this version cannot read: check the file again
    config, spec = _checked(text, path, registry, deep=deep)
    if cache_dir is not None:
        config_cache.write(cache_dir, digest, spec)
    return config


def parse_config(
    text: str, path: Path, registry: Registry | None = None, *, deep: bool = False
) -> Config:
    """Validate configuration text; `path` is used in messages and kept on the Config.
    Without a registry, the built-in kinds."""
    return _checked(text, path, registry or REGISTRY, deep=deep)[0]


def _checked(
    text: str, path: Path, registry: Registry, *, deep: bool
) -> tuple[Config, dict[str, Any]]:
    from watcher.config_schema import validate  # pydantic: only when the file must be checked

    spec = validate(text, path, registry, deep=deep)
    return assemble(path, spec, registry), spec


def assemble(path: Path, spec: Mapping[str, Any], registry: Registry) -> Config:
    """The settings a validated spec describes (see `config_schema.validate`): pure, and
    without pydantic."""
    slack = spec["slack"]
    schedule = spec["schedule"]
    http = {k: v for k, v in spec["http"].items() if v is not None}  # user_agent: the default
    return Config(
        path=path,
        slack=SlackSettings(
            channel=slack["channel"],
            routes=tuple(compile_route(r) for r in slack["routes"]),
            digest_threshold=slack["digest_threshold"],
            flood_cap=slack["flood_cap"],
            reminders=tuple(slack["reminders"]),
            workspace_url=slack["workspace_url"],
            ops_channel=slack["ops_channel"],
            timeout=slack["timeout"],
            retries=slack["retries"],
            retry_wait=slack["retry_wait"],
            allowed_users=frozenset(slack["commands"]["allowed_users"]),
            allowed_channels=frozenset(slack["commands"]["allowed_channels"]),
        ),
        health=HealthSettings(**spec["health"]),
        schedule=ScheduleSettings(
            timezone=schedule["timezone"], every=parse_duration(schedule["every"])
        ),
        http=HttpSettings(**http),
        limits=LimitSettings(**spec["limits"]),
        sources=tuple(
            _source(s, registry[s["kind"]].options, spec["limits"]["max_entries"])
            for s in spec["sources"]
        ),
        watchlist=_watchlist(spec.get("watchlist")),
    )


def _watchlist(spec: Mapping[str, Any] | None) -> Watchlist | None:
    if not spec:
        return None
    from watcher.watchlist import compile_watchlist  # the matchers: only for a watchlist

    return compile_watchlist(spec)


def _source(spec: Mapping[str, Any], options: type[KindOptions], max_entries: int) -> SourceConfig:
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
        max_age=parse_duration(spec["max_age"]) if spec["max_age"] else None,
        crons=tuple(spec["cron"]),
        fetch_hosts=frozenset(spec["fetch_hosts"]),
        max_entries=spec["max_entries"] or max_entries,
    )

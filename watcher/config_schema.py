"""Checking sources.yaml: the pydantic models of every key, and the problems they find.

`validate` turns the text of a configuration into its *spec*: plain JSON-ready values, every
one checked, from which `config.assemble` builds the frozen settings. Every problem is
collected before anything is reported, and each names the file, the line, the source and the
key path, so a person can fix them all in one go.

pydantic is imported here and nowhere else on the way to a run: a configuration whose spec
was cached (see `config_cache`) never loads this module.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from watcher.config_lines import MAX_VALUES, Locator, expanded_size
from watcher.durations import parse_duration
from watcher.errors import ConfigError, Problem
from watcher.match import compile_phrases
from watcher.models import AlertEvent
from watcher.routing import slack_mention
from watcher.schedule import check_cron
from watcher.settings import (
    HealthSettings,
    HttpSettings,
    LimitSettings,
    ScheduleSettings,
    SlackSettings,
)
from watcher.sources import Registry

# ---------------------------------------------------------------------------------------------
# The models that check the YAML


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


PhraseList = Annotated[list[str], BeforeValidator(_listify)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class RuleModel(_Strict):
    """A match or exclude rule; a bare string is shorthand for `{any: [string]}`.
    Its dump is what `match.compile_rule` builds a Rule from."""

    any: PhraseList = []
    all: PhraseList = []
    title: PhraseList = []
    agency: PhraseList = []
    type: PhraseList = []
    unless: PhraseList = []

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"any": [value]}
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> RuleModel:
        if not (self.any or self.all or self.title or self.agency or self.type):
            raise ValueError("a rule needs at least one of any, all, title, agency, type")
        for name in ("any", "all", "title", "agency", "unless"):
            compile_phrases(getattr(self, name))  # raises ValueError for an empty phrase
        return self


RuleList = Annotated[list[RuleModel], BeforeValidator(_listify)]


class SourceModel(_Strict):
    """The keys every source has. Anything else belongs to the source's kind."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)
    kind: str
    url: str
    label: str | None = Field(default=None, min_length=1, max_length=120)
    every: str | None = None
    cron: PhraseList = []
    expect: str | None = None
    max_age: str | None = None
    channel: str | None = None
    enabled: bool = True
    match: RuleList = []
    exclude: RuleList = []
    fetch_hosts: PhraseList = []
    max_entries: int | None = Field(default=None, ge=1, le=10_000_000)

    @field_validator("fetch_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?", host.strip()):
                raise ValueError(f"{host!r} is not a host name (example: www.federalregister.gov)")
        return [host.strip().casefold() for host in value]

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"only http:// and https:// URLs can be watched, not {value!r}")
        return value

    @field_validator("cron")
    @classmethod
    def _crons(cls, value: list[str]) -> list[str]:
        return [check_cron(expression) for expression in value]

    @field_validator("every", "expect", "max_age")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


class RouteWhenModel(_Strict):
    source: PhraseList = []
    kind: PhraseList = []
    instrument: PhraseList = []
    event: PhraseList = []
    matched: PhraseList = []
    special_filing: bool | None = None

    @field_validator("event")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        known = {e.value for e in AlertEvent if e is not AlertEvent.BASELINE}
        for event in value:
            if event not in known:
                raise ValueError(f"unknown event {event!r}; known: {', '.join(sorted(known))}")
        return value

    @field_validator("matched")
    @classmethod
    def _phrases(cls, value: list[str]) -> list[str]:
        compile_phrases(value)
        return value


class RouteModel(_Strict):
    """A routing rule; its dump is what `routing.compile_route` builds a Route from."""

    when: RouteWhenModel = RouteWhenModel()
    channel: str | None = Field(default=None, min_length=1)
    mention: str | None = None
    broadcast: bool = False  # a reply in a story's thread is also shown in the channel

    @field_validator("mention")
    @classmethod
    def _mention(cls, value: str | None) -> str | None:
        return slack_mention(value) if value is not None else None

    @model_validator(mode="after")
    def _does_something(self) -> RouteModel:
        if self.channel is None and self.mention is None and not self.broadcast:
            raise ValueError("a route needs a channel, a mention or broadcast: true")
        return self


class CommandsModel(_Strict):
    allowed_users: PhraseList = []
    allowed_channels: PhraseList = []


class SlackModel(_Strict):
    channel: str = Field(min_length=1)
    commands: CommandsModel = CommandsModel()
    routes: list[RouteModel] = []
    digest_threshold: int = Field(default=SlackSettings.digest_threshold, ge=1, le=1000)
    flood_cap: int = Field(default=SlackSettings.flood_cap, ge=1, le=10_000)
    reminders: list[int] = Field(default=list(SlackSettings.reminders), max_length=10)
    workspace_url: str | None = None
    ops_channel: str | None = Field(default=None, min_length=1)
    timeout: float = Field(default=SlackSettings.timeout, ge=0.1, le=300)
    retries: int = Field(default=SlackSettings.retries, ge=0, le=10)
    retry_wait: float = Field(default=SlackSettings.retry_wait, ge=0, le=60)

    @field_validator("reminders")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(not 0 <= d <= 365 for d in value):
            raise ValueError("reminder days must be between 0 and 365")
        return sorted(set(value), reverse=True)

    @field_validator("workspace_url")
    @classmethod
    def _workspace(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme != "https":
            raise ValueError("workspace_url is your Slack address, e.g. https://acme.slack.com")
        return value.rstrip("/") if value else value


class HttpModel(_Strict):
    timeout: float = Field(default=HttpSettings.timeout, gt=0)
    connect_timeout: float = Field(default=HttpSettings.connect_timeout, gt=0)
    deadline: float = Field(default=HttpSettings.deadline, gt=0, le=3600)
    max_bytes: int = Field(default=HttpSettings.max_bytes, ge=1024)
    attempts: int = Field(default=HttpSettings.attempts, ge=1, le=10)
    retry_budget: float = Field(default=HttpSettings.retry_budget, gt=0)
    retry_wait: float = Field(default=HttpSettings.retry_wait, ge=0, le=60)
    max_redirects: int = Field(default=HttpSettings.max_redirects, ge=0, le=20)
    concurrency: int = Field(default=HttpSettings.concurrency, ge=1, le=256)
    per_host: int = Field(default=HttpSettings.per_host, ge=1, le=64)
    per_host_interval: float = Field(default=HttpSettings.per_host_interval, ge=0)
    user_agent: str | None = None


class HealthModel(_Strict):
    failures_before_notice: int = Field(
        default=HealthSettings.failures_before_notice, ge=1, le=1000
    )


class ScheduleModel(_Strict):
    timezone: str = ScheduleSettings.timezone
    every: str = "15m"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. America/New_York") from None
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        parse_duration(value)
        return value


class LimitsModel(_Strict):
    check_deadline: float = Field(default=LimitSettings.check_deadline, gt=0, le=86_400)
    run_deadline: float = Field(default=LimitSettings.run_deadline, gt=0, le=86_400)
    state_wait: float = Field(default=LimitSettings.state_wait, ge=0, le=3600)
    max_entries: int = Field(default=LimitSettings.max_entries, ge=1, le=10_000_000)


class TopModel(_Strict):
    slack: SlackModel
    http: HttpModel = HttpModel()
    health: HealthModel = HealthModel()
    schedule: ScheduleModel = ScheduleModel()
    limits: LimitsModel = LimitsModel()
    sources: list[dict[str, Any]] = Field(min_length=1)


# ---------------------------------------------------------------------------------------------
# Validating


def validate(text: str, path: Path, registry: Registry, *, deep: bool = False) -> dict[str, Any]:
    """Check configuration text; return its spec, or raise ConfigError listing every problem.

    `path` is only named in messages. `deep` also runs the checks too slow for every run
    (CSS selector syntax), as `watcher validate` does."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it
    try:
        # Composed first (aliases are shared nodes, nothing expanded) to refuse a document
        # that would expand into millions of values through its aliases (a YAML bomb).
        node = yaml.compose(text, Loader=loader)
        if node is not None and expanded_size(node) > MAX_VALUES:
            raise ConfigError(
                [
                    Problem(
                        str(path),
                        f"the file expands to more than {MAX_VALUES:,} values through its "
                        "aliases (*name); refused",
                    )
                ]
            )
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(where, f"not valid YAML: {problem}")]) from None
    locate = Locator(path, text, data)
    if not isinstance(data, dict):
        raise ConfigError([Problem(str(path), "expected a mapping with `slack:` and `sources:`")])

    # Top-level keys starting with `x-` hold YAML anchors for reuse (rules shared by sources).
    data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    problems: list[Problem] = []
    try:
        top = TopModel.model_validate(data)
    except ValidationError as exc:
        problems += _problems(exc, (), locate)
        top = None

    raw_sources = data.get("sources")
    sources: list[dict[str, Any]] = []
    if isinstance(raw_sources, list):
        default_channel = top.slack.channel if top else ""
        seen: dict[str, int] = {}
        for index, raw in enumerate(raw_sources):
            prefix: tuple[Any, ...] = ("sources", index)
            if not isinstance(raw, dict):
                problems.append(Problem(locate(prefix), "expected a mapping describing a source"))
                continue
            source, source_problems = _source_spec(
                raw, prefix, default_channel, locate, registry, deep
            )
            problems += source_problems
            name = raw.get("name")
            if isinstance(name, str):
                if name in seen:
                    problems.append(
                        Problem(
                            locate((*prefix, "name")),
                            f"duplicate source name {name!r} (also sources[{seen[name]}])",
                        )
                    )
                else:
                    seen[name] = index
            if source is not None:
                sources.append(source)

    if top is not None:
        names = {s["name"] for s in sources} | {
            str(r.get("name")) for r in raw_sources or [] if isinstance(r, dict)
        }
        for index, route_model in enumerate(top.slack.routes):
            for name in route_model.when.source:
                if name not in names:
                    where = locate(("slack", "routes", index, "when", "source"))
                    problems.append(Problem(where, f"no source is named {name!r}"))
    if problems or top is None:
        raise ConfigError(problems)
    spec = top.model_dump(mode="json")
    spec["sources"] = sources
    return spec


def _source_spec(
    raw: dict[str, Any],
    prefix: tuple[Any, ...],
    default_channel: str,
    locate: Locator,
    registry: Registry,
    deep: bool,
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """One source's spec: the common keys, then the kind's `options` (a frozen dataclass's
    fields)."""
    problems: list[Problem] = []
    common_keys = set(SourceModel.model_fields)
    try:
        common = SourceModel.model_validate({k: v for k, v in raw.items() if k in common_keys})
    except ValidationError as exc:
        problems += _problems(exc, prefix, locate)
        common = None

    kind_name = raw.get("kind")
    extra = {k: v for k, v in raw.items() if k not in common_keys}
    kind = registry.get(kind_name) if isinstance(kind_name, str) else None
    options = None
    if isinstance(kind_name, str) and kind is None:
        problems.append(
            Problem(
                locate((*prefix, "kind")),
                f"unknown kind {kind_name!r}; known kinds: {', '.join(sorted(registry))}",
            )
        )
    elif kind is not None:
        try:
            options = TypeAdapter(kind.options).validate_python(extra)
        except ValidationError as exc:
            problems += _problems(exc, prefix, locate, known=sorted(common_keys | _fields(kind)))
        else:
            found = options.problems() + (options.deep_problems() if deep else [])
            problems += [Problem(locate((*prefix, key)), message) for key, message in found]

    if problems or common is None or options is None:
        return None, problems
    spec = common.model_dump(mode="json")
    spec["channel"] = common.channel or default_channel
    spec["options"] = dataclasses.asdict(options)
    return spec, problems


def _fields(kind: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(kind.options)}


def _problems(
    exc: ValidationError,
    prefix: tuple[Any, ...],
    locate: Locator,
    known: Sequence[str] | None = None,
) -> Iterator[Problem]:
    for error in exc.errors(include_url=False):
        loc = (*prefix, *error["loc"])
        # pydantic reports union and wrapper steps in loc; keep only real keys and indexes
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        message = error["msg"].removeprefix("Value error, ")
        # a model reports an unknown key as extra_forbidden, a dataclass (the kinds' options)
        # as unexpected_keyword_argument
        if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            key = str(loc[-1])
            message = "unknown key"
            candidates = known if (known is not None and len(loc) == len(prefix) + 1) else None
            close = difflib.get_close_matches(key, candidates or [], n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
        elif error["type"] == "missing":
            message = "required key is missing"
        yield Problem(locate(loc), message)

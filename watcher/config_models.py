"""The pydantic models of every key of sources.yaml (see `config_schema`, which runs them).

Only `config_schema` imports this module, and only when a configuration file must be
checked: pydantic stays off the path of a run whose configuration was cached.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from watcher.durations import parse_duration
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
    watchlist: bool | None = None  # the alert touches (or does not touch) the watchlist

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


def _hts_entry(value: str) -> str:
    from watcher.hts import Code

    Code.parse(value)  # NotACode is a ValueError: its message names the entry
    return " ".join(value.split())


def _mineral_entry(value: str) -> str:
    from watcher.watchlist import known_mineral

    if known_mineral(value) is None:
        raise ValueError(
            f"{value!r} is not on the USGS critical minerals list (2025) nor a known group "
            "(rare earths, platinum group metals)"
        )
    return " ".join(value.split()).casefold()


HtsEntry = Annotated[str, AfterValidator(_hts_entry)]
MineralEntry = Annotated[str, AfterValidator(_mineral_entry)]


class WatchlistModel(_Strict):
    """What the team trades; its dump is what `watchlist.compile_watchlist` builds from."""

    hts: Annotated[list[HtsEntry], BeforeValidator(_listify)] = []
    countries: PhraseList = []
    minerals: Annotated[list[MineralEntry], BeforeValidator(_listify)] = []
    terms: PhraseList = []
    mention: str | None = None

    @field_validator("terms")
    @classmethod
    def _terms(cls, value: list[str]) -> list[str]:
        compile_phrases(value)
        return value

    @field_validator("mention")
    @classmethod
    def _mention(cls, value: str | None) -> str | None:
        return slack_mention(value) if value is not None else None

    @model_validator(mode="after")
    def _something(self) -> WatchlistModel:
        if not (self.hts or self.countries or self.minerals or self.terms):
            raise ValueError("a watchlist needs hts codes, countries, minerals or terms")
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
    watchlist: WatchlistModel | None = None
    sources: list[dict[str, Any]] = Field(min_length=1)

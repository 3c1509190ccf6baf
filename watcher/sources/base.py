"""What every source kind provides, so that one registry can map `kind:` to code."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from watcher.config import SourceConfig
from watcher.models import Snapshot, SourceMemory

if TYPE_CHECKING:
    from watcher.http import Expect, Fetched, Fetcher

CheckFunction = Callable[["Fetcher", SourceConfig, SourceMemory], Snapshot]


def get_unless_unchanged(
    fetcher: Fetcher,
    source: SourceConfig,
    memory: SourceMemory,
    expect: Expect,
    *,
    complete: bool,
) -> tuple[Fetched | None, Snapshot | None]:
    """GET the source's URL conditionally: (the answer, None), or (None, an unchanged
    snapshot) when the server said 304 Not Modified to the validators of the last check."""
    from watcher.http import Validators

    before = fetcher.requests
    validators = Validators.from_dict(memory.validators.get(source.url))
    fetched = fetcher.get(source.url, expect=expect, validators=validators)
    if not fetched.not_modified:
        return fetched, None
    return None, Snapshot(
        items=(),
        complete=complete,
        unchanged=True,
        validators={source.url: validators.as_dict()},
        requests=fetcher.requests - before,
    )


class Role(StrEnum):
    """What an item of a family means: a published document, or one filed ahead of it."""

    PUBLISHED = "published"
    INSPECTION = "inspection"


@dataclass(frozen=True)
class KindOptions:
    """Base of every kind's options: a frozen dataclass, validated from the YAML by pydantic
    (constraints as `annotated_types` metadata; unknown keys are errors), and rebuilt from the
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
class SourceKind:
    """A kind of source: its options (checked by `watcher validate`) and how to check one.

    `volatile` names record fields that are shown but never make an item count as changed.
    `silent` names fields whose changes are recorded without an alert, because another alert
    already tells the story (a Federal Register document's `corrections`, which the
    correction document itself announces).
    """

    name: str
    summary: str
    options: type[KindOptions]
    check: CheckFunction
    volatile: Collection[str] = ()
    silent: Collection[str] = ()
    noun: tuple[str, str] = ("item", "items")  # for "now watching X: 143 documents recorded"
    # Sources of one family share item keys (Federal Register document numbers), so a
    # document filed for public inspection and later published is one story in one thread.
    family: str | None = None
    role: Role | None = None

"""What every source kind provides, so that one registry can map `kind:` to code.

A kind is one module that turns what its source serves into typed, source-neutral `Item`s,
and declares the few things the pipeline needs to know about it: how to check a source, how
to turn a stored record back into an item, which fields change by themselves, which thread an
item's story lives in, and how far a source has read (for sibling kinds of one family).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from watcher.http import CheckFetcher, Expect, Fetched, Validators
from watcher.models import Item, Snapshot, SourceMemory
from watcher.settings import KindOptions, SourceConfig

CheckFunction = Callable[[CheckFetcher, SourceConfig, SourceMemory], Snapshot]
# (source, key, stored record) -> the item as its check would have made it
RestoreFunction = Callable[[SourceConfig, str, Mapping[str, Any]], Item]
# (fetcher, source, since, until) -> every item of that period
BackfillFunction = Callable[[CheckFetcher, SourceConfig, date, date | None], Snapshot]

__all__ = ["KindOptions", "Role", "SourceKind", "get_unless_unchanged"]


def get_unless_unchanged(
    fetcher: CheckFetcher,
    source: SourceConfig,
    memory: SourceMemory,
    expect: Expect,
    *,
    complete: bool,
) -> tuple[Fetched | None, Snapshot | None]:
    """GET the source's URL conditionally: (the answer, None), or (None, an unchanged
    snapshot) when the server said 304 Not Modified to the validators of the last check."""
    validators = Validators.from_dict(memory.validators.get(source.url))
    fetched = fetcher.get(source.url, expect=expect, validators=validators)
    if not fetched.not_modified:
        return fetched, None
    return None, Snapshot(
        items=(),
        complete=complete,
        unchanged=True,
        validators={source.url: validators.as_dict()},
    )


class Role(StrEnum):
    """What an item of a family means: a published document, or one filed ahead of it."""

    PUBLISHED = "published"
    INSPECTION = "inspection"


@dataclass(frozen=True)
class SourceKind:
    """A kind of source: its options (checked by `watcher validate`) and how to check one.

    `volatile` names record fields that are shown but never make an item count as changed.
    `silent` names fields whose changes are recorded without an alert, because another alert
    already tells the story (a Federal Register document's `corrections`, which the
    correction document itself announces). `labels` and `date_fields` say how a message
    names a record's fields when it reports what changed.
    """

    name: str
    summary: str
    options: type[KindOptions]
    check: CheckFunction
    restore: RestoreFunction
    volatile: Collection[str] = ()
    silent: Collection[str] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    date_fields: Collection[str] = ()
    line_fields: Collection[str] = ()  # lists of text lines, shown "+ line" / "− line"
    noun: tuple[str, str] = ("item", "items")  # for "now watching X: 143 documents recorded"
    # Sources of one family share item keys (Federal Register document numbers), so a
    # document filed for public inspection and later published is one story in one thread.
    family: str | None = None
    role: Role | None = None
    # How far a source of this kind has read, as an ISO date, from its cursor: a sibling
    # uses it to tell a filing that was withdrawn from one not yet published.
    progress: Callable[[Mapping[str, Any]], str | None] | None = None
    # Recording a past period without announcing it (`watcher backfill`), for kinds that can.
    backfill: BackfillFunction | None = None
    # How a message names an item by its key ("CSMS # {key}"), when only the key is known.
    reference_format: str = "{key}"

    def reference_of(self, key: str) -> str:
        return self.reference_format.format(key=key)

    def thread_key(self, source: str, key: str) -> str:
        """The Slack thread an item's story lives in; shared by the sources of a family."""
        return f"{self.family}:{key}" if self.family else f"{source}:{key}"

"""What the other sources of a source's family (the Federal Register's public inspection desk
and its published documents, which share document numbers) know about the keys one check
has in play: the input `decide` needs to tell a filing that published from one withdrawn."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.decide import Family, Related
from watcher.models import Snapshot, StoredItem
from watcher.settings import Config, SourceConfig
from watcher.sources import Registry
from watcher.sources.base import Role
from watcher.store import Store


def family_of(
    store: Store,
    config: Config,
    registry: Registry,
    source: SourceConfig,
    snapshot: Snapshot,
    previous: Mapping[str, StoredItem],
    today: str,
) -> Family:
    """The family's knowledge of the keys in the snapshot and the state, and how far its
    published source has read."""
    kind = registry[source.kind]
    if kind.family is None:
        return Family(today=today)
    keys = {i.key for i in snapshot.items} | set(previous)
    related: dict[str, list[Related]] = {}
    progress: str | None = None
    for other in config.sources:
        other_kind = registry[other.kind]
        if other.name == source.name or other_kind.family != kind.family:
            continue
        if other_kind.role is Role.PUBLISHED and other_kind.progress is not None:
            seen = other_kind.progress(store.memory(other.name).cursor)
            if seen and (progress is None or seen > progress):
                progress = seen
        for key, item in store.load_items(other.name, keys, include_removed=True).items():
            related.setdefault(key, []).append(
                Related(other.name, other_kind.role, item.relevant, not item.removed)
            )
    return Family({k: tuple(v) for k, v in related.items()}, progress, today)

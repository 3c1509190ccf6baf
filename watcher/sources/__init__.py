"""The registry of source kinds: the YAML `kind:` maps to exactly one module here.

The program runs on a `Registry`; `REGISTRY` is the built-in one. A new kind is one module
under `watcher/sources/` and one entry below (or, for a program embedding watcher,
`REGISTRY.with_kinds(...)` handed to the command line).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from watcher.sources import csms, federal_register, feed, page, public_inspection
from watcher.sources.base import SourceKind


class Registry(Mapping[str, SourceKind]):
    """Kinds by the name a configuration uses in `kind:`."""

    def __init__(self, kinds: Iterable[SourceKind]):
        self._kinds = {kind.name: kind for kind in kinds}

    def __getitem__(self, name: str) -> SourceKind:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def with_kinds(self, *kinds: SourceKind) -> Registry:
        """This registry with more kinds (a kind of the same name replaces the built-in)."""
        return Registry([*self._kinds.values(), *kinds])


REGISTRY = Registry(
    (federal_register.KIND, public_inspection.KIND, feed.KIND, page.KIND, csms.KIND)
)

__all__ = ["REGISTRY", "Registry", "SourceKind"]

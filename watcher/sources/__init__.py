"""The registry of source kinds: the YAML `kind:` maps to exactly one module here."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.sources import federal_register, feed, page, public_inspection
from watcher.sources.base import SourceKind

REGISTRY: Mapping[str, SourceKind] = {
    kind.name: kind
    for kind in (federal_register.KIND, public_inspection.KIND, feed.KIND, page.KIND)
}

__all__ = ["REGISTRY", "SourceKind"]

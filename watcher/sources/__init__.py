"""The registry of source kinds: the YAML `kind:` maps to exactly one module here."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.sources import federal_register
from watcher.sources.base import SourceKind

REGISTRY: Mapping[str, SourceKind] = {
    federal_register.KIND.name: federal_register.KIND,
}

__all__ = ["REGISTRY", "SourceKind"]

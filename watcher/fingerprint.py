"""Stable fingerprints of normalised records: a hash of canonical JSON, volatile fields left out."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

_CACHE_BUSTER = re.compile(r"\?\d{6,}$")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data, equal text."""
    return _canonical(value)


# one encoder for all (json.dumps with options builds a new one for every call)
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def fingerprint(record: Mapping[str, Any], volatile: Collection[str] = ()) -> str:
    """sha256 of the record's canonical JSON, without the fields named in `volatile`."""
    kept = {k: v for k, v in record.items() if k not in volatile}
    return hashlib.sha256(canonical_json(kept).encode("utf-8")).hexdigest()


def strip_cache_buster(url: str | None) -> str | None:
    """`...2025-05887.pdf?1743770708` -> `...2025-05887.pdf`: the number changes by itself."""
    if url is None:
        return None
    return _CACHE_BUSTER.sub("", url)

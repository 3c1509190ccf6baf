"""The spec of the configuration last validated, remembered in the state directory.

Checking sources.yaml with pydantic costs a steady run more than anything else it does
before the first request (importing pydantic and building its validators: about 0.2 s of CPU
and 15 MB). The spec `config_schema.validate` returns is plain JSON; kept under the file's
SHA-256 and watcher's version, it lets the next run with the same file build its settings
directly. A missing, unreadable, foreign or stale cache only means checking the file again,
so reading and writing here never fail a run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from watcher import __version__

FILE = "config.spec.json"
FORMAT = 2  # bump when the spec's shape changes within a version


def read(cache_dir: Path, digest: str) -> dict[str, Any] | None:
    """The remembered spec of the file whose SHA-256 is `digest`, or None."""
    try:
        saved = json.loads((cache_dir / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != _key(digest):
        return None
    spec = saved.get("spec")
    return spec if isinstance(spec, dict) else None


def read_for(cache_dir: Path, config_path: Path) -> dict[str, Any] | None:
    """The remembered spec of the configuration file as it is now, or None (OSError when the
    file cannot be read)."""
    return read(cache_dir, hashlib.sha256(config_path.read_bytes()).hexdigest())


def write(cache_dir: Path, digest: str, spec: dict[str, Any]) -> None:
    """Remember `spec` for the file whose SHA-256 is `digest` (best effort, atomically: a
    reader sees the old file or the new one, never half of one)."""
    try:
        if not cache_dir.is_dir():
            return  # the state directory is made by the first run; the next one caches
    except OSError:
        return  # a state directory that cannot be entered is reported where it is used
    target = cache_dir / FILE
    temporary = target.with_name(f".{FILE}.{os.getpid()}")
    with contextlib.suppress(OSError):
        temporary.write_text(json.dumps({"key": _key(digest), "spec": spec}), encoding="utf-8")
        temporary.replace(target)
    with contextlib.suppress(OSError):
        temporary.unlink(missing_ok=True)


def _key(digest: str) -> str:
    return f"{FORMAT}:{__version__}:{digest}"

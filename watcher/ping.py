"""Pinging a dead man's switch (healthchecks.io style) so a run that never happens is noticed.

With `WATCHER_PING_URL` set, a run pings `{url}/start` when it begins and `{url}/{exit code}`
when it ends (0 is success). A ping that fails is logged and forgotten: it must never stop a
run.
"""

from __future__ import annotations

import logging
import os

from watcher import USER_AGENT

log = logging.getLogger(__name__)


def ping(suffix: str) -> None:
    base = os.environ.get("WATCHER_PING_URL", "").strip()
    if not base:
        return
    import httpx

    url = f"{base.rstrip('/')}/{suffix}"
    try:
        httpx.get(url, timeout=5.0, headers={"User-Agent": USER_AGENT})
    except httpx.HTTPError as exc:
        log.warning("could not ping %s: %s", url.split("?")[0], type(exc).__name__)

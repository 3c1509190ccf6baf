"""The one exception root of watcher, and its branches.

Only the CLI turns these into messages and exit codes; everything below it raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class WatcherError(Exception):
    """Root of every error watcher raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration, and where it is."""

    where: str  # "sources.yaml:12: source 'fr-trade' (sources[0]): conditions.type"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ConfigError(WatcherError):
    """The configuration cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(WatcherError):
    """The command line asked for something that does not exist (an unknown source name...)."""


class SourceError(WatcherError):
    """A source could not be checked this run: fetched badly, parsed badly, or answered oddly.

    The message is one line a person can act on; the run goes on with the other sources.
    """


class FetchError(SourceError):
    """The HTTP exchange failed: transport error, bad status, wrong content type, too large.
    `status` is the HTTP status when the server answered with an error (4xx), else None."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class StateError(WatcherError):
    """The state database cannot be opened, read or written."""


class DeliveryError(WatcherError):
    """Slack refused or could not take a message."""

    def __init__(self, message: str, *, permanent: bool, code: str | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code

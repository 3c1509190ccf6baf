"""What every command of the command line shares: the session the global options resolve to,
the wiring (kinds and clock) a program embedding watcher can replace, and how exceptions
become messages and exit codes:
0 all good (also: nothing to do, or another run holds the lock);
1 a source failed, alerts are undelivered, or the state database is unusable;
2 configuration or usage error (nothing was fetched).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from watcher.clock import SYSTEM, Clock

if TYPE_CHECKING:
    from watcher.posters import Poster
    from watcher.settings import Config
    from watcher.sources import Registry

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _default_registry() -> Registry:
    from watcher.sources import REGISTRY

    return REGISTRY


@dataclass(frozen=True)
class Wiring:
    """What the program runs on besides its options: the source kinds (the built-in ones
    unless given: loaded only when a command needs them), the clock, and whether a run's
    one-off preparations go to a child process (`watcher.preparing`)."""

    registry: Registry | None = None
    clock: Clock = SYSTEM
    prepare_in_child: bool = True


class Session:
    """What the global options and the wiring resolve to, handed to every command."""

    def __init__(self, wiring: Wiring, config_path: Path, state_dir: Path, log_format: str):
        self.wiring = wiring
        self.config_path = config_path
        self.state_dir = state_dir
        self.log_format = log_format

    @property
    def clock(self) -> Clock:
        return self.wiring.clock

    def load(self, *, deep: bool = False, writes_state: bool = False) -> Config:
        """The configuration, checked (or built from the state directory's cache of it).
        A command that writes state makes the directory first, so the cache lands there."""
        from watcher.config import load_config

        if writes_state:
            from watcher.statedir import ensure_state_dir

            ensure_state_dir(self.state_dir)
        return load_config(self.config_path, self.registry, deep=deep, cache_dir=self.state_dir)

    def prepare(self) -> None:
        """A first run's one-off work (checking a changed configuration, creating or
        upgrading the database) done in a child process, so the run never holds pydantic
        and sqlite-utils (`watcher.preparing`). Only with the built-in kinds: a program that
        brings its own kinds checks its configuration itself."""
        if self.wiring.registry is None and self.wiring.prepare_in_child:
            from watcher.preparing import prepare

            prepare(self.config_path, self.state_dir)

    @property
    def registry(self) -> Registry:
        return self.wiring.registry or _default_registry()

    def poster(self, config: Config) -> Poster:
        from watcher.posters import make_poster

        return make_poster(config.slack, os.environ, self.clock)


def errors_to_exit_codes(func: F) -> F:
    """Turn watcher's exceptions into a message on stderr and the contract's exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from watcher.errors import ConfigError, UsageError, WatcherError
        from watcher.stopping import Stopped

        try:
            return func(*args, **kwargs)
        except Stopped as exc:
            click.echo(
                f"stopped by {exc.args[0] if exc.args else 'a signal'}, interrupting the step in "
                "hand; what was not done waits for the next run",
                err=True,
            )
            sys.exit(EXIT_FAILED)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            count = len(exc.problems)
            click.echo(
                f"{count} problem{'s' if count != 1 else ''} in the configuration; "
                "nothing was fetched",
                err=True,
            )
            sys.exit(EXIT_USAGE)
        except UsageError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except WatcherError as exc:  # state and delivery problems: the run could not go on
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FAILED)

    return wrapper  # type: ignore[return-value]


def dry_run_option(func: F) -> F:
    return click.option(
        "--dry-run",
        is_flag=True,
        help="Fetch and diff, but post nothing and write no state; print the alerts instead.",
    )(func)


def known_sources(config: Config, names: Sequence[str]) -> None:
    from watcher.errors import UsageError

    unknown = [n for n in names if n not in config.names]
    if unknown:
        raise UsageError(
            f"unknown source{'s' if len(unknown) > 1 else ''} "
            + ", ".join(repr(n) for n in unknown)
            + f"; configured: {', '.join(config.names)}"
        )

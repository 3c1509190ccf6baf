"""The command line: a thin click layer. Each command parses, calls one function of the
package, prints what it returns, and exits.

Only this module turns exceptions into messages and exit codes:
0 all good (also: nothing to do, or another run holds the lock);
1 a source failed, alerts are undelivered, or the state database is unusable;
2 configuration or usage error (nothing was fetched).

Heavy modules are imported inside the commands, so `watcher --help` starts at once. A program
embedding watcher (or a test) can hand its own kinds and clock to `cli.main(obj=Wiring(...))`.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from watcher import __version__
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
    unless given: loaded only when a command needs them) and the clock."""

    registry: Registry | None = None
    clock: Clock = SYSTEM


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
            from watcher.db import ensure_state_dir

            ensure_state_dir(self.state_dir)
        return load_config(self.config_path, self.registry, deep=deep, cache_dir=self.state_dir)

    @property
    def registry(self) -> Registry:
        return self.wiring.registry or _default_registry()

    def poster(self, config: Config) -> Poster:
        from watcher.posters import make_poster

        return make_poster(config.slack, os.environ, self.clock)


def _errors_to_exit_codes(func: F) -> F:
    """Turn watcher's exceptions into a message on stderr and the contract's exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from watcher.errors import ConfigError, UsageError, WatcherError

        try:
            return func(*args, **kwargs)
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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("sources.yaml"),
    envvar="WATCHER_CONFIG",
    show_default=True,
    show_envvar=True,
    help="The configuration file listing the sources to watch.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("state"),
    envvar="WATCHER_STATE_DIR",
    show_default=True,
    show_envvar=True,
    help="Directory of the SQLite state (watcher.db) and the run lock.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="WATCHER_LOG_FORMAT",
    show_default=True,
    show_envvar=True,
    help="How runs report on stderr: lines for a person, or JSON lines for a log collector.",
)
@click.option("-v", "--verbose", count=True, help="Log more to stderr (-vv for HTTP detail).")
@click.version_option(__version__, prog_name="watcher")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path, state_dir: Path, log_format: str, verbose: int
) -> None:
    """Watch US trade actions (Section 232, tariffs, critical minerals) and tell Slack.

    Alerts go to Slack when SLACK_BOT_TOKEN (or SLACK_BOT_TOKEN_FILE) is set, and to standard
    output otherwise. SLACK_API_URL points the Slack client at another Web API base URL.
    """
    from watcher.logs import configure_logging

    configure_logging(log_format, verbose)
    wiring = ctx.obj if isinstance(ctx.obj, Wiring) else Wiring()
    ctx.obj = Session(wiring, config_path, state_dir, log_format)


def _dry_run_option(func: F) -> F:
    return click.option(
        "--dry-run",
        is_flag=True,
        help="Fetch and diff, but post nothing and write no state; print the alerts instead.",
    )(func)


# ---------------------------------------------------------------------------------------------
# run and check


@cli.command()
@_dry_run_option
@click.pass_obj
@_errors_to_exit_codes
def run(obj: Session, dry_run: bool) -> None:
    """Check every enabled source that is due, deliver alerts, record state (for cron)."""
    if not dry_run:
        from watcher.fastpath import nothing_due
        from watcher.logs import say

        waiting = nothing_due(obj.config_path, obj.state_dir, obj.clock.now())
        if waiting is not None:
            say("not due yet: " + ", ".join(waiting), obj.log_format, event="not_due")
            sys.exit(EXIT_OK)
    _execute(obj, obj.load(writes_state=not dry_run), None, dry_run=dry_run, command="run")


@cli.command()
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@_dry_run_option
@click.pass_obj
@_errors_to_exit_codes
def check(obj: Session, names: Sequence[str], dry_run: bool) -> None:
    """Check the named sources now, whatever their schedule (the manual recheck).

    NAME is a source name from the configuration; URLs are not accepted.
    """
    config = obj.load(writes_state=not dry_run)
    _known_sources(config, names)
    _execute(obj, config, names, dry_run=dry_run, command="check " + " ".join(names))


def _known_sources(config: Config, names: Sequence[str]) -> None:
    from watcher.errors import UsageError

    unknown = [n for n in names if n not in config.names]
    if unknown:
        raise UsageError(
            f"unknown source{'s' if len(unknown) > 1 else ''} "
            + ", ".join(repr(n) for n in unknown)
            + f"; configured: {', '.join(config.names)}"
        )


def _execute(
    obj: Session, config: Config, names: Sequence[str] | None, *, dry_run: bool, command: str
) -> None:
    from watcher.ping import ping
    from watcher.reporting import emit, terminal_progress
    from watcher.runner import run as run_pipeline
    from watcher.stopping import stop_on_signals

    poster = None if dry_run else obj.poster(config)
    if not dry_run:
        ping("start")
    progress = terminal_progress() if obj.log_format == "text" else None
    with stop_on_signals():
        report = run_pipeline(
            config,
            obj.state_dir,
            registry=obj.registry,
            names=names,
            dry_run=dry_run,
            poster=poster,
            clock=obj.clock,
            command=command,
            progress=progress,
        )
    if progress is not None:
        progress.clear()
    if report.busy:
        holder = f" (pid {report.holder})" if report.holder else ""
        click.echo(f"another run is in progress{holder}; nothing done", err=True)
        sys.exit(EXIT_OK)
    emit(report, obj.log_format)
    if dry_run:
        from watcher.plaintext import render_text

        for alert in report.alerts:
            click.echo(render_text(alert, alert.channel) + "\n")
        click.echo(
            f"dry run: {len(report.alerts)} alert(s) would be sent; nothing recorded or posted",
            err=True,
        )
    else:
        ping(str(report.exit_code))
    sys.exit(report.exit_code)


@cli.command()
@click.argument("name", metavar="NAME")
@click.option("--since", required=True, metavar="DATE", help="First publication date, YYYY-MM-DD.")
@click.option("--until", default=None, metavar="DATE", help="Last publication date (default: now).")
@click.pass_obj
@_errors_to_exit_codes
def backfill(obj: Session, name: str, since: str, until: str | None) -> None:
    """Record a source's documents of a past period, announcing none (federal_register).

    However many there are: the date range is split into windows the API will page through.
    Later runs then know them, so only what is newer is announced.
    """
    from datetime import date as date_type

    from watcher.backfill import backfill as run_backfill
    from watcher.errors import UsageError

    config = obj.load()
    _known_sources(config, [name])
    try:
        first = date_type.fromisoformat(since)
        last = date_type.fromisoformat(until) if until else None
    except ValueError as exc:
        raise UsageError(f"dates are YYYY-MM-DD: {exc}") from None
    report = run_backfill(
        config, obj.state_dir, name, first, last, registry=obj.registry, clock=obj.clock
    )
    if report.busy:
        click.echo("another run is in progress; nothing done", err=True)
        sys.exit(EXIT_OK)
    click.echo(
        f"{name}: back-filled {report.documents} documents ({report.relevant} relevant, "
        f"{report.new} new to the state) in {report.requests} requests, "
        f"{report.seconds:.1f}s; none announced",
        err=True,
    )
    if report.first_check_pending:
        click.echo(
            f"{name} has not had its first check: that check is its baseline, recording what "
            "was published after this period without announcing it",
            err=True,
        )


# ---------------------------------------------------------------------------------------------
# status and history


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option(
    "--health",
    is_flag=True,
    help="Only judge health, for a container HEALTHCHECK: exit 1 when the last scheduled run "
    "is older than --max-age or a source has failed past health.failures_before_notice.",
)
@click.option(
    "--max-age",
    default=None,
    metavar="DURATION",
    help="With --health: how old the last scheduled run may be (default: three times the "
    "shortest schedule, at least 1h).",
)
@click.pass_obj
@_errors_to_exit_codes
def status(obj: Session, as_json: bool, health: bool, max_age: str | None) -> None:
    """Per source: last check, last success, failures, items known, alerts pending.

    Exits 1 while a source is failing or alerts are pending or failed.
    """
    from watcher import overview
    from watcher.durations import parse_duration
    from watcher.errors import UsageError
    from watcher.store import Store

    config = obj.load()
    try:
        bound = parse_duration(max_age) if max_age else None
    except ValueError as exc:
        raise UsageError(f"--max-age: {exc}") from None
    store = Store.open_readonly(obj.state_dir)
    try:
        seen = overview.read_overview(store, config.names)
    finally:
        store.close()
    if health:
        verdict = overview.health(config, seen, now=obj.clock.now(), max_age=bound)
        if as_json:
            click.echo(json.dumps({"healthy": verdict.healthy, "problems": verdict.problems}))
        else:
            for problem in verdict.problems:
                click.echo(f"unhealthy: {problem}")
            if verdict.healthy:
                click.echo("healthy")
        sys.exit(EXIT_OK if verdict.healthy else EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(seen.as_json(), indent=2))
    else:
        for line in overview.status_lines(seen):
            click.echo(line)
    sys.exit(EXIT_FAILED if seen.needs_attention else EXIT_OK)


@cli.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="How many alerts to show, newest first.",
)
@click.pass_obj
@_errors_to_exit_codes
def history(obj: Session, name: str | None, as_json: bool, limit: int) -> None:
    """What was alerted, when, where (channel and message link) and why, newest first.

    NAME limits it to one configured source.
    """
    from watcher import history as shaping
    from watcher.store import Store

    config = obj.load()
    if name is not None:
        _known_sources(config, [name])
    store = Store.open_readonly(obj.state_dir)
    try:
        entries = shaping.entries(store.outbox.history(name, limit), config.slack.workspace_url)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    for line in shaping.text_lines(entries):
        click.echo(line)


@cli.command()
@click.option("--source", "source_name", default=None, help="Only alerts of this source.")
@click.pass_obj
@_errors_to_exit_codes
def retry(obj: Session, source_name: str | None) -> None:
    """Put alerts Slack refused for good back in the outbox, for the next run to post.

    Use it after fixing what Slack complained about (a token, a channel the bot was not in).
    """
    from watcher.lock import RunLock
    from watcher.store import Store

    config = obj.load()
    if source_name is not None:
        _known_sources(config, [source_name])
    with RunLock(obj.state_dir) as lock:
        if not lock.acquired:
            click.echo("another run is in progress; try again when it is done", err=True)
            sys.exit(EXIT_OK)
        store = Store.open(obj.state_dir)
        try:
            count = store.outbox.retry_failed(source_name)
        finally:
            store.close()
    click.echo(f"{count} failed alert(s) are pending again; the next run posts them")


# ---------------------------------------------------------------------------------------------
# long-running: schedule and serve


@cli.command()
@click.pass_obj
@_errors_to_exit_codes
def schedule(obj: Session) -> None:
    """Stay up and check each source when its `every:` or `cron:` says (for a container).

    Runs never overlap; logs go to standard output; SIGTERM finishes the step in hand.
    """
    from watcher.logs import say
    from watcher.ping import ping
    from watcher.reporting import RunReport, emit
    from watcher.scheduler import loop
    from watcher.stopping import stop_on_signals

    config = obj.load()
    obj.poster(config)  # fail now, not at the first alert, if the token file is unreadable

    def report(outcome: RunReport) -> None:
        if not outcome.busy:
            emit(outcome, obj.log_format, sys.stdout, stamp=True)
            ping(str(outcome.exit_code))

    with stop_on_signals():
        loop(
            config,
            obj.state_dir,
            registry=obj.registry,
            poster_factory=lambda: obj.poster(config),
            report=report,
            say=lambda line: say(line, obj.log_format, sys.stdout, event="scheduler", stamp=True),
            clock=obj.clock,
        )
    sys.exit(EXIT_OK)


@cli.command()
@click.option(
    "--host",
    default="0.0.0.0",
    show_default=True,
    envvar="WATCHER_HOST",
    show_envvar=True,
    help="Address to listen on.",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(1, 65535),
    envvar="WATCHER_PORT",
    show_envvar=True,
    help="Port to listen on.",
)
@click.pass_obj
@_errors_to_exit_codes
def serve(obj: Session, host: str, port: int) -> None:
    """Answer the Slack slash command `/watcher check NAME` and `/watcher status`.

    Requests must carry Slack's signature (SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_FILE).
    Also serves GET /healthz.
    """
    from watcher.errors import UsageError
    from watcher.secrets import read_secret
    from watcher.slash import SlashCommands, serve_http
    from watcher.stopping import stop_on_signals

    config = obj.load()
    secret = read_secret("SLACK_SIGNING_SECRET", os.environ)
    if not secret:
        raise UsageError(
            "set SLACK_SIGNING_SECRET (or SLACK_SIGNING_SECRET_FILE) to the "
            "signing secret of the Slack app"
        )
    app = SlashCommands(
        config,
        obj.state_dir,
        secret,
        registry=obj.registry,
        clock=obj.clock,
        poster_factory=lambda: obj.poster(config),
    )
    click.echo(f"listening on http://{host}:{port} (POST /slack/commands, GET /healthz)", err=True)
    with stop_on_signals():
        serve_http(app, host, port)
    sys.exit(EXIT_OK)


# ---------------------------------------------------------------------------------------------
# validate


@cli.command()
@click.pass_obj
@_errors_to_exit_codes
def validate(obj: Session) -> None:
    """Load and validate the configuration; print every problem with its location."""
    from watcher.durations import format_duration

    config = obj.load(deep=True)
    click.echo(f"{config.path}: OK, {len(config.sources)} source(s)")
    for source in config.sources:
        state = "" if source.enabled else " (disabled)"
        every = f", every {format_duration(source.every)}" if source.every else ""
        crons = "".join(f", at '{c}'" for c in source.crons)
        click.echo(f"  {source.name}: {source.kind} → {source.channel}{every}{crons}{state}")


def main() -> None:
    """Console-script entry point."""
    # watcher validates its own configuration; third-party pydantic plugins have no business
    # there, and looking for them scans every installed package's metadata at start-up.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # A run lives for seconds and builds few reference cycles; the collector's frequent passes
    # over the hundreds of thousands of objects that imports create only cost start-up time.
    gc.set_threshold(50_000, 20, 100)
    logging.captureWarnings(True)
    cli(prog_name="watcher")

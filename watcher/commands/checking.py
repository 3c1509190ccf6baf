"""`watcher run`, `watcher check` and `watcher backfill`: checking sources."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from watcher.session import (
    EXIT_FAILED,
    EXIT_OK,
    Session,
    dry_run_option,
    errors_to_exit_codes,
    known_sources,
)
from watcher.settings import Config

F = TypeVar("F", bound=Callable[..., Any])


def timings_option(func: F) -> F:
    return click.option(
        "--timings",
        is_flag=True,
        help="Also report where the run's CPU went, phase by phase (start, fetch, parse, "
        "decide, enrich, link, commit, deliver, other), and the most requests in flight.",
    )(func)


def new_baseline_option(func: F) -> F:
    return click.option(
        "--new-baseline",
        is_flag=True,
        help="Where the state database is missing, empty or damaged, set it aside and start "
        "afresh: every source's next check is a baseline, nothing is announced.",
    )(func)


@click.command()
@dry_run_option
@new_baseline_option
@timings_option
@click.pass_obj
@errors_to_exit_codes
def run(obj: Session, dry_run: bool, new_baseline: bool, timings: bool) -> None:
    """Check every enabled source that is due, deliver alerts, record state (for cron)."""
    if not dry_run and not new_baseline:
        from watcher.fastpath import nothing_due
        from watcher.logs import say

        waiting = nothing_due(obj.config_path, obj.state_dir, obj.clock.now())
        if waiting is not None:
            say("not due yet: " + ", ".join(waiting), obj.log_format, event="not_due")
            sys.exit(EXIT_OK)
        obj.prepare()
    config = obj.load(writes_state=not dry_run)
    _execute(
        obj,
        config,
        None,
        dry_run=dry_run,
        command="run",
        new_baseline=new_baseline,
        timings=timings,
    )


@click.command()
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@dry_run_option
@new_baseline_option
@timings_option
@click.pass_obj
@errors_to_exit_codes
def check(
    obj: Session, names: Sequence[str], dry_run: bool, new_baseline: bool, timings: bool
) -> None:
    """Check the named sources now, whatever their schedule (the manual recheck).

    NAME is a source name from the configuration; URLs are not accepted.
    """
    if not dry_run and not new_baseline:
        obj.prepare()
    config = obj.load(writes_state=not dry_run)
    known_sources(config, names)
    command = "check " + " ".join(names)
    _execute(
        obj,
        config,
        names,
        dry_run=dry_run,
        command=command,
        new_baseline=new_baseline,
        timings=timings,
    )


def _execute(
    obj: Session,
    config: Config,
    names: Sequence[str] | None,
    *,
    dry_run: bool,
    command: str,
    new_baseline: bool = False,
    timings: bool = False,
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
            new_baseline=new_baseline,
        )
    if progress is not None:
        progress.clear()
    if report.busy:
        if report.stuck:
            click.echo(
                f"error: a run has held the lock ({report.holder}) well past the run's deadline "
                f"({config.limits.run_deadline:g}s): it is stuck; look at that process, and "
                "stop it if it hangs (its lock goes with it)",
                err=True,
            )
            sys.exit(EXIT_FAILED)
        click.echo(f"another run is in progress ({report.holder}); nothing done", err=True)
        sys.exit(EXIT_OK)
    emit(report, obj.log_format, timings=timings)
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


@click.command()
@click.argument("name", metavar="NAME")
@click.option("--since", required=True, metavar="DATE", help="First publication date, YYYY-MM-DD.")
@click.option("--until", default=None, metavar="DATE", help="Last publication date (default: now).")
@click.pass_obj
@errors_to_exit_codes
def backfill(obj: Session, name: str, since: str, until: str | None) -> None:
    """Record a source's documents of a past period, announcing none (federal_register).

    However many there are: the date range is split into windows the API will page through.
    Later runs then know them, so only what is newer is announced.
    """
    from datetime import date as date_type

    from watcher.backfill import backfill as run_backfill
    from watcher.errors import UsageError

    config = obj.load()
    known_sources(config, [name])
    try:
        first = date_type.fromisoformat(since)
        last = date_type.fromisoformat(until) if until else None
    except ValueError as exc:
        raise UsageError(f"dates are YYYY-MM-DD: {exc}") from None
    from watcher.reporting import terminal_progress

    shown = terminal_progress()

    def progress(requests: int, received: int) -> None:
        if shown is not None:
            shown.say(f"back-filling {name}: {requests} requests, {received / 1e6:.1f} MB so far")

    report = run_backfill(
        config,
        obj.state_dir,
        name,
        first,
        last,
        registry=obj.registry,
        clock=obj.clock,
        progress=progress if shown is not None else None,
    )
    if shown is not None:
        shown.clear()
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

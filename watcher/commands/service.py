"""`watcher schedule`, `watcher serve` and `watcher validate`: running as a service, and
checking the configuration."""

from __future__ import annotations

import os
import sys

import click

from watcher.session import (
    EXIT_OK,
    Session,
    errors_to_exit_codes,
)


@click.command()
@click.pass_obj
@errors_to_exit_codes
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


@click.command()
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
@errors_to_exit_codes
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


@click.command()
@click.pass_obj
@errors_to_exit_codes
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

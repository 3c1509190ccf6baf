"""`watcher status`, `watcher history` and `watcher retry`: what the state holds."""

from __future__ import annotations

import json
import sys

import click

from watcher.session import (
    EXIT_FAILED,
    EXIT_OK,
    Session,
    errors_to_exit_codes,
    known_sources,
)


@click.command()
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
@errors_to_exit_codes
def status(obj: Session, as_json: bool, health: bool, max_age: str | None) -> None:
    """Per source: last check, last success, failures, items known, alerts pending.

    Exits 1 while a source is failing or alerts are pending or failed.
    """
    from watcher import overview
    from watcher.durations import parse_duration
    from watcher.errors import UsageError
    from watcher.statedir import has_state
    from watcher.store import Store

    config = obj.load()
    try:
        bound = parse_duration(max_age) if max_age else None
    except ValueError as exc:
        raise UsageError(f"--max-age: {exc}") from None
    if not has_state(obj.state_dir):
        missing = (
            f"no state in {obj.state_dir}: watcher has not recorded anything there "
            "(is --state-dir, or WATCHER_STATE_DIR, the one your runs use?)"
        )
        if health and as_json:
            click.echo(json.dumps({"healthy": False, "problems": [missing]}))
        else:
            click.echo(f"unhealthy: {missing}" if health else missing, err=not health)
        sys.exit(EXIT_FAILED)
    store = Store.open_readonly(obj.state_dir)
    try:
        seen = overview.read_overview(store, config.names)
    finally:
        store.close()
    if health:
        from watcher.lock import held_by

        holder = held_by(obj.state_dir)
        stuck = None
        if holder is not None and holder.stuck(config.limits.run_deadline, obj.clock.now()):
            stuck = f"a run ({holder.describe()}) is stuck past the run's deadline"
        verdict = overview.health(config, seen, now=obj.clock.now(), max_age=bound, stuck=stuck)
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


@click.command()
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
@errors_to_exit_codes
def history(obj: Session, name: str | None, as_json: bool, limit: int) -> None:
    """What was alerted, when, where (channel and message link) and why, newest first.

    NAME limits it to one configured source.
    """
    from watcher import history as shaping
    from watcher.store import Store

    config = obj.load()
    if name is not None:
        known_sources(config, [name])
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


@click.command()
@click.option("--source", "source_name", default=None, help="Only alerts of this source.")
@click.pass_obj
@errors_to_exit_codes
def retry(obj: Session, source_name: str | None) -> None:
    """Put alerts Slack refused for good back in the outbox, for the next run to post.

    Use it after fixing what Slack complained about (a token, a channel the bot was not in).
    """
    from watcher.lock import RunLock
    from watcher.store import Store

    config = obj.load()
    if source_name is not None:
        known_sources(config, [source_name])
    with RunLock(obj.state_dir) as lock:
        if not lock.acquired:
            click.echo("another run is in progress; try again when it is done", err=True)
            sys.exit(EXIT_OK)
        store = Store.open(obj.state_dir, wait=config.limits.state_wait)
        try:
            count = store.outbox.retry_failed(source_name)
        finally:
            store.close()
    click.echo(f"{count} failed alert(s) are pending again; the next run posts them")

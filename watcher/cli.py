"""The command line: a thin click layer over the runner, the store and the config.

Only this module turns exceptions into messages and exit codes:
0 all good (also: nothing to do, or another run holds the lock);
1 a source failed, alerts are undelivered, or the state database is unusable;
2 configuration or usage error (nothing was fetched).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from watcher import __version__

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class Context:
    """What the global options resolve to, handed to every command."""

    def __init__(self, config_path: Path, state_dir: Path):
        self.config_path = config_path
        self.state_dir = state_dir

    def load(self) -> Any:
        from watcher.config import load_config

        return load_config(self.config_path)


def _errors_to_exit_codes(func: F) -> F:
    """Turn watcher's exceptions into a message on stderr and the contract's exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from watcher.errors import ConfigError, StateError, UsageError, WatcherError

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
        except StateError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
        except WatcherError as exc:
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
@click.option("-v", "--verbose", count=True, help="Log more to stderr (-vv for HTTP detail).")
@click.version_option(__version__, prog_name="watcher")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, state_dir: Path, verbose: int) -> None:
    """Watch US trade actions (Section 232, tariffs, critical minerals) and tell Slack.

    Alerts go to Slack when SLACK_BOT_TOKEN (or SLACK_BOT_TOKEN_FILE) is set, and to standard
    output otherwise. SLACK_API_URL points the Slack client at another Web API base URL.
    """
    from watcher.secrets import RedactingFilter

    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    if verbose:
        logging.getLogger("watcher").setLevel(logging.DEBUG)
    if verbose > 1:
        logging.getLogger("httpx").setLevel(logging.DEBUG)
    ctx.obj = Context(config_path, state_dir)


def _dry_run_option(func: F) -> F:
    return click.option(
        "--dry-run",
        is_flag=True,
        help="Fetch and diff, but post nothing and write no state; print the alerts instead.",
    )(func)


@cli.command()
@_dry_run_option
@click.pass_obj
@_errors_to_exit_codes
def run(obj: Context, dry_run: bool) -> None:
    """Check every enabled source that is due, deliver alerts, record state (for cron)."""
    config = obj.load()
    _execute(obj, config, None, dry_run=dry_run, command="run")


@cli.command()
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@_dry_run_option
@click.pass_obj
@_errors_to_exit_codes
def check(obj: Context, names: Sequence[str], dry_run: bool) -> None:
    """Check the named sources now, whatever their schedule (the manual recheck).

    NAME is a source name from the configuration; URLs are not accepted.
    """
    from watcher.errors import UsageError

    config = obj.load()
    unknown = [n for n in names if n not in config.names]
    if unknown:
        raise UsageError(
            f"unknown source{'s' if len(unknown) > 1 else ''} "
            + ", ".join(repr(n) for n in unknown)
            + f"; configured: {', '.join(config.names)}"
        )
    _execute(obj, config, names, dry_run=dry_run, command="check " + " ".join(names))


def slack_token() -> str | None:
    """The bot token from SLACK_BOT_TOKEN, or from the file SLACK_BOT_TOKEN_FILE names."""
    from watcher.errors import WatcherError

    token = os.environ.get("SLACK_BOT_TOKEN", "").strip()
    if token:
        return token
    path = os.environ.get("SLACK_BOT_TOKEN_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise WatcherError(f"cannot read SLACK_BOT_TOKEN_FILE {path}: {exc.strerror}") from None
    return None


def _execute(
    obj: Context, config: Any, names: Sequence[str] | None, *, dry_run: bool, command: str
) -> None:
    from watcher.deliver import Poster, SlackPoster, StdoutPoster
    from watcher.render import render_text
    from watcher.runner import run as run_pipeline
    from watcher.stopping import stop_on_signals

    poster: Poster | None = None
    if not dry_run:
        token = slack_token()
        if token:
            poster = SlackPoster(
                token,
                base_url=os.environ.get("SLACK_API_URL") or None,
                timeout=config.slack.timeout,
            )
        else:
            poster = StdoutPoster()
    with stop_on_signals():
        report = run_pipeline(
            config, obj.state_dir, names=names, dry_run=dry_run, poster=poster, command=command
        )
    if report.busy:
        holder = f" (pid {report.holder})" if report.holder else ""
        click.echo(f"another run is in progress{holder}; nothing done", err=True)
        sys.exit(EXIT_OK)
    for line in summary_lines(report):
        click.echo(line, err=True)
    if report.stopped:
        click.echo(
            f"stopped by {report.stopped} after finishing the step in progress; "
            "what was not done waits for the next run",
            err=True,
        )
    if dry_run:
        for alert in report.alerts:
            click.echo(render_text(alert, alert.channel) + "\n")
        click.echo(
            f"dry run: {len(report.alerts)} alert(s) would be sent; nothing recorded or posted",
            err=True,
        )
    sys.exit(report.exit_code)


def summary_lines(report: Any) -> list[str]:
    """One line per source checked, then one about delivery."""
    lines = []
    for source in report.sources:
        if not source.ok:
            lines.append(f"{source.name}: FAILED: {source.error}")
            continue
        if source.unchanged:
            lines.append(f"{source.name}: not modified since the last check")
            continue
        if source.baseline:
            what = f"baseline, {source.items} recorded"
        else:
            what = (
                f"{source.items} seen, {source.new} new, {source.changed} changed, "
                f"{source.alerts} alert{'s' if source.alerts != 1 else ''}"
            )
        notes = "".join(f"; note: {n}" for n in source.notes)
        lines.append(f"{source.name}: ok, {what} ({source.seconds:.1f}s){notes}")
    if report.not_due:
        lines.append("not due yet: " + ", ".join(report.not_due))
    if not report.sources and not report.not_due:
        lines.append("no enabled sources to check")
    delivery = report.delivery
    if delivery is not None:
        for error in delivery.errors:
            lines.append(f"delivery: {error}")
        if delivery.sent or delivery.pending or delivery.failed:
            lines.append(
                f"delivery: {delivery.sent} sent, {delivery.pending} pending, "
                f"{delivery.failed} failed"
            )
    return lines


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
@_errors_to_exit_codes
def status(obj: Context, as_json: bool) -> None:
    """Per source: last check, last success, failures, items known, alerts pending.

    Exits 1 while a source is failing or alerts are pending or failed.
    """
    from watcher.store import Store

    config = obj.load()
    store = Store.open_readonly(obj.state_dir)
    try:
        rows = store.status(config.names)
        outbox = store.outbox_counts()
        last_run = store.last_run()
    finally:
        store.close()
    unhealthy = any(r.consecutive_failures for r in rows) or any(
        outbox.get(s, 0) for s in ("pending", "failed")
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "sources": [asdict(r) for r in rows],
                    "alerts": {s: outbox.get(s, 0) for s in ("pending", "sent", "failed")},
                    "last_run": last_run,
                },
                indent=2,
            )
        )
    else:
        for line in status_table(rows):
            click.echo(line)
        click.echo(
            f"\nalerts: {outbox.get('pending', 0)} pending, {outbox.get('sent', 0)} sent, "
            f"{outbox.get('failed', 0)} failed"
        )
        if last_run:
            click.echo(
                f"last run: {last_run['command']} at {last_run['started_at']}"
                f" (exit {last_run['exit_code']})"
            )
    sys.exit(EXIT_FAILED if unhealthy else EXIT_OK)


def status_table(rows: Sequence[Any]) -> list[str]:
    headers = (
        "SOURCE",
        "KIND",
        "LAST CHECK",
        "LAST SUCCESS",
        "FAILS",
        "ITEMS",
        "RELEVANT",
        "HELD",
        "PENDING",
        "FAILED",
    )
    table = [headers]
    for r in rows:
        table.append(
            (
                r.name,
                r.kind or "-",
                r.last_check_at or "never",
                r.last_success_at or "never",
                str(r.consecutive_failures),
                str(r.items),
                str(r.relevant_items),
                str(r.held_items),
                str(r.alerts_pending),
                str(r.alerts_failed),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    for r in rows:
        if r.last_error:
            lines.append(f"{r.name}: last error: {r.last_error}")
        if r.held_items:
            lines.append(
                f"{r.name}: {r.held_items} item(s) held back: their content flips back and "
                "forth, so changes are recorded but not announced until something new appears"
            )
    return lines


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
def history(obj: Context, name: str | None, as_json: bool, limit: int) -> None:
    """What was alerted, when, where (channel and message link) and why, newest first.

    NAME limits it to one configured source.
    """
    from watcher.errors import UsageError
    from watcher.models import Alert
    from watcher.render import header_text, why
    from watcher.store import Store

    config = obj.load()
    if name is not None and name not in config.names:
        raise UsageError(f"unknown source {name!r}; configured: {', '.join(config.names)}")
    store = Store.open_readonly(obj.state_dir)
    try:
        rows = store.history(name, limit)
    finally:
        store.close()
    entries = []
    for row in rows:
        alert = Alert.from_json(row["payload"])
        entries.append(
            {
                "id": row["id"],
                "source": row["source"],
                "event": row["event"],
                "what": header_text(alert),
                "title": alert.title,
                "url": alert.url,
                "channel": row["channel"],
                "status": row["status"],
                "created_at": row["created_at"],
                "sent_at": row["sent_at"],
                "message": message_link(config.slack.workspace_url, row),
                "why": why(alert),
                "matched": list(alert.matched),
                "last_error": row["last_error"],
            }
        )
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    if not entries:
        click.echo("nothing alerted yet")
    for entry in entries:
        when = entry["sent_at"] or entry["created_at"]
        click.echo(f"{when}  {entry['status']:<7}  {entry['channel']}  {entry['what']}")
        click.echo(f"    {entry['title']}")
        if entry["message"]:
            click.echo(f"    message: {entry['message']}")
        if entry["url"]:
            click.echo(f"    {entry['url']}")
        click.echo(f"    why: {entry['why']}")
        if entry["last_error"] and entry["status"] != "sent":
            click.echo(f"    last error: {entry['last_error']}")


def message_link(workspace_url: str | None, row: dict[str, Any]) -> str | None:
    """A link to the Slack message, or where it is when the workspace address is unknown."""
    channel, ts = row.get("slack_channel"), row.get("slack_ts")
    if not channel or not ts:
        return None
    if not workspace_url:
        return f"{channel} at ts {ts}"
    link = f"{workspace_url}/archives/{channel}/p{ts.replace('.', '')}"
    thread = row.get("thread_ts")
    return f"{link}?thread_ts={thread}&cid={channel}" if thread else link


@cli.command()
@click.option("--source", "source_name", default=None, help="Only alerts of this source.")
@click.pass_obj
@_errors_to_exit_codes
def retry(obj: Context, source_name: str | None) -> None:
    """Put alerts Slack refused for good back in the outbox, for the next run to post.

    Use it after fixing what Slack complained about (a token, a channel the bot was not in).
    """
    from watcher.errors import UsageError
    from watcher.lock import RunLock
    from watcher.store import Store

    config = obj.load()
    if source_name is not None and source_name not in config.names:
        raise UsageError(f"unknown source {source_name!r}; configured: {', '.join(config.names)}")
    with RunLock(obj.state_dir) as lock:
        if not lock.acquired:
            click.echo("another run is in progress; try again when it is done", err=True)
            sys.exit(EXIT_OK)
        store = Store.open(obj.state_dir)
        try:
            count = store.retry_failed(source_name)
        finally:
            store.close()
    click.echo(f"{count} failed alert(s) are pending again; the next run posts them")


@cli.command()
@click.pass_obj
@_errors_to_exit_codes
def validate(obj: Context) -> None:
    """Load and validate the configuration; print every problem with its location."""
    config = obj.load()
    click.echo(f"{config.path}: OK, {len(config.sources)} source(s)")
    for source in config.sources:
        state = "" if source.enabled else " (disabled)"
        every = ""
        if source.every:
            from watcher.durations import format_duration

            every = f", every {format_duration(source.every)}"
        click.echo(f"  {source.name}: {source.kind} → {source.channel}{every}{state}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="watcher")

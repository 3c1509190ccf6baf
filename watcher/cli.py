"""The command line: a thin click layer over the runner, the store and the config.

Only this module turns exceptions into messages and exit codes:
0 all good (also: nothing to do, or another run holds the lock);
1 a source failed, alerts are undelivered, or the state database is unusable;
2 configuration or usage error (nothing was fetched).

Heavy modules are imported inside the commands, so `watcher --help` starts at once.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from watcher import __version__

if TYPE_CHECKING:
    from watcher.config import Config
    from watcher.deliver import Poster
    from watcher.runner import RunReport

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class Context:
    """What the global options resolve to, handed to every command."""

    def __init__(self, config_path: Path, state_dir: Path, log_format: str):
        self.config_path = config_path
        self.state_dir = state_dir
        self.log_format = log_format

    def load(self, *, deep: bool = False) -> Config:
        from watcher.config import load_config

        return load_config(self.config_path, deep=deep, cache_dir=self.state_dir)


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
    from watcher.secrets import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        from watcher.reporting import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    # Each retry is logged by stamina at WARNING; the run's report already says what failed.
    logging.getLogger("stamina").setLevel(logging.INFO if verbose else logging.ERROR)
    if verbose:
        logging.getLogger("watcher").setLevel(logging.DEBUG)
    if verbose > 1:
        logging.getLogger("httpx").setLevel(logging.DEBUG)
    ctx.obj = Context(config_path, state_dir, log_format)


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
def run(obj: Context, dry_run: bool) -> None:
    """Check every enabled source that is due, deliver alerts, record state (for cron)."""
    if not dry_run:
        from watcher.fastpath import nothing_due

        waiting = nothing_due(obj.config_path, obj.state_dir)
        if waiting is not None:
            if obj.log_format == "json":
                stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                click.echo(
                    json.dumps({"ts": stamp, "event": "not_due", "sources": waiting}), err=True
                )
            else:
                click.echo("not due yet: " + ", ".join(waiting), err=True)
            sys.exit(EXIT_OK)
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
    config = obj.load()
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


def slack_token() -> str | None:
    """The bot token from SLACK_BOT_TOKEN, or from the file SLACK_BOT_TOKEN_FILE names."""
    return _secret("SLACK_BOT_TOKEN")


def _secret(name: str) -> str | None:
    from watcher.errors import WatcherError

    value = os.environ.get(name, "").strip()
    if value:
        return value
    path = os.environ.get(f"{name}_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise WatcherError(f"cannot read {name}_FILE {path}: {exc.strerror}") from None
    return None


def make_poster(config: Config) -> Poster:
    """Slack when a token is set, else standard output (the embedded default)."""
    from watcher.deliver import SlackPoster, StdoutPoster

    token = slack_token()
    if token:
        return SlackPoster(
            token,
            base_url=os.environ.get("SLACK_API_URL") or None,
            timeout=config.slack.timeout,
        )
    return StdoutPoster()


def _execute(
    obj: Context, config: Config, names: Sequence[str] | None, *, dry_run: bool, command: str
) -> None:
    from watcher.ping import ping
    from watcher.reporting import emit
    from watcher.runner import run as run_pipeline
    from watcher.stopping import stop_on_signals

    poster = None if dry_run else make_poster(config)
    if not dry_run:
        ping("start")
    progress = _terminal_progress() if obj.log_format == "text" else None
    with stop_on_signals():
        report = run_pipeline(
            config,
            obj.state_dir,
            names=names,
            dry_run=dry_run,
            poster=poster,
            command=command,
            progress=progress,
        )
    if progress is not None:
        click.echo("\r\033[K", nl=False, err=True)
    if report.busy:
        holder = f" (pid {report.holder})" if report.holder else ""
        click.echo(f"another run is in progress{holder}; nothing done", err=True)
        sys.exit(EXIT_OK)
    emit(report, obj.log_format)
    if report.stopped and obj.log_format == "text":
        click.echo(
            f"stopped by {report.stopped} after finishing the step in progress; "
            "what was not done waits for the next run",
            err=True,
        )
    if not dry_run:
        from watcher.fastpath import remember_valid

        remember_valid(
            obj.config_path,
            obj.state_dir,
            always_due=any(s.enabled and not s.every and not s.crons for s in config.sources),
        )
    if dry_run:
        from watcher.render import render_text

        for alert in report.alerts:
            click.echo(render_text(alert, alert.channel) + "\n")
        click.echo(
            f"dry run: {len(report.alerts)} alert(s) would be sent; nothing recorded or posted",
            err=True,
        )
    else:
        ping(str(report.exit_code))
    sys.exit(report.exit_code)


def _terminal_progress() -> Callable[[int, int], None] | None:
    """A one-line progress display on a terminal; nothing when stderr is not one."""
    if not sys.stderr.isatty():
        return None
    shown = {"done": -1}

    def show(done: int, total: int) -> None:
        if done != shown["done"]:
            shown["done"] = done
            click.echo(f"\r\033[Kchecking sources: {done} of {total} fetched", nl=False, err=True)

    return show


@cli.command()
@click.argument("name", metavar="NAME")
@click.option("--since", required=True, metavar="DATE", help="First publication date, YYYY-MM-DD.")
@click.option("--until", default=None, metavar="DATE", help="Last publication date (default: now).")
@click.pass_obj
@_errors_to_exit_codes
def backfill(obj: Context, name: str, since: str, until: str | None) -> None:
    """Record a federal_register source's documents of a past period, announcing none.

    However many there are: the date range is split into windows the API will page through.
    Later runs then know them, so only what is newer is announced.
    """
    from datetime import date as date_type

    from watcher.errors import UsageError
    from watcher.runner import backfill as run_backfill

    config = obj.load()
    _known_sources(config, [name])
    if config.source(name).kind != "federal_register":
        raise UsageError(f"{name!r} is not a federal_register source; only those back-fill")
    try:
        first = date_type.fromisoformat(since)
        last = date_type.fromisoformat(until) if until else None
    except ValueError as exc:
        raise UsageError(f"dates are YYYY-MM-DD: {exc}") from None
    report = run_backfill(config, obj.state_dir, name, first, last)
    if report.busy:
        click.echo("another run is in progress; nothing done", err=True)
        sys.exit(EXIT_OK)
    click.echo(
        f"{name}: back-filled {report.documents} documents ({report.relevant} relevant, "
        f"{report.new} new to the state) in {report.requests} requests, "
        f"{report.seconds:.1f}s; none announced",
        err=True,
    )


# ---------------------------------------------------------------------------------------------
# status and history


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option(
    "--health",
    is_flag=True,
    help="Only judge health, for a container HEALTHCHECK: exit 1 when the last run is older "
    "than --max-age or a source has failed past health.failures_before_notice.",
)
@click.option(
    "--max-age",
    default=None,
    metavar="DURATION",
    help="With --health: how old the last finished run may be (default: three times the "
    "shortest schedule, at least 1h).",
)
@click.pass_obj
@_errors_to_exit_codes
def status(obj: Context, as_json: bool, health: bool, max_age: str | None) -> None:
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
    if health:
        _health_check(config, rows, last_run, max_age, as_json)
        return
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


def _health_check(
    config: Config,
    rows: Sequence[Any],
    last_run: dict[str, Any] | None,
    max_age: str | None,
    as_json: bool,
) -> None:
    from watcher.durations import format_duration, parse_duration
    from watcher.errors import UsageError
    from watcher.store import parse_iso

    try:
        bound = parse_duration(max_age) if max_age else default_max_age(config)
    except ValueError as exc:
        raise UsageError(f"--max-age: {exc}") from None
    problems = []
    finished = parse_iso(last_run["finished_at"]) if last_run else None
    if finished is None:
        problems.append("no run has finished yet")
    elif datetime.now(UTC) - finished > bound:
        problems.append(
            f"the last run finished {finished:%Y-%m-%d %H:%M}Z, more than "
            f"{format_duration(bound)} ago"
        )
    threshold = config.health.failures_before_notice
    for row in rows:
        if row.consecutive_failures >= threshold:
            problems.append(
                f"{row.name} has failed {row.consecutive_failures} checks in a row: "
                f"{row.last_error}"
            )
    if as_json:
        click.echo(json.dumps({"healthy": not problems, "problems": problems}))
    else:
        for problem in problems:
            click.echo(f"unhealthy: {problem}")
        if not problems:
            click.echo("healthy")
    sys.exit(EXIT_FAILED if problems else EXIT_OK)


def default_max_age(config: Config) -> timedelta:
    """Three times the shortest schedule of an enabled source, and at least an hour."""
    intervals = [s.every or config.schedule.every for s in config.sources if s.enabled]
    return max(timedelta(hours=1), 3 * min(intervals, default=config.schedule.every))


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
    from watcher.models import Alert
    from watcher.render import header_text, why
    from watcher.store import Store

    config = obj.load()
    if name is not None:
        _known_sources(config, [name])
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
            count = store.retry_failed(source_name)
        finally:
            store.close()
    click.echo(f"{count} failed alert(s) are pending again; the next run posts them")


# ---------------------------------------------------------------------------------------------
# long-running: schedule and serve


@cli.command()
@click.pass_obj
@_errors_to_exit_codes
def schedule(obj: Context) -> None:
    """Stay up and check each source when its `every:` or `cron:` says (for a container).

    Runs never overlap; logs go to standard output; SIGTERM finishes the step in hand.
    """
    from watcher.ping import ping
    from watcher.reporting import emit
    from watcher.scheduler import loop
    from watcher.stopping import stop_on_signals

    config = obj.load()
    make_poster(config)  # fail now, not at the first alert, if the token file is unreadable

    def report(outcome: RunReport) -> None:
        if not outcome.busy:
            emit(outcome, obj.log_format, sys.stdout, stamp=True)
            ping(str(outcome.exit_code))

    def say(line: str) -> None:
        if obj.log_format == "json":
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            click.echo(json.dumps({"ts": stamp, "event": "scheduler", "message": line}))
        else:
            click.echo(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z {line}")

    with stop_on_signals():
        loop(
            config,
            obj.state_dir,
            poster_factory=lambda: make_poster(config),
            report=report,
            say=say,
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
def serve(obj: Context, host: str, port: int) -> None:
    """Answer the Slack slash command `/watcher check NAME` and `/watcher status`.

    Requests must carry Slack's signature (SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_FILE).
    Also serves GET /healthz.
    """
    from watcher.errors import UsageError
    from watcher.slash import SlashCommands, serve_http
    from watcher.stopping import stop_on_signals

    config = obj.load()
    secret = _secret("SLACK_SIGNING_SECRET")
    if not secret:
        raise UsageError(
            "set SLACK_SIGNING_SECRET (or SLACK_SIGNING_SECRET_FILE) to the "
            "signing secret of the Slack app"
        )
    app = SlashCommands(config, obj.state_dir, secret, poster_factory=lambda: make_poster(config))
    click.echo(f"listening on http://{host}:{port} (POST /slack/commands, GET /healthz)", err=True)
    with stop_on_signals():
        serve_http(app, host, port)
    sys.exit(EXIT_OK)


# ---------------------------------------------------------------------------------------------
# validate


@cli.command()
@click.pass_obj
@_errors_to_exit_codes
def validate(obj: Context) -> None:
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
    cli(prog_name="watcher")

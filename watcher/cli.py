"""The command line: a thin click layer. Each command parses, calls one function of the
package, prints what it returns, and exits (see `watcher.session` for the exit codes).

The commands live in `watcher/commands/`, by concern; this module is the group and its global
options. Heavy modules are imported inside the commands, so `watcher --help` starts at once.
A program embedding watcher (or a test) can hand its own kinds and clock to
`cli.main(obj=Wiring(...))`.
"""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

import click

from watcher import __version__
from watcher.commands import checking, diagnosing, service, state, storytelling, watching
from watcher.session import Session, Wiring

__all__ = ["Wiring", "cli", "main"]


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
    type=click.Path(path_type=Path),  # judged by watcher itself: a state problem is exit 1
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


for command in (
    checking.run,
    checking.check,
    checking.backfill,
    state.status,
    state.history,
    state.retry,
    service.schedule,
    service.serve,
    service.validate,
    diagnosing.inspect,
    diagnosing.doctor,
    storytelling.stories,
    storytelling.story,
    watching.watchlist,
):
    cli.add_command(command)


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

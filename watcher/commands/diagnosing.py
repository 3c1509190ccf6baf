"""`watcher inspect` and `watcher doctor`: what a source holds, and whether a deployment is
ready. Both fetch now and record nothing."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from watcher.session import EXIT_FAILED, EXIT_OK, Session, errors_to_exit_codes, known_sources

if TYPE_CHECKING:
    from watcher.settings import Config
    from watcher.slackcheck import Finding


@click.command()
@click.argument("name", metavar="NAME")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON (every item).")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=0),
    help="Items to print (0: all).",
)
@click.option("--relevant", "only_relevant", is_flag=True, help="Print only items that alert.")
@click.pass_obj
@errors_to_exit_codes
def inspect(obj: Session, name: str, as_json: bool, limit: int, only_relevant: bool) -> None:
    """Fetch a source now and show every item watcher reads from it, recording nothing.

    Each item's key, title, date and link, and what the source's rules make of it: which
    phrases matched, which exclude rule held, whether it is older than max_age. With a state
    directory, also how many the next run would announce. Run it to adapt a selector or a rule.
    """
    from watcher.inspection import inspect_snapshot, render_inspection
    from watcher.probe import probe

    config = obj.load()
    known_sources(config, [name])
    source = config.source(name)
    kind = obj.registry[source.kind]
    (result,) = list(probe(config, [source], obj.registry))
    if result.error is not None or result.snapshot is None:
        click.echo(f"error: {name}: {result.error}", err=True)
        sys.exit(EXIT_FAILED)
    inspection = inspect_snapshot(
        source,
        result.snapshot,
        kind.noun,
        today=obj.clock.now().date().isoformat(),
        known=_recorded_keys(obj, name),
    )
    if as_json:
        click.echo(json.dumps(inspection.as_dict(), indent=2))
    else:
        click.echo(render_inspection(inspection, limit=limit, only_relevant=only_relevant))
    sys.exit(EXIT_OK)


def _recorded_keys(obj: Session, name: str) -> set[str] | None:
    """The keys the state holds for a source, or None when there is no state to ask."""
    from watcher.statedir import has_state
    from watcher.store import Store

    if not has_state(obj.state_dir):
        return None
    store = Store.open_readonly(obj.state_dir)
    try:
        return set(store.load_items(name))
    finally:
        store.close()


@click.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
@errors_to_exit_codes
def doctor(obj: Session, names: Sequence[str], as_json: bool) -> None:
    """Check a deployment: the Slack token, its scope and the bot's channels, and every
    source (or the named ones) fetched once. Records nothing; exits 1 when something needs
    fixing, printing the fix."""
    from watcher.doctor import NO_TOKEN, Checkup, render_checkup, source_finding
    from watcher.probe import probe
    from watcher.secrets import read_secret

    config = obj.load()
    known_sources(config, names)
    sources = [s for s in config.sources if s.name in names or (not names and s.enabled)]
    token = read_secret("SLACK_BOT_TOKEN", os.environ)
    slack = (
        _slack_findings(config, token, [s.channel for s in config.sources]) if token else [NO_TOKEN]
    )
    results = {r.source.name: r for r in probe(config, sources, obj.registry)}
    checkup = Checkup(
        tuple(slack),
        tuple(
            source_finding(results[s.name], obj.registry[s.kind].noun)
            for s in sources
            if s.name in results
        ),
    )
    if as_json:
        click.echo(json.dumps(checkup.as_dict(), indent=2))
    else:
        click.echo(render_checkup(checkup))
    sys.exit(EXIT_FAILED if checkup.to_fix else EXIT_OK)


def _slack_findings(
    config: Config, token: str, source_channels: Sequence[str | None]
) -> list[Finding]:
    from slack_sdk import WebClient

    from watcher.posters import quiet_slack_logger
    from watcher.slackcheck import channels_of, check_slack

    client = WebClient(
        token=token,
        timeout=int(config.slack.timeout),
        base_url=os.environ.get("SLACK_API_URL") or WebClient.BASE_URL,
        logger=quiet_slack_logger(),
    )
    return check_slack(client, channels_of(config.slack, source_channels))

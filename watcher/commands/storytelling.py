"""`watcher stories` and `watcher story ID`: each trade action and its stages."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from watcher.session import EXIT_FAILED, EXIT_OK, Session, errors_to_exit_codes


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of stories.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=0),
    help="Stories to print, the latest first (0: all).",
)
@click.pass_obj
@errors_to_exit_codes
def stories(obj: Session, as_json: bool, limit: int) -> None:
    """Each trade action watcher has told, the latest first: its instruments, its stages
    across sources, its deadlines, and how long before the Federal Register we knew."""
    from watcher.storyview import render_stories

    records = _records(obj, limit or None)
    click.echo(json.dumps(records, indent=2) if as_json else render_stories(records))
    sys.exit(EXIT_OK)


@click.command()
@click.argument("story_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the story as JSON.")
@click.pass_obj
@errors_to_exit_codes
def story(obj: Session, story_id: int, as_json: bool) -> None:
    """One story: every stage (source, event, when, link, Slack message) and its deadlines."""
    from watcher.storyview import render_story

    found = [r for r in _records(obj, None) if r["id"] == story_id]
    if not found:
        click.echo(f"error: no story {story_id} (`watcher stories` lists them)", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(json.dumps(found[0], indent=2) if as_json else render_story(found[0]))
    sys.exit(EXIT_OK)


def _records(obj: Session, limit: int | None) -> list[dict[str, Any]]:
    from watcher.statedir import has_state
    from watcher.store import Store
    from watcher.storyview import story_record

    if not has_state(obj.state_dir):
        return []
    store = Store.open_readonly(obj.state_dir)
    try:
        book = store.stories
        return [
            story_record(row, book.stages_with_alerts(row["id"]), book.deadlines(row["id"]))
            for row in book.summaries(limit)
        ]
    finally:
        store.close()

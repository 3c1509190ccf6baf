"""`watcher watchlist check TARGET`: which watchlist entries a document touches, and why.

TARGET is a file (text or HTML), a URL, or a Federal Register document number
("2025-14893"): a team tries its list on a past proclamation before relying on it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from watcher.session import EXIT_OK, Session, errors_to_exit_codes

_DOCUMENT_NUMBER = re.compile(r"^(?:[CR]\d-)?\d{4}-\d{4,6}$")
FR_API = "https://www.federalregister.gov/api/v1"


@click.group()
def watchlist() -> None:
    """The team's watchlist (HTS codes, countries, minerals, phrases)."""


@watchlist.command()
@click.argument("target", metavar="FILE_OR_URL_OR_DOCUMENT_NUMBER")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
@errors_to_exit_codes
def check(obj: Session, target: str, as_json: bool) -> None:
    """Print which watchlist entries a document touches, each with the words that did it,
    and which it does not. Records nothing."""
    from watcher.errors import UsageError
    from watcher.watchlist import check as check_text

    config = obj.load()
    if not config.watchlist:
        raise UsageError(f"{config.path} has no `watchlist:`; see README, Watchlist")
    title, text = _document(obj, target)
    verdict = check_text(config.watchlist, text)
    touched = {(t.kind, t.entry) for t in verdict.touches}
    untouched = [e for e in _entries(config.watchlist) if e not in touched]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "document": title,
                    "touches": [t.as_record() for t in verdict.touches],
                    "not_touched": [{"kind": k, "entry": e} for k, e in untouched],
                    "duty_lines": list(verdict.duty_lines),
                },
                indent=2,
            )
        )
        sys.exit(EXIT_OK)
    click.echo(title)
    if verdict.touches:
        click.echo("touches your watchlist:")
        for touch in verdict.touches:
            click.echo(f"  {touch.entry:<16} {touch.why}")
            click.echo(f"  {'':<16} «{touch.span}»")
    else:
        click.echo("touches nothing on your watchlist")
    if untouched:
        click.echo("not touched: " + ", ".join(e for _, e in untouched))
    if verdict.duty_lines:
        click.echo("duty lines named (chapter 99, not products): " + ", ".join(verdict.duty_lines))
    sys.exit(EXIT_OK)


def _entries(watched: Any) -> list[tuple[str, str]]:
    return (
        [("hts", entry) for entry, _ in watched.hts]
        + [("country", c) for c in watched.countries]
        + [("mineral", m) for m in watched.minerals]
        + [("term", p.text) for p in watched.terms]
    )


def _document(obj: Session, target: str) -> tuple[str, str]:
    """(what was read, its text) for a file, a URL or a Federal Register document number."""
    from watcher.errors import UsageError
    from watcher.fulltext import document_text

    path = Path(target)
    if path.is_file():
        try:
            return str(path), document_text(path.read_bytes())
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    if target.startswith(("http://", "https://")):
        fetched = _get(obj, target)
        return target, document_text(fetched.content, fetched.content_type)
    if _DOCUMENT_NUMBER.match(target):
        return _federal_register(obj, target)
    raise UsageError(
        f"{target!r} is neither a file, a URL nor a Federal Register document number "
        "(e.g. 2025-14893)"
    )


def _get(obj: Session, url: str, expect: Any = None) -> Any:
    from watcher.http import Expect, Fetcher

    config = obj.load()
    with Fetcher(config.http) as fetcher:
        return fetcher.for_check(url, deadline=config.http.deadline).get(
            url, expect=expect or Expect.TEXT
        )


def _federal_register(obj: Session, number: str) -> tuple[str, str]:
    """A document's title and full text, from the API of the configured Federal Register
    source (or the public one)."""
    from watcher.errors import SourceError
    from watcher.fulltext import document_text
    from watcher.http import Expect

    config = obj.load()
    base = next((s.url for s in config.sources if s.kind == "federal_register"), FR_API).rstrip("/")
    fetched = _get(obj, f"{base}/documents/{number}.json", Expect.JSON)
    try:
        record = json.loads(fetched.content)
    except ValueError:
        raise SourceError(f"{base}: the answer for {number} is not JSON") from None
    title = f"{number}: {record.get('title') or '(untitled)'}"
    parts = [str(record.get(k) or "") for k in ("title", "abstract", "action", "dates")]
    text_url = record.get("raw_text_url")
    if text_url:
        text = _get(obj, str(text_url))
        parts.append(document_text(text.content, text.content_type))
    return title, "\n".join(p for p in parts if p)

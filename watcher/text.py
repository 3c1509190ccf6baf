"""HTML to plain text, for summaries and pages."""

from __future__ import annotations

import html
import re

from watcher.match import normalise_text

# Never part of what a person reads on a page.
INVISIBLE = ("script", "style", "noscript", "template", "iframe", "svg", "object", "embed")

_INVISIBLE_BLOCKS = re.compile(
    r"<(" + "|".join(INVISIBLE) + r")\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_COMMENTS = re.compile(r"<!--.*?-->", re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")


def html_to_text(markup: str, limit: int | None = None) -> str:
    """The readable text of an HTML fragment (a feed entry's summary), on one line.

    A fragment needs no parse tree: invisible blocks, comments and tags go, entities are
    decoded, whitespace collapses. (Whole pages are read by `watcher.htmlpart`.)
    """
    if "<" not in markup and "&" not in markup:
        text = normalise_text(markup)
    else:
        stripped = _TAGS.sub(" ", _COMMENTS.sub(" ", _INVISIBLE_BLOCKS.sub(" ", markup)))
        text = normalise_text(html.unescape(stripped))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text

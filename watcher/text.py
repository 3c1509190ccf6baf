"""HTML to plain text, for summaries and pages."""

from __future__ import annotations

from watcher.match import normalise_text

# Never part of what a person reads on a page.
INVISIBLE = ("script", "style", "noscript", "template", "iframe", "svg", "object", "embed")


def html_to_text(markup: str, limit: int | None = None) -> str:
    """The readable text of an HTML fragment, on one line, whitespace collapsed."""
    if "<" not in markup and "&" not in markup:
        text = normalise_text(markup)
    else:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(markup, "html.parser")
        for tag in soup(INVISIBLE):
            tag.decompose()
        text = normalise_text(soup.get_text(" "))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text

"""Making links stable enough to key on: tracking parameters out, double escapes repaired."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that say who sent a reader, or which session they are in, never what the
# page is: dropped, so a link keys the same however it was reached.
TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|wgt_ref|"
    r"at_medium|at_campaign|cmpid|ref_src|jsessionid|phpsessid|sessionid|session_id|sid|"
    r"cfid|cftoken|aspsessionid)$",
    re.IGNORECASE,
)
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sessionid)=[^/?#]*", re.IGNORECASE)
_NUMERIC_CACHE_BUSTER = re.compile(r"^\d{6,}$")


def unescape_fully(text: str) -> str:
    """`&amp;amp;` -> `&`: some feeds escape their links twice."""
    import html  # (its entity table) only for a link with an escape in it

    for _ in range(3):
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return text


def normalise_link(link: str | None, base: str | None = None) -> str | None:
    """An absolute http(s) link without tracking parameters, cache-busters or fragment."""
    if not link or not link.strip():
        return None
    return _normalised(link.strip(), base)


@lru_cache(maxsize=1024)
def _normalised(link: str, base: str | None) -> str | None:
    # A first run normalises every entry's link two or three times (link, key, record), and
    # urljoin and parse_qsl are slow: cached, and skipped when there is nothing to do.
    if "&" in link:
        link = unescape_fully(link)
    if base and not absolute(link):
        link = join(base, link)
    if _already_normal(link):
        return link
    return _parsed(link)


_NOT_NORMAL = frozenset("?#;&\\ \t\n\r")


def _already_normal(link: str) -> bool:
    """An absolute http(s) link with a path, a lower-case host and nothing to take out
    (no query, fragment, session parameter or escape): what `_parsed` would give back."""
    scheme, separator, rest = link.partition("://")
    if not separator or scheme not in ("http", "https") or not _NOT_NORMAL.isdisjoint(link):
        return False
    host, slash, _ = rest.partition("/")
    return bool(slash and host) and host == host.lower() and link.isascii()


def _parsed(link: str) -> str | None:
    if ";" in link:
        link = _PATH_SESSION.sub("", link)
    parts = urlsplit(link)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    query = ""
    if parts.query:
        query = urlencode(
            [
                (k, v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
                if not TRACKING.match(k) and not (_NUMERIC_CACHE_BUSTER.match(k) and not v)
            ]
        )
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def join(base: str, link: str) -> str:
    """`link` resolved against `base`, as urljoin does; the two shapes feeds and pages use
    most (a path from the root, a plain name beside the page) without urljoin's full parse,
    which costs a first run more than anything else it does with a link."""
    if link[:1] == "/" and link[1:2] != "/" and _plain(link):
        origin = _origin(base)
        if origin:
            return origin + link
    elif link[:1].isalnum() and ":" not in link.partition("/")[0] and _plain(link):
        directory = _directory(base)
        if directory:
            return directory + link
    return urljoin(base, link)


def _plain(link: str) -> bool:
    """No dot segments to remove, no query or fragment only, nothing to escape."""
    return "./" not in link and not link.endswith(("/.", "/..")) and link.isprintable()


@lru_cache(maxsize=256)
def _origin(base: str) -> str | None:
    """ "https://host:port" of an absolute http(s) base, or None."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


@lru_cache(maxsize=256)
def _directory(base: str) -> str | None:
    """The base up to its last "/" (without query or fragment), where a plain name goes."""
    origin = _origin(base)
    if origin is None:
        return None
    path = urlsplit(base).path or "/"
    return origin + path[: path.rindex("/") + 1]


def absolute(link: str) -> bool:
    return link[:8].lower().startswith(("http://", "https://"))


def looks_like_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://"))

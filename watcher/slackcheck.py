"""Checking the Slack setup before the first alert needs it (`watcher doctor`).

Three questions, each answered with the fix when the answer is no: is the token valid
(`auth.test`); does it carry `chat:write` (the `x-oauth-scopes` header Slack adds to every
answer); is the bot a member of every channel watcher posts to (`conversations.list`, which
needs the read-only `channels:read` scope, and `groups:read` to see private channels). A
`not_in_channel` otherwise shows up only when the first real alert is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watcher.settings import SlackSettings

# Errors that mean the token itself is no good.
BAD_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
MAX_PAGES = 50  # conversations.list pages of 1,000 channels


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report: what was checked, whether it is fine (None: could
    not be checked), what was found, and what to do about it."""

    what: str
    ok: bool | None
    detail: str
    fix: str = ""


def channels_of(settings: SlackSettings, source_channels: Iterable[str | None]) -> list[str]:
    """Every channel watcher may post to: the default, the ops channel, sources' and routes'."""
    named = [settings.channel, settings.operations, *source_channels]
    named += [r.channel for r in settings.routes]
    return list(dict.fromkeys(c for c in named if c))


def check_slack(client: Any, channels: Sequence[str]) -> list[Finding]:
    """The findings for one Slack token (`client` is a slack_sdk WebClient)."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        code = _code(exc.response)
        if code in BAD_TOKEN:
            return [
                Finding(
                    "token",
                    False,
                    f"Slack rejects the token: {code}",
                    "copy the Bot User OAuth Token (xoxb-...) from your app's OAuth & "
                    "Permissions page into SLACK_BOT_TOKEN (or SLACK_BOT_TOKEN_FILE)",
                )
            ]
        return [Finding("token", False, f"Slack answered auth.test with {code or 'an error'}")]
    except (SlackClientError, OSError, ValueError) as exc:
        return [
            Finding(
                "token",
                False,
                f"cannot reach Slack: {exc}",
                "check that this host reaches slack.com (proxy, firewall, SLACK_API_URL)",
            )
        ]
    bot = str(auth.get("user") or "the bot")
    findings = [Finding("token", True, f"valid: {bot} in {auth.get('team') or 'the workspace'}")]
    findings.append(_scope_finding(_scopes(auth.headers)))
    findings += _channel_findings(client, channels, bot)
    return findings


def _scope_finding(scopes: frozenset[str] | None) -> Finding:
    if scopes is None:
        return Finding("scope chat:write", None, "Slack did not say which scopes the token has")
    if "chat:write" in scopes:
        return Finding("scope chat:write", True, "granted")
    return Finding(
        "scope chat:write",
        False,
        "missing: the bot cannot post (scopes: " + (", ".join(sorted(scopes)) or "none") + ")",
        "add the bot token scope chat:write under OAuth & Permissions, then reinstall the app",
    )


def _channel_findings(client: Any, channels: Sequence[str], bot: str) -> list[Finding]:
    listed = _list_channels(client)
    if isinstance(listed, str):
        return [
            Finding(
                f"channel {_shown(c)}",
                None,
                f"membership not checked: {listed}",
                "add the read-only scopes channels:read and groups:read, reinstall the app, "
                "and run `watcher doctor` again",
            )
            for c in channels
        ]
    findings = []
    for channel in channels:
        found = _find(listed, channel)
        what = f"channel {_shown(channel)}"
        if found is None:
            findings.append(
                Finding(
                    what,
                    False,
                    "not found (a private channel is visible only once the bot is in it)",
                    f"check the name in the configuration, or `/invite @{bot}` in it",
                )
            )
        elif found.get("is_archived"):
            findings.append(Finding(what, False, "archived", "unarchive it or choose another"))
        elif not found.get("is_member"):
            findings.append(
                Finding(
                    what, False, "the bot is not a member", f"`/invite @{bot}` in {_shown(channel)}"
                )
            )
        else:
            findings.append(Finding(what, True, "the bot is a member"))
    return findings


def _list_channels(client: Any) -> list[Mapping[str, Any]] | str:
    """Every channel the token can see, or why they cannot be listed."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    out: list[Mapping[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        try:
            page = client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=False,
                limit=1000,
                cursor=cursor,
            )
        except SlackApiError as exc:
            code = _code(exc.response)
            needed = exc.response.get("needed") if exc.response is not None else None
            if code == "missing_scope":
                return f"the token lacks {needed or 'channels:read'}"
            return f"Slack answered conversations.list with {code or 'an error'}"
        except (SlackClientError, OSError, ValueError) as exc:
            return f"cannot reach Slack: {exc}"
        out += [c for c in page.get("channels") or [] if isinstance(c, dict)]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return out


def _find(channels: Sequence[Mapping[str, Any]], wanted: str) -> Mapping[str, Any] | None:
    name = wanted.lstrip("#").casefold()
    for channel in channels:
        if channel.get("id") == wanted or str(channel.get("name", "")).casefold() == name:
            return channel
    return None


def _scopes(headers: Mapping[str, Any] | None) -> frozenset[str] | None:
    for key, value in (headers or {}).items():
        if key.lower() == "x-oauth-scopes":
            text = value[0] if isinstance(value, list) else str(value)
            return frozenset(s.strip() for s in text.split(",") if s.strip())
    return None


def _shown(channel: str) -> str:
    """`#name` for a name given with or without its `#`; a channel ID as it is."""
    return channel if channel.startswith("#") or _CHANNEL_ID.match(channel) else f"#{channel}"


def _code(response: Any) -> str:
    try:
        return str(response.get("error") or "")
    except AttributeError:
        return ""

"""Slack's documented message limits, checked the way Slack would refuse a message."""

from __future__ import annotations

import re
from typing import Any

MAX_BLOCKS = 50
MAX_TEXT = 4000  # the `text` fallback (Slack truncates at 40,000; we promise 4,000)
MAX_HEADER = 150
MAX_SECTION = 3000
MAX_FIELDS = 10
MAX_FIELD = 2000
MAX_CONTEXT_ELEMENTS = 10


def violations(payload: dict[str, Any]) -> list[str]:
    """Every way this chat.postMessage payload breaks Slack's limits."""
    problems = []
    text = payload.get("text") or ""
    if len(text) > MAX_TEXT:
        problems.append(f"text has {len(text)} characters")
    blocks = payload.get("blocks") or []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks")
    for index, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "header":
            if block["text"]["type"] != "plain_text" or len(block["text"]["text"]) > MAX_HEADER:
                problems.append(f"block {index}: header too long or not plain text")
        elif kind == "section":
            if "text" in block and len(block["text"]["text"]) > MAX_SECTION:
                problems.append(f"block {index}: section of {len(block['text']['text'])}")
            fields = block.get("fields") or []
            if len(fields) > MAX_FIELDS or any(len(f["text"]) > MAX_FIELD for f in fields):
                problems.append(f"block {index}: fields over the limits")
            if "text" not in block and not fields:
                problems.append(f"block {index}: empty section")
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
                problems.append(f"block {index}: context with {len(elements)} elements")
        else:
            problems.append(f"block {index}: unexpected type {kind}")
    return problems


LIVE_MARKUP = re.compile(r"<(?:!|@|#|https?:|mailto:)[^>]*>")


def live_markup(payload: dict[str, Any]) -> list[str]:
    """Every live Slack link or mention in a payload's texts."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "text" and isinstance(item, str):
                    found.extend(LIVE_MARKUP.findall(item))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk({"text": payload.get("text"), "blocks": payload.get("blocks")})
    return found

"""Where in a YAML file a key path is: so every configuration problem names its file, line,
source and key ("sources.yaml:12: source 'fr' (sources[0]): conditions.type")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml


class Locator:
    """Turns a key path into `file:line: source 'name' (sources[2]): key.path`.

    The YAML node tree that knows the lines is composed only when a problem is reported:
    a valid file, the usual case, is parsed once."""

    def __init__(self, path: Path, text: str, data: Any):
        self.path = path
        self.text = text
        self.data = data
        self._lines: Mapping[tuple[Any, ...], int] | None = None

    @property
    def lines(self) -> Mapping[tuple[Any, ...], int]:
        if self._lines is None:
            node = yaml.compose(self.text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            self._lines = _line_index(node) if node is not None else {}
        return self._lines

    def __call__(self, loc: Sequence[Any]) -> str:
        loc = tuple(loc)
        line = None
        lines = self.lines
        for cut in range(len(loc), -1, -1):
            line = lines.get(loc[:cut])
            if line is not None:
                break
        where = f"{self.path}:{line}" if line else str(self.path)
        if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
            name = None
            sources = self.data.get("sources") if isinstance(self.data, dict) else None
            if isinstance(sources, list) and loc[1] < len(sources):
                entry = sources[loc[1]]
                name = entry.get("name") if isinstance(entry, dict) else None
            label = f"source {name!r} (sources[{loc[1]}])" if name else f"sources[{loc[1]}]"
            rest = _dotted(loc[2:])
            return f"{where}: {label}" + (f": {rest}" if rest else "")
        rest = _dotted(loc)
        return f"{where}: {rest}" if rest else where


def _dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line_index(node: yaml.Node) -> dict[tuple[Any, ...], int]:
    """Map every key path in a composed YAML document to its 1-based line."""
    lines: dict[tuple[Any, ...], int] = {(): node.start_mark.line + 1}

    def walk(current: yaml.Node, path: tuple[Any, ...]) -> None:
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                child = (*path, key)
                lines[child] = key_node.start_mark.line + 1
                walk(value_node, child)
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                child = (*path, index)
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    walk(node, ())
    return lines


MAX_VALUES = 100_000  # values a configuration may hold once its aliases are expanded


def expanded_size(node: yaml.Node, limit: int = MAX_VALUES) -> int:
    """How many values a composed YAML document holds with every alias expanded, counted
    without expanding anything (an alias is the same node object, counted once and then
    multiplied); stops counting past `limit`."""
    sizes: dict[int, int] = {}

    def size(current: yaml.Node, depth: int) -> int:
        known = sizes.get(id(current))
        if known is not None:
            return known
        if depth > 100:
            return limit + 1  # nesting this deep is no configuration a person wrote
        total = 1
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                total += size(key, depth + 1) + size(value, depth + 1)
                if total > limit:
                    break
        elif isinstance(current, yaml.SequenceNode):
            for item in current.value:
                total += size(item, depth + 1)
                if total > limit:
                    break
        sizes[id(current)] = total
        return total

    return size(node, 0)

"""Checking sources.yaml: the problems the models of every key (`config_models`) find.

`validate` turns the text of a configuration into its *spec*: plain JSON-ready values, every
one checked, from which `config.assemble` builds the frozen settings. Every problem is
collected before anything is reported, and each names the file, the line, the source and the
key path, so a person can fix them all in one go.

pydantic is imported here and nowhere else on the way to a run: a configuration whose spec
was cached (see `config_cache`) never loads this module.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from watcher.config_lines import MAX_VALUES, Locator, expanded_size
from watcher.config_models import SourceModel, TopModel
from watcher.errors import ConfigError, Problem
from watcher.sources import Registry

# ---------------------------------------------------------------------------------------------
# Validating


def validate(text: str, path: Path, registry: Registry, *, deep: bool = False) -> dict[str, Any]:
    """Check configuration text; return its spec, or raise ConfigError listing every problem.

    `path` is only named in messages. `deep` also runs the checks too slow for every run
    (CSS selector syntax), as `watcher validate` does."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it
    try:
        # Composed first (aliases are shared nodes, nothing expanded) to refuse a document
        # that would expand into millions of values through its aliases (a YAML bomb).
        node = yaml.compose(text, Loader=loader)
        if node is not None and expanded_size(node) > MAX_VALUES:
            raise ConfigError(
                [
                    Problem(
                        str(path),
                        f"the file expands to more than {MAX_VALUES:,} values through its "
                        "aliases (*name); refused",
                    )
                ]
            )
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(where, f"not valid YAML: {problem}")]) from None
    locate = Locator(path, text, data)
    if not isinstance(data, dict):
        raise ConfigError([Problem(str(path), "expected a mapping with `slack:` and `sources:`")])

    # Top-level keys starting with `x-` hold YAML anchors for reuse (rules shared by sources).
    data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    problems: list[Problem] = []
    try:
        top = TopModel.model_validate(data)
    except ValidationError as exc:
        problems += _problems(exc, (), locate)
        top = None

    raw_sources = data.get("sources")
    sources: list[dict[str, Any]] = []
    if isinstance(raw_sources, list):
        default_channel = top.slack.channel if top else ""
        seen: dict[str, int] = {}
        for index, raw in enumerate(raw_sources):
            prefix: tuple[Any, ...] = ("sources", index)
            if not isinstance(raw, dict):
                problems.append(Problem(locate(prefix), "expected a mapping describing a source"))
                continue
            source, source_problems = _source_spec(
                raw, prefix, default_channel, locate, registry, deep
            )
            problems += source_problems
            name = raw.get("name")
            if isinstance(name, str):
                if name in seen:
                    problems.append(
                        Problem(
                            locate((*prefix, "name")),
                            f"duplicate source name {name!r} (also sources[{seen[name]}])",
                        )
                    )
                else:
                    seen[name] = index
            if source is not None:
                sources.append(source)

    if top is not None:
        names = {s["name"] for s in sources} | {
            str(r.get("name")) for r in raw_sources or [] if isinstance(r, dict)
        }
        for index, route_model in enumerate(top.slack.routes):
            for name in route_model.when.source:
                if name not in names:
                    where = locate(("slack", "routes", index, "when", "source"))
                    problems.append(Problem(where, f"no source is named {name!r}"))
    if problems or top is None:
        raise ConfigError(problems)
    spec = top.model_dump(mode="json")
    spec["sources"] = sources
    return spec


def _source_spec(
    raw: dict[str, Any],
    prefix: tuple[Any, ...],
    default_channel: str,
    locate: Locator,
    registry: Registry,
    deep: bool,
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """One source's spec: the common keys, then the kind's `options` (a frozen dataclass's
    fields)."""
    problems: list[Problem] = []
    common_keys = set(SourceModel.model_fields)
    try:
        common = SourceModel.model_validate({k: v for k, v in raw.items() if k in common_keys})
    except ValidationError as exc:
        problems += _problems(exc, prefix, locate)
        common = None

    kind_name = raw.get("kind")
    extra = {k: v for k, v in raw.items() if k not in common_keys}
    kind = registry.get(kind_name) if isinstance(kind_name, str) else None
    options = None
    if isinstance(kind_name, str) and kind is None:
        problems.append(
            Problem(
                locate((*prefix, "kind")),
                f"unknown kind {kind_name!r}; known kinds: {', '.join(sorted(registry))}",
            )
        )
    elif kind is not None:
        try:
            options = _adapter(kind.options).validate_python(extra)
        except ValidationError as exc:
            problems += _problems(exc, prefix, locate, known=sorted(common_keys | _fields(kind)))
        else:
            found = options.problems() + (options.deep_problems() if deep else [])
            problems += [Problem(locate((*prefix, key)), message) for key, message in found]

    if problems or common is None or options is None:
        return None, problems
    spec = common.model_dump(mode="json")
    spec["channel"] = common.channel or default_channel
    spec["options"] = dataclasses.asdict(options)
    return spec, problems


_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(options: type) -> TypeAdapter[Any]:
    """One validator per kind's options, built once (building one costs milliseconds)."""
    if options not in _ADAPTERS:
        _ADAPTERS[options] = TypeAdapter(options)
    return _ADAPTERS[options]


def _fields(kind: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(kind.options)}


def _problems(
    exc: ValidationError,
    prefix: tuple[Any, ...],
    locate: Locator,
    known: Sequence[str] | None = None,
) -> Iterator[Problem]:
    for error in exc.errors(include_url=False):
        loc = (*prefix, *error["loc"])
        # pydantic reports union and wrapper steps in loc; keep only real keys and indexes
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        message = error["msg"].removeprefix("Value error, ")
        # a model reports an unknown key as extra_forbidden, a dataclass (the kinds' options)
        # as unexpected_keyword_argument
        if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            key = str(loc[-1])
            message = "unknown key"
            candidates = known if (known is not None and len(loc) == len(prefix) + 1) else None
            close = difflib.get_close_matches(key, candidates or [], n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
        elif error["type"] == "missing":
            message = "required key is missing"
        yield Problem(locate(loc), message)

"""Configuration: the default file is valid, and every mistake is named with its place."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT
from watcher import config_cache
from watcher.config import load_config, parse_config
from watcher.durations import format_duration, parse_duration
from watcher.errors import ConfigError
from watcher.sources import REGISTRY
from watcher.sources.federal_register import FederalRegisterOptions


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, Path("sources.yaml"))
    return [str(p) for p in caught.value.problems]


GOOD = """\
slack:
  channel: "#trade"
sources:
  - name: fr
    kind: federal_register
    url: https://www.federalregister.gov/api/v1
    every: 15m
    channel: "#urgent"
    conditions:
      term: '"section 232" | tariff'
      type: [PRESDOCU, NOTICE]
    match: [section 232, critical minerals]
    exclude: [antidumping]
"""


def test_the_default_configuration_is_valid_and_watches_the_real_federal_register():
    config = load_config(ROOT / "sources.yaml", REGISTRY)
    fr = config.source("federal-register")
    assert fr.url == "https://www.federalregister.gov/api/v1"
    assert fr.channel == config.slack.channel


def test_the_contract_example_loads():
    config = parse_config(GOOD, Path("sources.yaml"))
    (source,) = config.sources
    assert source.every == timedelta(minutes=15)
    assert source.channel == "#urgent"
    assert isinstance(source.options, FederalRegisterOptions)
    assert source.options.conditions["type"] == ["PRESDOCU", "NOTICE"]
    assert len(source.rules.match) == 2 and len(source.rules.exclude) == 1


def test_every_problem_is_reported_at_once_with_file_line_source_and_key():
    text = """\
slack:
  channel: "#trade"
sources:
  - name: fr
    kind: federal_register
    url: https://www.federalregister.gov/api/v1
    every: fortnightly
    per_page: 5000
    colour: blue
  - name: fr
    kind: federal_registry
    url: ftp://example.com/feed
  - name: ok
    kind: federal_register
    url: http://127.0.0.1/api/v1
    match:
      - {any: [tariff], typo: x}
"""
    found = problems(text)
    expected = [
        "sources.yaml:7: source 'fr' (sources[0]): every: cannot read 'fortnightly' as a "
        "duration; write a number and a unit, e.g. 15m, 1h, 2d",
        "sources.yaml:8: source 'fr' (sources[0]): per_page: Input should be less than or "
        "equal to 2000",
        "sources.yaml:9: source 'fr' (sources[0]): colour: unknown key",
        "sources.yaml:12: source 'fr' (sources[1]): url: only http:// and https:// URLs can "
        "be watched, not 'ftp://example.com/feed'",
        "sources.yaml:11: source 'fr' (sources[1]): kind: unknown kind 'federal_registry'; "
        "known kinds: csms, federal_register, federal_register_public_inspection, feed, page",
        "sources.yaml:10: source 'fr' (sources[1]): name: duplicate source name 'fr' "
        "(also sources[0])",
        "sources.yaml:17: source 'ok' (sources[2]): match[0].typo: unknown key",
    ]
    for line in expected:
        assert any(line.split(": ", 1)[1] in f for f in found), (line, found)
        assert line in found, (line, found)
    assert len(found) == len(expected)


def test_missing_and_mistyped_top_level_keys():
    found = problems("sources: []\n")
    assert any("slack: required key is missing" in f for f in found)
    found = problems("slack: {channel: '#x'}\nsources: {name: x}\n")
    assert any("sources: Input should be a valid list" in f for f in found)


def test_yaml_syntax_errors_name_the_line():
    found = problems("slack:\n  channel: '#x\nsources: []\n")
    assert found and found[0].startswith("sources.yaml:") and "not valid YAML" in found[0]


def test_yaml_is_loaded_safely():
    found = problems("slack: !!python/object/apply:os.system ['echo pwned']\nsources: []\n")
    assert found and "not valid YAML" in found[0]


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml", REGISTRY)
    assert "no such file" in str(caught.value)


def test_rules_accept_strings_and_mappings_and_reject_empty_ones():
    text = GOOD.replace(
        "match: [section 232, critical minerals]",
        "match:\n      - tariff*\n      - {all: [critical minerals, list], agency: Geological "
        "Survey}\n      - {unless: [x]}\n      - {any: ['  ']}",
    )
    found = problems(text)
    assert any("match[2]: a rule needs at least one of" in f for f in found), found
    assert any("match[3]: phrase '  ' has no words" in f for f in found), found


def test_federal_register_conditions_may_not_set_the_publication_date_window():
    text = GOOD.replace("term:", "publication_date: {gte: '2025-01-01'}\n      term:")
    (found,) = problems(text)
    assert "conditions: watcher sets conditions[publication_date] itself" in found


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("1h30m", 5400), ("2d", 172800), ("90s", 90), ("1w", 604800), (" 1H ", 3600)],
)
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "15", "m", "15 minutes", "0m", "-5m", "1.5h"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration_round_trips():
    for text in ("15m", "1h30m", "2d", "1d2h3m4s"):
        assert format_duration(parse_duration(text)) == text


def test_validate_checks_css_selectors_too(workspace):
    workspace.write_config(
        'slack: {channel: "#t"}\nsources:\n  - name: p\n    kind: page\n'
        '    url: https://x.gov/\n    selector: "main >>> ["\n    item_selector: "li"\n'
    )
    result = workspace.cli("validate")
    assert result.exit_code == 2
    assert "sources.yaml:6: source 'p' (sources[0]): selector: not a valid CSS selector" in (
        result.stderr
    )


# ---------------------------------------------------------------------------------------------
# The remembered spec: an unchanged file is not checked again


def test_a_cached_spec_builds_the_same_settings_as_checking_the_file(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    checked = load_config(ROOT / "sources.yaml", REGISTRY)
    first = load_config(ROOT / "sources.yaml", REGISTRY, cache_dir=state)
    assert (state / config_cache.FILE).exists()
    cached = load_config(ROOT / "sources.yaml", REGISTRY, cache_dir=state)
    assert first == checked
    assert cached == checked  # phrases, routes, options, durations: all equal


def test_an_unchanged_file_is_loaded_without_pydantic(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    load_config(ROOT / "sources.yaml", REGISTRY, cache_dir=state)
    probe = (
        "import sys; from pathlib import Path; from watcher.config import load_config; "
        "from watcher.sources import REGISTRY; "
        f"c = load_config(Path({str(ROOT / 'sources.yaml')!r}), REGISTRY, "
        f"cache_dir=Path({str(state)!r})); "
        "print(len(c.sources), 'pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    expected = len(load_config(ROOT / "sources.yaml", REGISTRY).sources)
    assert out.stdout.split() == [str(expected), "False"]


def test_a_changed_file_is_checked_again_and_its_problems_reported(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    path = tmp_path / "sources.yaml"
    path.write_text(GOOD)
    assert load_config(path, REGISTRY, cache_dir=state).sources[0].channel == "#urgent"
    path.write_text(GOOD.replace("every: 15m", "every: soon"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, REGISTRY, cache_dir=state)
    assert "every" in str(caught.value.problems[0])
    path.write_text(GOOD.replace('"#urgent"', '"#other"'))
    assert load_config(path, REGISTRY, cache_dir=state).sources[0].channel == "#other"


@pytest.mark.parametrize(
    "damage",
    [
        "not json at all",
        '{"key": "wrong", "spec": {}}',
        "[]",
        None,  # the right key, a spec missing its parts (an older watcher's shape)
    ],
)
def test_a_damaged_or_foreign_cache_only_means_checking_again(tmp_path, damage):
    state = tmp_path / "state"
    state.mkdir()
    path = tmp_path / "sources.yaml"
    path.write_text(GOOD)
    load_config(path, REGISTRY, cache_dir=state)
    cache = state / config_cache.FILE
    if damage is None:
        saved = json.loads(cache.read_text())
        del saved["spec"]["sources"][0]["options"]
        cache.write_text(json.dumps(saved))
    else:
        cache.write_text(damage)
    assert load_config(path, REGISTRY, cache_dir=state) == parse_config(GOOD, path)


def test_validate_always_checks_the_file_in_full(workspace):
    workspace.write_config(
        'slack: {channel: "#t"}\nsources:\n  - name: p\n    kind: page\n'
        '    url: https://x.gov/\n    selector: "main >>> ["\n'
    )
    workspace.state.mkdir(exist_ok=True)
    # cached: selectors not parsed
    load_config(workspace.config, REGISTRY, cache_dir=workspace.state)
    assert workspace.cli("validate").exit_code == 2


def test_a_yaml_alias_bomb_is_refused_before_anything_expands_it(tmp_path):
    lines = ['slack: {channel: "#t"}', 'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"x-{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    lines.append('sources:\n  - {name: a, kind: feed, url: "http://127.0.0.1:9/x", match: *i}')
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert len(path.read_bytes()) < 1000  # 9**8 * 8 values once expanded
    with pytest.raises(ConfigError) as caught:
        load_config(path, REGISTRY)
    (problem,) = caught.value.problems
    assert "expands to more than 100,000 values through its aliases" in str(problem)


def test_the_default_file_s_own_aliases_are_fine():
    assert load_config(ROOT / "sources.yaml", REGISTRY).sources

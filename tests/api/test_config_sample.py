"""etc/ci-health.conf.sample documents every option the one config loader is
asked for (issue 16): the package's reads are found in its source, so a new
option without a line in the sample fails here."""
from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

import pytest

from health_api.config import _ALIASES, load_config

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "health_api"
SAMPLE = ROOT / "etc" / "ci-health.conf.sample"
GETTERS = {"get": str, "get_int": int, "get_float": float, "get_bool": "bool"}


def _receiver(node: ast.expr) -> str:
    """``config`` of ``config.get`` (Flask's ``app.config`` is an attribute: not ours)."""
    return node.id if isinstance(node, ast.Name) else ""


def config_reads() -> dict[tuple[str, str], set[str]]:
    """(section, key) -> getters, for every call of Config's getters in the package."""
    reads: dict[tuple[str, str], set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in GETTERS):
                continue
            owner = _receiver(node.func.value)
            if owner not in ("config", "cfg") and not (owner == "self"
                                                       and path.name == "config.py"):
                continue
            args = node.args[:2]
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if owner in ("config", "cfg") and len(node.args) < 2:
                continue  # dict.get of something called config (one argument)
            assert all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args), \
                f"{where}: config options are read with literal section and key names"
            reads.setdefault((args[0].value, args[1].value), set()).add(node.func.attr)
    return reads


def sample_options() -> dict[tuple[str, str], str | None]:
    """(section, key) -> value, for set and commented-out (``# key = ...``) options."""
    options, section = {}, None
    for line in SAMPLE.read_text().splitlines():
        if match := re.match(r"^\[([a-z_]+)\]\s*$", line):
            section = match.group(1)
        elif match := re.match(r"^(#\s*)?([a-z_]+)\s*=\s*(.*)$", line):
            assert section, f"option {match.group(2)} before any [section]"
            options[(section, match.group(2))] = None if match.group(1) else match.group(3)
    return options


def test_the_scan_finds_the_options_of_every_part():
    reads = config_reads()
    for known in [("database", "url"), ("database", "read_url"), ("api", "max_body_bytes"),
                  ("cache", "redis_url"), ("gerrit", "host"), ("gerrit", "journal"),
                  ("insight", "period_days"), ("alerts", "raise_rate"),
                  ("ci", "silent_after_hours")]:
        assert known in reads
    assert len(reads) >= 50


def test_every_option_read_is_in_the_sample():
    documented = sample_options()
    missing = sorted(f"[{s}] {k}" for s, k in config_reads() if (s, k) not in documented)
    assert not missing, f"not in etc/ci-health.conf.sample: {', '.join(missing)}"


def test_sample_documents_no_option_nobody_reads():
    reads = config_reads()
    stale = sorted(f"[{s}] {k}" for s, k in sample_options() if (s, k) not in reads)
    assert not stale, f"etc/ci-health.conf.sample documents unread options: {stale}"


def test_sample_values_load_with_their_getters():
    """The sample as a config file: every value set in it is valid for its getter."""
    config = load_config(SAMPLE, environ={})
    for (section, key), getters in config_reads().items():
        for getter in getters:
            getattr(config, getter)(section, key, *(() if getter == "get" else (0,)))
    configparser.ConfigParser(interpolation=None).read(SAMPLE)


@pytest.mark.parametrize("variable", sorted(set(_ALIASES.values()) | {"CI_HEALTH_CONFIG"}))
def test_environment_aliases_are_in_the_sample(variable):
    assert variable in SAMPLE.read_text()

"""Per-CI settings: ``etc/ci-systems.yaml``, keyed by Gerrit username.

Every field is documented in ``etc/ci-systems.yaml.sample``. A CI system
needs no entry at all to be tracked: entries only add what cannot be learned
from Gerrit (a display name, a contact, the projects it promises to test)
and teach the comment parser a non-standard report or recheck format.

Loading validates everything up front and raises ValueError with one line
naming the file, the entry and the field, so a typo fails at start-up
rather than silently parsing nothing.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["CiOverrides", "CiSystemConfig", "load_ci_systems"]

_ENTRY_KEYS = ("display_name", "contact", "account_id", "projects", "branches",
               "recheck", "result_patterns", "result_map", "trusted")
_RESULT_WORD = re.compile(r"[A-Z][A-Z0-9_]*")
_RESULT_GROUPS_ALLOWED = frozenset({"job", "url", "result", "duration", "detail", "nonvoting"})


@dataclass(frozen=True, slots=True)
class CiOverrides:
    """What one CI system does differently. Only ``result_patterns`` and
    ``recheck_pattern`` affect comment parsing; the rest describe the CI for
    the collector and the dashboard.

    ``result_patterns``: compiled regexes (MULTILINE) with named groups
    ``result`` and ``job`` and/or ``url``; optional ``duration``, ``detail``
    and ``nonvoting`` (any text there marks the job non-voting). When one of
    them finds a job, the built-in job formats are not tried.
    ``result_map``: upper-case result word as the CI writes it -> the word to
    store (``PASSED`` -> ``SUCCESS``), applied to ``result_patterns`` matches.
    ``recheck_pattern``: matched (search) against comments that are not CI
    reports, in addition to the built-in ``recheck``/``recheck-<ci>``.
    ``projects``/``branches``: exact names, or regexes when they start with
    ``^`` (Gerrit's convention); empty means "all".
    ``trusted``: the upstream CI of its projects, the reference the other
    CIs' votes are compared with.
    """

    result_patterns: tuple[re.Pattern[str], ...] = ()
    recheck_pattern: re.Pattern[str] | None = None
    display_name: str | None = None
    contact: str | None = None
    projects: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    result_map: Mapping[str, str] = field(default_factory=dict, hash=False)
    trusted: bool = False

    def covers(self, project: str | None, branch: str | None) -> bool:
        """Whether the CI declares it tests this project and branch."""
        if branch is not None and branch.startswith("refs/heads/"):
            branch = branch[len("refs/heads/"):]
        return (_name_matches(self.projects, project)
                and _name_matches(self.branches, branch))


@dataclass(frozen=True, slots=True)
class CiSystemConfig:
    """One entry of ci-systems.yaml."""

    username: str
    account_id: int | None = None
    overrides: CiOverrides = CiOverrides()

    @property
    def display_name(self) -> str:
        return self.overrides.display_name or self.username

    @property
    def contact(self) -> str | None:
        return self.overrides.contact

    @property
    def trusted(self) -> bool:
        return self.overrides.trusted

    def covers(self, project: str | None, branch: str | None) -> bool:
        return self.overrides.covers(project, branch)


def _name_matches(patterns: tuple[str, ...], name: str | None) -> bool:
    if not patterns:
        return True
    if name is None:
        return False
    for pattern in patterns:
        if pattern.startswith("^"):
            if re.match(pattern, name):  # re caches compiled patterns
                return True
        elif pattern == name:
            return True
    return False


# -- loading -----------------------------------------------------------------


class _EntryReader:
    """Typed access to one entry's fields, with errors that say where."""

    def __init__(self, path: str, username: str, entry: dict[Any, Any]):
        self.where = f"{path}: entry {username!r}"
        self.entry = entry

    def error(self, name: str, problem: str) -> ValueError:
        return ValueError(f"{self.where}: {name}: {problem}")

    def text(self, field: str) -> str | None:
        value = self.entry.get(field)
        if value is None or isinstance(value, str):
            return value
        raise self.error(field, f"expected a string, got {type(value).__name__}")

    def integer(self, field: str) -> int | None:
        value = self.entry.get(field)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self.error(field, f"expected an integer, got {type(value).__name__}")

    def text_list(self, field: str) -> tuple[str, ...]:
        value = self.entry.get(field)
        if value is None:
            return ()
        if isinstance(value, str):  # a single name is a common slip; accept it
            value = [value]
        if not isinstance(value, list):
            raise self.error(field, f"expected a list of strings, got {type(value).__name__}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"{field}[{index}]",
                                 f"expected a string, got {type(item).__name__}")
        return tuple(value)

    def flag(self, field: str) -> bool:
        value = self.entry.get(field)
        if value is None or isinstance(value, bool):
            return bool(value)
        raise self.error(field, f"expected true or false, got {type(value).__name__}")

    def regex(self, field: str, pattern: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern, re.MULTILINE)
        except re.error as exc:
            raise self.error(field, f"invalid regex '{pattern}': {exc}") from None


def _read_result_map(reader: _EntryReader) -> dict[str, str]:
    value = reader.entry.get("result_map")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise reader.error("result_map", f"expected a mapping, got {type(value).__name__}")
    mapping = {}
    for reported, stored in value.items():
        if not isinstance(reported, str) or not isinstance(stored, str):
            raise reader.error(f"result_map[{reported!r}]", "keys and values must be strings")
        if not _RESULT_WORD.fullmatch(stored):
            raise reader.error(f"result_map[{reported!r}]",
                               f"{stored!r} is not an upper-case result word like SUCCESS")
        mapping[reported.strip().upper()] = stored
    return mapping


def _read_entry(path: str, username: Any, entry: Any) -> CiSystemConfig:
    if not isinstance(username, str) or not username:
        raise ValueError(f"{path}: entry {username!r}: the key must be a Gerrit username (a string)")
    if entry is None:
        entry = {}
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: entry {username!r}: expected a mapping of settings, "
                         f"got {type(entry).__name__}")
    reader = _EntryReader(path, username, entry)
    unknown = sorted(str(key) for key in entry if key not in _ENTRY_KEYS)
    if unknown:
        raise ValueError(f"{reader.where}: unknown field(s) {', '.join(unknown)}; "
                         f"expected some of {', '.join(_ENTRY_KEYS)}")

    patterns = []
    for index, source in enumerate(reader.text_list("result_patterns")):
        field = f"result_patterns[{index}]"
        pattern = reader.regex(field, source)
        groups = set(pattern.groupindex)
        if "result" not in groups or not groups & {"job", "url"}:
            raise reader.error(field, "needs named groups (?P<result>...) and "
                                      "(?P<job>...) and/or (?P<url>...)")
        if groups - _RESULT_GROUPS_ALLOWED:
            raise reader.error(field, f"unknown named group(s) {', '.join(sorted(groups - _RESULT_GROUPS_ALLOWED))}; "
                                      f"allowed: {', '.join(sorted(_RESULT_GROUPS_ALLOWED))}")
        patterns.append(pattern)

    result_map = _read_result_map(reader)
    recheck_source = reader.text("recheck")
    recheck = reader.regex("recheck", recheck_source) if recheck_source else None

    projects = reader.text_list("projects")
    branches = reader.text_list("branches")
    for field, names in (("projects", projects), ("branches", branches)):
        for index, name in enumerate(names):
            if name.startswith("^"):
                reader.regex(f"{field}[{index}]", name)  # validate now, match later

    overrides = CiOverrides(
        result_patterns=tuple(patterns),
        recheck_pattern=recheck,
        display_name=reader.text("display_name"),
        contact=reader.text("contact"),
        projects=projects,
        branches=branches,
        result_map=result_map,
        trusted=reader.flag("trusted"),
    )
    return CiSystemConfig(username=username, account_id=reader.integer("account_id"),
                          overrides=overrides)


def load_ci_systems(path: str | os.PathLike[str]) -> dict[str, CiSystemConfig]:
    """Read and validate ci-systems.yaml; an empty file means no entries.

    Raises FileNotFoundError when the file is missing and ValueError (one
    line, naming the file and entry) for anything malformed.
    """
    import yaml  # only needed here; the parsers stay importable without it

    path = os.fspath(path)
    with open(path, encoding="utf-8") as handle:
        try:
            document = yaml.safe_load(handle)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise ValueError(f"{path}: invalid YAML{where}: {problem}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping of Gerrit username to settings, "
                         f"got {type(document).__name__}")
    return {username: _read_entry(path, username, entry)
            for username, entry in document.items()}

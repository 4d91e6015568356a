"""health_api.gerrit.systems: ci-systems.yaml loading and validation."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from health_api.gerrit.comments import CiOverrides as CommentsCiOverrides
from health_api.gerrit.systems import CiOverrides, CiSystemConfig, load_ci_systems

SAMPLE = Path(__file__).resolve().parent.parent.parent / "etc" / "ci-systems.yaml.sample"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ci-systems.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_file_loads_with_exact_values():
    systems = load_ci_systems(SAMPLE)
    assert sorted(systems) == ["acme-storage-ci", "nimbus-ci"]

    acme = systems["acme-storage-ci"]
    assert acme.username == "acme-storage-ci"
    assert acme.account_id == 28412
    assert acme.display_name == "Acme Storage CI"
    assert acme.contact == "storage-ci@example.com (IRC nick acme-ci-oncall)"
    assert acme.overrides.projects == ("openstack/cinder", "openstack/os-brick", "^openstack/cinder-.*")
    assert acme.overrides.branches == ("master", r"^stable/20[0-9]{2}\.[12]$")
    assert acme.overrides.result_patterns == ()
    assert acme.overrides.recheck_pattern.pattern == r"(?i)^[ \t]*(?:recheck-acme|run-acme-storage-ci)\b"
    assert acme.overrides.result_map == {}

    nimbus = systems["nimbus-ci"]
    assert nimbus.account_id is None
    assert nimbus.display_name == "Nimbus Hardware CI"
    assert nimbus.contact == "https://wiki.example.org/NimbusCI"
    assert len(nimbus.overrides.result_patterns) == 1
    assert set(nimbus.overrides.result_patterns[0].groupindex) == {
        "job", "result", "duration", "nonvoting", "url"}
    assert nimbus.overrides.result_map == {"PASSED": "SUCCESS", "FAILED": "FAILURE"}
    assert nimbus.overrides.projects == ("openstack/nova", "openstack/ironic")
    assert nimbus.overrides.branches == ()


def test_comments_module_re_exports_the_same_class():
    assert CommentsCiOverrides is CiOverrides


@pytest.mark.parametrize(("project", "branch", "covered"), [
    ("openstack/cinder", "master", True),
    ("openstack/cinder", "refs/heads/master", True),
    ("openstack/cinder-tempest-plugin", "stable/2024.1", True),
    ("openstack/cinder-tempest-plugin", "stable/2024.3", False),
    ("openstack/cinderlib", "master", False),
    ("openstack/nova", "master", False),
    ("openstack/os-brick", "feature/nvme", False),
    (None, "master", False),
])
def test_covers_names_and_anchored_regexes(project, branch, covered):
    acme = load_ci_systems(SAMPLE)["acme-storage-ci"]
    assert acme.covers(project, branch) is covered


def test_empty_declarations_cover_everything():
    assert CiOverrides().covers("any/project", None) is True
    assert CiSystemConfig("x").covers(None, None) is True
    assert CiSystemConfig("x").display_name == "x"


def test_empty_file_and_empty_entries(tmp_path):
    assert load_ci_systems(write(tmp_path, "# nothing yet\n")) == {}
    systems = load_ci_systems(write(tmp_path, "quiet-ci:\nother-ci: {}\n"))
    assert systems == {"quiet-ci": CiSystemConfig("quiet-ci"), "other-ci": CiSystemConfig("other-ci")}


def test_a_single_project_string_is_accepted(tmp_path):
    systems = load_ci_systems(write(tmp_path, "x-ci:\n  projects: openstack/nova\n"))
    assert systems["x-ci"].overrides.projects == ("openstack/nova",)


def test_trusted_marks_the_upstream_ci(tmp_path):
    systems = load_ci_systems(write(tmp_path, "zuul:\n  trusted: true\nx-ci: {}\n"))
    assert systems["zuul"].trusted and not systems["x-ci"].trusted


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_ci_systems(tmp_path / "absent.yaml")


@pytest.mark.parametrize(("text", "problem"), [
    ("- a\n- b\n",
     "expected a mapping of Gerrit username to settings, got list"),
    ("x-ci: [1]\n",
     "entry 'x-ci': expected a mapping of settings, got list"),
    ("123: {}\n",
     "entry 123: the key must be a Gerrit username (a string)"),
    ("x-ci:\n  projets: [openstack/nova]\n",
     "entry 'x-ci': unknown field(s) projets; expected some of display_name, contact, account_id, "
     "projects, branches, recheck, result_patterns, result_map, trusted"),
    ("x-ci:\n  trusted: maybe\n",
     "entry 'x-ci': trusted: expected true or false, got str"),
    ("x-ci:\n  display_name: 5\n",
     "entry 'x-ci': display_name: expected a string, got int"),
    ("x-ci:\n  account_id: yes\n",
     "entry 'x-ci': account_id: expected an integer, got bool"),
    ("x-ci:\n  projects: 5\n",
     "entry 'x-ci': projects: expected a list of strings, got int"),
    ("x-ci:\n  branches: [master, 7]\n",
     "entry 'x-ci': branches[1]: expected a string, got int"),
    ("x-ci:\n  projects: ['^openstack/(nova']\n",
     "entry 'x-ci': projects[0]: invalid regex '^openstack/(nova': "
     "missing ), unterminated subpattern at position 11"),
    ("x-ci:\n  recheck: 'recheck-(x'\n",
     "entry 'x-ci': recheck: invalid regex 'recheck-(x': missing ), unterminated subpattern at position 8"),
    ("x-ci:\n  result_patterns: ['(?P<job>\\w+) : (?P<result>[A-Z]+']\n",
     "entry 'x-ci': result_patterns[0]: invalid regex '(?P<job>\\w+) : (?P<result>[A-Z]+': "
     "missing ), unterminated subpattern at position 15"),
    ("x-ci:\n  result_patterns: ['(?P<job>\\w+) : (\\w+)']\n",
     "entry 'x-ci': result_patterns[0]: needs named groups (?P<result>...) and (?P<job>...) "
     "and/or (?P<url>...)"),
    ("x-ci:\n  result_patterns: ['(?P<result>\\w+)']\n",
     "entry 'x-ci': result_patterns[0]: needs named groups (?P<result>...) and (?P<job>...) "
     "and/or (?P<url>...)"),
    ("x-ci:\n  result_patterns: ['(?P<job>\\w+) (?P<result>\\w+) (?P<time>\\d+)']\n",
     "entry 'x-ci': result_patterns[0]: unknown named group(s) time; "
     "allowed: detail, duration, job, nonvoting, result, url"),
    ("x-ci:\n  result_map: [ok]\n",
     "entry 'x-ci': result_map: expected a mapping, got list"),
    ("x-ci:\n  result_map: {ok: success}\n",
     "entry 'x-ci': result_map['ok']: 'success' is not an upper-case result word like SUCCESS"),
    ("x-ci:\n  result_map: {ok: 1}\n",
     "entry 'x-ci': result_map['ok']: keys and values must be strings"),
    ("x-ci:\n  display_name: [unclosed\n",
     "invalid YAML at line 3, column 1: expected ',' or ']', but got '<stream end>'"),
])
def test_invalid_files_name_the_file_entry_and_field(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as caught:
        load_ci_systems(path)
    assert str(caught.value) == f"{path}: {problem}"
    assert "\n" not in str(caught.value)


def test_patterns_are_compiled_multiline(tmp_path):
    path = write(tmp_path, "x-ci:\n  recheck: '^x-ci again$'\n"
                           "  result_patterns: ['^(?P<job>\\w+)=(?P<result>\\w+)$']\n")
    overrides = load_ci_systems(path)["x-ci"].overrides
    assert overrides.recheck_pattern.flags & re.MULTILINE
    assert overrides.result_patterns[0].flags & re.MULTILINE
    assert overrides.recheck_pattern.search("hello\nx-ci again\n") is not None

"""Runs the frontend's unit tests (node's built-in runner) inside pytest, so
`pytest tests` covers them: frontend/test/*.test.js test the pure modules
(URL state, formatting, colours, resolution, series, api.js with an injected
fetch) and scan the sources for HTML sinks.

`node --test frontend/test/` runs the same tests directly.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def test_node_unit_tests():
    node = shutil.which("node")
    if not node:
        if os.environ.get("CI_HEALTH_BROWSER_REQUIRED") == "1":
            pytest.fail("node is missing (Node.js 20 or later)")
        pytest.skip("node is missing (Node.js 20 or later)")
    proc = subprocess.run([node, "--test", "test/"], cwd=FRONTEND, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "NODE_OPTIONS": ""})
    output = proc.stdout + proc.stderr
    summary = dict(re.findall(r"^# (tests|pass|fail) (\d+)$", output, re.M))
    assert proc.returncode == 0, output[-20000:]
    assert int(summary.get("tests", 0)) > 0 and summary.get("fail") == "0", output[-5000:]

#!/usr/bin/env python3
"""Peak memory of `ci-health ingest junit` against the size of the report.

    python bench/junit_memory.py [--testcases 1000000] [--db sqlite|URL]

Writes JUnit reports of 10,000 and --testcases testcases (1% failures with a
message and a traceback, 1% skipped), ingests each with the CLI in a child
process into a fresh SQLite database (or --db), and prints the child's peak
RSS (ru_maxrss) and wall time. The issue 16 target: peak RSS under 300 MB at
1M testcases, and roughly flat in the report's size (the parser streams:
memory must not grow with the file).
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent


def write_report(path: Path, testcases: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')
        per_suite = 10_000
        for suite_start in range(0, testcases, per_suite):
            n = min(per_suite, testcases - suite_start)
            out.write(f'<testsuite name="suite{suite_start // per_suite}" tests="{n}" '
                      f'timestamp="2026-10-01T12:00:00">\n')
            for i in range(suite_start, suite_start + n):
                name = f"test_case_{i:07d}"
                cls = f"pkg.module{i % 97}.TestClass{i % 13}"
                if i % 100 == 1:
                    body = (f'<failure message="assertion {i}">'
                            f'{escape("Traceback (most recent call last):" + chr(10) + "  x" * 40)}'
                            "</failure>")
                elif i % 100 == 2:
                    body = '<skipped message="not today"/>'
                else:
                    body = ""
                out.write(f'<testcase classname="{cls}" name="{name}" time="0.{i % 1000:03d}">'
                          f'{body}</testcase>\n')
            out.write("</testsuite>\n")
        out.write("</testsuites>\n")


def ingest(path: Path, db_url: str) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one `ci-health ingest junit` child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "health_api.cli", "ingest", "junit", "--db", db_url,
                    "--run-meta", "build_name=bench-junit", str(path)],
                   check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far: sizes go up, so it is this one
    return max(peak, before) / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--testcases", type=int, default=1_000_000)
    parser.add_argument("--db", default=None, help="database URL (default: fresh SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        db_url = args.db or f"sqlite:///{tmp_path / 'bench.db'}"
        subprocess.run([sys.executable, "-m", "health_api.cli", "db", "upgrade", "--db", db_url],
                       check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        for testcases in sorted({10_000, args.testcases}):
            report = tmp_path / f"report-{testcases}.xml"
            write_report(report, testcases)
            size_mb = report.stat().st_size / 1e6
            peak_mb, seconds = ingest(report, db_url)
            print(f"junit ingest: {testcases} testcases ({size_mb:.0f} MB): peak RSS "
                  f"{peak_mb:.0f} MB, {seconds:.1f} s, {testcases / seconds:,.0f} testcases/s",
                  flush=True)
            report.unlink()


if __name__ == "__main__":
    main()

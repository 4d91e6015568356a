"""Many streams in one command (issue 18): files and directories of streams
are one run each, in order, through one process and one connection."""
from __future__ import annotations

import json

from health_api.db.session import _engines, dispose_engines

from streams import rows, run_cli, stream


def test_a_directory_is_its_files_in_name_order_over_one_connection(db_url, engine, tmp_path):
    folder = tmp_path / "streams"
    folder.mkdir()
    (folder / "b.subunit").write_bytes(stream(("pkg.a", "success"), ("pkg.b", "fail")))
    (folder / "a.subunit").write_bytes(stream(("pkg.a", "success")))
    (folder / "nested").mkdir()  # not descended into
    (folder / "nested" / "c.subunit").write_bytes(stream(("pkg.c", "success")))
    single = tmp_path / "single.subunit"
    single.write_bytes(stream(("pkg.d", "skip")))
    dispose_engines()
    result = run_cli("ingest", "subunit", "--db", db_url, "--json", str(folder), str(single))
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["tests"] for line in result.stdout.splitlines()] == [1, 2, 1]
    assert rows(engine, "SELECT test_id, run_count FROM tests ORDER BY test_id") == [
        ("pkg.a", 2), ("pkg.b", 1), ("pkg.d", 0)]
    (cli_engine,) = _engines.values()
    assert cli_engine.pool.checkedin() == 1  # every run over the one connection
    dispose_engines()


def test_a_directory_without_files_is_refused(db_url, engine, tmp_path):
    result = run_cli("ingest", "subunit", "--db", db_url, str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"ci-health: error: {tmp_path}: directory without files"
    assert rows(engine, "SELECT COUNT(*) FROM runs") == [(0,)]

"""Job names and test ids with slashes reach their routes (percent-encoded)."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from health_api.app import create_app

from api_helpers import no_cache_config
from streams import ingest, stream

WHEN = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.timezone.utc)
WINDOW = "start=2026-10-05T00:00:00Z&stop=2026-10-06T00:00:00Z"


def test_job_with_slash_in_its_name(db_url):
    job = "periodic/stable-tempest"
    ingest(db_url, stream(("pkg.a", "success"), ("pkg.b", "fail"), start=WHEN),
           "--run-meta", f"build_name={job}")
    client = create_app(db_url=db_url, config=no_cache_config()).test_client()
    detail = client.get(f"/api/v1/jobs/{quote(job, safe='')}?{WINDOW}&resolution=day")
    assert detail.status_code == 200, detail.get_json()
    points = detail.get_json()["points"]
    assert sum(p["failed"] for p in points) == 1
    tests = client.get(f"/api/v1/jobs/{quote(job, safe='')}/tests?{WINDOW}&sort=test_id")
    assert tests.status_code == 200, tests.get_json()
    assert [t["test_id"] for t in tests.get_json()["tests"]] == ["pkg.a", "pkg.b"]
    missing = client.get(f"/api/v1/jobs/{quote('no/such-job', safe='')}?{WINDOW}")
    assert missing.status_code == 404
    assert "no/such-job" in missing.get_json()["error"]["message"]

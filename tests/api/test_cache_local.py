"""The worker's local copies of Redis cache entries (health_api/api/cache.py):
never older than the entry Redis held, bounded in size."""
from __future__ import annotations

import time

import pytest

from health_api.api.cache import LocalCopies, cache
from health_api.app import create_app
from health_api.config import Config
from streams import ingest, stream

REDIS = "redis://127.0.0.1:6379/13"
TIMEOUT = 4  # seconds an entry lives


def test_a_local_copy_expires_with_the_redis_entry(db_url):
    import redis
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("redis is not running on 127.0.0.1:6379")
    config = Config(environ={"CI_HEALTH_CACHE_REDIS_URL": REDIS, "CI_HEALTH_CACHE_TIMEOUT": str(TIMEOUT)})
    one, two = create_app(db_url=db_url, config=config), create_app(db_url=db_url, config=config)
    with one.app_context():
        cache.clear()
    ingest(db_url, stream(("t.a", "success")), "--run-meta", "build_name=a")
    written = time.time()
    assert one.test_client().get("/api/v1/runs").get_json()["total"] == 1
    time.sleep(1)
    ingest(db_url, stream(("t.a", "success")), "--run-meta", "build_name=a")
    # two reads one's entry from Redis, then from its own copy (on a loaded
    # machine the entry may have expired already: then there is nothing to check)
    if time.time() < written + TIMEOUT - 1:
        assert two.test_client().get("/api/v1/runs").get_json()["total"] == 1
        assert two.extensions["ci_health_local_copies"].get(next(iter(
            two.extensions["ci_health_local_copies"]._items))) is not None
        assert two.test_client().get("/api/v1/runs").get_json()["total"] == 1
    # the copy lives until the Redis entry's end (written + TIMEOUT), not TIMEOUT after two read it
    time.sleep(max(0.0, written + TIMEOUT + 0.1 - time.time()))
    assert two.test_client().get("/api/v1/runs").get_json()["total"] == 2
    with one.app_context():
        cache.clear()


def test_local_copies_are_bounded_and_least_recently_used_go():
    copies = LocalCopies(max_entries=3, max_bytes=8 * 100)
    later = time.time() + 60
    for k in "abc":
        copies.put(k, later, b"x" * 10, k)
    assert copies.get("a") == (b"x" * 10, "a")  # a is now the most recently used
    copies.put("d", later, b"x" * 10, "d")
    assert copies.get("b") is None and copies.get("a") is not None
    copies.put("e", later, b"x" * 101, "e")  # over max_bytes / 8: not kept
    assert copies.get("e") is None
    copies.put("f", later, b"x" * 90, "f")
    copies.put("g", later, b"x" * 90, "g")
    assert sum(len(v[1]) for v in copies._items.values()) <= 800
    copies.put("old", time.time() - 1, b"y", "old")
    assert copies.get("old") is None

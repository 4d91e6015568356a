"""Fixtures of the fault tests: a private PostgreSQL cluster and a private
Redis (fault_helpers.py), torn down after each test."""
from __future__ import annotations

import pytest

from fault_helpers import PrivatePostgres, PrivateRedis


@pytest.fixture
def private_pg():
    server = PrivatePostgres()
    yield server
    server.close()


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    yield server
    server.kill()

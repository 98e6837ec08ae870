"""Shared fixtures: one throw-away LENSAN_HOME and one real embedded PostgreSQL per test session.

The environment is set at import time so every module (and any Airflow/dbt subprocess) started by
the tests uses the test home, never the developer's ./.lensan.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_TEST_HOME = Path(tempfile.mkdtemp(prefix="lensan-test-"))
os.environ["LENSAN_HOME"] = str(_TEST_HOME)
os.environ.setdefault("LENSAN_PSEUDONYM_KEY", "test-only-pseudonym-key")


@pytest.fixture(scope="session")
def lensan_home() -> Path:
    return _TEST_HOME


@pytest.fixture(scope="session")
def warehouse(lensan_home):
    """ConnectionInfo of a running warehouse (embedded unless LENSAN_WAREHOUSE_URL is set)."""
    from lensan import warehouse as wh

    info = wh.connection_info()
    yield info
    if not os.environ.get("LENSAN_WAREHOUSE_URL"):
        wh.stop_embedded(mode="immediate")


def scratch_database(warehouse, name: str):
    """A fresh database `name` on the session server; yields its ConnectionInfo, dropped afterwards."""
    from lensan.warehouse import scratch_database as scratch

    return scratch(name, warehouse)


@pytest.fixture
def db(warehouse):
    """A psycopg2 connection, rolled back and closed after the test."""
    from lensan import warehouse as wh

    conn = wh.connect()
    yield conn
    conn.rollback()
    conn.close()


def pytest_sessionfinish(session, exitstatus):
    if not os.environ.get("LENSAN_KEEP_TEST_HOME"):
        shutil.rmtree(_TEST_HOME, ignore_errors=True)

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
    from lensan.db import warehouse as wh

    info = wh.connection_info()
    yield info
    if not os.environ.get("LENSAN_WAREHOUSE_URL"):
        wh.stop_embedded(mode="immediate")


def scratch_database(warehouse, name: str):
    """A fresh database `name` on the session server; yields its ConnectionInfo, dropped afterwards."""
    from lensan.db.warehouse import scratch_database as scratch

    return scratch(name, warehouse)


@pytest.fixture
def db(warehouse):
    """A psycopg2 connection, rolled back and closed after the test."""
    from lensan.db import warehouse as wh

    conn = wh.connect()
    yield conn
    conn.rollback()
    conn.close()


def pytest_sessionfinish(session, exitstatus):
    if not os.environ.get("LENSAN_KEEP_TEST_HOME"):
        shutil.rmtree(_TEST_HOME, ignore_errors=True)


RAW_TABLES = ("raw.weekly_form_rows, raw.weekly_forms, raw.household_register, raw.postmart_shops, "
              "raw.postmart_products, raw.postmart_orders, raw.postmart_activity, raw.postmart_info_posts, "
              "raw.voso_shops, raw.voso_products, raw.voso_orders, raw.voso_activity, raw.voso_info_posts, "
              "raw.landed_files")


def empty_raw(cur) -> None:
    """Empty every raw table (file ids start again at 1): a test's data set, independent of the
    modules that ran before it on the session warehouse. The incremental models see their
    watermark file gone (or replaced) and rebuild from scratch."""
    cur.execute(f"truncate {RAW_TABLES} restart identity cascade")


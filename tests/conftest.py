"""Shared fixtures: one throw-away LENSAN_HOME and one real embedded PostgreSQL per test session.

The environment is set at import time so every module (and any Airflow/dbt subprocess) started by
the tests uses the test home, never the developer's ./.lensan.
"""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def scratch_database(warehouse, name: str):
    """A fresh database `name` on the session server (a leftover of that name is dropped first);
    yields its ConnectionInfo and drops it afterwards."""
    import psycopg2
    from psycopg2 import sql

    from lensan.warehouse import ConnectionInfo

    def admin(statement) -> None:
        conn = psycopg2.connect(host=warehouse.host, port=warehouse.port, user=warehouse.user,
                                password=warehouse.password or None, dbname="postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
        finally:
            conn.close()

    drop = sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
    admin(drop)
    admin(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield ConnectionInfo(warehouse.host, warehouse.port, warehouse.user, warehouse.password, name)
    finally:
        admin(drop)


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

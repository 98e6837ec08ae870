"""Shared fixtures: one throw-away LENSAN_HOME and one real embedded PostgreSQL per test session.

The environment is set at import time so every module (and any Airflow/dbt subprocess) started by
the tests uses the test home, never the developer's ./.lensan.

Every test has exactly one tier marker (pyproject.toml registers them; `make test-fast` runs `unit`):

    unit         no warehouse, no dbt, no Airflow subprocess: pure functions, parsers on files,
                 generator output, CLI commands that only read files
    integration  the real embedded PostgreSQL, dbt or Great Expectations in-process
    e2e          real Airflow DAG runs (`airflow dags test`, LocalAirflow backfills) and the golden
                 whole-pipeline comparison

A module sets its tier with `pytestmark = pytest.mark.<tier>`; a module mixing tiers marks each test
instead. Collection fails on a test with no tier or more than one, before any `-m` selection, so a
new test cannot slip out of every tier.

State shared between tests goes through fixtures only (tests never import this file): `warehouse`
and `db` for the session server, `empty_raw` to reset the raw layer. A database of a test's own is
`lensan.db.warehouse.scratch_database(name, warehouse)`.
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

TIERS = ("unit", "integration", "e2e")


@pytest.hookimpl(tryfirst=True)   # before `-m`/`-k` deselect anything: every collected test is checked
def pytest_collection_modifyitems(config, items):
    problems = []
    for item in items:
        tiers = sorted({mark.name for mark in item.iter_markers() if mark.name in TIERS})
        if len(tiers) != 1:
            problems.append(f"{item.nodeid}: {'no tier marker' if not tiers else 'tiers ' + ', '.join(tiers)}")
        elif tiers == ["unit"] and "warehouse" in getattr(item, "fixturenames", ()):
            problems.append(f"{item.nodeid}: marked unit but uses the warehouse")
    if problems:
        raise pytest.UsageError(
            f"every test needs exactly one tier marker out of {', '.join(TIERS)} "
            "(pytestmark = pytest.mark.<tier> in the module, or on each test of a module mixing tiers):\n  "
            + "\n  ".join(problems))


@pytest.fixture(scope="session")
def lensan_home() -> Path:
    return _TEST_HOME


@pytest.fixture(scope="session")
def warehouse(lensan_home):
    """ConnectionInfo of a running warehouse (embedded unless LENSAN_WAREHOUSE_URL is set)."""
    from lensan import settings
    from lensan.db import warehouse as wh

    info = wh.connection_info()
    yield info
    if not settings.external_warehouse_url():
        from lensan.db import embedded

        embedded.stop(mode="immediate")


@pytest.fixture
def db(warehouse):
    """A psycopg2 connection, rolled back and closed after the test."""
    from lensan.db import warehouse as wh

    conn = wh.connect()
    yield conn
    conn.rollback()
    conn.close()


@pytest.fixture(scope="session")
def empty_raw(warehouse):
    """`empty_raw(cur)` empties every raw table (file ids start again at 1): a module's data set,
    independent of the modules that ran before it on the session warehouse. The incremental models
    see their watermark file gone (or replaced) and rebuild from scratch.

    The raw schema is created first when missing (this commits on the cursor's connection), and the
    tables are the ones the landing's own DDL (lensan/db/schema/raw.sql) made, never a list kept here.
    """
    from psycopg2 import sql

    from lensan.landing import ensure_raw_schema

    def empty(cur) -> None:
        ensure_raw_schema(cur.connection)
        cur.execute("select table_name from information_schema.tables "
                    "where table_schema = 'raw' and table_type = 'BASE TABLE' order by 1")
        tables = [sql.Identifier("raw", name) for (name,) in cur.fetchall()]
        cur.execute(sql.SQL("truncate {} restart identity cascade").format(sql.SQL(", ").join(tables)))

    return empty


def pytest_sessionfinish(session, exitstatus):
    if not os.environ.get("LENSAN_KEEP_TEST_HOME"):
        shutil.rmtree(_TEST_HOME, ignore_errors=True)

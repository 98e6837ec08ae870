"""The raw/ops DDL (lensan.db.ddl, schema/*.sql): idempotent, safe when run concurrently, and the ops
tables dbt's on-run-start hook creates are the ones the Python writers create (it is the same file)."""

from __future__ import annotations

import threading

import pytest

from lensan import settings
from lensan.db import ddl
from lensan.db.warehouse import scratch_database

pytestmark = pytest.mark.integration


def _columns(conn, schema: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("""select table_name, ordinal_position, column_name, data_type, is_nullable, column_default
                       from information_schema.columns where table_schema = %s
                       order by table_name, ordinal_position""", (schema,))
        columns = cur.fetchall()
        cur.execute("select indexname, indexdef from pg_indexes where schemaname = %s order by indexname",
                    (schema,))
        indexes = cur.fetchall()
    conn.commit()
    return columns + indexes


def _tables(conn, schema: str) -> set[str]:
    with conn.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = %s", (schema,))
        names = {row[0] for row in cur.fetchall()}
    conn.commit()
    return names


def test_the_ddl_runs_twice_idempotently(db):
    ddl.ensure(db)
    first = {name: _columns(db, name) for name in ddl.NAMES}
    ddl.ensure(db, *ddl.NAMES)
    assert {name: _columns(db, name) for name in ddl.NAMES} == first
    assert {"landed_files", "weekly_forms", "weekly_form_rows", "household_register",
            "postmart_orders", "voso_orders"} <= _tables(db, "raw")
    assert _tables(db, "ops") == {"run_log", "alerts", "gate_results", "publications", "published_values",
                                  "build_watermarks", "revision_watermarks", "portal_codes", "portal_audit"}


def test_unknown_schema_is_refused():
    with pytest.raises(ValueError, match="unknown schema"):
        ddl.path("marts")


def test_concurrent_runs_on_a_new_database_do_not_collide(warehouse):
    """Without the advisory lock, concurrent CREATE ... IF NOT EXISTS of one table fails with a unique
    violation on pg_type; every file takes the lock first."""
    errors = []
    with scratch_database("lensan_schema_concurrent", warehouse) as info:
        def run():
            conn = info.connect()
            try:
                ddl.ensure(conn)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
            finally:
                conn.close()

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        conn = info.connect()
        try:
            assert "build_watermarks" in _tables(conn, "ops") and "landed_files" in _tables(conn, "raw")
        finally:
            conn.close()


def test_dbt_macro_is_a_link_to_the_ops_ddl():
    assert (settings.DBT_PROJECT_DIR / "macros" / "ops.sql").resolve() == ddl.path("ops")


def test_dbt_on_run_start_creates_the_same_ops_tables(warehouse, monkeypatch, tmp_path):
    """A dbt command in an empty database creates the ops tables through its on-run-start hook
    (the macro lensan_ops_schema(), i.e. schema/ops.sql) exactly as ddl.ensure does. dbt runs from
    a copy of the project made of links to its top-level entries, as Cosmos runs every task
    (cosmos.dbt.project.create_symlinks): the macro must resolve there too."""
    from lensan.transform.dbt import run_dbt

    project = tmp_path / "project"
    project.mkdir()
    for child in settings.DBT_PROJECT_DIR.iterdir():
        if child.name not in ("target", "logs", "dbt_packages", "profiles.yml"):
            (project / child.name).symlink_to(child)
    with scratch_database("lensan_schema_python", warehouse) as python_db, \
            scratch_database("lensan_schema_dbt", warehouse) as dbt_db:
        conn = python_db.connect()
        try:
            ddl.ensure(conn, "ops")
            expected = _columns(conn, "ops")
        finally:
            conn.close()

        monkeypatch.setenv("LENSAN_WAREHOUSE_URL", dbt_db.url)
        # any command running the project hooks; target/ inside the copy, away from the session's
        run_dbt(["seed", "--select", "ref_info_categories", "--project-dir", project,
                 "--target-path", project / "target"])
        conn = dbt_db.connect()
        try:
            assert _columns(conn, "ops") == expected
        finally:
            conn.close()
    assert {row[0] for row in expected if isinstance(row[1], int)} == {
        "run_log", "alerts", "gate_results", "publications", "published_values", "build_watermarks",
        "revision_watermarks", "portal_codes", "portal_audit"}

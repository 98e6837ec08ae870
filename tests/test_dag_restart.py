"""A warehouse restart in the middle of a REAL Airflow DAG run is recovered by the task's retry.

`airflow dags test lensan_ingest` lands a large postmart extract; while its COPY runs, the embedded
server is stopped (immediate mode: every connection dies). The `land` task fails (LandingIncomplete),
Airflow retries it after a short delay, the retry's connection starts the server again, and the file
is loaded exactly once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
import time

import pytest

from fixtures.landing_builders import big_postmart_orders_csv
from lensan import settings
from lensan_dev import airflow_harness
from lensan.db import embedded
from lensan.db import warehouse as wh
from lensan.landing.ledger import name_key

pytestmark = pytest.mark.e2e

ROWS = 400_000
NAME = "postmart_don_hang_20241118.csv"


def _copy_progress(info) -> int | None:
    import psycopg2

    try:
        conn = psycopg2.connect(host=info.host, port=info.port, user=info.user, dbname=info.dbname,
                                connect_timeout=3)
    except psycopg2.OperationalError:
        return None
    try:
        with conn.cursor() as cur:
            cur.execute("select p.tuples_processed from pg_stat_progress_copy p join pg_stat_activity a "
                        "using (pid) where a.query ilike 'copy raw.%%postmart_orders%%'")
            row = cur.fetchone()
            return row[0] if row else None
    finally:
        conn.close()


def _land_tries() -> list[tuple[str, int]]:
    """(state, try_number) of the ingest DAG's `land` task instances in Airflow's metadata."""
    with sqlite3.connect(airflow_harness.airflow_home() / "airflow.db") as db:
        return db.execute("select state, try_number from task_instance where dag_id = 'lensan_ingest' "
                          "and task_id = 'land'").fetchall()


def test_warehouse_restart_mid_dag_run_is_recovered_by_retry(warehouse, lensan_home):
    big_postmart_orders_csv(settings.landing_dir("postmart") / NAME, ROWS)
    result: dict = {}
    logical = dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.timezone.utc)

    def run():
        result["run"] = airflow_harness.dags_test(
            "lensan_ingest", logical, timeout=900,
            extra_env={"LENSAN_AIRFLOW_RETRIES": "2", "LENSAN_AIRFLOW_RETRY_DELAY_S": "3"})

    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and runner.is_alive():
        progress = _copy_progress(warehouse)
        if progress and progress > 20_000:
            break
        time.sleep(0.2)
    else:
        runner.join()
        pytest.fail(f"the COPY was never seen running:\n{result['run'].tail()}")

    assert embedded.stop(mode="immediate"), "the server was not running"
    runner.join(timeout=900)
    run_result = result["run"]
    assert run_result.ok, run_result.failures()

    tries = _land_tries()
    assert tries and tries[0][0] == "success" and tries[0][1] >= 2, tries  # failed once, then retried

    conn = wh.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select file_id, status, row_count from raw.landed_files where name_hash = %s",
                        (name_key(NAME),))
            landed = cur.fetchall()
            assert [(status, rows) for _, status, rows in landed] == [("loaded", ROWS)]
            cur.execute("select count(*), count(distinct order_id) from raw.postmart_orders where file_id = %s",
                        (landed[0][0],))
            assert cur.fetchone() == (ROWS, ROWS)
    finally:
        conn.close()
    assert not list(settings.landing_dir("postmart").iterdir())



def test_ingest_lands_file_groups_as_mapped_tasks(warehouse, tmp_path, monkeypatch):
    """A REAL run of lensan_ingest over a small sample (a database and LENSAN_HOME of its own): `land`
    is mapped over the planned file groups, every file lands once, `summarize` adds the groups up in
    ops.run_log and `announce_raw` updates the raw Asset."""
    from lensan.landing import groups
    from lensan_dev.generate import generate

    with wh.scratch_database("lensan_mapped_ingest_test", warehouse) as info:
        monkeypatch.setenv("LENSAN_HOME", str(tmp_path))
        monkeypatch.setenv("LENSAN_WAREHOUSE_URL", info.url)
        generate(["22"], ["2026-W45"], seed=1034)
        files = sorted((tmp_path / "landing").glob("*/*"))
        distinct = len({hashlib.sha256(p.read_bytes()).hexdigest() for p in files})   # empty extracts share bytes
        planned = groups.plan_groups()
        run = airflow_harness.dags_test("lensan_ingest", dt.datetime(2026, 11, 9, 3, 0, tzinfo=dt.timezone.utc),
                                        timeout=900)
        assert run.ok, run.failures()
        with sqlite3.connect(airflow_harness.airflow_home() / "airflow.db") as db:
            lands = db.execute("select map_index, state from task_instance where dag_id = 'lensan_ingest' "
                               "and task_id = 'land'").fetchall()
            others = dict(db.execute("select task_id, state from task_instance where dag_id = 'lensan_ingest' "
                                     "and task_id <> 'land'").fetchall())
        assert len(planned) > 1 and sorted(i for i, _ in lands) == list(range(len(planned)))
        assert {state for _, state in lands} == {"success"}
        assert (others["summarize"], others["announce_raw"]) == ("success", "success")
        conn = wh.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("select count(*) from raw.landed_files where status = 'loaded'")
                assert cur.fetchone()[0] == distinct
                cur.execute("select count(*) from raw.deliveries")   # the same bytes under another name
                assert cur.fetchone()[0] == len(files) - distinct
                cur.execute("select summary from ops.run_log where dag_id = 'lensan_ingest' and task_id = 'summarize'")
                summary = cur.fetchone()[0]
            conn.commit()
        finally:
            conn.close()
        assert summary["loaded"] == distinct and summary["groups"] == len(planned)
        assert not list((tmp_path / "landing").glob("*/*"))

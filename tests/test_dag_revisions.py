"""The weekly DAG's revise_earlier_weeks revises only the weeks whose data changed (issue #17).

Real warehouse (a database of this module's own), dbt (incremental build), GX gate and publisher, the
task run through the DAG's own callable. Data: sample files for Quảng Ninh, 2026-W44..W46; one W45
weekly form and a postmart orders extract of W45 (one with orders of W45 only) are held back. W44 and W45 are
published, a first pass records the watermark, and the rest of the year (W01..W43) is published
before too (their index.json: the task reads which weeks were published from exports/week/). Then the
held-back files arrive late: only W45 is gated and re-published, every other week is untouched, and a
rerun of the same DAG run changes nothing. Last, the late orders file is withdrawn: every published
week then counts as changed, and no watermark is recorded until a build shows the withdrawal.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from lensan.db.warehouse import scratch_database
from lensan_dev import airflow_harness

pytestmark = pytest.mark.integration

for _key, _value in airflow_harness.airflow_env().items():
    if _key.startswith("AIRFLOW"):
        os.environ.setdefault(_key, _value)

PROVINCE = "22"
WEEKS = ["2026-W44", "2026-W45", "2026-W46"]
CURRENT = "2026-W46"
CHANGED = "2026-W45"
YEAR_BEFORE = [f"2026-W{n:02d}" for n in range(1, 44)]
TEST_DB = "lensan_revisions_test"


def _tree(root: Path) -> dict[str, int]:
    """relative path → mtime_ns of every file under root (a rewritten index.json shows too)."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*")) if p.is_file()}


def _orders_of_the_week_only(folder: Path, week: str) -> Path:
    """A postmart orders extract of a day of `week` all of whose orders were placed in that week (an
    extract also repeats older orders whose status changed: those would change their own week too)."""
    from lensan.calendar import periods

    monday, sunday = periods.week_bounds(week)
    for day in range((sunday - monday).days + 1):
        path = folder / f"postmart_don_hang_{monday + dt.timedelta(days=day):%Y%m%d}.csv"
        lines = path.read_text(encoding="utf-8-sig").splitlines()[1:] if path.exists() else []
        ordered = {dt.datetime.strptime(line.split(";")[1][:10], "%d/%m/%Y").date() for line in lines}
        if ordered and monday <= min(ordered):
            return path
    raise AssertionError(f"no orders extract of {week} with orders of that week only")


def _rows(conn, query: str, args: tuple = ()) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query, args)
        rows = cur.fetchall()
    conn.commit()
    return rows


@pytest.fixture(scope="module")
def scenario(warehouse, tmp_path_factory):
    from airflow.dag_processing.dagbag import DagBag

    from lensan import landing, settings
    from lensan.db import warehouse as wh
    from lensan.landing import ledger
    from lensan.orchestration import changed
    from lensan.publish import service as publish
    from lensan.transform import dbt as lensan_dbt
    from lensan.transform import manifest as dbt_manifest
    from lensan_dev.generate import generate

    home = tmp_path_factory.mktemp("revisions_home")
    held = tmp_path_factory.mktemp("held_back")
    with scratch_database(TEST_DB, warehouse) as info, pytest.MonkeyPatch.context() as mp:
        mp.setenv("LENSAN_HOME", str(home))
        mp.setenv("LENSAN_WAREHOUSE_URL", info.url)
        mp.delenv("LENSAN_DELIVERY_CHANNELS", raising=False)
        dbt_manifest.install_manifest()
        weekly = DagBag(dag_folder=str(settings.PROJECT_ROOT / "dags")).dags["lensan_publish_weekly"]
        revise = weekly.get_task("revise_earlier_weeks").python_callable
        context = {"dag": weekly, "run_id": "scheduled__2026-11-19T03:00:00+00:00"}

        generate([PROVINCE], WEEKS, seed=1034)
        late = [sorted((home / "landing" / "weekly_form").glob(f"*_{CHANGED}.xlsx"))[0],
                _orders_of_the_week_only(home / "landing" / "postmart", CHANGED)]
        for path in late:
            shutil.move(path, held / path.name)
        landing.ensure_raw_schema()
        landing.land_pending()
        lensan_dbt.run_dbt(["seed"])
        lensan_dbt.run_dbt(["run"])
        for week in ("2026-W44", CHANGED):  # published on their Thursdays (ungated here: gates are slow)
            assert publish.publish_weekly(week).published
        first = revise(CURRENT, **context)      # no pass recorded yet: every earlier week
        week_root = home / "exports" / "week"
        for week in YEAR_BEFORE:                # the rest of the year, published before
            (week_root / week).mkdir(parents=True)
            (week_root / week / "index.json").write_text("{}", encoding="utf-8")

        for path in late:                       # the late files arrive; the marts are rebuilt
            shutil.move(held / path.name, path)
        landing.land_pending()
        lensan_dbt.run_dbt(["run"])
        conn = wh.connect()
        try:
            gate_mark = _rows(conn, "select coalesce(max(recorded_at), now()) from ops.gate_results")[0][0]
            before = {week: _tree(week_root / week) for week in sorted(p.name for p in week_root.iterdir())}
            publications_before = _rows(conn, "select period_key, scope_code, revision from ops.publications")
            second = revise(CURRENT, **context)
            gates = _rows(conn, "select period_key from ops.gate_results where recorded_at > %s", (gate_mark,))
            after = {week: _tree(week_root / week) for week in before}
            publications_after = _rows(conn, "select period_key, scope_code, revision from ops.publications")
            rerun = revise(CURRENT, **context)  # the same DAG run again
            publications_rerun = _rows(conn, "select period_key, scope_code, revision from ops.publications")
            gates_rerun = _rows(conn, "select period_key from ops.gate_results where recorded_at > %s", (gate_mark,))
            rerun_trees = {week: _tree(week_root / week) for week in before}
            # a withdrawal: every published week counts as changed, once the marts show it
            ledger.withdraw(conn, late[1].name, "test: withdrawn")
            with conn.cursor() as cur:
                withdrawn_unbuilt = changed.since_last_revision(cur, "week")
            conn.commit()
            lensan_dbt.run_dbt(["run"])
            with conn.cursor() as cur:
                withdrawn_built = changed.since_last_revision(cur, "week")
            conn.commit()
        finally:
            conn.close()
        yield {"first": first, "second": second, "rerun": rerun, "gates": gates, "gates_rerun": gates_rerun,
               "before": before, "after": after, "rerun_trees": rerun_trees,
               "publications_before": publications_before, "publications_after": publications_after,
               "publications_rerun": publications_rerun, "withdrawn_unbuilt": withdrawn_unbuilt,
               "withdrawn_built": withdrawn_built}


def test_first_pass_revises_every_earlier_week(scenario):
    first = scenario["first"]
    assert first["everything"] == "no earlier revision pass recorded"
    assert set(first["weeks"]) == {"2026-W44", CHANGED} and first["untouched"] == 0
    assert {p["week_key"] for p in first["published"]} <= {"2026-W44", CHANGED}


def test_a_late_file_revises_only_its_week(scenario):
    second = scenario["second"]
    assert second["everything"] is None
    assert list(second["weeks"]) == [CHANGED]
    assert second["untouched"] == len(YEAR_BEFORE) + 1
    assert {key for (key,) in scenario["gates"]} == {CHANGED}          # one gate, not 45
    new = set(scenario["publications_after"]) - set(scenario["publications_before"])
    assert new and {key for key, _, _ in new} == {CHANGED}
    assert {p["week_key"] for p in second["published"]} == {CHANGED}
    assert all(p["revision"] >= 2 for p in second["published"])
    for week, files in scenario["before"].items():
        if week != CHANGED:
            assert scenario["after"][week] == files, f"{week} was touched"
    assert scenario["after"][CHANGED] != scenario["before"][CHANGED]


def test_a_rerun_of_the_same_dag_run_changes_nothing(scenario):
    rerun = scenario["rerun"]
    assert rerun["weeks"] == {} and rerun["published"] == [] and rerun["everything"] is None
    assert scenario["publications_rerun"] == scenario["publications_after"]
    assert scenario["gates_rerun"] == scenario["gates"]
    assert scenario["rerun_trees"] == scenario["after"]


def test_a_withdrawal_makes_every_week_count_as_changed_once_built(scenario):
    unbuilt, built = scenario["withdrawn_unbuilt"], scenario["withdrawn_built"]
    # before the rebuild the marts do not show it: everything, and no watermark to record
    assert unbuilt.everything and unbuilt.upto_file_id is None
    assert unbuilt.select(["2026-W01", CHANGED]) == ["2026-W01", CHANGED]
    assert built.everything == "a file was withdrawn since" and built.upto_file_id is not None

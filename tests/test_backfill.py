"""A REAL Airflow 3 backfill of the publication DAGs: `airflow backfill create` against a running
scheduler (LocalExecutor), dag-processor and api-server (the Task SDK's execution API), all
subprocesses of `lensan_dev.airflow_harness.LocalAirflow` with a SQLite metadata database of their own.

Data: sample files for Quảng Ninh (22), weeks 2026-W44 and 2026-W45, landed and built with dbt into
a database of this module's own on the session server (LENSAN_WAREHOUSE_URL) and a LENSAN_HOME of
its own, so nothing here touches the session warehouse or the other tests' exports.

Scenario: W45 was published on its Thursday (rev-1, through the same gate + publish as the DAG);
later the weekly DAG is backfilled over the Thursdays 5 and 12 November 2026 (reporting W44 and
W45), and the monthly DAG over 3 November (reporting October). Expected: W44 and October are
published (and delivered to the outbox); W45 is reproduced — still rev-1 only, byte-identical
manifest, no new row in ops.publications, nothing delivered again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lensan.db.warehouse import scratch_database

pytestmark = pytest.mark.e2e

PROVINCE = "22"
WEEKS = ["2026-W44", "2026-W45"]
PUBLISHED_BEFORE = "2026-W45"
NEW_WEEK = "2026-W44"
MONTH = "2026-10"
TEST_DB = "lensan_backfill_test"
WEEKLY = "lensan_publish_weekly"
MONTHLY = "lensan_publish_monthly"
# from/to dates of the backfills (inclusive); the DAGs' cron times in between are the runs
WEEKLY_RANGE = ("2026-11-05T00:00:00+07:00", "2026-11-12T23:59:00+07:00")   # Thu 5 and 12 Nov 10:00
MONTHLY_RANGE = ("2026-11-03T00:00:00+07:00", "2026-11-03T23:59:00+07:00")  # 3 Nov 08:00
RUN_TIMEOUT = 420


def _delivered(ledger, week: str) -> list[tuple[str, str]]:
    """(revision directory, manifest SHA-256) of every successful delivery of the week, in order."""
    return [(e["revision_dir"], e["manifest_sha256"]) for e in ledger.ledger_entries()
            if e.get("status") == "delivered" and f"/week/{week}/" in e.get("revision_dir", "")]


def _scope_manifests(home: Path, period_type: str, key: str) -> dict[str, dict[str, str]]:
    """scope → {rev-N: SHA-256 of its manifest.json}."""
    root = home / "exports" / period_type / key
    out: dict[str, dict[str, str]] = {}
    for scope in sorted(p for p in root.iterdir() if p.is_dir()):
        out[scope.name] = {rev.name: hashlib.sha256((rev / "manifest.json").read_bytes()).hexdigest()
                           for rev in sorted(scope.glob("rev-*"))}
    return out


def _publications(conn, period_key: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("select scope_level, scope_code, revision, manifest_sha256 from ops.publications "
                    "where period_key = %s order by 1, 2, 3", (period_key,))
        rows = cur.fetchall()
    conn.commit()
    return rows


def _status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def backfilled(warehouse, tmp_path_factory):
    from lensan import landing
    from lensan_dev import airflow_harness
    from lensan.delivery import ledger, service as delivery
    from lensan.orchestration import ops
    from lensan.quality import checkpoints, policy
    from lensan.publish import service as publish
    from lensan.transform import dbt as lensan_dbt
    from lensan.db import warehouse as wh
    from lensan_dev.generate import generate

    home = tmp_path_factory.mktemp("backfill_home")
    with scratch_database(TEST_DB, warehouse) as info, pytest.MonkeyPatch.context() as mp:
        mp.setenv("LENSAN_HOME", str(home))
        mp.setenv("LENSAN_WAREHOUSE_URL", info.url)
        mp.delenv("LENSAN_DELIVERY_CHANNELS", raising=False)
        # The Airflow components boot (db migrate, api-server, DAG parsing) while the data is built.
        stack = airflow_harness.LocalAirflow(dag_files=["lensan_publish_weekly.py", "lensan_publish_periodic.py"],
                                         extra_env={"LENSAN_AIRFLOW_RETRIES": "0"}, parallelism=2)
        try:
            stack.start(wait=False, scheduler=False)
            generate([PROVINCE], WEEKS, seed=1034)
            landing.ensure_raw_schema()
            landing.land_pending()
            lensan_dbt.run_dbt(["seed"])
            lensan_dbt.run_dbt(["run"])

            # W45 as published on its Thursday (the weekly DAG's gate + publish, without Airflow)
            decision = policy.evaluate(lambda: checkpoints.run_checkpoint(
                "marts", {"week_key": PUBLISHED_BEFORE}, run_id="published-on-time"))
            assert not isinstance(decision, policy.Stop), decision.message
            first = publish.publish_weekly(PUBLISHED_BEFORE, gate_summary=decision.summary)
            assert first.published, "W45 must be published before the backfill"
            # ... and delivered, as the on-time run's deliver task does
            on_time = delivery.deliver_published(ops.to_jsonable(first))
            assert on_time and all(r["status"] == "delivered" for r in on_time)
            delivered_before = _delivered(ledger, PUBLISHED_BEFORE)
            before = _scope_manifests(home, "week", PUBLISHED_BEFORE)
            conn = wh.connect()
            try:
                publications_before = _publications(conn, PUBLISHED_BEFORE)
            finally:
                conn.close()

            stack.wait_ready()
            plugin_status = _status(f"{stack.api_url}/lensan/exports/")
            stack.wait_for_dags([WEEKLY, MONTHLY])
            # both backfills created before the scheduler starts (SQLite: no contention for the
            # write lock); the two DAGs then run side by side (LocalExecutor, 2 slots)
            weekly_id = stack.backfill(WEEKLY, *WEEKLY_RANGE)
            monthly_id = stack.backfill(MONTHLY, *MONTHLY_RANGE)
            stack.start_scheduler()
            weekly_runs = stack.wait_backfill(weekly_id, timeout=RUN_TIMEOUT)
            monthly_runs = stack.wait_backfill(monthly_id, timeout=RUN_TIMEOUT)
            states = {(dag, r["run_id"]): stack.task_states(dag, r["run_id"])
                      for dag, runs in ((WEEKLY, weekly_runs), (MONTHLY, monthly_runs)) for r in runs}
            conn = wh.connect()
            try:
                publications_after = _publications(conn, PUBLISHED_BEFORE)
                with conn.cursor() as cur:
                    cur.execute("select run_id, checkpoint, status from ops.gate_results order by recorded_at")
                    gate_rows = cur.fetchall()
                conn.commit()
            finally:
                conn.close()
            delivered_after = _delivered(ledger, PUBLISHED_BEFORE)
            failed = [(dag, run, task) for (dag, run), tasks in states.items()
                      for task, s in tasks.items() if s != "success"]
            logs = "\n".join(stack.task_log(dag, run, task) for dag, run, task in failed)
            yield {
                "home": home, "stack": stack, "weekly_runs": weekly_runs, "monthly_runs": monthly_runs,
                "states": states, "failed": failed, "failed_logs": logs, "before": before,
                "publications_before": publications_before, "publications_after": publications_after,
                "gate_rows": gate_rows, "delivered_before": delivered_before, "delivered_after": delivered_after,
                "plugin_status": plugin_status,
            }
        finally:
            stack.stop()


def test_backfill_runs_are_real_scheduler_runs_and_succeed(backfilled):
    weekly, monthly = backfilled["weekly_runs"], backfilled["monthly_runs"]
    assert [r["run_id"] for r in weekly] == ["backfill__2026-11-05T03:00:00+00:00",
                                             "backfill__2026-11-12T03:00:00+00:00"]
    assert [r["run_id"] for r in monthly] == ["backfill__2026-11-03T01:00:00+00:00"]
    assert not backfilled["failed"], f"tasks not successful: {backfilled['failed']}\n{backfilled['failed_logs']}"
    assert all(r["state"] == "success" for r in weekly + monthly), weekly + monthly
    weekly_tasks = backfilled["states"][(WEEKLY, weekly[0]["run_id"])]
    assert {"resolve_week", "gate_marts", "publish", "revise_earlier_weeks", "deliver", "deliver_revisions",
            "refresh_asof_snapshot"} <= set(weekly_tasks)
    # the gates ran inside those runs
    gate_runs = {row[0] for row in backfilled["gate_rows"]}
    assert f"{WEEKLY}__{weekly[0]['run_id']}" in gate_runs and f"{MONTHLY}__{monthly[0]['run_id']}" in gate_runs


def test_past_week_and_month_are_published_and_delivered(backfilled):
    home = backfilled["home"]
    for period_type, key in (("week", NEW_WEEK), ("month", MONTH)):
        manifests = _scope_manifests(home, period_type, key)
        for scope in (f"province-{PROVINCE}", "region-bac", "nation-VN"):
            assert list(manifests[scope]) == ["rev-1"], (key, scope, manifests.get(scope))
            rev = home / "exports" / period_type / key / scope / "rev-1"
            manifest = json.loads((rev / "manifest.json").read_text(encoding="utf-8"))
            assert manifest["period_key"] == key and manifest["gate"]["status"] in ("passed", "warning")
            for entry in manifest["files"]:
                assert hashlib.sha256((rev / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
            assert (home / "outbox" / period_type / key / scope / "rev-1" / "manifest.json").is_file()
    month_manifest = json.loads((home / "exports" / "month" / MONTH / "nation-VN" / "rev-1" / "manifest.json")
                                .read_text(encoding="utf-8"))
    assert month_manifest["gate"]["checkpoint"] == "marts_period_gate"
    assert month_manifest["gate"]["weeks"] == [NEW_WEEK]   # W44 (26 Oct – 1 Nov) is the data of October here


def test_backfill_reproduces_the_already_published_week(backfilled):
    home = backfilled["home"]
    after = _scope_manifests(home, "week", PUBLISHED_BEFORE)
    assert after == backfilled["before"], "the backfill of an already published week must change no revision"
    assert all(list(revs) == ["rev-1"] for revs in after.values())
    assert backfilled["publications_after"] == backfilled["publications_before"]
    index = json.loads((home / "exports" / "week" / PUBLISHED_BEFORE / "index.json").read_text(encoding="utf-8"))
    assert index["counts"]["new"] == 0 and index["counts"]["unchanged"] == len(after)
    # never delivered again: the ledger has the on-time delivery of each scope and no new one
    assert backfilled["delivered_before"] and backfilled["delivered_after"] == backfilled["delivered_before"]


def test_the_api_server_serves_the_lensan_plugin_to_signed_in_users_only(backfilled):
    """The deployed api-server loaded plugins/lensan_airflow_plugin.py and mounted its app: without a
    sign-in it answers 401 (the UI's catch-all would have answered 200 for an unknown path)."""
    assert backfilled["plugin_status"] == 401

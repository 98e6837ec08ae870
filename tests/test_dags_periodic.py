"""The periodic publication DAGs (monthly, half-year, year-end), the publication watch and the
delivery task: import, house rules, schedules, period resolution and the watch logic."""

from __future__ import annotations

import datetime as dt
import json
import os
import types
import uuid

import pytest

from lensan import settings

from lensan.transform import manifest as dbt_manifest
from lensan_dev import airflow_harness

from lensan.calendar import periods

pytestmark = pytest.mark.integration

for _key, _value in airflow_harness.airflow_env().items():
    if _key.startswith("AIRFLOW"):
        os.environ.setdefault(_key, _value)

from lensan.orchestration import watch  # noqa: E402 - imports Airflow: after its configuration

DAGS_DIR = settings.PROJECT_ROOT / "dags"
TZ = settings.LOCAL_TZ.key   # every schedule is in local time
SCHEDULES = {
    "lensan_publish_monthly": ("CronTriggerTimetable", ["0 8 3 * *"]),
    "lensan_publish_half_year": ("CronTriggerTimetable", ["0 8 5 1,7 *"]),
    "lensan_publish_year_end": ("MultipleCronTriggerTimetable", ["0 8 14 12 *", "0 8 15 1 *"]),
    "lensan_publication_watch": ("CronTriggerTimetable", ["0 14 * * 4"]),
}


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=settings.LOCAL_TZ)


@pytest.fixture(scope="module")
def dagbag(warehouse):
    from airflow.dag_processing.dagbag import DagBag

    dbt_manifest.install_manifest()
    return DagBag(dag_folder=str(DAGS_DIR))


# ---------------------------------------------------------------------------------------------
# DagBag, house rules, schedules


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(SCHEDULES) | {"lensan_publish_weekly"} <= set(dagbag.dag_ids)


@pytest.mark.parametrize("dag_id", sorted(SCHEDULES))
def test_house_rules(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert "lensan" in dag.tags
    assert dag.catchup is False
    assert dag.start_date.tzinfo is not None
    assert getattr(dag.timezone, "name", str(dag.timezone)) == TZ
    assert dag.start_date.astimezone(settings.LOCAL_TZ).time() == dt.time(0, 0)
    assert dag.doc_md and len(dag.doc_md) > 100
    for task in dag.tasks:
        assert task.owner == "lensan", task.task_id
        assert task.retries >= 1, task.task_id
        assert task.retry_delay.total_seconds() > 0, task.task_id
        assert task.on_failure_callback, task.task_id


def _crons(timetable) -> list[tuple[str, str]]:
    parts = getattr(timetable, "timetables", None) or [timetable]
    out = []
    for part in parts:
        tz = part.timezone if hasattr(part, "timezone") else part._timezone
        out.append((part.expression if hasattr(part, "expression") else part._expression,
                    str(getattr(tz, "name", tz))))
    return out


@pytest.mark.parametrize("dag_id", sorted(SCHEDULES))
def test_schedule(dagbag, dag_id):
    kind, crons = SCHEDULES[dag_id]
    timetable = dagbag.dags[dag_id].timetable
    assert type(timetable).__name__ == kind
    assert _crons(timetable) == [(c, TZ) for c in crons]


def test_next_runs_are_local_times(dagbag):
    """Next fire times of the DAGs' cron expressions, evaluated in local time."""
    from croniter import croniter

    def next_after(dag_id, after):
        return min(croniter(expr, after).get_next(dt.datetime)
                   for expr, _ in _crons(dagbag.dags[dag_id].timetable))

    nov = local(2026, 11, 20, 12)
    assert next_after("lensan_publish_monthly", nov) == local(2026, 12, 3, 8)
    assert next_after("lensan_publish_half_year", nov) == local(2027, 1, 5, 8)
    assert next_after("lensan_publish_half_year", local(2026, 2, 1)) == local(2026, 7, 5, 8)
    assert next_after("lensan_publish_year_end", nov) == local(2026, 12, 14, 8)
    assert next_after("lensan_publish_year_end", local(2026, 12, 14, 9)) == local(2027, 1, 15, 8)
    watch = next_after("lensan_publication_watch", local(2026, 11, 25, 15))
    assert watch == local(2026, 11, 26, 14)
    # each fire time resolves to the period the spec expects
    assert periods.period_for_run("month", local(2026, 12, 3, 8)) == "2026-11"
    assert periods.weekly_deadline(periods.last_complete_week(watch)) == watch


def test_task_graphs(dagbag):
    for dag_id in ("lensan_publish_monthly", "lensan_publish_half_year", "lensan_publish_year_end"):
        dag = dagbag.dags[dag_id]
        assert set(dag.task_ids) == {"resolve_period", "gate_marts", "publish", "deliver", "refresh_asof_snapshot"}
        assert dag.get_task("gate_marts").upstream_task_ids == {"resolve_period"}
        assert dag.get_task("deliver").upstream_task_ids == {"publish"}
        assert dag.get_task("publish").upstream_task_ids == {"resolve_period", "gate_marts"}
        assert dag.get_task("refresh_asof_snapshot").upstream_task_ids == {"publish"}
    weekly = dagbag.dags["lensan_publish_weekly"]
    assert weekly.get_task("deliver").upstream_task_ids == {"publish"}
    assert weekly.get_task("deliver_revisions").upstream_task_ids == {"revise_earlier_weeks"}


# ---------------------------------------------------------------------------------------------
# period resolution (pure)


@pytest.mark.parametrize(("period_type", "moment", "expected"), [
    ("month", local(2026, 12, 3, 8), "2026-11"),
    ("month", local(2027, 1, 3, 8), "2026-12"),
    ("month", local(2026, 3, 3, 8), "2026-02"),
    ("half_year", local(2026, 7, 5, 8), "2026-H1"),
    ("half_year", local(2027, 1, 5, 8), "2026-H2"),
    ("year", local(2026, 12, 14, 8), "2026"),
    ("year", local(2027, 1, 15, 8), "2026"),
    ("week", local(2026, 11, 26, 14), "2026-W47"),
])
def test_period_for_run(period_type, moment, expected):
    assert periods.period_for_run(period_type, moment) == expected


def test_period_for_run_uses_local_time():
    # 3 Dec 01:00 UTC is 08:00 local; 2 Dec 18:00 UTC is already 3 Dec 01:00 local
    utc = dt.timezone.utc
    assert periods.period_for_run("month", dt.datetime(2026, 12, 3, 1, tzinfo=utc)) == "2026-11"
    assert periods.period_for_run("year", dt.datetime(2026, 12, 31, 18, tzinfo=utc)) == "2026"  # 1 Jan local
    assert periods.period_for_run("month", dt.datetime(2026, 11, 30, 17, tzinfo=utc)) == "2026-11"  # 1 Dec
    with pytest.raises(ValueError):
        periods.period_for_run("decade", local(2026, 1, 1))


def test_period_keys_are_valid_for_publish():
    for period_type, moment in [("month", local(2027, 1, 3, 8)), ("half_year", local(2027, 1, 5, 8)),
                                ("year", local(2027, 1, 15, 8))]:
        periods.period_bounds(period_type, periods.period_for_run(period_type, moment))


# ---------------------------------------------------------------------------------------------
# the watch, against the real warehouse


def _alerts(db, run_id):
    with db.cursor() as cur:
        cur.execute("select dag_id, task_id, exception_class, message from ops.alerts where run_id = %s", (run_id,))
        rows = cur.fetchall()
    db.commit()
    return rows


def _publish_row(db, week, created_at, scope_code="VN"):
    from lensan.db import ddl

    with db.cursor() as cur:
        ddl.ensure(db, "ops")
        cur.execute("delete from ops.publications where period_type = 'week' and period_key = %s", (week,))
        cur.execute("insert into ops.publications (period_type, period_key, scope_level, scope_code, revision, "
                    "path, content_hash, manifest_sha256, created_at) values ('week', %s, 'nation', %s, 1, "
                    "'/x', 'h', 'm', %s)", (week, scope_code, created_at))
    db.commit()


def test_watch_without_publication_alerts_and_fails(db):
    run_id = f"test__{uuid.uuid4()}"
    week = "2031-W10"   # nothing is ever published for it
    thursday = periods.weekly_deadline(week)
    assert periods.last_complete_week(thursday) == week
    with pytest.raises(watch.WeeklyReportMissing) as excinfo:
        watch.check_weekly_publication(thursday, run_id=run_id)
    message = str(excinfo.value)
    assert f"Chưa công bố báo cáo tuần {week} trước 14:00" in message
    assert f"weekly report {week} not published by 14:00" in message
    rows = _alerts(db, run_id)
    assert len(rows) == 1
    assert rows[0][:3] == ("lensan_publication_watch", "check_weekly_publication", "WeeklyReportMissing")
    assert week in rows[0][3]


def test_watch_publication_before_deadline_passes(db):
    run_id = f"test__{uuid.uuid4()}"
    week = "2031-W11"
    thursday = periods.weekly_deadline(week)
    _publish_row(db, week, thursday - dt.timedelta(hours=22))   # Wednesday afternoon
    result = watch.check_weekly_publication(thursday, run_id=run_id)
    assert result["week"] == week and result["scopes"] == ["nation-VN"]
    assert _alerts(db, run_id) == []


def test_watch_late_publication_does_not_count(db):
    run_id = f"test__{uuid.uuid4()}"
    week = "2031-W12"
    deadline = periods.weekly_deadline(week)
    _publish_row(db, week, deadline + dt.timedelta(seconds=1))   # one second after the deadline
    with pytest.raises(watch.WeeklyReportMissing):
        watch.check_weekly_publication(deadline, run_id=run_id)
    assert len(_alerts(db, run_id)) == 1


def test_watch_callback_does_not_duplicate_the_alert(monkeypatch):
    from lensan.orchestration import ops

    calls = []
    monkeypatch.setattr(ops, "alert_on_failure", lambda context: calls.append(context))
    watch.alert_unless_recorded({"exception": watch.WeeklyReportMissing("x")})
    assert calls == []
    watch.alert_unless_recorded({"exception": RuntimeError("warehouse down")})
    assert len(calls) == 1


# ---------------------------------------------------------------------------------------------
# the deliver task


@pytest.mark.parametrize("dag_id", ["lensan_publish_weekly", "lensan_publish_monthly"])
def test_deliver_task_delivers_new_revisions_and_fails_on_error(dagbag, monkeypatch, dag_id):
    from lensan.delivery import service as delivery

    deliver = dagbag.dags[dag_id].get_task("deliver").python_callable
    seen = []

    def fake_deliver(path, channels=None, **kwargs):
        seen.append(str(path))
        if "bad" in str(path):
            raise delivery.DeliveryError("sftp: refused",
                                         [delivery.DeliveryResult("sftp", settings.PROJECT_ROOT, "failed", "refused")])
        return [delivery.DeliveryResult("outbox", settings.PROJECT_ROOT, "delivered", "ok")]

    monkeypatch.setattr(delivery, "deliver", fake_deliver)
    summary = {"published": [{"path": "/p/good/rev-1"}], "unchanged": [{"path": "/p/old/rev-3"}]}
    assert [r["status"] for r in deliver(summary)] == ["delivered", "delivered"]
    # the unchanged revision is handed to deliver too: its ledger skips it if it went out before, and
    # sends it if it never did (a publish that crashed after writing it)
    assert seen == ["/p/good/rev-1", "/p/old/rev-3"]
    seen.clear()
    with pytest.raises(RuntimeError, match="delivery failed"):
        deliver({"published": [{"path": "/p/bad/rev-1"}, {"path": "/p/good/rev-2"}]})
    assert seen == ["/p/bad/rev-1", "/p/good/rev-2"]  # every revision is tried before failing


def test_resolve_and_skip(dagbag, monkeypatch):
    """resolve_period uses the logical date; NothingToPublish becomes a skip with a vi/en message."""
    from airflow.sdk.exceptions import AirflowSkipException

    from lensan.publish import service as publish

    dag = dagbag.dags["lensan_publish_monthly"]
    resolve = dag.get_task("resolve_period").python_callable
    assert resolve(logical_date=local(2026, 12, 3, 8), params={}) == "2026-11"
    assert resolve(logical_date=None, dag_run=types.SimpleNamespace(run_after=local(2027, 1, 3, 8)),
                   params={}) == "2026-12"
    assert resolve(logical_date=local(2026, 12, 3, 8), params={"period_key": "2026-05"}) == "2026-05"

    def nothing(*args, **kwargs):
        raise publish.NothingToPublish("no rows")

    monkeypatch.setattr(publish, "publish_period", nothing)
    with pytest.raises(AirflowSkipException, match="Không có dữ liệu.*nothing to publish"):
        dag.get_task("publish").python_callable("2026-11", {"status": "passed"}, logical_date=local(2026, 12, 3, 8))


# ---------------------------------------------------------------------------------------------
# the periodic gate: same blocked-scopes semantics as the weekly DAG


def _gate_failed(**summary):
    from lensan.quality.summary import GateFailed

    base = {"checkpoint": "marts_period_gate", "period_key": "2026-11", "failed": [{"name": "x"}],
            "blocked_scopes": {}, "flagged_scopes": {}, "blocks_all": False, "status": "failed"}
    return GateFailed(base | summary)


@pytest.mark.parametrize("dag_id, period_type", [("lensan_publish_monthly", "month"),
                                                 ("lensan_publish_half_year", "half_year"),
                                                 ("lensan_publish_year_end", "year")])
def test_periodic_gate_task_blocks_scopes_stops_or_skips(dagbag, monkeypatch, dag_id, period_type):
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from lensan.quality import checkpoints

    gate_task = dagbag.dags[dag_id].get_task("gate_marts").python_callable
    context = {"dag": types.SimpleNamespace(dag_id=dag_id), "run_id": "scheduled__x"}
    calls = []

    def passing(ptype, key, run_id=None):
        calls.append((ptype, key, run_id))
        return {"status": "passed", "blocked_scopes": {}}

    monkeypatch.setattr(checkpoints, "run_period_checkpoint", passing)
    assert gate_task("2026", **context) == {"status": "passed", "blocked_scopes": {}}
    assert calls == [(period_type, "2026", f"{dag_id}__scheduled__x")]

    def blocking(*args, **kwargs):
        raise _gate_failed(blocked_scopes={"province-22": "[2026-W47] negative"})

    monkeypatch.setattr(checkpoints, "run_period_checkpoint", blocking)
    assert gate_task("2026", **context)["blocked_scopes"] == {"province-22": "[2026-W47] negative"}

    def stopping(*args, **kwargs):
        raise _gate_failed(blocks_all=True)

    monkeypatch.setattr(checkpoints, "run_period_checkpoint", stopping)
    with pytest.raises(AirflowFailException, match="Dừng công bố.*stopped"):
        gate_task("2026", **context)

    def empty(*args, **kwargs):
        raise _gate_failed(blocks_all=True, no_data=True)

    monkeypatch.setattr(checkpoints, "run_period_checkpoint", empty)
    with pytest.raises(AirflowSkipException, match="Không có dữ liệu.*nothing to publish"):
        gate_task("2026", **context)


def test_periodic_publish_task_passes_the_gate_result_on(dagbag, monkeypatch):
    from lensan.orchestration import ops
    from lensan.publish import service as publish

    seen = {}

    def fake_publish_period(period_type, key, gate_summary=None, **kwargs):
        seen.update(period_type=period_type, key=key, gate_summary=gate_summary)
        return {"published": [], "unchanged": [], "blocked": gate_summary["blocked_scopes"]}

    monkeypatch.setattr(publish, "publish_period", fake_publish_period)
    monkeypatch.setattr(ops, "record_run", lambda context, summary: seen.update(run_log=summary))
    gate_summary = {"status": "failed", "blocked_scopes": {"province-22": "[2026-11] x"}}
    result = dagbag.dags["lensan_publish_monthly"].get_task("publish").python_callable(
        "2026-11", gate_summary, logical_date=local(2026, 12, 3, 8))
    assert seen["gate_summary"] is gate_summary and seen["period_type"] == "month"
    assert result["blocked"] == {"province-22": "[2026-11] x"}
    assert seen["run_log"]["gate"] == "failed" and seen["run_log"]["blocked"] == {"province-22": "[2026-11] x"}


# ---------------------------------------------------------------------------------------------
# weekly DAG: new revisions of earlier weeks are delivered too, once


def _every_week_changed(monkeypatch) -> None:
    """These tests are about delivery: every earlier week counts as changed, whatever revision
    watermark an earlier test left in the session warehouse (lensan.orchestration.changed)."""
    from lensan.orchestration import changed

    monkeypatch.setattr(changed, "since_last_revision",
                        lambda cur, period_type: changed.Changed(period_type, frozenset(), "test", None, None, None))


@pytest.fixture
def own_home(monkeypatch, tmp_path):
    """LENSAN_HOME = tmp_path; the embedded warehouse a task starts there is stopped afterwards (it
    outlived the test session before)."""
    monkeypatch.setenv("LENSAN_HOME", str(tmp_path))
    yield tmp_path
    from lensan.db import embedded

    embedded.stop(mode="immediate")


def test_revisions_of_earlier_weeks_are_delivered_once(dagbag, monkeypatch, tmp_path, own_home):
    from test_delivery import PERIOD_KEY, make_revision

    from lensan.delivery import ledger as delivery_ledger

    from lensan.quality import checkpoints

    from lensan.publish import service as publish

    monkeypatch.delenv("LENSAN_DELIVERY_CHANNELS", raising=False)
    weekly = dagbag.dags["lensan_publish_weekly"]
    revise = weekly.get_task("revise_earlier_weeks").python_callable
    deliver_revisions = weekly.get_task("deliver_revisions").python_callable
    week_dir = tmp_path / "exports" / "week" / PERIOD_KEY          # published earlier: 2026-W47
    make_revision(tmp_path, rev=1)
    (week_dir / "index.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(checkpoints, "run_checkpoint", lambda *a, **k: {"status": "passed", "blocked_scopes": {}})
    _every_week_changed(monkeypatch)
    late_data = {"changed": True}

    def fake_publish_weekly(week_key, gate_summary=None, **kwargs):
        """rev-2 when late data changed the week (as lensan.publish.service would write it), else unchanged."""
        rev2 = week_dir / "province-22" / "rev-2"
        if late_data["changed"] and not rev2.exists():
            make_revision(tmp_path, rev=2)
            return types.SimpleNamespace(published=[{"scope_key": "province-22", "revision": 2, "path": str(rev2)}],
                                         unchanged=[], blocked={})
        return types.SimpleNamespace(published=[], unchanged=[{"scope_key": "province-22", "revision": 2,
                                                               "path": str(rev2)}], blocked={})

    monkeypatch.setattr(publish, "publish_weekly", fake_publish_weekly)
    context = {"dag": weekly, "run_id": "scheduled__2026-12-03"}
    revised = revise("2026-W48", **context)
    assert revised["weeks"] == {PERIOD_KEY: "1 new revision(s), 0 unchanged, 0 blocked"}
    assert [p["revision"] for p in revised["published"]] == [2] and revised["published"][0]["week_key"] == PERIOD_KEY
    results = deliver_revisions(revised)
    assert [(r["channel"], r["status"]) for r in results] == [("outbox", "delivered")]
    outbox = tmp_path / "outbox" / "week" / PERIOD_KEY / "province-22"
    assert sorted(p.name for p in outbox.iterdir()) == ["rev-2"]  # rev-1 was not part of the revision run
    # the task retried / the same XCom delivered again: not re-sent
    assert [r["status"] for r in deliver_revisions(revised)] == ["skipped"]
    # the next run: nothing new, nothing delivered
    late_data["changed"] = False
    again = revise("2026-W48", **context)
    assert again["published"] == [] and deliver_revisions(again) == []
    ledger = [json.loads(line) for line in delivery_ledger.ledger_path().read_text(encoding="utf-8").splitlines()]
    assert [(e["revision"], e["status"]) for e in ledger] == [(f"week/{PERIOD_KEY}/province-22/rev-2", "delivered")]


def test_revisions_made_before_a_failing_week_are_still_delivered(dagbag, monkeypatch, tmp_path, own_home):
    """A week whose gate stops everything fails revise_earlier_weeks (→ deliver_revisions does not
    run): the revisions it made for the other weeks are delivered first."""
    from airflow.sdk.exceptions import AirflowFailException
    from test_delivery import PERIOD_KEY, make_revision

    from lensan.quality import checkpoints
    from lensan.quality.summary import GateFailed

    from lensan.publish import service as publish

    monkeypatch.delenv("LENSAN_DELIVERY_CHANNELS", raising=False)
    weekly = dagbag.dags["lensan_publish_weekly"]
    make_revision(tmp_path, rev=1)
    for week in (PERIOD_KEY, "2026-W48"):
        (tmp_path / "exports" / "week" / week).mkdir(parents=True, exist_ok=True)
        (tmp_path / "exports" / "week" / week / "index.json").write_text("{}", encoding="utf-8")

    def fake_gate(name, params, run_id=None):
        if params["week_key"] == "2026-W48":
            raise GateFailed({"checkpoint": "marts_checkpoint", "period_key": "2026-W48",
                                   "failed": [{"name": "duplicate grain"}], "blocks_all": True})
        return {"status": "passed", "blocked_scopes": {}}

    def fake_publish_weekly(week_key, gate_summary=None, **kwargs):
        path = make_revision(tmp_path, rev=2)
        return types.SimpleNamespace(published=[{"scope_key": "province-22", "revision": 2, "path": str(path)}],
                                     unchanged=[], blocked={})

    monkeypatch.setattr(checkpoints, "run_checkpoint", fake_gate)
    _every_week_changed(monkeypatch)
    monkeypatch.setattr(publish, "publish_weekly", fake_publish_weekly)
    with pytest.raises(AirflowFailException, match="(?s)could not revise.*2026-W48"):
        weekly.get_task("revise_earlier_weeks").python_callable("2026-W49", dag=weekly, run_id="scheduled__x")
    assert (tmp_path / "outbox" / "week" / PERIOD_KEY / "province-22" / "rev-2" / "manifest.json").is_file()

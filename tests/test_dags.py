"""Every DAG imports cleanly and follows the house rules (Airflow 3 DagBag, no scheduler needed)."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import json
import os
import re
from pathlib import Path

import pytest

from lensan import settings

from lensan.orchestration import config
from lensan.transform import manifest as dbt_manifest
from lensan_dev import airflow_harness

pytestmark = pytest.mark.integration

# Airflow reads its configuration once, at first import: point it at the test home's Airflow
# (SQLite under LENSAN_HOME/airflow), never at ~/airflow.
for _key, _value in airflow_harness.airflow_env().items():
    if _key.startswith("AIRFLOW"):
        os.environ.setdefault(_key, _value)

DAGS_DIR = settings.PROJECT_ROOT / "dags"
DAG_IDS = set(config.DAG_IDS)
MAX_DAG_FILE_LINES = 120
MAX_TASK_LINES = 12          # a task body calls lensan.orchestration; the work lives there
# Never imported at the top of a DAG file: the dag-processor parses every file often.
HEAVY = ("pandas", "numpy", "dbt", "cosmos", "great_expectations", "psycopg2", "sqlalchemy", "openpyxl",
         "lensan.publish", "lensan.landing", "lensan.delivery", "lensan.quality", "lensan.db",
         "lensan.transform.dbt", "lensan_dev")


@pytest.fixture(scope="module")
def manifest(warehouse) -> Path:
    """The dbt profile + manifest the transform DAG is rendered from (as `make`/`lensan demo` do)."""
    return dbt_manifest.install_manifest()


@pytest.fixture(scope="module")
def dagbag(manifest):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert DAG_IDS <= set(dagbag.dag_ids)


def _top_level_imports(path: Path) -> set[str]:
    """Every module a file imports at its top level (`from a import b` counts as a and a.b)."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _heavy(module: str) -> bool:
    return any(module == h or module.startswith(h + ".") for h in HEAVY)


def test_house_rules(dagbag):
    """Every DAG of dags/ (the DagBag, not a list): docs, owner, tags, retries, local tz-aware start,
    no catchup; its file is wiring only: short, nothing heavy at the top, small task bodies."""
    assert dagbag.dags and DAG_IDS <= set(dagbag.dag_ids)
    for dag_id, dag in dagbag.dags.items():
        assert "lensan" in dag.tags, dag_id
        assert dag.catchup is False, dag_id
        assert dag.start_date.tzinfo is not None, dag_id
        # Airflow stores start_date in UTC and keeps the DAG's zone in dag.timezone
        assert getattr(dag.timezone, "name", str(dag.timezone)) == "Asia/Ho_Chi_Minh", dag_id
        assert dag.start_date.astimezone(settings.LOCAL_TZ).time() == dt.time(0, 0), dag_id
        assert dag.doc_md and len(dag.doc_md) > 100, dag_id
        for task in dag.tasks:
            assert task.owner == "lensan", (dag_id, task.task_id)
            assert task.retries >= 1, (dag_id, task.task_id)
            assert task.retry_delay.total_seconds() > 0, (dag_id, task.task_id)
            assert task.on_failure_callback, (dag_id, task.task_id)
            callable_ = getattr(task, "python_callable", None)
            if callable_ is not None:
                lines = len(inspect.getsource(callable_).splitlines())
                assert lines <= MAX_TASK_LINES, f"{dag_id}.{task.task_id}: {lines} lines of task body"
        path = Path(dag.fileloc)
        assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_DAG_FILE_LINES, path.name
        heavy = sorted(m for m in _top_level_imports(path) if _heavy(m))
        assert not heavy, f"{path.name} imports {heavy} at the top level"


def test_no_airflow2_idioms_in_dags():
    for path in DAGS_DIR.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "schedule_interval" not in text, path
        assert "from airflow.decorators" not in text and "airflow.datasets" not in text, path
        assert not re.search(r"\b(datetime\.now|utcnow|pendulum\.now|date\.today)\(", text), path


def test_publish_schedule_thursday_10_local(dagbag):
    dag = dagbag.dags["lensan_publish_weekly"]
    timetable = dag.timetable
    assert type(timetable).__name__ == "AssetOrTimeSchedule"
    cron = timetable.timetable
    assert type(cron).__name__ == "CronTriggerTimetable"
    assert cron.expression == "0 10 * * 4"
    assert str(getattr(cron.timezone, "name", cron.timezone)) == "Asia/Ho_Chi_Minh"
    # also triggered by the marts asset (late data → a revision)
    assert "lensan_marts" in repr(timetable.asset_condition)
    # the next slot after a Wednesday afternoon is Thursday 10:00 local
    from croniter import croniter

    after = croniter(cron.expression, dt.datetime(2026, 11, 25, 15, tzinfo=settings.LOCAL_TZ)).get_next(dt.datetime)
    assert (after.isoweekday(), after.hour, after.minute) == (4, 10, 0)


def test_assets_chain_the_dags(dagbag):
    ingest = dagbag.dags["lensan_ingest"]
    transform = dagbag.dags["lensan_transform"]
    outlets = {getattr(o, "uri", None) for t in ingest.tasks for o in t.outlets}
    assert "lensan://warehouse/raw" in outlets
    assert "lensan_raw" in repr(transform.timetable.asset_condition)
    marts_out = {getattr(o, "uri", None) for t in transform.tasks for o in t.outlets}
    assert "lensan://warehouse/marts" in marts_out


def test_transform_has_one_task_per_dbt_model(dagbag, manifest):
    data = json.loads(manifest.read_text())
    models = {n["name"] for n in data["nodes"].values()
              if n["resource_type"] == "model" and n["package_name"] == data["metadata"].get("project_name", n["package_name"])}
    assert models, "no dbt models in the manifest"
    dag = dagbag.dags["lensan_transform"]
    # Cosmos names a model's run task dbt.<model>_run, or dbt.<model>.run inside a per-model group
    # when the model has tests (TestBehavior.AFTER_EACH adds dbt.<model>.test).
    run_tasks = [t.task_id for t in dag.tasks
                 if t.task_id.startswith("dbt.") and (t.task_id.endswith("_run") or t.task_id.endswith(".run"))]
    rendered = [re.sub(r"(_run|\.run)$", "", tid[len("dbt."):]) for tid in run_tasks]
    assert len(rendered) == len(set(rendered))  # one task per model, no duplicates
    assert set(rendered) == models
    ids = set(dag.task_ids)
    assert {"prepare", "gate_staging", "gate_marts"} <= ids
    # the gates run after every dbt task
    gate = dag.get_task("gate_staging")
    assert gate.upstream_task_ids and all(u.startswith("dbt.") for u in gate.upstream_task_ids)


def test_scheduled_dbt_tasks_leave_unit_tests_to_ci(dagbag, manifest, monkeypatch):
    """The transform DAG's dbt tasks run with unit tests excluded (dbt's advice: they run in CI), and dbt
    honours that environment: `dbt ls` of a model with unit tests lists its data tests but no unit test."""
    from lensan.transform import dbt as lensan_dbt

    dag = dagbag.dags["lensan_transform"]
    test_task = dag.get_task("dbt.fct_indicator_values.test")
    assert test_task.env == lensan_dbt.PRODUCTION_ENV

    def listed(env: dict, *types: str) -> set[str]:
        with monkeypatch.context() as patched:
            for key, value in env.items():
                patched.setenv(key, value)
            return set(lensan_dbt.run_dbt(["ls", "--select", "fct_indicator_values", "--output", "name",
                                           "--resource-type", *types, "--quiet"]))

    data_tests = listed({}, "test")
    everything = listed({}, "test", "unit_test")
    assert data_tests and "ratios_from_same_scope_num_and_den" in everything - data_tests
    assert listed(lensan_dbt.PRODUCTION_ENV, "test", "unit_test") == data_tests


def test_transform_falls_back_without_manifest(tmp_path, monkeypatch, manifest):
    """Parsed with no profile (fresh LENSAN_HOME), the DAG still imports, with a single dbt_build task."""
    import importlib.util

    monkeypatch.setenv("LENSAN_HOME", str(tmp_path))
    spec = importlib.util.spec_from_file_location("lensan_transform_fallback", DAGS_DIR / "lensan_transform.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.RENDERED is False
    dag = module.lensan_transform()
    assert "dbt_build" in dag.task_ids
    assert "missing" in dag.doc_md


def test_publish_week_resolution():
    """The publish DAG's week comes from the logical date via lensan.calendar.periods."""
    from lensan.calendar import periods
    from lensan.cli.run import publish_logical_date

    thursday = dt.datetime(2026, 11, 26, 10, tzinfo=settings.LOCAL_TZ)
    assert periods.last_complete_week(thursday) == "2026-W47"
    assert publish_logical_date("2026-W47", now=dt.datetime(2026, 11, 30, tzinfo=settings.LOCAL_TZ)) == thursday
    early = dt.datetime(2026, 11, 25, 9, tzinfo=settings.LOCAL_TZ)  # before Thursday: 'now' is used
    assert publish_logical_date("2026-W47", now=early) == early


# ---------------------------------------------------------------------------------------------
# ingest: landing as mapped tasks over file groups (issue #17)


def test_ingest_maps_land_over_file_groups(dagbag):
    ingest = dagbag.dags["lensan_ingest"]
    land = ingest.get_task("land")
    assert type(land).__name__.endswith("MappedOperator")   # one task instance per file group
    assert land.upstream_task_ids == {"plan_groups"}
    assert ingest.get_task("summarize").upstream_task_ids == {"land"}
    announce = ingest.get_task("announce_raw")
    assert announce.upstream_task_ids == {"summarize"}
    assert {getattr(o, "uri", None) for o in announce.outlets} == {config.RAW_ASSET_URI}


def _pending(home: Path) -> set[tuple[str, str]]:
    return {(p.parent.name, str(p)) for p in (home / "landing").glob("*/*")}


def test_file_groups_keep_each_key_whole_and_in_delivery_order(tmp_path, monkeypatch):
    """Every pending file is in exactly one group; the files of one extract entity-day (two names of
    one day), of one register unit, the weekly forms that arrived at the same time and the forms of
    identical bytes share a group, in delivery (mtime, then name) order; other forms spread out."""
    from lensan.landing import groups
    from lensan_dev.generate import generate

    monkeypatch.setenv("LENSAN_HOME", str(tmp_path))
    generate(["22"], ["2026-W45"], seed=1034)
    day = tmp_path / "landing" / "postmart" / "postmart_don_hang_20261104.csv"
    resent = day.with_name("POSTMART_DON_HANG_20261104.csv")   # the same entity-day, delivered later
    resent.write_bytes(day.read_bytes())
    os.utime(day, (1_800_000_000, 1_800_000_000))
    os.utime(resent, (1_800_000_100, 1_800_000_100))
    registers = sorted((tmp_path / "landing" / "household_register").iterdir())
    again = registers[0].with_name(registers[0].name.replace("20261115", "20261116"))
    again.write_bytes(registers[0].read_bytes())
    forms = sorted((tmp_path / "landing" / "weekly_form").iterdir())
    assert len(forms) >= 6
    for form in forms:   # one arrival time each, as an upload or an e-mail gives them
        os.utime(form, (1_800_000_000 + forms.index(form), 1_800_000_000 + forms.index(form)))
    # two versions of a week saved into one zip: the same arrival time, the name tells them apart
    tied = forms[1].with_name("Bao cao tuan 45 (sua lai).xlsx")
    tied.write_bytes(forms[2].read_bytes()[:-1] + b"\0")
    os.utime(tied, (1_800_000_003, 1_800_000_003))
    os.utime(forms[3], (1_800_000_003, 1_800_000_003))
    copy = forms[4].with_name("ban sao " + forms[4].name)   # the same bytes, sent again later
    copy.write_bytes(forms[4].read_bytes())
    os.utime(copy, (1_800_000_900, 1_800_000_900))

    planned = groups.plan_groups(max_groups=4)
    assert 1 < len(planned) <= 4 and all(planned)
    flat = [tuple(entry) for group in planned for entry in group]
    assert len(flat) == len(set(flat)) and set(flat) == _pending(tmp_path)
    where = {path: i for i, group in enumerate(planned) for _, path in group}
    keys: dict[tuple, set[int]] = {}
    for source, path in flat:
        if source != "weekly_form":
            keys.setdefault(groups.group_key(source, Path(path).name), set()).add(where[path])
    assert all(len(found) == 1 for found in keys.values()), "a key split over groups"
    assert where[str(day)] == where[str(resent)]
    group = [path for _, path in planned[where[str(day)]]]
    assert group.index(str(day)) < group.index(str(resent))
    assert where[str(registers[0])] == where[str(again)]
    assert where[str(tied)] == where[str(forms[3])]
    group = [path for _, path in planned[where[str(tied)]]]
    assert group.index(str(tied)) < group.index(str(forms[3]))    # "Bao cao ..." < "bao_cao_..."
    assert where[str(copy)] == where[str(forms[4])]
    assert len({where[path] for source, path in flat if source == "weekly_form"}) > 1
    # nothing pending: no group (the orchestration then lands one empty group)
    for _, path in flat:
        Path(path).unlink()
    assert groups.plan_groups() == []


def test_a_group_lands_only_its_files_from_the_landing_folder(tmp_path, monkeypatch):
    from lensan.landing import groups

    monkeypatch.setenv("LENSAN_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="not in the landing folder"):
        groups.land_group([("postmart", str(tmp_path / "elsewhere" / "postmart_don_hang_20261104.csv"))])

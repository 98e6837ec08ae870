"""Run summaries and failure alerts land in ops.* and show in `lensan status`."""

from __future__ import annotations

import types
import uuid

import pytest

from lensan.cli import status as cli

from lensan.orchestration import ops

pytestmark = pytest.mark.integration

# Other tests run the real DAGs against the same session warehouse: use keys of this test's own.
DAG_ID = f"test_ops_{uuid.uuid4().hex[:8]}"


def fake_context(task_id: str, exception: Exception | None = None) -> dict:
    ti = types.SimpleNamespace(dag_id=DAG_ID, task_id=task_id, try_number=2)
    return {"ti": ti, "run_id": "manual__2026-11-26T03:00:00+00:00", "logical_date": None,
            "exception": exception}


def test_run_summary_is_upserted_per_task_run(db):
    ops.record_run(fake_context("land"), {"loaded": 3, "rows": 120})
    ops.record_run(fake_context("land"), {"loaded": 4, "rows": 130})  # a retry replaces its row
    with db.cursor() as cur:
        cur.execute("select count(*), max((summary->>'loaded')::int) from ops.run_log "
                    "where dag_id = %s and task_id = 'land'", (DAG_ID,))
        assert cur.fetchone() == (1, 4)


def test_failure_callback_records_an_alert_and_status_shows_it(db):
    ops.alert_on_failure(fake_context("land", RuntimeError("kho dữ liệu không phản hồi / warehouse down")))
    report = cli.status_report()
    alert = report["alerts"][0]
    assert (alert["dag_id"], alert["task_id"], alert["try_number"]) == (DAG_ID, "land", 2)
    assert alert["exception_class"] == "RuntimeError" and "warehouse down" in alert["message"]
    assert any(r["dag_id"] == DAG_ID and r["task_id"] == "land" for r in report["last_runs"])


def test_failure_callback_never_raises_even_without_a_warehouse(monkeypatch):
    from lensan.db import warehouse

    def unreachable(*args, **kwargs):
        raise OSError("no server")

    monkeypatch.setattr(warehouse, "connect", unreachable)
    ops.alert_on_failure(fake_context("land", ValueError("x")))  # must not mask the task's failure

"""Operational records in the warehouse: a summary per DAG task run and an alert per failure.

`ops.run_log` answers "what did the last run of each DAG do" (files, rows, gates, revisions) and
`ops.alerts` "what failed, when". Both are written from Airflow tasks and callbacks and read by
`lensan status`. Alert text carries exception class and message only: never file content.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from decimal import Decimal
from pathlib import Path

log = logging.getLogger(__name__)

MAX_MESSAGE = 2000


def to_jsonable(obj):
    """`obj` as plain JSON types: dataclasses and objects become dicts (public attributes), tuples
    and sets lists, anything else JSON lacks (paths, dates, decimals) its str(), as
    `json.dumps(default=str)` would write it. THE serialiser of XCom values and of the CLI's output."""
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (Path, dt.date, dt.datetime, Decimal)):
        return str(obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return to_jsonable({k: v for k, v in vars(obj).items() if not k.startswith("_")})
    return str(obj)


def _context_keys(context) -> tuple[str, str, str, object]:
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None) or "?"
    run_id = context.get("run_id") or getattr(dag_run, "run_id", None) or "?"
    task_id = getattr(ti, "task_id", None) or "?"
    return dag_id, run_id, task_id, context.get("logical_date")


def record_run(context, summary: dict, status: str = "success") -> None:
    """Upsert the summary of this task run (a rerun of the same run replaces its row)."""
    from lensan.db import ddl

    dag_id, run_id, task_id, logical_date = _context_keys(context)
    with ddl.ops_cursor() as cur:
        cur.execute(
            "insert into ops.run_log (dag_id, run_id, task_id, logical_date, status, summary) "
            "values (%s, %s, %s, %s, %s, %s::jsonb) on conflict (dag_id, run_id, task_id) do update set "
            "status = excluded.status, summary = excluded.summary, recorded_at = now()",
            (dag_id, run_id, task_id, logical_date, status, json.dumps(summary, ensure_ascii=False, default=str)))
    log.info("Tóm tắt lần chạy / run summary %s %s %s: %s", dag_id, run_id, task_id,
             json.dumps(summary, ensure_ascii=False, default=str)[:4000])


def alert_on_failure(context) -> None:
    """Airflow on_failure_callback: one ops.alerts row per failed task try (never raises)."""
    try:
        dag_id, run_id, task_id, logical_date = _context_keys(context)
        ti = context.get("ti") or context.get("task_instance")
        exc = context.get("exception")
        message = str(exc)[:MAX_MESSAGE] if exc is not None else "task failed"
        _insert_alert(dag_id, run_id, task_id, getattr(ti, "try_number", None), logical_date,
                      type(exc).__name__ if exc is not None else None, message, retries=2)
        log.error("CẢNH BÁO / ALERT %s.%s (%s): %s", dag_id, task_id, run_id, message)
    except Exception:  # noqa: BLE001 - an alert must never mask the task's own failure
        log.exception("could not record the alert")


def record_alert(dag_id: str, run_id: str | None, task_id: str | None, message: str, *,
                 logical_date=None, exception_class: str | None = None, try_number: int | None = None) -> None:
    """Write one ops.alerts row for a condition a task detected itself (e.g. a missed deadline).

    Unlike alert_on_failure this raises when the warehouse is unreachable: the caller decides."""
    _insert_alert(dag_id, run_id, task_id, try_number, logical_date, exception_class, message[:MAX_MESSAGE])


def _insert_alert(dag_id, run_id, task_id, try_number, logical_date, exception_class, message, *,
                  retries: int = 5) -> None:
    from lensan.db import ddl

    with ddl.ops_cursor(retries=retries) as cur:
        cur.execute(
            "insert into ops.alerts (dag_id, run_id, task_id, try_number, logical_date, "
            "exception_class, message) values (%s, %s, %s, %s, %s, %s, %s)",
            (dag_id, run_id, task_id, try_number, logical_date, exception_class, message))
    log.error("CẢNH BÁO / ALERT %s.%s (%s): %s", dag_id, task_id, run_id, message)


def last_runs(conn, limit: int = 20) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(
            "select distinct on (dag_id, task_id) dag_id, task_id, run_id, logical_date, status, summary, "
            "recorded_at from ops.run_log order by dag_id, task_id, recorded_at desc limit %s", (limit,))
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]


def recent_alerts(conn, limit: int = 20) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute("select dag_id, task_id, run_id, try_number, exception_class, message, created_at "
                    "from ops.alerts order by alert_id desc limit %s", (limit,))
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

"""lensan_publication_watch: Thursdays 14:00 — was last week's report published before its deadline?"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task
from airflow.sdk.exceptions import AirflowFailException

from lensan.orchestration.airflow_env import default_args

DAG_ID = "lensan_publication_watch"
TASK_ID = "check_weekly_publication"

DOC = """
### lensan_publication_watch — giám sát hạn công bố / publication deadline watch

Runs **every Thursday at 14:00 Asia/Ho_Chi_Minh**, the deadline of the weekly report (appendix 02).

`check_weekly_publication` takes the previous ISO week from the run's **logical date**
(`lensan.calendar.periods.last_complete_week`) and its deadline (`lensan.calendar.periods.weekly_deadline`, Thursday
14:00 local) and looks in `ops.publications` for a weekly revision created **before** that deadline.
If there is none it writes an `ops.alerts` row and the task **fails** (no retry: the deadline has
passed) with the message *"Chưa công bố báo cáo tuần … trước 14:00 / weekly report … not published
by 14:00"*. A publication after the deadline does not satisfy the check (the report was late).
"""


class WeeklyReportMissing(AirflowFailException):
    """No weekly publication before the deadline (the alert row is already written)."""


def check_weekly_publication(moment: dt.datetime, *, dag_id: str = DAG_ID, run_id: str | None = None,
                             task_id: str | None = TASK_ID) -> dict:
    """Check that the week before `moment` was published before its deadline.

    Returns {week, deadline, scopes: [scope keys published in time]}; otherwise records an
    ops.alerts row and raises WeeklyReportMissing (Vietnamese + English message).
    """
    from lensan.orchestration import ops
    from lensan.calendar import periods
    from lensan.db import warehouse

    week = periods.last_complete_week(moment)
    deadline = periods.weekly_deadline(week)
    conn = warehouse.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('ops.publications') is not null")
            scopes: list[str] = []
            if cur.fetchone()[0]:
                cur.execute("select distinct scope_level || '-' || scope_code from ops.publications "
                            "where period_type = 'week' and period_key = %s and created_at < %s order by 1",
                            (week, deadline))
                scopes = [r[0] for r in cur.fetchall()]
        conn.commit()
    finally:
        conn.close()
    local = deadline.strftime("%H:%M %d/%m/%Y")
    if not scopes:
        message = (f"Chưa công bố báo cáo tuần {week} trước {local} / "
                   f"weekly report {week} not published by {local} (Asia/Ho_Chi_Minh)")
        ops.record_alert(dag_id, run_id, task_id, message, logical_date=moment,
                         exception_class=WeeklyReportMissing.__name__)
        raise WeeklyReportMissing(message)
    return {"week": week, "deadline": deadline.isoformat(), "scopes": scopes}


def _alert_unless_recorded(context) -> None:
    """on_failure_callback: the deadline alert is written by the check itself, so skip that one."""
    from lensan.orchestration import ops

    if isinstance(context.get("exception"), WeeklyReportMissing):
        return
    ops.alert_on_failure(context)


@dag(
    dag_id=DAG_ID,
    schedule=CronTriggerTimetable("0 14 * * 4", timezone="Asia/Ho_Chi_Minh"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args={**default_args(), "on_failure_callback": _alert_unless_recorded},
    tags=["lensan", "monitoring", "weekly"],
    doc_md=DOC,
)
def lensan_publication_watch():
    @task(task_id=TASK_ID)
    def check(**context) -> dict:
        import logging

        moment = context.get("logical_date") or context["dag_run"].run_after
        result = check_weekly_publication(moment, dag_id=context["dag"].dag_id, run_id=context["run_id"])
        logging.getLogger(__name__).info("Đã công bố đúng hạn / published in time: %s", result)
        return result

    check()


lensan_publication_watch()

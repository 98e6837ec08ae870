"""The task of lensan_publication_watch: was last week's report published before its deadline?"""

from __future__ import annotations

import datetime as dt
import logging

from airflow.sdk.exceptions import AirflowFailException

from lensan.orchestration import ops
from lensan.orchestration.config import DAG_WATCH, WATCH_TASK
from lensan.orchestration.context import run_moment

log = logging.getLogger(__name__)


class WeeklyReportMissing(AirflowFailException):
    """No weekly publication before the deadline (the alert row is already written)."""


def scopes_published_before(week: str, deadline: dt.datetime) -> list[str]:
    """Scope keys ('nation-VN', ...) with a weekly revision of `week` in ops.publications created
    before `deadline` (none when the table does not exist yet)."""
    from lensan.db import warehouse

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
    return scopes


def check_weekly_publication(moment: dt.datetime, *, dag_id: str = DAG_WATCH, run_id: str | None = None,
                             task_id: str | None = WATCH_TASK) -> dict:
    """Check that the week before `moment` was published before its deadline (Thursday 14:00 local).

    Returns {week, deadline, scopes: [scope keys published in time]}; otherwise records an
    ops.alerts row and raises WeeklyReportMissing (Vietnamese + English message).
    """
    from lensan.calendar import periods

    week = periods.last_complete_week(moment)
    deadline = periods.weekly_deadline(week)
    scopes = scopes_published_before(week, deadline)
    local = deadline.strftime("%H:%M %d/%m/%Y")
    if not scopes:
        message = (f"Chưa công bố báo cáo tuần {week} trước {local} / "
                   f"weekly report {week} not published by {local} (Asia/Ho_Chi_Minh)")
        ops.record_alert(dag_id, run_id, task_id, message, logical_date=moment,
                         exception_class=WeeklyReportMissing.__name__)
        raise WeeklyReportMissing(message)
    return {"week": week, "deadline": deadline.isoformat(), "scopes": scopes}


def check(context) -> dict:
    """The watch task: the check at the run's logical date."""
    result = check_weekly_publication(run_moment(context), dag_id=context["dag"].dag_id, run_id=context["run_id"])
    log.info("Đã công bố đúng hạn / published in time: %s", result)
    return result


def alert_unless_recorded(context) -> None:
    """on_failure_callback: the deadline alert is written by the check itself, so skip that one."""
    if isinstance(context.get("exception"), WeeklyReportMissing):
        return
    ops.alert_on_failure(context)

"""lensan_publication_watch: Thursdays 14:00 — was last week's report published before its deadline?"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task

from lensan.orchestration import config

DOC = """
### lensan_publication_watch — giám sát hạn công bố / publication deadline watch

Runs **every Thursday at 14:00 Asia/Ho_Chi_Minh**, the deadline of the weekly report (appendix 02).

`check_weekly_publication` takes the previous ISO week from the run's **logical date**
(`lensan.calendar.periods.last_complete_week`) and its deadline (`lensan.calendar.periods.weekly_deadline`, Thursday
14:00 local) and looks in `ops.publications` for a weekly revision created **before** that deadline.
If there is none it writes an `ops.alerts` row and the task **fails** (no retry: the deadline has
passed) with the message *"Chưa công bố báo cáo tuần … trước 14:00 / weekly report … not published
by 14:00"*. A publication after the deadline does not satisfy the check (the report was late).

Task body: `lensan.orchestration.watch`.
"""


def _alert_unless_recorded(context) -> None:
    """on_failure_callback: the deadline alert is written by the check itself, so skip that one."""
    from lensan.orchestration import watch

    watch.alert_unless_recorded(context)


@dag(
    dag_id=config.DAG_WATCH,
    schedule=CronTriggerTimetable("0 14 * * 4", timezone=config.TZ),
    start_date=config.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={**config.default_args(), "on_failure_callback": _alert_unless_recorded},
    tags=["lensan", "monitoring", "weekly"],
    doc_md=DOC,
)
def lensan_publication_watch():
    @task(task_id=config.WATCH_TASK)
    def check(**context) -> dict:
        """Fail (with an ops.alerts row) when last week was not published before its deadline."""
        from lensan.orchestration import watch

        return watch.check(context)

    check()


lensan_publication_watch()

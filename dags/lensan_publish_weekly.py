"""lensan_publish_weekly: the weekly report (appendix 02), Thursdays 10:00 and on every marts update."""

from __future__ import annotations

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from lensan.calendar.periods import KEY_PATTERNS
from lensan.orchestration import config

MARTS = Asset(name=config.MARTS_ASSET_NAME, uri=config.MARTS_ASSET_URI)

DOC = """
### lensan_publish_weekly — công bố báo cáo tuần / weekly publication

Runs **every Thursday at 10:00 Asia/Ho_Chi_Minh** (the provinces' deadline is Thursday 14:00) and,
in addition, whenever the Asset `lensan_marts` is updated, so late reports and changed order
statuses produce a new **revision** of the published week.

1. `resolve_week` — the report week is the latest ISO week complete at the run's logical date
   (`lensan.calendar.periods.last_complete_week`; asset-triggered runs use the run's `run_after`). The
   param `week_key` (e.g. `2026-W47`) overrides it for a re-publication.
2. `gate_marts` — the GX marts checkpoint for that week, under `lensan.quality.policy`: an
   error-severity failure that concerns only some provinces/regions blocks those scopes (listed with
   the reason in `index.json`); any other error-severity failure **stops the publication**: the task
   fails and its error says which rule failed (Vietnamese and English).
3. `publish` — `lensan.publish.service.publish_weekly(week)`: XLSX (template), CSV (UTF-8 BOM) and JSON
   per province, region and the nation, plus a manifest, as an immutable numbered revision.
4. `report_locations` — logs where the files are.
5. `revise_earlier_weeks` — only the earlier weeks whose data changed since the last pass (late form,
   returned order: `lensan.orchestration.changed`) are gated and published again; new content → new revision.
   `deliver_revisions` sends those new revisions through the same `deliver_published` path as
   `deliver` (channels, ledger: a revision already delivered is skipped, a failure retries).
6. `refresh_asof_snapshot` — rebuilds `marts.fct_indicator_values_asof_deadline` from the
   publication log, so the mart shows the values as published by each deadline.
7. `deliver` — every NEW revision of the week goes out through `lensan.delivery.service.deliver` over the
   channels in `LENSAN_DELIVERY_CHANNELS` (default `outbox`); a failed channel fails the task so
   Airflow retries it (already delivered revisions are skipped).

Task bodies: `lensan.orchestration.weekly` and `lensan.orchestration.publication`.
"""


@dag(
    dag_id=config.DAG_PUBLISH,
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 10 * * 4", timezone=config.TZ), assets=MARTS),
    start_date=config.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=config.default_args(),
    tags=["lensan", "publish", "weekly"],
    params={"week_key": Param(None, type=["null", "string"], pattern=KEY_PATTERNS["week"].pattern,
                              description="Override the report week, e.g. 2026-W47")},
    doc_md=DOC,
)
def lensan_publish_weekly():
    @task
    def resolve_week(**context) -> str:
        """The latest complete ISO week at the run's logical date (never the wall clock)."""
        from lensan.orchestration import weekly

        return weekly.resolve_week(context)

    @task
    def gate_marts(week: str, **context) -> dict:
        """GX marts checkpoint for the week: blocks failing scopes, stops on any other error."""
        from lensan.orchestration import weekly

        return weekly.gate_week(week, context)

    @task
    def publish(week: str, gate_summary: dict, **context) -> dict:
        """Write the exports and the manifest of a new revision; returns the PublishSummary."""
        from lensan.orchestration import weekly

        return weekly.publish_week(week, gate_summary, context)

    @task
    def report_locations(summary: dict) -> None:
        from lensan.orchestration import weekly

        weekly.report_locations(summary)

    @task
    def revise_earlier_weeks(week: str, **context) -> dict:
        """Re-publish the earlier weeks whose data changed (a new revision only where content changed)."""
        from lensan.orchestration import weekly

        return weekly.revise_earlier_weeks(week, context)

    @task
    def deliver(summary: dict) -> list[dict]:
        """Deliver every NEW revision; fail (→ retry) if any delivery failed, after trying all."""
        from lensan.orchestration import publication

        return publication.deliver(summary)

    @task
    def deliver_revisions(revised: dict) -> list[dict]:
        """Deliver the new revisions of earlier weeks like the week's own (the ledger skips repeats)."""
        from lensan.orchestration import publication

        return publication.deliver(revised)

    @task
    def refresh_asof_snapshot() -> None:
        """The as-of-deadline mart reflects what was just published (reruns leave it unchanged)."""
        from lensan.orchestration import publication

        publication.refresh_asof_snapshot()

    week = resolve_week()
    published = publish(week, gate_marts(week))
    report_locations(published)
    deliver(published)
    revised = revise_earlier_weeks(week)
    published >> revised >> refresh_asof_snapshot()
    deliver_revisions(revised)


lensan_publish_weekly()

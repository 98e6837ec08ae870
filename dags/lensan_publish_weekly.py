"""lensan_publish_weekly: the weekly report (appendix 02), Thursdays 10:00 and on every marts update."""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from lensan.orchestration.airflow_env import DAG_PUBLISH, MARTS_ASSET_NAME, MARTS_ASSET_URI, default_args

MARTS = Asset(name=MARTS_ASSET_NAME, uri=MARTS_ASSET_URI)

DOC = """
### lensan_publish_weekly — công bố báo cáo tuần / weekly publication

Runs **every Thursday at 10:00 Asia/Ho_Chi_Minh** (the provinces' deadline is Thursday 14:00) and,
in addition, whenever the Asset `lensan_marts` is updated, so late reports and changed order
statuses produce a new **revision** of the published week.

1. `resolve_week` — the report week is the latest ISO week complete at the run's logical date
   (`lensan.calendar.periods.last_complete_week`; asset-triggered runs use the run's `run_after`). The
   param `week_key` (e.g. `2026-W47`) overrides it for a re-publication.
2. `gate_marts` — the GX marts checkpoint for that week. An error-severity failure that concerns
   only some provinces/regions blocks those scopes (listed with the reason in `index.json`); any
   other error-severity failure **stops the publication**: the task fails and its error says which
   rule failed (Vietnamese and English).
3. `publish` — `lensan.publish.service.publish_weekly(week)`: XLSX (template), CSV (UTF-8 BOM) and JSON
   per province, region and the nation, plus a manifest, as an immutable numbered revision.
4. `report_locations` — logs where the files are.
5. `revise_earlier_weeks` — every week published earlier is gated and published again: a week whose
   content changed (late form, returned order) gets a new revision, the others write nothing.
   `deliver_revisions` sends those new revisions through the same `deliver_published` path as
   `deliver` (channels, ledger: a revision already delivered is skipped, a failure retries).
6. `refresh_asof_snapshot` — rebuilds `marts.fct_indicator_values_asof_deadline` from the
   publication log, so the mart shows the values as published by each deadline.
7. `deliver` — every NEW revision of the week goes out through `lensan.delivery.service.deliver` over the
   channels in `LENSAN_DELIVERY_CHANNELS` (default `outbox`); a failed channel fails the task so
   Airflow retries it (already delivered revisions are skipped).
"""


@dag(
    dag_id=DAG_PUBLISH,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 10 * * 4", timezone="Asia/Ho_Chi_Minh"),
        assets=MARTS,
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["lensan", "publish", "weekly"],
    params={"week_key": Param(None, type=["null", "string"], pattern=r"^\d{4}-W\d{2}$",
                              description="Override the report week, e.g. 2026-W47")},
    doc_md=DOC,
)
def lensan_publish_weekly():
    @task
    def resolve_week(**context) -> str:
        """The latest complete ISO week at the run's logical date (never the wall clock)."""
        from lensan.calendar import periods

        override = (context.get("params") or {}).get("week_key")
        if override:
            periods.week_bounds(override)  # validates the key
            return override
        moment = context.get("logical_date") or context["dag_run"].run_after
        return periods.last_complete_week(moment)

    @task
    def gate_marts(week: str, **context) -> dict:
        """GX marts checkpoint for the week.

        A failure attributable to some provinces/regions blocks only those scopes (publish writes the
        others and lists the blocked ones with the reason); any other error-severity failure stops
        the publication: the task fails with the gate's message.
        """
        import logging

        from airflow.sdk.exceptions import AirflowFailException

        from lensan.quality import gate

        run_id = f"{context['dag'].dag_id}__{context['run_id']}"
        try:
            return gate.run_checkpoint("marts", {"week_key": week}, run_id=run_id)
        except gate.GateFailed as exc:
            summary = exc.summary
            if not summary.get("blocks_all"):
                logging.getLogger(__name__).warning(
                    "Chặn công bố các phạm vi / blocking scopes %s:\n%s", sorted(exc.blocked_scopes), exc)
                return summary
            raise AirflowFailException(
                f"Dừng công bố tuần {week} / publication of {week} stopped:\n{exc}") from exc

    @task
    def publish(week: str, gate_summary: dict, **context) -> dict:
        """Write the exports and the manifest of a new revision; returns the PublishSummary."""
        import dataclasses
        import json

        from lensan.publish import service as lensan_publish

        from lensan.orchestration import ops

        summary = lensan_publish.publish_weekly(week, gate_summary=gate_summary,
                                                logical_date=context.get("logical_date"))
        data = json.loads(json.dumps(dataclasses.asdict(summary), default=str))
        ops.record_run(context, {
            "week": week, "gate": (gate_summary or {}).get("status"),
            "published": [f"{p.get('scope_key')} rev-{p.get('revision')}" for p in data.get("published") or []],
            "unchanged": len(data.get("unchanged") or []), "blocked": data.get("blocked") or {},
        })
        return data

    @task
    def report_locations(summary: dict) -> None:
        import logging

        log = logging.getLogger(__name__)
        log.info("Tuần / week %s — thư mục / folder %s — chỉ mục / index %s",
                 summary.get("week_key"), summary.get("export_dir"), summary.get("index_path"))
        for pub in summary.get("published") or []:
            log.info("Bản mới / new revision %s rev %s: %s", pub.get("scope_key"), pub.get("revision"), pub.get("path"))
        for pub in summary.get("unchanged") or []:
            log.info("Không đổi / unchanged %s rev %s: %s", pub.get("scope_key"), pub.get("revision"), pub.get("path"))
        for scope, reason in (summary.get("blocked") or {}).items():
            log.warning("BỊ CHẶN / BLOCKED %s: %s", scope, reason)

    @task
    def revise_earlier_weeks(week: str, **context) -> dict:
        """Re-publish every week published before `week`: late reports and changed order statuses
        yield a new revision; an unchanged week writes nothing (publish_weekly compares content)."""
        import logging

        from lensan import settings

        from lensan.quality import gate
        from lensan.publish import service as lensan_publish

        log = logging.getLogger(__name__)
        week_root = settings.home_dir("exports") / "week"
        earlier = sorted(p.name for p in week_root.iterdir()
                         if p.is_dir() and (p / "index.json").exists() and p.name < week)
        outcome: dict[str, str] = {}
        revisions: list[dict] = []   # the new revisions, for deliver_revisions
        errors = []
        for key in earlier:
            run_id = f"{context['dag'].dag_id}__{context['run_id']}__{key}"
            try:
                summary = gate.run_checkpoint("marts", {"week_key": key}, run_id=run_id)
            except gate.GateFailed as exc:
                if exc.summary.get("blocks_all"):
                    errors.append(f"{key}: {exc}")
                    outcome[key] = "gate failed"
                    continue
                summary = exc.summary
            result = lensan_publish.publish_weekly(key, gate_summary=summary)
            revisions += [{**pub, "week_key": key} for pub in result.published]
            outcome[key] = f"{len(result.published)} new revision(s), {len(result.unchanged)} unchanged, " \
                           f"{len(result.blocked)} blocked"
            log.info("Tuần / week %s: %s", key, outcome[key])
        if errors:
            from airflow.sdk.exceptions import AirflowFailException

            from lensan.delivery import service as delivery

            if revisions:  # deliver_revisions will not run: send what was revised before failing
                try:
                    delivery.deliver_published({"published": revisions})
                except delivery.DeliveryError as exc:
                    errors.append(str(exc))
            raise AirflowFailException("Không sửa đổi được / could not revise:\n" + "\n".join(errors))
        return {"weeks": outcome, "published": revisions}

    @task
    def deliver(summary: dict) -> list[dict]:
        """Deliver every NEW revision; fail (→ retry) if any delivery failed, after trying all."""
        from lensan.delivery import service as delivery

        return delivery.deliver_published(summary)

    @task
    def deliver_revisions(revised: dict) -> list[dict]:
        """Deliver the new revisions of earlier weeks like the week's own (same channels, ledger:
        a revision already delivered is not sent again); fail (→ retry) if any delivery failed."""
        from lensan.delivery import service as delivery

        return delivery.deliver_published(revised)

    @task
    def refresh_asof_snapshot() -> None:
        """The as-of-deadline mart reflects what was just published (reruns leave it unchanged)."""
        from lensan import settings
        from lensan.transform import dbt as lensan_dbt
        from lensan.db.locks import file_lock

        # one at a time per LENSAN_HOME: the weekly and periodic DAGs may refresh it at the same moment
        with file_lock(settings.home_dir("dbt") / ".publication_snapshot.lock"):
            lensan_dbt.refresh_publication_snapshot()

    week = resolve_week()
    published = publish(week, gate_marts(week))
    report_locations(published)
    deliver(published)
    revised = revise_earlier_weeks(week)
    published >> revised >> refresh_asof_snapshot()
    deliver_revisions(revised)


lensan_publish_weekly()

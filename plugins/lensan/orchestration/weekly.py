"""The tasks of lensan_publish_weekly: resolve the week, gate, publish, report, revise earlier weeks."""

from __future__ import annotations

import logging

from lensan.orchestration import ops, publication
from lensan.orchestration.context import gate_run_id, param, run_moment

log = logging.getLogger(__name__)


def resolve_week(context) -> str:
    """The latest complete ISO week at the run's logical date, or the `week_key` param."""
    from lensan.calendar import periods

    override = param(context, "week_key")
    if override:
        periods.week_bounds(override)  # validates the key
        return override
    return periods.last_complete_week(run_moment(context))


def _decide(week: str, run_id: str):
    return publication.decide("week", week, run_id)


def gate_week(week: str, context) -> dict:
    """The GX marts checkpoint of the week under the publication policy (see publication.gate_outcome)."""
    return publication.gate_outcome(_decide(week, gate_run_id(context)),
                                    f"Dừng công bố tuần {week} / publication of {week} stopped")


def publish_week(week: str, gate_summary: dict, context) -> dict:
    """Write the exports and the manifest of a new revision; the PublishSummary (XCom)."""
    from lensan.publish import service as publish

    summary = publish.publish_weekly(week, gate_summary=gate_summary, logical_date=context.get("logical_date"))
    data = ops.to_jsonable(summary)
    publication.record_publish_run(context, {"week": week}, gate_summary, data)
    return data


def report_locations(summary: dict) -> None:
    """Log where the files of the week are, and which scopes were blocked."""
    log.info("Tuần / week %s — thư mục / folder %s — chỉ mục / index %s",
             summary.get("week_key"), summary.get("export_dir"), summary.get("index_path"))
    for pub in summary.get("published") or []:
        log.info("Bản mới / new revision %s rev %s: %s", pub.get("scope_key"), pub.get("revision"), pub.get("path"))
    for pub in summary.get("unchanged") or []:
        log.info("Không đổi / unchanged %s rev %s: %s", pub.get("scope_key"), pub.get("revision"), pub.get("path"))
    for scope, reason in (summary.get("blocked") or {}).items():
        log.warning("BỊ CHẶN / BLOCKED %s: %s", scope, reason)


def revise_earlier_weeks(week: str, context) -> dict:
    """Gate and publish again the weeks published before `week` whose data changed since the last
    revision pass (late reports, changed order statuses: lensan.orchestration.changed); a week whose
    content is the same writes nothing (publish_weekly compares content), the other weeks are not
    touched. A successful pass records its watermark, so a rerun revises nothing.

    Returns {weeks: {week: outcome}, published: [new revisions], untouched: n, everything: why | None}
    for deliver_revisions. A week whose gate says Stop fails the task, after every other week was
    revised and its new revisions delivered (deliver_revisions will not run then); the watermark is
    not recorded then, so the next run revises those weeks again.
    """
    from lensan import settings
    from lensan.db.ddl import ops_cursor
    from lensan.orchestration import changed
    from lensan.publish import service as publish
    from lensan.quality import policy

    week_root = settings.home_dir("exports") / "week"
    published_before = [p.name for p in week_root.iterdir()
                        if p.is_dir() and (p / "index.json").exists() and p.name < week] if week_root.is_dir() else []
    with ops_cursor() as cur:
        found = changed.since_last_revision(cur, "week")
    earlier = found.select(published_before)
    log.info("Sửa đổi / revising %d of %d earlier week(s)%s", len(earlier), len(published_before),
             f" (all: {found.everything})" if found.everything else "")
    outcome: dict[str, str] = {}
    revisions: list[dict] = []
    errors = []
    for key in earlier:
        decision = _decide(key, gate_run_id(context, key))
        if isinstance(decision, policy.Stop):
            errors.append(f"{key}: {decision.message}")
            outcome[key] = "gate failed"
            continue
        result = publish.publish_weekly(key, gate_summary=decision.summary)
        revisions += [{**pub, "week_key": key} for pub in result.published]
        outcome[key] = f"{len(result.published)} new revision(s), {len(result.unchanged)} unchanged, " \
                       f"{len(result.blocked)} blocked"
        log.info("Tuần / week %s: %s", key, outcome[key])
    if errors:
        from airflow.sdk.exceptions import AirflowFailException

        from lensan.delivery import service as delivery

        if revisions:
            try:
                publication.deliver({"published": revisions})
            except delivery.DeliveryError as exc:
                errors.append(str(exc))
        raise AirflowFailException("Không sửa đổi được / could not revise:\n" + "\n".join(errors))
    with ops_cursor() as cur:
        changed.record(cur, found)
    return ops.to_jsonable({"weeks": outcome, "published": revisions,
                            "untouched": len(published_before) - len(earlier), "everything": found.everything})

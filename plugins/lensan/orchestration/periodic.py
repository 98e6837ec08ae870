"""The tasks of the monthly, half-year and year-end publication DAGs (lensan.orchestration.config.PERIODIC_DAGS)."""

from __future__ import annotations

from lensan.orchestration import ops, publication
from lensan.orchestration.config import NOUNS
from lensan.orchestration.context import gate_run_id, param, run_moment


def _nothing_to_publish(period_type: str, key: str) -> str:
    noun_vi, noun_en = NOUNS[period_type]
    return f"Không có dữ liệu để công bố báo cáo {noun_vi} {key} / nothing to publish for the {noun_en} report {key}"


def resolve_period(period_type: str, context) -> str:
    """The period this run reports on, from its logical date (or the `period_key` param)."""
    from lensan.calendar import periods

    override = param(context, "period_key")
    if override:
        periods.period_bounds(period_type, override)  # validates the key
        return override
    return periods.period_for_run(period_type, run_moment(context))


def gate_period(period_type: str, key: str, context) -> dict:
    """The GX marts gate of the period (its own rows and each of its weeks) under the publication
    policy; no mart rows for the period skips the run."""
    noun_vi, noun_en = NOUNS[period_type]
    decision = publication.decide(period_type, key, gate_run_id(context))
    return publication.gate_outcome(
        decision, f"Dừng công bố báo cáo {noun_vi} {key} / publication of the {noun_en} report {key} stopped",
        nothing=_nothing_to_publish(period_type, key))


def publish_period(period_type: str, key: str, gate_summary: dict, context) -> dict:
    """Write the exports of a new revision (if the content changed); the PublishSummary (XCom)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from lensan.publish import service as publish

    try:
        summary = publish.publish_period(period_type, key, gate_summary=gate_summary,
                                         logical_date=context.get("logical_date"))
    except publish.NothingToPublish as exc:
        raise AirflowSkipException(f"{_nothing_to_publish(period_type, key)}: {exc}") from exc
    data = ops.to_jsonable(summary)
    publication.record_publish_run(context, {"period_type": period_type, "period_key": key}, gate_summary, data)
    return data

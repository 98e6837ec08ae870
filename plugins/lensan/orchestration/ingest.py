"""The tasks of lensan_ingest: warehouse up, plan the pending files in groups, land each group (a mapped
task: workers share the batch), sum up, announce new raw data."""

from __future__ import annotations

import logging

from lensan.orchestration import ops

log = logging.getLogger(__name__)


def prepare_warehouse() -> str:
    """Start (or reach) the warehouse and create the raw schema (idempotent); returns host:port/db."""
    from lensan import landing
    from lensan.db import warehouse

    info = warehouse.connection_info()
    landing.ensure_raw_schema()
    return f"{info.host}:{info.port}/{info.dbname}"


def plan_groups() -> list[list[list[str]]]:
    """The pending files as groups of [source, path] for the mapped `land` task (lensan.landing.groups:
    the files of one entity-day, of one register unit, and the weekly forms of one arrival time (or of
    identical bytes) stay in one group, in delivery order). One empty group when nothing is pending, so the run still records its summary."""
    from lensan.landing import groups

    planned = groups.plan_groups()
    log.info("%d file(s) in %d group(s)", sum(len(g) for g in planned), len(planned))
    return [[list(entry) for entry in group] for group in planned] or [[]]


def land_group(group: list[list[str]]) -> dict:
    """Land one group; its LandingSummary as a dict (XCom), names as delivered scrubbed, with `_counts`."""
    from lensan.landing import groups

    summary = groups.land_group([(source, path) for source, path in group])
    data = without_delivered_names(ops.to_jsonable(summary.as_dict()))
    data["_counts"] = _counts(data)
    log.info("Đã nhận %(loaded)d file, cách ly %(quarantined)d, trùng %(duplicates)d, %(rows)d dòng / "
             "landed %(loaded)d files, quarantined %(quarantined)d, duplicates %(duplicates)d, %(rows)d rows. "
             "Summary: %(summary)s", {**data["_counts"], "summary": data})
    return data


def _counts(data: dict) -> dict:
    return {"loaded": len(data.get("landed") or []), "quarantined": len(data.get("quarantined") or []),
            "duplicates": len(data.get("duplicates") or []), "rows": data.get("rows") or 0}


def summarize(summaries: list[dict], context) -> dict:
    """The batch summary of every group (lists joined, rows and seconds added), recorded in ops.run_log."""
    data: dict = {}
    for part in summaries:
        for key, value in part.items():
            if isinstance(value, list):
                data.setdefault(key, []).extend(value)
            elif isinstance(value, (int, float)) and key != "_counts":
                data[key] = data.get(key, 0) + value
    data["_counts"] = counts = _counts(data)
    log.info("Cả đợt / whole batch: %s", counts)
    ops.record_run(context, {**counts, "groups": len(summaries),
                             "quarantined_files": [[q.get("source"), q.get("code")] for q in data.get("quarantined") or []]})
    return data


def without_delivered_names(data: dict) -> dict:
    """A landing summary (as JSON) with every file name as delivered replaced, wherever it appears (names,
    messages, quarantine paths): a name may carry a person's name or phone, and this summary goes to
    Airflow's task log and XCom. The names stay in the archive, the quarantine and `lensan status`."""
    from lensan.landing import names

    delivered = sorted({item[key] for part in ("landed", "duplicates", "redelivered", "quarantined", "failed")
                        for item in data.get(part) or [] for key in ("name", "first_name") if item.get(key)},
                       key=len, reverse=True)

    def clean(value):   # string values only: a short name must not rewrite the keys
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str):
            for name in delivered:
                value = names.scrub(value, name)
        return value

    return clean(data)


def announce_raw(summary: dict) -> int:
    """The number of files loaded; skips the task (the raw Asset is not updated) when there is none."""
    from airflow.sdk.exceptions import AirflowSkipException

    loaded = summary.get("_counts", {}).get("loaded", 0)
    if not loaded:
        raise AirflowSkipException("Không có file mới / no new file loaded: raw unchanged")
    return loaded

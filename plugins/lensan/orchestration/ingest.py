"""The tasks of lensan_ingest: warehouse up, land every pending file, announce new raw data."""

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


def land(context) -> dict:
    """Land every pending file; the LandingSummary as a dict (XCom) with its `_counts`."""
    from lensan import landing

    summary = landing.land_pending()
    counts = {"loaded": len(summary.landed), "quarantined": len(summary.quarantined),
              "duplicates": len(summary.duplicates), "rows": summary.rows}
    data = without_delivered_names(ops.to_jsonable(summary.as_dict()))
    log.info("Đã nhận %(loaded)d file, cách ly %(quarantined)d, trùng %(duplicates)d, %(rows)d dòng / "
             "landed %(loaded)d files, quarantined %(quarantined)d, duplicates %(duplicates)d, %(rows)d rows. "
             "Summary: %(summary)s", {**counts, "summary": data})
    data["_counts"] = counts
    ops.record_run(context, {**counts, "quarantined_files": [[q.source, q.code] for q in summary.quarantined]})
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

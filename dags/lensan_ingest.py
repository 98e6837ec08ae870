"""lensan_ingest: land the files waiting in LENSAN_HOME/landing/ into the raw schema."""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from lensan.airflow_env import DAG_INGEST, RAW_ASSET_NAME, RAW_ASSET_URI, default_args

RAW = Asset(name=RAW_ASSET_NAME, uri=RAW_ASSET_URI)

DOC = """
### lensan_ingest — nhận file / landing

Every 30 minutes: make sure the warehouse and the `raw` schema exist, then land every file waiting
in `LENSAN_HOME/landing/<source>/` (`weekly_form`, `household_register`, `postmart`, `voso`; formats
in `docs/raw_formats.md`). Each file is archived byte for byte, parsed and loaded in one
transaction; a file that cannot be parsed goes to `quarantine/` with a reason (Vietnamese and
English); a file already landed (same SHA-256) is a no-op.

When at least one file was loaded, the task `announce_raw` updates the Asset `lensan_raw`
(`lensan://warehouse/raw`), which triggers **lensan_transform**. When nothing new was loaded it is
skipped, so no empty transform runs are started.
"""


def _as_dict(obj) -> dict:
    """A LandingSummary (dataclass / object / dict) as a plain JSON-able dict for XCom."""
    import dataclasses
    import datetime as dt
    from pathlib import Path

    if dataclasses.is_dataclass(obj):
        obj = dataclasses.asdict(obj)
    elif not isinstance(obj, dict):
        obj = {k: v for k, v in vars(obj).items() if not k.startswith("_")}

    def plain(value):
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set)):
            return [plain(v) for v in value]
        if isinstance(value, (Path, dt.date, dt.datetime)):
            return str(value)
        if dataclasses.is_dataclass(value):
            return plain(dataclasses.asdict(value))
        return value

    return plain(obj)


def _count(summary: dict, *names: str) -> int:
    for name in names:
        value = summary.get(name)
        if isinstance(value, (list, tuple)):
            return len(value)
        if isinstance(value, (int, float)):
            return int(value)
    return 0


@dag(
    dag_id=DAG_INGEST,
    schedule="*/30 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["lensan", "ingest"],
    doc_md=DOC,
)
def lensan_ingest():
    @task
    def prepare_warehouse() -> str:
        """Start (or reach) the warehouse and create the raw schema (idempotent)."""
        from lensan import landing, warehouse

        info = warehouse.connection_info()
        conn = warehouse.connect()
        try:
            landing.ensure_raw_schema(conn)
            conn.commit()
        finally:
            conn.close()
        return f"{info.host}:{info.port}/{info.dbname}"

    @task
    def land(_warehouse: str, **context) -> dict:
        """Land every pending file; return the LandingSummary as a dict (XCom)."""
        import logging

        from lensan import landing, ops

        summary = _as_dict(landing.land_pending())
        loaded = _count(summary, "loaded", "files_loaded", "landed", "files_landed")
        quarantined = _count(summary, "quarantined", "files_quarantined")
        duplicates = _count(summary, "duplicates", "files_duplicate", "skipped_duplicates")
        rows = _count(summary, "rows", "rows_loaded", "row_count")
        logging.getLogger(__name__).info(
            "Đã nhận %d file, cách ly %d, trùng %d, %d dòng / landed %d files, quarantined %d, "
            "duplicates %d, %d rows. Summary: %s",
            loaded, quarantined, duplicates, rows, loaded, quarantined, duplicates, rows, summary)
        summary["_counts"] = {"loaded": loaded, "quarantined": quarantined,
                              "duplicates": duplicates, "rows": rows}
        ops.record_run(context, {**summary["_counts"],
                                 "quarantined_files": [[q.get("name"), q.get("code")]
                                                       for q in summary.get("quarantined") or []]})
        return summary

    @task(outlets=[RAW])
    def announce_raw(summary: dict) -> int:
        """Update the raw Asset only when new data was loaded (skip otherwise)."""
        from airflow.sdk.exceptions import AirflowSkipException

        loaded = summary.get("_counts", {}).get("loaded", 0)
        if not loaded:
            raise AirflowSkipException("Không có file mới / no new file loaded: raw unchanged")
        return loaded

    announce_raw(land(prepare_warehouse()))


lensan_ingest()

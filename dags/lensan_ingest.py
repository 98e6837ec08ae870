"""lensan_ingest: land the files waiting in LENSAN_HOME/landing/ into the raw schema."""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from lensan.orchestration.airflow_env import DAG_INGEST, RAW_ASSET_NAME, RAW_ASSET_URI, default_args

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
        from lensan import landing
        from lensan.db import warehouse

        info = warehouse.connection_info()
        landing.ensure_raw_schema()
        return f"{info.host}:{info.port}/{info.dbname}"

    @task
    def land(_warehouse: str, **context) -> dict:
        """Land every pending file; return the LandingSummary as a dict (XCom)."""
        import logging

        from lensan import landing

        from lensan.orchestration import ops

        summary = landing.land_pending()
        counts = {"loaded": len(summary.landed), "quarantined": len(summary.quarantined),
                  "duplicates": len(summary.duplicates), "rows": summary.rows}
        data = ops.to_jsonable(summary.as_dict())
        logging.getLogger(__name__).info(
            "Đã nhận %(loaded)d file, cách ly %(quarantined)d, trùng %(duplicates)d, %(rows)d dòng / "
            "landed %(loaded)d files, quarantined %(quarantined)d, duplicates %(duplicates)d, %(rows)d rows. "
            "Summary: %(summary)s", {**counts, "summary": data})
        data["_counts"] = counts
        ops.record_run(context, {**counts,
                                 "quarantined_files": [[q.name, q.code] for q in summary.quarantined]})
        return data

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

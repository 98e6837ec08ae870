"""lensan_ingest: land the files waiting in LENSAN_HOME/landing/ into the raw schema."""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from lensan.orchestration import config

RAW = Asset(name=config.RAW_ASSET_NAME, uri=config.RAW_ASSET_URI)

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

Task bodies: `lensan.orchestration.ingest`.
"""


@dag(
    dag_id=config.DAG_INGEST,
    schedule="*/30 * * * *",
    start_date=config.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=config.default_args(),
    tags=["lensan", "ingest"],
    doc_md=DOC,
)
def lensan_ingest():
    @task
    def prepare_warehouse() -> str:
        """Start (or reach) the warehouse and create the raw schema (idempotent)."""
        from lensan.orchestration import ingest

        return ingest.prepare_warehouse()

    @task
    def land(_warehouse: str, **context) -> dict:
        """Land every pending file; return the LandingSummary as a dict (XCom)."""
        from lensan.orchestration import ingest

        return ingest.land(context)

    @task(outlets=[RAW])
    def announce_raw(summary: dict) -> int:
        """Update the raw Asset only when new data was loaded (skip otherwise)."""
        from lensan.orchestration import ingest

        return ingest.announce_raw(summary)

    announce_raw(land(prepare_warehouse()))


lensan_ingest()

"""lensan_ingest: land the files waiting in LENSAN_HOME/landing/ into the raw schema."""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from lensan.orchestration import config

RAW = Asset(name=config.RAW_ASSET_NAME, uri=config.RAW_ASSET_URI)

DOC = """
### lensan_ingest — nhận file / landing

Every 30 minutes: make sure the warehouse and the `raw` schema exist, then land every file waiting
in `LENSAN_HOME/landing/<source>/` (`weekly_form`, `household_register`, `postmart`, `voso`; formats
in `docs/raw_formats.md`). `plan_groups` splits the pending files into groups (`lensan.landing.groups`:
one entity-day of an extract, one unit's registers, the forms of one arrival time stay together, in
delivery order) and `land` is mapped over them, so the workers of a CeleryExecutor share the batch;
`summarize` adds the groups up. Each file is archived byte for byte, parsed and loaded in one transaction; a file that
cannot be parsed goes to `quarantine/` with a reason (Vietnamese and English); a file already landed
(same SHA-256) is a no-op. A group whose file failed for infrastructure reasons fails (→ retry).

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
    def plan_groups(_warehouse: str) -> list:
        """The pending files in groups that land independently (one group when nothing is pending)."""
        from lensan.orchestration import ingest

        return ingest.plan_groups()

    @task(max_active_tis_per_dagrun=8)
    def land(group: list) -> dict:
        """Land one group of files in order; return its LandingSummary as a dict (XCom)."""
        from lensan.orchestration import ingest

        return ingest.land_group(group)

    @task
    def summarize(summaries: list, **context) -> dict:
        """The whole batch's summary (ops.run_log), from every group's."""
        from lensan.orchestration import ingest

        return ingest.summarize(list(summaries), context)

    @task(outlets=[RAW])
    def announce_raw(summary: dict) -> int:
        """Update the raw Asset only when new data was loaded (skip otherwise)."""
        from lensan.orchestration import ingest

        return ingest.announce_raw(summary)

    announce_raw(summarize(land.expand(group=plan_groups(prepare_warehouse()))))


lensan_ingest()

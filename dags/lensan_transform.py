"""lensan_transform: dbt (rendered by Cosmos, one task per model) then the GX quality gates."""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from lensan.orchestration import config
from lensan.transform import manifest as dbt_manifest

RAW = Asset(name=config.RAW_ASSET_NAME, uri=config.RAW_ASSET_URI)
MARTS = Asset(name=config.MARTS_ASSET_NAME, uri=config.MARTS_ASSET_URI)

MANIFEST = dbt_manifest.dbt_manifest_path()
PROFILES_YML = dbt_manifest.dbt_profiles_yml()
RENDERED = MANIFEST.exists() and PROFILES_YML.exists()
SIGNATURE = dbt_manifest.graph_signature(MANIFEST) if RENDERED else None

DOC = f"""
### lensan_transform — dbt + cổng chất lượng / quality gates

Triggered by the Asset `lensan_raw` (new raw data landed). Steps:

1. `prepare` — warehouse up, `LENSAN_HOME/dbt/profiles.yml` written for the current warehouse
   (`lensan.transform.dbt.profiles_dir()`), dbt manifest refreshed (`lensan dbt-manifest`).
2. `dbt` — a Cosmos `DbtTaskGroup` rendered from the dbt manifest: every seed and **one task per
   model** (`<model>.run`), each followed by its dbt data tests (`<model>.test`). The unit tests
   (fixed inputs) run in development and CI, not in scheduled builds, as dbt advises
   (`lensan.transform.dbt.PRODUCTION_BUILD`).
3. `gate_staging`, `gate_marts` — Great Expectations checkpoints; an error-severity failure fails
   the task (the log says which expectation and why) — on the marts, unless it concerns only some
   provinces/regions (`lensan.quality.policy`). The marts gate updates the Asset
   `lensan_marts`, which triggers a revision in **lensan_publish_weekly**.

**Parse-time requirement.** The task group is rendered from `{MANIFEST}` with the profile
`{PROFILES_YML}`. Both are written by `lensan dbt-manifest` (run by `make demo`, `lensan demo`,
the deployment's `airflow-init` and the test setup); the manifest is an atomically replaced copy of
dbt's `target/manifest.json` (`lensan.transform.manifest`), so a concurrent dbt command never leaves a half-written file
for the parser. {'They were present when this DAG was parsed.' if RENDERED else
'**They were missing when this DAG was parsed**: the DAG falls back to a single `dbt_build` task '
'that builds the whole project (and writes the manifest, so the next parse renders one task per '
'model). Run `lensan dbt-manifest` (or `make demo`) to render the full graph.'}

Task bodies: `lensan.orchestration.transform`.
"""


@dag(
    dag_id=config.DAG_TRANSFORM,
    schedule=[RAW],
    start_date=config.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=config.default_args(),
    tags=["lensan", "transform", "dbt", "gx"],
    doc_md=DOC,
)
def lensan_transform():
    @task
    def prepare(rendered_signature: str | None) -> str:
        """Warehouse up, dbt profile, manifest fresh; fails when the dbt graph changed since parsing."""
        from lensan.orchestration import transform

        return transform.prepare(rendered_signature)

    @task
    def gate_staging(**context) -> dict:
        """GX checkpoint on the staging models; raises (task fails) on error-severity failures."""
        from lensan.orchestration import transform

        return transform.gate_staging(context)

    @task(outlets=[MARTS])
    def gate_marts(**context) -> dict:
        """GX checkpoint on the marts; updates the Asset lensan_marts unless the policy says stop."""
        from lensan.orchestration import transform

        return transform.gate_marts(context)

    if RENDERED:
        from lensan.orchestration import transform

        dbt = transform.dbt_task_group(MANIFEST, PROFILES_YML, config.default_args())
    else:
        @task
        def dbt_build() -> None:
            """Fallback when the manifest was missing at parse time: build the whole project."""
            from lensan.orchestration import transform

            transform.dbt_build()

        dbt = dbt_build()

    prepare(SIGNATURE) >> dbt >> gate_staging() >> gate_marts()


lensan_transform()

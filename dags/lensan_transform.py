"""lensan_transform: dbt (rendered by Cosmos, one task per model) then the GX quality gates."""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from lensan import settings
from lensan.orchestration.airflow_env import (DAG_TRANSFORM, DBT_PROFILE_NAME, DBT_TARGET_NAME, MARTS_ASSET_NAME,
                                MARTS_ASSET_URI, RAW_ASSET_NAME, RAW_ASSET_URI, dbt_manifest_path,
                                dbt_profiles_yml, default_args, graph_signature)

RAW = Asset(name=RAW_ASSET_NAME, uri=RAW_ASSET_URI)
MARTS = Asset(name=MARTS_ASSET_NAME, uri=MARTS_ASSET_URI)

MANIFEST = dbt_manifest_path()
PROFILES_YML = dbt_profiles_yml()
RENDERED = MANIFEST.exists() and PROFILES_YML.exists()
SIGNATURE = graph_signature(MANIFEST) if RENDERED else None

DOC = f"""
### lensan_transform — dbt + cổng chất lượng / quality gates

Triggered by the Asset `lensan_raw` (new raw data landed). Steps:

1. `prepare` — warehouse up, `LENSAN_HOME/dbt/profiles.yml` written for the current warehouse
   (`lensan.transform.dbt.profiles_dir()`), dbt manifest refreshed (`lensan dbt-manifest`).
2. `dbt` — a Cosmos `DbtTaskGroup` rendered from the dbt manifest: every seed and **one task per
   model** (`<model>.run`), each followed by its dbt tests (`<model>.test`).
3. `gate_staging`, `gate_marts` — Great Expectations checkpoints; an error-severity failure fails
   the task (the log says which expectation and why). The marts gate updates the Asset
   `lensan_marts`, which triggers a revision in **lensan_publish_weekly**.

**Parse-time requirement.** The task group is rendered from `{MANIFEST}` with the profile
`{PROFILES_YML}`. Both are written by `lensan dbt-manifest` (run by `make demo`, `lensan demo`,
the deployment's `airflow-init` and the test setup); the manifest is an atomically replaced copy of
dbt's `target/manifest.json` (`lensan.transform.dbt.manifest_path()`), so a concurrent dbt command never leaves a half-written file
for the parser. {'They were present when this DAG was parsed.' if RENDERED else
'**They were missing when this DAG was parsed**: the DAG falls back to a single `dbt_build` task '
'that builds the whole project (and writes the manifest, so the next parse renders one task per '
'model). Run `lensan dbt-manifest` (or `make demo`) to render the full graph.'}
"""


@dag(
    dag_id=DAG_TRANSFORM,
    schedule=[RAW],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["lensan", "transform", "dbt", "gx"],
    doc_md=DOC,
)
def lensan_transform():
    @task
    def prepare(rendered_signature: str | None) -> str:
        """Warehouse up, dbt profile for it, manifest fresh for the next parse (idempotent).

        Fails at once when the dbt graph changed since this DAG was parsed (a model added or
        rewired): the tasks rendered from the old manifest would break half-way. The refreshed
        manifest is in place, so the next parse (and run) renders the new graph.
        """
        from airflow.sdk.exceptions import AirflowFailException

        from lensan.orchestration import airflow_env

        from lensan.db import roles

        from lensan.db import warehouse

        conn = warehouse.connect()
        try:
            roles.ensure_roles(conn)  # before dbt, so the marts it rebuilds inherit bi_reader's grant
        finally:
            conn.close()
        manifest = airflow_env.install_manifest()
        current = airflow_env.graph_signature(manifest)
        if rendered_signature and current != rendered_signature:
            raise AirflowFailException(
                "Dự án dbt đã thay đổi kể từ khi DAG được đọc; chạy lại sau lần đọc DAG tiếp theo / "
                f"the dbt graph changed since this DAG was parsed ({rendered_signature} → {current}); "
                "re-run after the next DAG parse")
        return str(manifest)

    @task
    def gate_staging(**context) -> dict:
        """GX checkpoint on the staging models; raises (task fails) on error-severity failures."""
        from lensan.quality import gate

        return gate.run_checkpoint("staging", None, run_id=f"{DAG_TRANSFORM}__{context['run_id']}")

    @task(outlets=[MARTS])
    def gate_marts(**context) -> dict:
        """GX checkpoint on the marts; updates the Asset lensan_marts unless the failure blocks
        everything. Failures pinned on some provinces let the run through: the publish DAG then
        withholds exactly those provinces' reports."""
        import logging

        from lensan.quality import gate

        from lensan.orchestration import ops

        try:
            summary = gate.run_checkpoint("marts", None, run_id=f"{DAG_TRANSFORM}__{context['run_id']}")
        except gate.GateFailed as exc:
            if exc.summary.get("blocks_all"):
                raise
            summary = exc.summary
            logging.getLogger(__name__).warning("Phạm vi bị chặn / blocked scopes %s:\n%s",
                                                sorted(exc.blocked_scopes), exc)
        ops.record_run(context, {"gate": summary.get("status"), "period": summary.get("period_key"),
                                 "counts": summary.get("counts"),
                                 "blocked_scopes": summary.get("blocked_scopes")})
        try:
            gate.build_data_docs()
        except Exception as exc:  # noqa: BLE001 - docs are a convenience, never block the gate
            import logging

            logging.getLogger(__name__).warning("Data Docs not rebuilt: %s", exc)
        return summary

    if RENDERED:
        from cosmos import (DbtTaskGroup, ExecutionConfig, InvocationMode, LoadMode, ProfileConfig,
                            ProjectConfig, RenderConfig, TestBehavior, TestIndirectSelection)

        dbt = DbtTaskGroup(
            group_id="dbt",
            project_config=ProjectConfig(
                dbt_project_path=settings.DBT_PROJECT_DIR,
                manifest_path=MANIFEST,
                install_dbt_deps=False,
            ),
            profile_config=ProfileConfig(
                profile_name=DBT_PROFILE_NAME,
                target_name=DBT_TARGET_NAME,
                profiles_yml_filepath=PROFILES_YML,
            ),
            render_config=RenderConfig(
                load_method=LoadMode.DBT_MANIFEST,
                test_behavior=TestBehavior.AFTER_EACH,
                emit_datasets=False,
                # a test with several parents (e.g. a singular test joining staging and intermediate)
                # becomes its own task after all of them, instead of running with the first parent
                should_detach_multiple_parents_tests=True,
            ),
            # dbtRunner in the worker's own interpreter (this venv); Cosmos rejects a
            # dbt_executable_path together with InvocationMode.DBT_RUNNER.
            # CAUTIOUS: `dbt test --select <model>` runs only the tests whose parents are all selected.
            execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER,
                                             test_indirect_selection=TestIndirectSelection.CAUTIOUS),
            default_args=default_args(),
        )
    else:
        @task
        def dbt_build() -> None:
            """Fallback when the manifest was missing at parse time: build the whole project."""
            from lensan.transform import dbt as lensan_dbt

            lensan_dbt.run_dbt(["build"])

        dbt = dbt_build()

    prepare(SIGNATURE) >> dbt >> gate_staging() >> gate_marts()


lensan_transform()

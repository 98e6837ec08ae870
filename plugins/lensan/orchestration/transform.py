"""The tasks of lensan_transform: prepare, the dbt task group Cosmos renders, the staging and marts gates."""

from __future__ import annotations

import logging
from pathlib import Path

from lensan.orchestration import ops
from lensan.orchestration.context import gate_run_id

log = logging.getLogger(__name__)


def prepare(rendered_signature: str | None) -> str:
    """Warehouse up, dbt profile for it, manifest fresh for the next parse (idempotent).

    Fails at once when the dbt graph changed since the DAG was parsed (a model added or rewired): the
    tasks rendered from the old manifest would break half-way. The refreshed manifest is in place, so
    the next parse (and run) renders the new graph.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from lensan.db import roles, warehouse
    from lensan.transform import manifest as dbt_manifest

    conn = warehouse.connect()
    try:
        roles.ensure_roles(conn)  # before dbt, so the marts it rebuilds inherit bi_reader's grant
    finally:
        conn.close()
    path = dbt_manifest.install_manifest()
    current = dbt_manifest.graph_signature(path)
    if rendered_signature and current != rendered_signature:
        raise AirflowFailException(
            "Dự án dbt đã thay đổi kể từ khi DAG được đọc; chạy lại sau lần đọc DAG tiếp theo / "
            f"the dbt graph changed since this DAG was parsed ({rendered_signature} → {current}); "
            "re-run after the next DAG parse")
    return str(path)


def dbt_task_group(manifest: Path, profiles_yml: Path, default_args: dict):
    """The Cosmos DbtTaskGroup `dbt`: every seed and one task per model, each followed by its tests."""
    from cosmos import (DbtTaskGroup, ExecutionConfig, InvocationMode, LoadMode, ProfileConfig, ProjectConfig,
                        RenderConfig, TestBehavior, TestIndirectSelection)

    from lensan import settings
    from lensan.transform import dbt as lensan_dbt

    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(dbt_project_path=settings.DBT_PROJECT_DIR, manifest_path=manifest,
                                     install_dbt_deps=False),
        profile_config=ProfileConfig(profile_name=lensan_dbt.PROFILE_NAME, target_name=lensan_dbt.TARGET_NAME,
                                     profiles_yml_filepath=profiles_yml),
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
        operator_args={"env": lensan_dbt.PRODUCTION_ENV},   # no unit tests in scheduled builds
        default_args=default_args,
    )


def dbt_build() -> None:
    """Fallback when the manifest was missing at parse time: build the whole project (unit tests aside)."""
    from lensan.transform import dbt as lensan_dbt

    lensan_dbt.run_dbt(lensan_dbt.PRODUCTION_BUILD)


def gate_staging(context) -> dict:
    """GX checkpoint on the staging models. Not a publication gate: any error-severity failure
    raises GateFailed (the task fails, the log names the expectation)."""
    from lensan.quality import checkpoints

    return checkpoints.run_checkpoint("staging", None, run_id=gate_run_id(context))


def gate_marts(context) -> dict:
    """GX checkpoint on the marts, under the publication policy: failures pinned on some provinces let
    the run through (the Asset lensan_marts is updated and the publish DAG withholds exactly those
    provinces' reports); a Stop raises GateFailed. Rebuilds the Data Docs."""
    from lensan.quality import checkpoints, policy
    from lensan.quality.summary import GateFailed

    decision = policy.evaluate(lambda: checkpoints.run_checkpoint("marts", None, run_id=gate_run_id(context)))
    if isinstance(decision, policy.Stop):
        raise GateFailed(decision.summary)
    summary = decision.summary
    if isinstance(decision, policy.Blocked):
        log.warning("Phạm vi bị chặn / blocked scopes %s:\n%s", sorted(decision.scopes), decision.message)
    ops.record_run(context, {"gate": summary.get("status"), "period": summary.get("period_key"),
                             "counts": summary.get("counts"), "blocked_scopes": summary.get("blocked_scopes")})
    try:
        checkpoints.build_data_docs()
    except Exception as exc:  # noqa: BLE001 - docs are a convenience, never block the gate
        log.warning("Data Docs not rebuilt: %s", exc)
    return summary

"""What the weekly and periodic publication DAGs and `lensan publish` share: the marts gate of a period
under the policy, the gate task's outcome, the run-log summary of a publication, delivery and the
as-of-deadline snapshot."""

from __future__ import annotations

import logging

from lensan.orchestration import ops

log = logging.getLogger(__name__)


def decide(period_type: str, key: str, run_id: str | None = None):
    """The marts gate of one period under lensan.quality.policy: a week runs the `marts` checkpoint on the
    week, a month / half-year / year `run_period_checkpoint` (its own rows and each of its weeks)."""
    from lensan.quality import checkpoints, policy

    if period_type == "week":
        return policy.evaluate(lambda: checkpoints.run_checkpoint("marts", {"week_key": key}, run_id=run_id))
    return policy.evaluate(lambda: checkpoints.run_period_checkpoint(period_type, key, run_id=run_id))


def gate_outcome(decision, stopped: str, nothing: str | None = None) -> dict:
    """The gate task's result under lensan.quality.policy: the summary the publish task gets (Proceed,
    Blocked — the blocked scopes are then withheld), or the task fails with `stopped` (skipped with
    `nothing` when the period has no data at all) followed by the failed rules."""
    from lensan.quality import policy

    if isinstance(decision, policy.Stop):
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        if nothing and decision.no_data:
            raise AirflowSkipException(f"{nothing}:\n{decision.message}")
        raise AirflowFailException(f"{stopped}:\n{decision.message}")
    if isinstance(decision, policy.Blocked):
        log.warning("Chặn công bố các phạm vi / blocking scopes %s:\n%s", sorted(decision.scopes), decision.message)
    return decision.summary


def record_publish_run(context, keys: dict, gate_summary: dict | None, data: dict) -> None:
    """ops.run_log row of a publish task: the period `keys`, the gate status, what was written."""
    ops.record_run(context, {
        **keys, "gate": (gate_summary or {}).get("status"),
        "published": [f"{p.get('scope_key')} rev-{p.get('revision')}" for p in data.get("published") or []],
        "unchanged": len(data.get("unchanged") or []), "blocked": data.get("blocked") or {},
    })


def deliver(summary: dict) -> list[dict]:
    """Deliver every NEW revision of a publish summary; raises (→ retry) if any delivery failed, after
    trying all (already delivered revisions are skipped by the ledger)."""
    from lensan.delivery import service as delivery

    return delivery.deliver_published(summary)


def refresh_asof_snapshot() -> None:
    """The as-of-deadline mart reflects what was just published (reruns leave it unchanged)."""
    from lensan import settings
    from lensan.db.locks import file_lock
    from lensan.transform import dbt as lensan_dbt

    # one at a time per LENSAN_HOME: the weekly and periodic DAGs may refresh it at the same moment
    with file_lock(settings.home_dir("dbt") / ".publication_snapshot.lock"):
        lensan_dbt.refresh_publication_snapshot()

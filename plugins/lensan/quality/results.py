"""ops.gate_results: every gate summary, keyed by (run_id, checkpoint); a re-run upserts its row.

`lensan status` and the tests read it; the publication manifests carry a compact copy of the summary
(lensan.quality.summary.compact) instead.
"""

from __future__ import annotations

import json

from lensan.db import ddl
from lensan.quality.summary import jsonable


def record_gate_result(summary: dict) -> None:
    with ddl.ops_cursor() as cur:
        cur.execute(
            """
            insert into ops.gate_results (run_id, checkpoint, period_key, success, status,
                                          failed_error, failed_warning, summary, recorded_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, now())
            on conflict (run_id, checkpoint) do update set
                period_key = excluded.period_key, success = excluded.success,
                status = excluded.status, failed_error = excluded.failed_error,
                failed_warning = excluded.failed_warning, summary = excluded.summary,
                recorded_at = excluded.recorded_at
            """,
            (summary["run_id"], summary["checkpoint"], summary.get("period_key"), summary["success"],
             summary["status"], summary["counts"]["failed_error"], summary["counts"]["failed_warning"],
             json.dumps(jsonable(summary), ensure_ascii=False)),
        )


def latest_gate_result(checkpoint: str, period_key: str | None = None) -> dict | None:
    """The most recently recorded summary of a checkpoint (for a period), or None."""
    with ddl.ops_cursor() as cur:
        cur.execute(
            "select summary from ops.gate_results where checkpoint = %s"
            " and (%s::text is null or period_key = %s) order by recorded_at desc limit 1",
            (checkpoint, period_key, period_key),
        )
        row = cur.fetchone()
    return row[0] if row else None

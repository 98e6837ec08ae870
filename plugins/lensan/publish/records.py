"""The publication log in the warehouse: `ops.publications` (one row per written revision) and
`ops.published_values` (every row a revision published, with published_at = generated_at). The dbt
mart marts.fct_indicator_values_asof_deadline reads ops.published_values to reproduce what stood at
each deadline. Both tables are created if missing (lensan.db.ddl, schema/ops.sql)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lensan.db import ddl, warehouse
from lensan.publish.template import MAP_VERSION


def record_revision(*, period_type: str, period_key: str, level: str, code: str, revision: int, path: Path,
                    content_hash: str, manifest_sha256: str, published_at: dt.datetime, gate_status: str | None,
                    changed_rows: int, rows: list[dict] | None, value_field: str) -> None:
    """ops.publications + ops.published_values (every published row) in ONE transaction."""
    conn = warehouse.connect()
    try:
        ddl.ensure(conn, "ops")
        with conn.cursor() as cur:
            cur.execute("""delete from ops.published_values where period_type = %s and period_key = %s
                           and scope_level = %s and scope_code = %s and revision = %s""",
                        (period_type, period_key, level, code, revision))
            for row in rows or []:
                if not row.get("indicator_code"):
                    continue
                cur.execute(
                    """insert into ops.published_values (period_type, period_key, scope_level, scope_code,
                           indicator_code, revision, published_at, map_version, platform, value_in_period,
                           growth_pct, cumulative_value, target_value, target_attainment_pct, is_sample_target)
                       values (%s, %s, %s, %s, %s, %s, %s, %s, 'all', %s, %s, %s, %s, %s, %s)""",
                    (period_type, period_key, level, code, row["indicator_code"], revision, published_at,
                     MAP_VERSION, row.get(value_field), row.get("growth_pct"), row.get("cumulative_value"),
                     row.get("target_value"), row.get("target_attainment_pct"), row.get("is_sample_target")))
            cur.execute(
                """insert into ops.publications (period_type, period_key, scope_level, scope_code, revision,
                       path, content_hash, manifest_sha256, gate_status, changed_rows, created_at)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   on conflict (period_type, period_key, scope_level, scope_code, revision) do update set
                       path = excluded.path, content_hash = excluded.content_hash,
                       manifest_sha256 = excluded.manifest_sha256, gate_status = excluded.gate_status,
                       changed_rows = excluded.changed_rows, created_at = excluded.created_at""",
                (period_type, period_key, level, code, revision, str(path), content_hash, manifest_sha256,
                 gate_status, changed_rows, published_at),
            )
        conn.commit()
    finally:
        conn.close()

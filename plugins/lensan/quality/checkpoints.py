"""Data-quality gates: run the committed GX Core 1.x checkpoints, record what they found, build Data Docs.

The GX project lives in `expectations/` (settings.GX_PROJECT_DIR): `great_expectations.yml`, the suites
(`suites/`), validation definitions and checkpoints — all committed JSON. Its datasource
`lensan_warehouse` takes its connection string from the config variable `${LENSAN_GX_WAREHOUSE_URL}`,
which this module sets from `lensan.db.warehouse.warehouse_url()` before it opens the context; the
validation results store and the Data Docs site are placed under LENSAN_HOME through
`${LENSAN_GX_RUNTIME_DIR}` and `${LENSAN_GX_DATA_DOCS_DIR}`. (The variable is deliberately not
`LENSAN_WAREHOUSE_URL` itself: setting that one would switch `lensan.db.warehouse` into "external" mode.)

Every data asset is a query asset over a staging / mart relation exposing a `period_key` column
(ISO week key for weekly data) and is partitioned on it (batch definition `by_period`), so
`run_checkpoint("marts_checkpoint", {"week_key": "2026-W47"})` validates only that week, and reads only
that week's rows (`gated_url`: the queries filter on the connection's `lensan.gate_period`). Each asset
also exposes `scope_key` / `row_key`, used as `unexpected_index_column_names` so a failure names the
scopes (e.g. `province-22`) and rows it affects (lensan.quality.scopes).

    summary = run_checkpoint("marts_checkpoint", {"week_key": "2026-W47"})   # shape: lensan.quality.summary

Error-severity failures raise `GateFailed` (the summary is recorded in ops.gate_results first); what a
publication does then is lensan.quality.policy's decision.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path

from lensan import settings
from lensan.db import warehouse
from lensan.quality import results
from lensan.quality.summary import (PERIOD_GATE, PERIOD_PARAMETER, GateFailed, execution_error_summary,
                                    judge_period_inputs, merge_summaries, summarise)

log = logging.getLogger(__name__)

URL_VARIABLE = "LENSAN_GX_WAREHOUSE_URL"
RUNTIME_DIR_VARIABLE = "LENSAN_GX_RUNTIME_DIR"
DATA_DOCS_DIR_VARIABLE = "LENSAN_GX_DATA_DOCS_DIR"
CHECKPOINTS = ("staging_checkpoint", "marts_checkpoint", "marts_period_checkpoint")
ALIASES = {"staging": "staging_checkpoint", "marts": "marts_checkpoint", "marts_period": "marts_period_checkpoint"}
PERIOD_INPUT_GATES = ("marts_checkpoint", "marts_period_checkpoint")   # judged by judge_period_inputs


# --------------------------------------------------------------------------------------------
# context


def prepare_environment() -> None:
    """Set the config variables the committed great_expectations.yml refers to."""
    os.environ[URL_VARIABLE] = warehouse.warehouse_url()
    os.environ[RUNTIME_DIR_VARIABLE] = str(settings.home_dir("gx"))
    os.environ[DATA_DOCS_DIR_VARIABLE] = str(settings.home_dir("data_docs"))
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def gated_url(period_key: str | None) -> str:
    """The warehouse URL for a gate of `period_key`: its connections carry the setting
    `lensan.gate_period`, by which every committed asset query reads only that period's rows
    (expectations/build_project.py). GX lists an asset's batches with a DISTINCT over the whole query, so
    without it a gate's cost would grow with the history. A new URL makes GX open a new engine."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    url = warehouse.warehouse_url()
    if not period_key:
        return url
    if not re.fullmatch(r"[0-9A-Za-z-]+", period_key):
        raise ValueError(f"not a period key: {period_key!r}")
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = (query.get("options", "") + f" -c lensan.gate_period={period_key}").strip()
    return urlunsplit(parts._replace(query=urlencode(query)))


def get_context():
    """The file data context of the committed GX project (great_expectations.yml at its root)."""
    prepare_environment()
    import great_expectations as gx

    # context_root_dir, not project_root_dir: the latter appends a "gx/" sub-directory.
    return gx.get_context(mode="file", context_root_dir=str(settings.GX_PROJECT_DIR))


def _normalise_parameters(batch_parameters: dict | None) -> dict | None:
    """`week_key` / `month_key` / `period` are accepted as aliases of the assets' `period_key`."""
    if not batch_parameters:
        return None
    params = dict(batch_parameters)
    for alias in ("week_key", "month_key", "period", "period_key"):
        if alias in params:
            value = params.pop(alias)
            params[PERIOD_PARAMETER] = value
    return params


def _airflow_run_id() -> str | None:
    """Inside an Airflow task: '<dag_id>/<dag run id>' so a retried task upserts its own row."""
    dag_id, run = os.environ.get("AIRFLOW_CTX_DAG_ID"), os.environ.get("AIRFLOW_CTX_DAG_RUN_ID")
    return f"{dag_id}/{run}" if dag_id and run else None


# --------------------------------------------------------------------------------------------
# running


def run_checkpoint(name: str, batch_parameters: dict | None = None, run_id: str | None = None,
                   context=None) -> dict:
    """Run checkpoint `name`, record its summary in ops.gate_results and return it.

    `batch_parameters` selects the period: {"week_key": "2026-W47"} (or {"period_key": ...}).
    Without it every asset's most recent period is validated. `run_id` keys the ops.gate_results
    row together with the checkpoint name (re-running upserts it); inside an Airflow task it defaults
    to '<dag_id>/<dag run id>', elsewhere to '<checkpoint>__<period>__<UTC timestamp>'.
    Raises GateFailed when an error-severity expectation fails (the summary is recorded first).
    `context` reuses an open GX context (run_period_checkpoint runs several checkpoints).
    """
    from great_expectations.core.run_identifier import RunIdentifier

    name = ALIASES.get(name, name)
    params = _normalise_parameters(batch_parameters)
    period_key = (params or {}).get(PERIOD_PARAMETER)
    started = dt.datetime.now(dt.timezone.utc)
    run_name = run_id or _airflow_run_id() or \
        f"{name}__{period_key or 'latest'}__{started.strftime('%Y%m%dT%H%M%S%fZ')}"

    context = context or get_context()
    os.environ[URL_VARIABLE] = gated_url(period_key)
    checkpoint = context.checkpoints.get(name)
    try:
        # GX uses the run name in store keys (file paths): no '/' or '\\' allowed there.
        gx_run = RunIdentifier(run_name=re.sub(r"[/\\]", "_", run_name), run_time=started)
        result = checkpoint.run(batch_parameters=params, run_id=gx_run)
    except Exception as exc:  # a missing relation, no batch for the period, bad SQL ...
        log.warning("checkpoint %s could not run: %s", name, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        summary = execution_error_summary(name, run_name, params, period_key, started, exc)
    else:
        summary = summarise(result, name, run_name, params, period_key, started)
    if name in PERIOD_INPUT_GATES and period_key:
        judge_period_inputs(summary, period_inputs(period_key))
    results.record_gate_result(summary)
    if summary["failed"]:
        raise GateFailed(summary)
    return summary


PERIOD_INPUTS_SQL = """
with p as (select period_start, period_end from marts.dim_period where period_key = %(key)s),
extracts as (
    select f.file_id, f.file_date from raw.landed_files as f
    where f.source in ('postmart', 'voso') and f.status = 'loaded' and f.withdrawn_at is null
)
select
    (select count(*) from marts.fct_indicator_values where period_key = %(key)s),
    (select count(*) from marts.fct_indicator_values
      where period_key = %(key)s and scope_level = 'nation' and platform = 'all'
        and indicator_kind in ('flow', 'distinct_in_period') and coalesce(value_in_period, 0) <> 0),
    (select count(*) from extracts as e, p where e.file_date between p.period_start and p.period_end)
    + (select count(*) from raw.deliveries as d join extracts as e using (file_id), p
        where d.file_date between p.period_start and p.period_end)
"""


def period_inputs(period_key: str) -> dict | None:
    """What the marts and the landing log hold for a period (lensan.quality.summary.judge_period_inputs):
    rows of marts.fct_indicator_values, platform events (nation, all platforms: non-zero flows and active
    accounts) and platform extracts landed or delivered for its days. None when the relations are missing."""
    conn = warehouse.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('marts.fct_indicator_values') is not null"
                        " and to_regclass('marts.dim_period') is not null and to_regclass('raw.deliveries') is not null")
            if not cur.fetchone()[0]:
                conn.commit()
                return None
            cur.execute(PERIOD_INPUTS_SQL, {"key": period_key})
            rows, events, extracts = cur.fetchone()
        conn.commit()
    except Exception as exc:  # relations of another shape (a partial warehouse): not judged, said so in the log
        log.warning("period inputs of %s not read: %s", period_key, exc)
        conn.rollback()
        return None
    finally:
        conn.close()
    return {"rows": int(rows), "events": int(events), "extracts": int(extracts)}


def period_weeks(period_type: str, period_key: str) -> list[str]:
    """The ISO weeks with rows in marts.rpt_weekly_report that overlap a month / half-year / year."""
    from lensan.calendar import periods

    start, end = periods.period_bounds(period_type, period_key)
    conn = warehouse.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('marts.rpt_weekly_report') is not null")
            exists = cur.fetchone()[0]
            keys = []
            if exists:
                cur.execute("select distinct week_key from marts.rpt_weekly_report")
                keys = [k for (k,) in cur.fetchall() if k]
        conn.commit()
    finally:
        conn.close()
    out = []
    for key in keys:
        monday, sunday = periods.week_bounds(key)
        if monday <= end and sunday >= start:
            out.append(key)
    return sorted(out)


def run_period_checkpoint(period_type: str, period_key: str, run_id: str | None = None) -> dict:
    """The marts gate of a periodic report (month / half-year / year): one merged summary of

    * `marts_period_checkpoint` for the period's own rows (marts.fct_indicator_values, period_key =
      the month / half-year / year key: the values the report publishes), and
    * `marts_checkpoint` for every ISO week overlapping the period that has rows in
      marts.rpt_weekly_report (the weekly quality rules, completeness, plausibility, reconciliation
      the period's numbers are built from),

    each recorded in ops.gate_results as usual (run ids `<run_id>` and `<run_id>__<week>`). The merged
    summary has the shape of a run_checkpoint summary (checkpoint `marts_period_gate`, status, counts,
    failed / warnings tagged with their `part` (the period or week key), blocked_scopes,
    flagged_scopes, blocks_all) plus `parts` (checkpoint, period, status of each run) and `weeks`;
    a scope failing in any part is blocked for the period. Raises GateFailed like run_checkpoint.
    `period_type` 'week' is run_checkpoint("marts_checkpoint", {"week_key": key}).
    """
    if period_type == "week":
        return run_checkpoint("marts_checkpoint", {"week_key": period_key}, run_id=run_id)
    started = dt.datetime.now(dt.timezone.utc)
    base = run_id or _airflow_run_id() or \
        f"{PERIOD_GATE}__{period_key}__{started.strftime('%Y%m%dT%H%M%S%fZ')}"
    context = get_context()
    weeks = period_weeks(period_type, period_key)
    runs = [("marts_period_checkpoint", period_key, base)] + \
        [("marts_checkpoint", week, f"{base}__{week}") for week in weeks]
    parts = []
    for name, key, part_run_id in runs:
        try:
            part = run_checkpoint(name, {PERIOD_PARAMETER: key}, run_id=part_run_id, context=context)
        except GateFailed as exc:
            part = exc.summary
        parts.append(part)
    merged = merge_summaries(parts, run_id=base, period_key=period_key, started=started)
    merged["period_type"] = period_type
    merged["weeks"] = weeks
    results.record_gate_result(merged)
    if merged["failed"]:
        raise GateFailed(merged)
    return merged


# --------------------------------------------------------------------------------------------
# Data Docs


def build_data_docs() -> Path:
    """Build the Data Docs site into LENSAN_HOME/data_docs/ and return its index.html."""
    context = get_context()
    context.build_data_docs()
    index = Path(os.environ[DATA_DOCS_DIR_VARIABLE]) / "index.html"
    if not index.exists():
        raise FileNotFoundError(f"GX did not write {index}")
    return index

"""Data-quality gates: run the committed GX Core 1.x checkpoints and record what they found.

The GX project lives in `expectations/` (settings.GX_PROJECT_DIR): `great_expectations.yml`, the suites
(`expectations/`), validation definitions and checkpoints — all committed JSON. Its datasource
`lensan_warehouse` takes its connection string from the config variable `${LENSAN_GX_WAREHOUSE_URL}`,
which this module sets from `lensan.db.warehouse.warehouse_url()` before it opens the context; the
validation results store and the Data Docs site are placed under LENSAN_HOME through
`${LENSAN_GX_RUNTIME_DIR}` and `${LENSAN_GX_DATA_DOCS_DIR}`. (The variable is deliberately not
`LENSAN_WAREHOUSE_URL` itself: setting that one would switch `lensan.db.warehouse` into "external" mode.)

Every data asset is a query asset over a staging / mart relation exposing a `period_key` column
(ISO week key for weekly data) and is partitioned on it (batch definition `by_period`), so
`run_checkpoint("marts_checkpoint", {"week_key": "2026-W47"})` validates only that week. Each asset
also exposes `scope_key` / `row_key`, used as `unexpected_index_column_names` so a failure names the
scopes (e.g. `province-22`) and rows it affects.

Severity: an expectation is an *error* unless its `meta.severity` (or GX's own `severity` field)
is `warning` (or `info`). Error failures raise `GateFailed`; warnings are recorded and returned so
the publisher can flag them.

    summary = run_checkpoint("marts_checkpoint", {"week_key": "2026-W47"})
    summary["status"]          # passed | warning | failed
    summary["failed"]          # error-severity failures: name, observed value, affected scopes
    summary["warnings"]        # warning-severity failures
    summary["blocked_scopes"]  # {"province-22": "reason"} for scope-attributable error failures
    summary["flagged_scopes"]  # {"region-bac": "...", "nation-VN": "..."}: aggregates containing a blocked province

Attribution (who is blocked). Every asset's `scope_key` is the publishing scope a row belongs to: a
reporting unit's rows carry its province on today's boundaries, so an error-severity failure blocks
only the provinces whose rows broke the rule. A region or the nation is NOT blocked when the failure
is explained by a province inside it (the same expectation failed for that province): it still
publishes, and `flagged_scopes` carries a flag naming the blocked province(s). A region / the nation
failing on its own (no province of it failed the same expectation) is blocked. A failure whose rows
name no publishing scope, or whose unexpected rows were not all listed by GX (unexpected_count above
the listed rows), sets `blocks_all` — the publisher must then publish nothing for the period.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from lensan import settings

from lensan.db import warehouse
from lensan.settings import NATION_CODE

log = logging.getLogger(__name__)

URL_VARIABLE = "LENSAN_GX_WAREHOUSE_URL"
RUNTIME_DIR_VARIABLE = "LENSAN_GX_RUNTIME_DIR"
DATA_DOCS_DIR_VARIABLE = "LENSAN_GX_DATA_DOCS_DIR"
CHECKPOINTS = ("staging_checkpoint", "marts_checkpoint", "marts_period_checkpoint")
ALIASES = {"staging": "staging_checkpoint", "marts": "marts_checkpoint", "marts_period": "marts_period_checkpoint"}
PERIOD_GATE = "marts_period_gate"   # the checkpoint name of a merged run_period_checkpoint summary
PERIOD_PARAMETER = "period_key"
MAX_SAMPLES = 20
MAX_SCOPES = 200
PUBLISH_SCOPE = re.compile(r"^(province|region|nation)-")


class GateFailed(RuntimeError):
    """An error-severity expectation failed; `summary` holds the full gate summary."""

    def __init__(self, summary: dict):
        self.summary = summary
        self.blocked_scopes: dict[str, str] = dict(summary.get("blocked_scopes") or {})
        super().__init__(failure_message(summary))


def failure_message(summary: dict) -> str:
    """A readable Vietnamese + English message listing the failed error-severity expectations."""
    period = summary.get("period_key") or "toàn bộ / all"
    lines = [
        f"Cổng chất lượng dữ liệu '{summary['checkpoint']}' KHÔNG ĐẠT (kỳ {period}): "
        f"{len(summary['failed'])} kiểm tra mức lỗi bị vi phạm.",
        f"Data-quality gate '{summary['checkpoint']}' FAILED (period {period}): "
        f"{len(summary['failed'])} error-severity expectation(s) failed.",
    ]
    for failure in summary["failed"]:
        detail = f"  - {failure['name']}"
        if failure.get("unexpected_count") is not None:
            detail += f": {failure['unexpected_count']} dòng sai / unexpected rows"
        if failure.get("observed_value") is not None:
            detail += f"; giá trị quan sát / observed {_short(failure['observed_value'])}"
        if failure.get("sample_unexpected"):
            detail += f"; ví dụ / e.g. {_short(failure['sample_unexpected'][:5])}"
        if failure.get("affected_scopes"):
            detail += f"; phạm vi / scopes {', '.join(failure['affected_scopes'][:10])}"
        if failure.get("exception"):
            detail += f"; lỗi thực thi / execution error: {failure['exception']}"
        lines.append(detail)
    return "\n".join(lines)


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# context


def prepare_environment() -> None:
    """Set the config variables the committed great_expectations.yml refers to."""
    os.environ[URL_VARIABLE] = warehouse.warehouse_url()
    os.environ[RUNTIME_DIR_VARIABLE] = str(settings.home_dir("gx"))
    os.environ[DATA_DOCS_DIR_VARIABLE] = str(settings.home_dir("data_docs"))
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


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
    checkpoint = context.checkpoints.get(name)
    try:
        # GX uses the run name in store keys (file paths): no '/' or '\\' allowed there.
        gx_run = RunIdentifier(run_name=re.sub(r"[/\\]", "_", run_name), run_time=started)
        result = checkpoint.run(batch_parameters=params, run_id=gx_run)
    except Exception as exc:  # a missing relation, no batch for the period, bad SQL ...
        log.warning("checkpoint %s could not run: %s", name, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        summary = _execution_error_summary(name, run_name, params, period_key, started, exc)
    else:
        summary = summarise(result, name, run_name, params, period_key, started)
    record_gate_result(summary)
    if summary["failed"]:
        raise GateFailed(summary)
    return summary


def period_weeks(period_type: str, period_key: str) -> list[str]:
    """The ISO weeks with rows in marts.rpt_weekly_report that overlap a month / half-year / year."""
    from lensan.calendar import periods
    from lensan.publish import service as publish

    start, end = publish.period_bounds(period_type, period_key)
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
    record_gate_result(merged)
    if merged["failed"]:
        raise GateFailed(merged)
    return merged


def merge_summaries(parts: list[dict], run_id: str, period_key: str, started: dt.datetime) -> dict:
    """One gate summary from several checkpoint runs (see run_period_checkpoint)."""
    merged = _base_summary(PERIOD_GATE, run_id, {PERIOD_PARAMETER: period_key}, period_key, started)
    merged["parts"] = []
    for part in parts:
        tag = part.get("period_key")
        merged["parts"].append({"checkpoint": part["checkpoint"], "period_key": tag, "run_id": part["run_id"],
                                "status": part["status"]})
        for key in merged["counts"]:
            merged["counts"][key] += (part.get("counts") or {}).get(key, 0)
        merged["failed"] += [{**f, "part": tag, "name": f"[{tag}] {f['name']}"} for f in part.get("failed") or []]
        merged["warnings"] += [{**w, "part": tag, "name": f"[{tag}] {w['name']}"} for w in part.get("warnings") or []]
        for scope, reason in (part.get("blocked_scopes") or {}).items():
            text = f"[{tag}] {reason}"
            merged["blocked_scopes"][scope] = (f"{merged['blocked_scopes'][scope]}; {text}"
                                               if scope in merged["blocked_scopes"] else text)
        for scope, note in (part.get("flagged_scopes") or {}).items():
            text = f"[{tag}] {note}"
            merged["flagged_scopes"][scope] = (f"{merged['flagged_scopes'][scope]}; {text}"
                                               if scope in merged["flagged_scopes"] else text)
        merged["blocks_all"] = merged["blocks_all"] or bool(part.get("blocks_all"))
        merged["no_data"] = merged.get("no_data", False) or (tag == period_key and bool(part.get("no_data")))
        merged["gx_success"] = merged["gx_success"] and bool(part.get("gx_success", True))
    for scope in list(merged["flagged_scopes"]):
        if scope in merged["blocked_scopes"]:
            del merged["flagged_scopes"][scope]
    merged["success"] = not merged["failed"]
    merged["status"] = "failed" if merged["failed"] else ("warning" if merged["warnings"] else "passed")
    return merged


def _airflow_run_id() -> str | None:
    """Inside an Airflow task: '<dag_id>/<dag run id>' so a retried task upserts its own row."""
    dag_id, run = os.environ.get("AIRFLOW_CTX_DAG_ID"), os.environ.get("AIRFLOW_CTX_DAG_RUN_ID")
    return f"{dag_id}/{run}" if dag_id and run else None


def _base_summary(name, run_name, params, period_key, started) -> dict:
    return {
        "run_id": run_name,
        "checkpoint": name,
        "batch_parameters": params or {},
        "period_key": period_key,
        "run_at": started.isoformat(timespec="seconds"),
        "success": True,
        "gx_success": True,
        "status": "passed",
        "counts": {"validations": 0, "evaluated": 0, "successful": 0, "failed_error": 0,
                   "failed_warning": 0},
        "validations": [],
        "failed": [],
        "warnings": [],
        "blocked_scopes": {},
        "flagged_scopes": {},
        "blocks_all": False,
    }


def _execution_error_summary(name, run_name, params, period_key, started, exc) -> dict:
    summary = _base_summary(name, run_name, params, period_key, started)
    message = f"{type(exc).__name__}: {exc}"
    if type(exc).__name__ == "NoAvailableBatchesError":
        message = (f"không có dữ liệu cho kỳ {period_key} / no rows for period {period_key} "
                   f"({type(exc).__name__}: {exc})")
        summary["no_data"] = True
    failure = {"validation": None, "name": f"{name}: checkpoint could not run", "expectation_type": None,
               "column": None, "severity": "error", "success": False, "observed_value": None,
               "unexpected_count": None, "exception": message[:1000], "affected_scopes": [],
               "sample_unexpected": []}
    summary["failed"].append(failure)
    summary["success"] = summary["gx_success"] = False
    summary["status"] = "failed"
    summary["blocks_all"] = True
    summary["counts"]["failed_error"] = 1
    return summary


def severity_of(expectation_config: dict) -> str:
    """'warning' when meta.severity (or GX's severity) says warning/info, else 'error'."""
    meta = expectation_config.get("meta") or {}
    declared = str(meta.get("severity") or expectation_config.get("severity") or "error").lower()
    return "warning" if declared in ("warning", "warn", "info") else "error"


def summarise(result, name, run_name, params, period_key, started) -> dict:
    """A compact, JSON-safe summary of a GX CheckpointResult."""
    summary = _base_summary(name, run_name, params, period_key, started)
    summary["gx_success"] = bool(result.success)
    for identifier, validation in result.run_results.items():
        vres = _jsonable(validation.to_json_dict())
        meta = vres.get("meta") or {}
        vd_name = _validation_name(identifier, meta)
        entry = {
            "validation": vd_name,
            "suite": vres.get("suite_name"),
            "asset": (meta.get("active_batch_definition") or {}).get("data_asset_name"),
            "batch": ((meta.get("active_batch_definition") or {}).get("batch_identifiers") or {}),
            "success": vres.get("success"),
            "statistics": vres.get("statistics"),
            "results": [],
        }
        summary["counts"]["validations"] += 1
        for item in vres.get("results") or []:
            row = _expectation_row(item, entry["validation"])
            entry["results"].append(_pruned(row) if row["success"] else row)
            summary["counts"]["evaluated"] += 1
            if row["success"]:
                summary["counts"]["successful"] += 1
            elif row["severity"] == "error":
                summary["counts"]["failed_error"] += 1
                summary["failed"].append(row)
            else:
                summary["counts"]["failed_warning"] += 1
                summary["warnings"].append(row)
        summary["validations"].append(entry)

    if not period_key:  # no batch parameters: GX validated each asset's most recent period
        validated = sorted({str(v["batch"].get(PERIOD_PARAMETER)) for v in summary["validations"]
                            if v["batch"].get(PERIOD_PARAMETER)})
        summary["validated_periods"] = validated
        if len(validated) == 1:
            summary["period_key"] = validated[0]
    attribute_scopes(summary)
    summary["success"] = not summary["failed"]
    summary["status"] = "failed" if summary["failed"] else ("warning" if summary["warnings"] else "passed")
    return summary


def _region_of_provinces() -> dict[str, str]:
    """post2025 province code -> region code (from the reference seeds)."""
    from lensan import reference

    return {code: prov["region_code"] for (map_version, code), prov in reference.provinces().items()
            if map_version == "post2025"}


def _province_names() -> dict[str, str]:
    from lensan import reference

    return {code: prov["province_name"] for (map_version, code), prov in reference.provinces().items()
            if map_version == "post2025"}


def failure_reason(failure: dict) -> str:
    """Why a scope is blocked: the expectation, its description and the rows concerned."""
    text = f"{failure['name']} ({failure.get('validation')})"
    if failure.get("description"):
        text += f" — {failure['description']}"
    return text


def attribute_scopes(summary: dict) -> None:
    """Fill blocked_scopes / flagged_scopes / blocks_all from the error-severity failures (see module doc)."""
    regions = _region_of_provinces()
    blocked: dict[str, str] = summary.setdefault("blocked_scopes", {})
    flagged: dict[str, str] = summary.setdefault("flagged_scopes", {})
    for failure in summary["failed"]:
        scopes = failure.get("affected_scopes") or []
        publishable = [s for s in scopes if PUBLISH_SCOPE.match(s)]
        if not publishable or failure.get("affected_scopes_truncated"):
            summary["blocks_all"] = True
        provinces = [s.partition("-")[2] for s in publishable if s.startswith("province-")]
        text = failure_reason(failure)
        for scope in publishable:
            level, _, code = scope.partition("-")
            explained = (level == "nation" and provinces) or \
                (level == "region" and any(regions.get(p) == code for p in provinces))
            if explained:
                continue  # the province(s) inside it carry the block; the aggregate gets a flag below
            blocked[scope] = f"{blocked[scope]}; {text}" if scope in blocked else text
    names = _province_names()
    for scope, reason in sorted(blocked.items()):
        if not scope.startswith("province-"):
            continue
        code = scope.partition("-")[2]
        note = (f"Số liệu gồm {names.get(code, 'tỉnh ' + code)} ({scope}) bị chặn công bố do lỗi chất lượng dữ liệu"
                f" / includes {scope}, blocked by the quality gate: {reason}")
        for aggregate in ([f"region-{regions[code]}"] if code in regions else []) + [f"nation-{NATION_CODE}"]:
            if aggregate in blocked:
                continue
            flagged[aggregate] = f"{flagged[aggregate]}; {note}" if aggregate in flagged else note




def _pruned(row: dict) -> dict:
    """A passing expectation's row without its empty detail fields."""
    return {k: v for k, v in row.items() if k in ("success", "severity") or v not in (None, [], {}, False)}


def _validation_name(identifier, meta: dict) -> str:
    vd = meta.get("validation_id")
    name = getattr(getattr(identifier, "expectation_suite_identifier", None), "name", None)
    return str(name or vd or identifier)


def _expectation_row(item: dict, validation: str | None) -> dict:
    cfg = item.get("expectation_config") or {}
    kwargs = cfg.get("kwargs") or {}
    res = item.get("result") or {}
    column = kwargs.get("column")
    columns = kwargs.get("column_list")
    etype = cfg.get("type") or cfg.get("expectation_type")
    target = column or (",".join(columns) if columns else None)
    name = f"{validation}.{etype}" + (f"({target})" if target else "")
    rule = (cfg.get("meta") or {}).get("rule_code")
    if rule:  # one expectation per rule of marts.fct_quality_checks: name the rule
        name += f"[{rule}]"
    bounds = {k: kwargs[k] for k in ("min_value", "max_value", "value_set") if k in kwargs}
    if "value_set" in bounds and len(bounds["value_set"]) > 30:
        bounds["value_set"] = bounds["value_set"][:30] + ["…"]
    index_list = res.get("unexpected_index_list") or []
    scopes: list[str] = []
    for entry in index_list:
        scope = entry.get("scope_key") if isinstance(entry, dict) else None
        if scope and scope not in scopes:
            scopes.append(str(scope))
    row = {
        "validation": validation,
        "name": name,
        "expectation_type": etype,
        "column": target,
        "id": cfg.get("id"),
        "description": cfg.get("description"),
        "severity": severity_of(cfg),
        "success": bool(item.get("success")),
        "kwargs": bounds,
        "row_condition": _jsonable(kwargs.get("row_condition")) if kwargs.get("row_condition") else None,
        "observed_value": res.get("observed_value"),
        "element_count": res.get("element_count"),
        "unexpected_count": res.get("unexpected_count"),
        "unexpected_percent": res.get("unexpected_percent"),
        "sample_unexpected": (res.get("partial_unexpected_list") or res.get("unexpected_list") or [])[:MAX_SAMPLES],
        "sample_unexpected_rows": index_list[:MAX_SAMPLES] if not item.get("success") else [],
        "affected_scopes": scopes[:MAX_SCOPES] if not item.get("success") else [],
        # GX lists at most partial_unexpected_count rows: unseen rows may belong to other scopes
        "affected_scopes_truncated": len(scopes) > MAX_SCOPES or (
            not item.get("success") and bool(index_list)
            and (res.get("unexpected_count") or 0) > len(index_list)),
        "exception": None,
    }
    exc = item.get("exception_info") or {}
    if isinstance(exc, dict) and exc.get("raised_exception"):
        row["exception"] = str(exc.get("exception_message"))[:1000]
    elif isinstance(exc, dict):  # GX keys exception_info by metric when several were raised
        messages = [str(v.get("exception_message")) for v in exc.values()
                    if isinstance(v, dict) and v.get("raised_exception")]
        if messages:
            row["exception"] = "; ".join(messages)[:1000]
    return row


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "to_json_dict"):
        return _jsonable(value.to_json_dict())
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# --------------------------------------------------------------------------------------------
# ops.gate_results

GATE_RESULTS_DDL = """
create schema if not exists ops;
create table if not exists ops.gate_results (
    run_id          text not null,
    checkpoint      text not null,
    period_key      text,
    success         boolean not null,
    status          text not null,
    failed_error    integer not null,
    failed_warning  integer not null,
    summary         jsonb not null,
    recorded_at     timestamptz not null default now(),
    primary key (run_id, checkpoint)
);
"""


def ensure_ops_schema(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(GATE_RESULTS_DDL)


def record_gate_result(summary: dict) -> None:
    conn = warehouse.connect()
    try:
        ensure_ops_schema(conn)
        with conn.cursor() as cur:
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
                 json.dumps(_jsonable(summary), ensure_ascii=False)),
            )
        conn.commit()
    finally:
        conn.close()


def latest_gate_result(checkpoint: str, period_key: str | None = None) -> dict | None:
    """The most recently recorded summary of a checkpoint (for a period), or None."""
    conn = warehouse.connect()
    try:
        ensure_ops_schema(conn)
        with conn.cursor() as cur:
            cur.execute(
                "select summary from ops.gate_results where checkpoint = %s"
                " and (%s::text is null or period_key = %s) order by recorded_at desc limit 1",
                (checkpoint, period_key, period_key),
            )
            row = cur.fetchone()
        conn.commit()
        return row[0] if row else None
    finally:
        conn.close()


def compact(summary: dict | None) -> dict | None:
    """The part of a gate summary a publication manifest carries (no per-expectation detail)."""
    if not summary:
        return None
    keep = ("run_id", "checkpoint", "period_key", "run_at", "success", "status", "counts", "blocked_scopes",
            "flagged_scopes", "blocks_all")
    out = {k: summary.get(k) for k in keep}
    for extra in ("period_type", "weeks", "parts"):   # run_period_checkpoint summaries
        if extra in summary:
            out[extra] = summary[extra]
    out["failed"] = [f["name"] for f in summary.get("failed") or []]
    out["warnings"] = [{"name": w["name"], "unexpected_count": w.get("unexpected_count"),
                        "affected_scopes": (w.get("affected_scopes") or [])[:20],
                        "description": w.get("description")} for w in summary.get("warnings") or []]
    return out


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

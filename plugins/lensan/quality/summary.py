"""Gate summaries: what a checkpoint run found, as a compact JSON-safe dict, and how it reads to people.

Severity: an expectation is an *error* unless its `meta.severity` (or GX's own `severity` field) is
`warning` (or `info`). Error failures make the gate fail (`GateFailed`); warnings are recorded and
returned so the publisher can flag them.

    summary["status"]          # passed | warning | failed
    summary["failed"]          # error-severity failures: name, observed value, affected scopes
    summary["warnings"]        # warning-severity failures
    summary["blocked_scopes"]  # {"province-22": "reason"} for scope-attributable error failures
    summary["flagged_scopes"]  # {"region-bac": "...", "nation-VN": "..."}: aggregates containing a blocked province
    summary["blocks_all"]      # an error no publishing scope explains (lensan.quality.scopes)
    summary["no_data"]         # data missing: no rows for the period, or no platform input for it (below)
    summary["quiet"]           # nothing happened: the period's rows exist, no platform event, extracts landed
    summary["period_inputs"]   # the facts judged by judge_period_inputs (marts gates with a period)

`merge_summaries` folds the runs of a periodic gate into one summary of the same shape; `compact` is
the part a publication manifest carries.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from lensan.quality import scopes

PERIOD_PARAMETER = "period_key"     # the batch parameter every GX asset is partitioned on
PERIOD_GATE = "marts_period_gate"   # the checkpoint name of a merged run_period_checkpoint summary
MAX_SAMPLES = 20
MAX_SCOPES = 200


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
# building summaries


def base_summary(name, run_name, params, period_key, started) -> dict:
    """An empty, passing summary of checkpoint `name`."""
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


def execution_error_summary(name, run_name, params, period_key, started, exc) -> dict:
    """The summary of a checkpoint that could not run at all: one error no scope explains."""
    summary = base_summary(name, run_name, params, period_key, started)
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


def judge_period_inputs(summary: dict, inputs: dict | None) -> dict:
    """Tell "nothing happened" from "data missing" for a marts gate of one period (the rule is documented
    in lensan.quality.policy). `inputs`: rows (marts.fct_indicator_values rows of the period), events
    (nation / all rows of flow and distinct-in-period indicators with a non-zero value) and extracts
    (platform extracts landed or delivered for a day of the period). A summary that already says
    no_data (no batch at all) is left as it is."""
    if not inputs or summary.get("no_data"):
        return summary
    summary["period_inputs"] = dict(inputs)
    if not inputs.get("rows") or inputs.get("events"):
        return summary
    period = summary.get("period_key")
    if inputs.get("extracts"):
        summary["quiet"] = True
        summary["quiet_note"] = (f"kỳ {period} không phát sinh giao dịch/hoạt động trên sàn (đã nhận tệp trích xuất): "
                                 f"lũy kế giữ nguyên, số trong kỳ bằng 0 / nothing happened in period {period} "
                                 "(platform extracts landed, no event): stocks carried forward, flows 0")
        return summary
    message = (f"thiếu dữ liệu kỳ {period}: không có sự kiện nào và không có tệp trích xuất nào của sàn cho các ngày "
               f"của kỳ / data missing for period {period}: no platform event and no platform extract landed for "
               "any day of the period (not a quiet period)")
    summary["failed"].append({"validation": None, "name": f"{summary['checkpoint']}: period inputs",
                              "expectation_type": None, "column": None, "severity": "error", "success": False,
                              "observed_value": dict(inputs), "unexpected_count": None, "exception": message,
                              "affected_scopes": [], "sample_unexpected": []})
    summary["no_data"] = True
    summary["blocks_all"] = True
    summary["success"] = False
    summary["status"] = "failed"
    summary["counts"]["failed_error"] += 1
    return summary


def severity_of(expectation_config: dict) -> str:
    """'warning' when meta.severity (or GX's severity) says warning/info, else 'error'."""
    meta = expectation_config.get("meta") or {}
    declared = str(meta.get("severity") or expectation_config.get("severity") or "error").lower()
    return "warning" if declared in ("warning", "warn", "info") else "error"


def summarise(result, name, run_name, params, period_key, started) -> dict:
    """A compact, JSON-safe summary of a GX CheckpointResult."""
    summary = base_summary(name, run_name, params, period_key, started)
    summary["gx_success"] = bool(result.success)
    for identifier, validation in result.run_results.items():
        vres = jsonable(validation.to_json_dict())
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
    scopes.attribute_scopes(summary)
    summary["success"] = not summary["failed"]
    summary["status"] = "failed" if summary["failed"] else ("warning" if summary["warnings"] else "passed")
    return summary


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
    affected: list[str] = []
    for entry in index_list:
        scope = entry.get("scope_key") if isinstance(entry, dict) else None
        if scope and scope not in affected:
            affected.append(str(scope))
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
        "row_condition": jsonable(kwargs.get("row_condition")) if kwargs.get("row_condition") else None,
        "observed_value": res.get("observed_value"),
        "element_count": res.get("element_count"),
        "unexpected_count": res.get("unexpected_count"),
        "unexpected_percent": res.get("unexpected_percent"),
        "sample_unexpected": (res.get("partial_unexpected_list") or res.get("unexpected_list") or [])[:MAX_SAMPLES],
        "sample_unexpected_rows": index_list[:MAX_SAMPLES] if not item.get("success") else [],
        "affected_scopes": affected[:MAX_SCOPES] if not item.get("success") else [],
        # GX lists at most partial_unexpected_count rows: unseen rows may belong to other scopes
        "affected_scopes_truncated": len(affected) > MAX_SCOPES or (
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


def jsonable(value: Any) -> Any:
    """GX result values as JSON with their numeric meaning kept (Decimal -> int/float, NaN -> null);
    unlike lensan.orchestration.ops.to_jsonable, which stringifies what JSON lacks."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "to_json_dict"):
        return jsonable(value.to_json_dict())
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# --------------------------------------------------------------------------------------------
# several runs as one, and the manifest's view


def merge_summaries(parts: list[dict], run_id: str, period_key: str, started: dt.datetime) -> dict:
    """One gate summary from several checkpoint runs (lensan.quality.checkpoints.run_period_checkpoint):
    failures tagged with their part, a scope blocked in any part is blocked for the period."""
    merged = base_summary(PERIOD_GATE, run_id, {PERIOD_PARAMETER: period_key}, period_key, started)
    merged["parts"] = []
    for part in parts:
        tag = part.get("period_key")
        merged["parts"].append({"checkpoint": part["checkpoint"], "period_key": tag, "run_id": part["run_id"],
                                "status": part["status"]})
        for key in merged["counts"]:
            merged["counts"][key] += (part.get("counts") or {}).get(key, 0)
        merged["failed"] += [{**f, "part": tag, "name": f"[{tag}] {f['name']}"} for f in part.get("failed") or []]
        merged["warnings"] += [{**w, "part": tag, "name": f"[{tag}] {w['name']}"} for w in part.get("warnings") or []]
        for field in ("blocked_scopes", "flagged_scopes"):
            for scope, reason in (part.get(field) or {}).items():
                text = f"[{tag}] {reason}"
                merged[field][scope] = f"{merged[field][scope]}; {text}" if scope in merged[field] else text
        merged["blocks_all"] = merged["blocks_all"] or bool(part.get("blocks_all"))
        merged["no_data"] = merged.get("no_data", False) or (tag == period_key and bool(part.get("no_data")))
        if tag == period_key and part.get("quiet"):
            merged["quiet"], merged["quiet_note"] = True, part.get("quiet_note")
        merged["gx_success"] = merged["gx_success"] and bool(part.get("gx_success", True))
    for scope in list(merged["flagged_scopes"]):
        if scope in merged["blocked_scopes"]:
            del merged["flagged_scopes"][scope]
    merged["success"] = not merged["failed"]
    merged["status"] = "failed" if merged["failed"] else ("warning" if merged["warnings"] else "passed")
    return merged


def compact(summary: dict | None) -> dict | None:
    """The part of a gate summary a publication manifest carries (no per-expectation detail)."""
    if not summary:
        return None
    keep = ("run_id", "checkpoint", "period_key", "run_at", "success", "status", "counts", "blocked_scopes",
            "flagged_scopes", "blocks_all")
    out = {k: summary.get(k) for k in keep}
    for extra in ("period_type", "weeks", "parts", "quiet"):   # run_period_checkpoint summaries; a quiet period
        if extra in summary:
            out[extra] = summary[extra]
    out["failed"] = [f["name"] for f in summary.get("failed") or []]
    out["warnings"] = [{"name": w["name"], "unexpected_count": w.get("unexpected_count"),
                        "affected_scopes": (w.get("affected_scopes") or [])[:20],
                        "description": w.get("description")} for w in summary.get("warnings") or []]
    return out

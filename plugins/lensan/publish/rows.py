"""The report rows as published: mart rows cleaned into the shape of the JSON rows (plain numbers, quality
flags including the gate's warnings), their template order and sections, and the per-province headline
attainment the charts draw. Every output format (CSV, XLSX, JSON, HTML) renders these rows.
"""

from __future__ import annotations

import contextlib
import json
import re
from decimal import Decimal
from typing import Any

from lensan.publish.template import MAP_VERSION, PLATFORMS

FIRST_ROW_INDICATOR = "ocop_listed"   # row I: scope-wide quality flags go there (as in rpt_weekly_report)


def row_order(row: dict):
    return (row.get("sort_order") if row.get("sort_order") is not None else 999, row.get("indicator_code") or "")


def clean_row(row: dict, scope_key: str, gate_summary: dict | None, value_field: str = "value_in_week") -> dict:
    """One mart row as published: numbers as int/float/None, the gate's warnings on the rows they hit."""
    flags = _flags(row.get("quality_flags"))
    for warning in (gate_summary or {}).get("warnings") or []:
        hits = [r for r in warning.get("sample_unexpected_rows") or []
                if r.get("scope_key") == scope_key and r.get("row_key") in (row.get("indicator_code"), None)]
        if hits or (scope_key in (warning.get("affected_scopes") or []) and not warning.get("sample_unexpected_rows")):
            flag = "gx_warning:" + (warning.get("description") or warning.get("name") or "warning")
            if flag not in flags:
                flags.append(flag)
    flagged = ((gate_summary or {}).get("flagged_scopes") or {}).get(scope_key)
    if flagged and row.get("indicator_code") == FIRST_ROW_INDICATOR:  # once per report, on its first row
        flag = "Cảnh báo: " + flagged
        if flag not in flags:
            flags.append(flag)
    return {
        "section": row.get("section"),
        "tt": row.get("tt"),
        "sort_order": row.get("sort_order"),
        "indicator_code": row.get("indicator_code"),
        "indicator_label_vi": row.get("indicator_label_vi"),
        "unit_vi": row.get("unit_vi"),
        value_field: to_number(row.get(value_field)),
        "growth_pct": to_number(row.get("growth_pct")),
        "cumulative_value": to_number(row.get("cumulative_value")),
        "target_value": to_number(row.get("target_value")),
        "target_attainment_pct": to_number(row.get("target_attainment_pct")),
        "attainment_flag": row.get("attainment_flag") or None,   # above_target | implausibly_low
        "is_sample_target": bool(row["is_sample_target"]) if row.get("is_sample_target") is not None else None,
        "notes": row.get("notes") or None,
        "quality_flags": flags,
    } | platform_values(row, value_field)


def platform_values(row: dict, value_field: str) -> dict:
    """The per-platform figures of a row (NULL where an indicator has no per-platform series, e.g. the
    household register's), and whether postmart + voso add up to the total."""
    out = {f"{field}_{p}": to_number(row.get(f"{field}_{p}"))
           for p in PLATFORMS for field in (value_field, "cumulative_value")}
    additive = row.get("platforms_additive")
    return out | {"platforms_additive": bool(additive) if additive is not None else None}


def clean_rows(raw_rows: list[dict], scope_key: str, gate_summary: dict | None, value_field: str) -> list[dict]:
    """The rows of one scope, cleaned, in template order."""
    return [clean_row(r, scope_key, gate_summary, value_field) for r in sorted(raw_rows, key=row_order)]


def _flags(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v not in (None, "")]
    if isinstance(value, dict):
        return [f"{k}:{v}" for k, v in value.items()]
    text = str(value).strip()
    if text.startswith("["):
        with contextlib.suppress(ValueError):
            return _flags(json.loads(text))
    if text.startswith("{") and text.endswith("}"):  # a PostgreSQL array literal as text
        return [t.strip().strip('"') for t in text[1:-1].split(",") if t.strip()]
    return [t.strip() for t in re.split(r"[;,]", text) if t.strip()]


def to_number(value: Any) -> int | float | None:
    """A database number as JSON publishes it: Decimal/float → int when whole, NaN → None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return None
        value = value.normalize()
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        if value != value:
            return None
        return int(value) if value.is_integer() else value
    return value


def is_own_row(section: str, section_rows: list[dict]) -> bool:
    """Section I of the template is itself an indicator row (ocop_listed): no separate header row."""
    return len(section_rows) == 1 and section_rows[0].get("tt") == section


def section_blocks(rows: list[dict]):
    """(section, rows) in template order; section I is itself the ocop_listed row."""
    order = []
    for row in rows:
        if row.get("section") not in order:
            order.append(row.get("section"))
    for section in order:
        yield section, [r for r in rows if r.get("section") == section]


def coverage(scopes: dict[str, list[dict]], value_field: str, map_version: str = MAP_VERSION) -> dict[str, dict]:
    """Per national / region scope key: how many of its provinces (of `map_version`) have data in the
    period on the indicators with a target — a figure (in the period or cumulative) other than 0 or blank
    on a row with a target_value: the numerators of the scope's attainment sum exactly those — out of all
    its provinces, with their short names. (Not any figure: platform accounts are active in every
    province.) Blocked provinces count: their data exists."""
    from lensan import reference

    refs = {code: ref for (version, code), ref in reference.provinces().items() if version == map_version}
    with_data = sorted(code for key, rows in scopes.items() if key.startswith("province-")
                       for code in [rows[0]["scope_code"]]
                       if code in refs and any(to_number(r.get(f)) not in (None, 0)
                                               for r in rows if r.get("target_value") is not None
                                               for f in (value_field, "cumulative_value")))
    out = {}
    for key, rows in scopes.items():
        level, code = rows[0]["scope_level"], rows[0]["scope_code"]
        if level not in ("nation", "region"):
            continue
        members = sorted(c for c, ref in refs.items() if level == "nation" or ref.get("region_code") == code)
        covered = [c for c in with_data if c in members]
        out[key] = {"provinces_with_data": len(covered), "provinces": len(members),
                    "province_codes": covered,
                    "province_names": [refs[c].get("province_short_name") or refs[c]["province_name"]
                                       for c in covered]}
    return out


def province_values(scopes: dict[str, list[dict]], blocked: dict[str, str], map_version: str = MAP_VERSION):
    """Headline-indicator attainment of every published province (of `map_version`), for the per-province
    charts."""
    from lensan import reference
    from lensan.publish.render import charts

    refs = reference.provinces()
    out = []
    for key in sorted(k for k in scopes if k.startswith("province-")):
        if key in blocked:
            continue
        rows = scopes[key]
        code = rows[0]["scope_code"]
        ref = refs.get((map_version, code)) or {}
        values = {r["indicator_code"]: to_number(r.get("target_attainment_pct")) for r in rows
                  if r.get("indicator_code") in charts.HEADLINE_INDICATORS}
        out.append(charts.ProvinceValues(code, ref.get("province_short_name") or rows[0].get("scope_name") or code,
                                         ref.get("region_code"), values))
    return out

"""The JSON file of a report, the machine form: numbers as numbers, the column headings, the completeness
annex and (monthly) the product-type statistics. Shapes: docs/schemas/weekly_report.schema.json and
docs/schemas/period_report.schema.json."""

from __future__ import annotations

import json

from lensan.publish.template import (ATTAINMENT_FLAG_HEADING, ATTAINMENT_LEGEND, PLATFORM_NOTE, PLATFORM_SPLIT_NOTE,
                                     Period)


def render_json(period: Period, *, level: str, code: str, name: str, rows: list[dict],
                completeness: dict | None, product_types: list[dict] | None, issuing_body: str | None = None,
                coverage: dict | None = None) -> bytes:
    headings = period.headings
    payload = {
        "period_type": period.type, "period_key": period.key,
        "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
    }
    if period.type != "week":   # (the weekly JSON stays byte-identical to earlier revisions)
        payload["title"] = period.title
        payload["target_year"] = period.year
    payload |= {
        "scope": {"level": level, "code": code, "name": name},
        "columns": {"tt": headings[0], "indicator_label_vi": headings[1], "unit_vi": headings[2],
                    period.value_field: headings[3], "growth_pct": headings[4],
                    "cumulative_value": headings[5], "target_attainment_pct": headings[6],
                    "notes": headings[7]},
        "note": PLATFORM_NOTE,
        "rows": rows,
        "completeness": completeness,
    }
    # added fields (readers of the earlier files ignore them): the per-platform columns, the map, the issuer
    payload["columns"] |= dict(zip(period.platform_fields, period.platform_headings))
    payload["platform_note"] = PLATFORM_SPLIT_NOTE
    payload["map_version"] = period.map_version
    payload["issuing_body"] = issuing_body
    payload["columns"]["attainment_flag"] = ATTAINMENT_FLAG_HEADING
    payload["attainment_note"] = ATTAINMENT_LEGEND
    payload["coverage"] = coverage   # nation / region: the provinces its figures come from
    if product_types is not None:   # monthly report: per-platform statistics by product type
        payload["product_types"] = product_types
    return (json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")

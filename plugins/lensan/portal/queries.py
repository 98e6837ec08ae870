"""What the portal reads from the warehouse: a unit's own history (raw weekly forms + the completeness
mart) and a province's completeness for a week (marts.fct_reporting_completeness). Every query is
filtered by the signed-in account's own code; a table not built yet reads as empty."""

from __future__ import annotations

import datetime as dt

import psycopg2

from lensan import reference
from lensan.portal import audit, db
from lensan.portal.uploads import timeliness

STATUS_VI = {"on_time": "Đúng hạn", "late": "Trễ hạn", "missing": "Chưa nộp", "pending": "Đang chờ nạp"}


def _fetch(sql: str, params: tuple) -> list[dict]:
    try:
        with db.cursor() as cur:
            cur.execute(sql, params)
            cols = [c.name for c in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]
    except (psycopg2.errors.UndefinedTable, psycopg2.errors.InvalidSchemaName, psycopg2.errors.UndefinedColumn):
        return []


def unit_history(unit_code: str, weeks: int = 12) -> list[dict]:
    """The unit's latest `weeks` weeks, newest first: status (on time / late / missing / waiting for the
    ingest), the forms received and the values accepted from each (latest form first)."""
    statuses = {r["week_key"]: r for r in _fetch(
        "select week_key, reporting_status, first_received_at, forms_received from marts.fct_reporting_completeness "
        "where unit_code = %s order by week_key desc limit %s", (unit_code, weeks))}
    forms = _fetch(
        "select w.week_key, f.file_id, f.sha256, f.arrived_at from raw.weekly_forms w "
        "join raw.landed_files f on f.file_id = w.file_id "
        "where w.unit_code = %s and f.status = 'loaded' and f.withdrawn_at is null "
        "order by w.week_key desc, f.arrived_at desc", (unit_code,))
    rows = _fetch(
        "select r.file_id, r.section, r.tt, r.indicator_code, r.label, r.value_in_week, r.cumulative_value "
        "from raw.weekly_form_rows r join raw.weekly_forms w on w.file_id = r.file_id "
        "where w.unit_code = %s order by r.file_id, r.row_number", (unit_code,))
    by_file: dict[int, list[dict]] = {}
    for row in rows:
        row["tt_label"] = row["tt"] if row["section"] == "I" else f"{row['section']}.{row['tt']}"
        by_file.setdefault(row["file_id"], []).append(row)
    landed = {f["sha256"] for f in forms}
    weeks_out: dict[str, dict] = {}
    for key, status in statuses.items():
        weeks_out[key] = {"week_key": key, "status": status["reporting_status"], "forms": []}
    for form in forms:
        entry = weeks_out.setdefault(form["week_key"], {"week_key": form["week_key"], "status": None, "forms": []})
        entry["forms"].append({"received_at": form["arrived_at"], "sha256": form["sha256"], "landed": True,
                               "values": by_file.get(form["file_id"], [])})
    for key, uploads in audit.accepted_uploads(unit_code).items():
        entry = weeks_out.setdefault(key, {"week_key": key, "status": None, "forms": []})
        for upload in uploads:
            if upload["sha256"] not in landed and all(f["sha256"] != upload["sha256"] for f in entry["forms"]):
                entry["forms"].append({"received_at": upload["at"], "sha256": upload["sha256"], "landed": False,
                                       "values": []})
    for entry in weeks_out.values():
        if entry["status"] is None and entry["forms"]:   # not in the mart yet: the same deadline rule
            first = min(f["received_at"] for f in entry["forms"])
            on_time = timeliness(entry["week_key"], first)[1]
            entry["status"] = ("on_time" if on_time else "late") if any(f["landed"] for f in entry["forms"]) \
                else "pending"
        entry["status_vi"] = STATUS_VI.get(entry["status"], "—")
    return sorted(weeks_out.values(), key=lambda e: e["week_key"], reverse=True)[:weeks]


def province_weeks(province_code: str, limit: int = 12) -> list[str]:
    return [r["week_key"] for r in _fetch(
        "select distinct week_key from marts.fct_reporting_completeness where current_province_code = %s "
        "order by week_key desc limit %s", (province_code, limit))]


def province_completeness(province_code: str, week_key: str) -> dict:
    """Every expected unit of the province in the week with its status, and the counts."""
    units = _fetch(
        "select unit_code, unit_name, reporting_status, first_received_at, forms_received "
        "from marts.fct_reporting_completeness where current_province_code = %s and week_key = %s "
        "order by unit_code", (province_code, week_key))
    built = bool(units)
    if not built:   # the mart has no row for the week yet: the expected units and what the portal received
        received = {r["account_code"]: r for r in _fetch(
            "select account_code, min(at) as first_at, count(distinct sha256) as forms from ops.portal_audit "
            "where event = 'upload' and outcome = 'accepted' and account_kind = 'unit' and week_key = %s "
            "group by account_code", (week_key,))}
        units = []
        for unit in reference.reporting_units("post2025", [province_code]):
            got = received.get(unit.code)
            status = None
            if got:
                status = "on_time" if timeliness(week_key, got["first_at"])[1] else "late"
            units.append({"unit_code": unit.code, "unit_name": unit.name, "reporting_status": status,
                          "first_received_at": got["first_at"] if got else None,
                          "forms_received": got["forms"] if got else 0})
    counts = {key: sum(u["reporting_status"] == key for u in units) for key in ("on_time", "late", "missing")}
    for unit in units:
        unit["status_vi"] = STATUS_VI.get(unit["reporting_status"], "Chưa nhận")
    province = reference.provinces().get(("post2025", province_code), {})
    return {"province_code": province_code, "province_name": province.get("province_name", province_code),
            "week_key": week_key, "units": units, "expected": len(units), "built": built, **counts}


def unit_name(unit_code: str) -> str:
    unit = reference.reporting_unit("post2025", unit_code) or reference.reporting_unit("pre2025", unit_code)
    return unit.name if unit else unit_code


def account_name(kind: str, code: str) -> str:
    if kind == "unit":
        return unit_name(code)
    return reference.provinces().get(("post2025", code), {}).get("province_name", code)


def as_local(moment: dt.datetime | None) -> str:
    from lensan.settings import LOCAL_TZ

    return moment.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y") if moment else "—"

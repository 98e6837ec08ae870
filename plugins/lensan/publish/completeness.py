"""The reporting-completeness annex of a weekly report: per scope, the expected reporting units, those
received on time / late / missing, the late and missing units by name, and per cell — the form rows
each unit filled out of those it owes (marts.fct_reporting_completeness / rpt_reporting_completeness)."""

from __future__ import annotations

import datetime as dt

from lensan.publish.render.formatting import iso_utc
from lensan.publish.template import MAP_VERSION
from lensan.settings import NATION_CODE

UNIT_SQL = """
    select current_province_code, current_province_name, region_code, unit_code, unit_name,
           reporting_status, first_received_at, hours_late, {rows},
           count(*) filter (where is_received) over (partition by current_province_code) as province_received,
           count(*) over (partition by current_province_code) as province_expected,
           map_version, province_code, province_name
    from marts.fct_reporting_completeness
    where week_key = %s
    order by current_province_code, unit_code
"""

# a week on the map of its time: the counts per province of that map (the rest of the annex per unit)
AS_REPORTED_SQL = """
    select 'province', province_code, count(*), count(*) filter (where is_received),
           count(*) filter (where is_on_time), count(*) filter (where is_late), count(*) filter (where is_missing),
           round(100.0 * count(*) filter (where is_received) / nullif(count(*), 0), 1) {rows}
    from marts.fct_reporting_completeness
    where week_key = %s and map_version = %s
    group by province_code
"""
ROWS_SQL = {"unit": "reported_rows, expected_rows", "rpt": ", expected_rows, reported_rows, reported_rows_pct",
            "as_reported": ", sum(expected_rows), sum(reported_rows), "
                           "round(100.0 * sum(reported_rows) / nullif(sum(expected_rows), 0), 1)"}
NO_ROWS_SQL = {"unit": "null::int, null::int", "rpt": "", "as_reported": ""}


def read_completeness(conn, week_key: str, week_start: dt.date, week_end: dt.date,
                      map_version: str = MAP_VERSION) -> dict[str, dict]:
    """Reporting completeness per scope key: expected units (the week's map), received, on time,
    late, missing, the late and missing units by code and name, and per cell the form rows filled out
    of those owed — from marts.rpt_reporting_completeness and marts.fct_reporting_completeness (dbt
    models/marts/quality). `map_version` 'pre2025' (a week on the map of its time) counts by the
    provinces of that map. Falls back to the counts from marts.dim_admin_unit and
    marts.fct_reported_values when those marts are absent; {} when all are."""
    from lensan.reference import map_version_for

    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.rpt_reporting_completeness') is not null"
                    " and to_regclass('marts.fct_reporting_completeness') is not null")
        if cur.fetchone()[0]:
            return _completeness_from_marts(conn, week_key, map_version)
        if map_version != MAP_VERSION:
            return {}
        cur.execute("select to_regclass('marts.dim_admin_unit') is not null"
                    " and to_regclass('marts.fct_reported_values') is not null")
        if not cur.fetchone()[0]:
            return {}
        cur.execute(
            """
            with expected as (
                select unit_code, map_version, current_province_code, region_code
                from marts.dim_admin_unit
                where is_reporting_unit and map_version = %(map)s
                  and coalesce(valid_from, date '1900-01-01') <= %(end)s
                  and coalesce(valid_to, date '9999-12-31') >= %(start)s
            ),
            received as (
                select map_version, unit_code, bool_or(is_late) as is_late
                from marts.fct_reported_values where week_key = %(week)s
                group by 1, 2
            ),
            units as (
                select e.current_province_code, e.region_code, r.unit_code is not null as has_report, r.is_late
                from expected as e
                left join received as r on r.map_version = e.map_version and r.unit_code = e.unit_code
            )
            select grouping(current_province_code) as g_province, grouping(region_code) as g_region,
                   current_province_code, region_code, count(*),
                   count(*) filter (where has_report), count(*) filter (where has_report and not is_late),
                   count(*) filter (where has_report and is_late)
            from units
            group by grouping sets ((current_province_code), (region_code), ())
            """,
            {"map": map_version_for(week_end), "start": week_start, "end": week_end, "week": week_key},
        )
        result = {}
        for g_province, g_region, province, region, expected, received, on_time, late in cur.fetchall():
            if not g_province:
                key = f"province-{province}"
            elif not g_region:
                key = f"region-{region}"
            else:
                key = f"nation-{NATION_CODE}"
            result[key] = {"expected": expected, "received": received, "on_time": on_time, "late": late,
                           "missing": expected - received,
                           "received_pct": round(100.0 * received / expected, 1) if expected else None}
        return result


def _completeness_from_marts(conn, week_key: str, map_version: str = MAP_VERSION) -> dict[str, dict]:
    """The completeness annex from the quality marts. Provinces list every late / missing unit and every
    unit's filled / owed form rows (`units`); regions and the nation list the late and missing units of
    provinces that reported, and name the provinces where no unit reported at all (`silent_provinces`)
    instead of listing their units one by one. Every scope lists the units whose form left rows blank
    (`incomplete_units`)."""
    as_reported = map_version != MAP_VERSION
    with conn.cursor() as cur:
        cur.execute("select exists (select 1 from information_schema.columns where table_schema = 'marts'"
                    " and table_name = 'fct_reporting_completeness' and column_name = 'reported_rows')")
        sql_rows = ROWS_SQL if cur.fetchone()[0] else NO_ROWS_SQL   # marts built before per-cell counts
        if as_reported:
            cur.execute(AS_REPORTED_SQL.format(rows=sql_rows["as_reported"]), (week_key, map_version))
        else:
            cur.execute("select scope_level, scope_code, expected_units, received_units, on_time_units, late_units,"
                        f" missing_units, received_pct {sql_rows['rpt']} from marts.rpt_reporting_completeness"
                        " where week_key = %s", (week_key,))
        result = {}
        for level, code, expected, received, on_time, late, missing, pct, *cells in cur.fetchall():
            result[f"{level}-{code}"] = {
                "expected": expected, "received": received, "on_time": on_time, "late": late,
                "missing": missing, "received_pct": float(pct) if pct is not None else None,
                "late_units": [], "missing_units": [], "silent_provinces": []}
            if cells:
                result[f"{level}-{code}"] |= {
                    "expected_rows": int(cells[0]), "reported_rows": int(cells[1]),
                    "reported_rows_pct": float(cells[2]) if cells[2] is not None else None,
                    "incomplete_units": [], "units": [] if level == "province" else None}
        cur.execute(UNIT_SQL.format(rows=sql_rows["unit"]), (week_key,))
        silent_seen = set()
        for (province, province_name, region, unit, unit_name, status, received_at, hours_late, reported_rows,
             expected_rows, province_received, province_expected, unit_map, own_province,
             own_province_name) in cur.fetchall():
            if as_reported:   # the provinces of the map of its time, no regions or nation
                if unit_map != map_version:
                    continue
                province, province_name = own_province, own_province_name
                keys = [f"province-{province}"]
            else:
                keys = [f"province-{province}", f"region-{region}", f"nation-{NATION_CODE}"]
            cell = {"unit_code": unit, "unit_name": unit_name, "province_code": province}
            if reported_rows is not None and f"province-{province}" in result:
                result[f"province-{province}"]["units"].append(
                    cell | {"status": status, "reported_rows": reported_rows, "expected_rows": expected_rows})
                if status != "missing" and reported_rows < expected_rows:
                    for key in keys:
                        if key in result:
                            result[key]["incomplete_units"].append(
                                cell | {"reported_rows": reported_rows, "expected_rows": expected_rows})
            if status == "on_time":
                continue
            if status == "late":
                item = cell | {"received_at": iso_utc(received_at),
                               "hours_late": float(hours_late) if hours_late is not None else None}
                for key in keys:
                    if key in result:
                        result[key]["late_units"].append(item)
                continue
            for key in keys:
                if key not in result:
                    continue
                if key.startswith("province-") or province_received:
                    result[key]["missing_units"].append(cell)
                elif (key, province) not in silent_seen:
                    silent_seen.add((key, province))
                    result[key]["silent_provinces"].append(
                        {"province_code": province, "province_name": province_name, "expected": province_expected})
        for value in result.values():   # regions and the nation: no per-unit table
            if value.get("units", ()) is None:
                del value["units"]
        return result

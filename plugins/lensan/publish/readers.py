"""What a publication reads from the warehouse: the report rows of a period (marts.rpt_weekly_report for a
week, marts.fct_indicator_values for a month / half-year / year), the monthly statistics per product
type, the reporting-completeness annex, the deadline of the period (marts.dim_period), the landed raw
files that fed each scope of the period, and the scope names of the province reference. Every reader tolerates a
missing mart (older warehouses) and returns nothing rather than failing."""

from __future__ import annotations

import datetime as dt

from lensan.db import warehouse
from lensan.publish.render.formatting import iso_utc
from lensan.publish.rows import to_number
from lensan.publish.template import MAP_VERSION, NATION_NAME, PERIOD_TYPE_VI, PLATFORMS, PRODUCT_FIELDS, Period
from lensan.settings import NATION_CODE


def read_report(conn, week_key: str) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute("select * from marts.rpt_weekly_report where week_key = %s"
                    " order by scope_level, scope_code, sort_order, indicator_code", (week_key,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def deadline_from_mart(conn, period_type: str, period_key: str) -> dt.datetime | None:
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.dim_period') is not null")
        if not cur.fetchone()[0]:
            return None
        cur.execute("select * from marts.dim_period where period_type = %s and period_key = %s",
                    (period_type, period_key))
        row = cur.fetchone()
        if row is None:
            return None
        names = [d[0] for d in cur.description]
        value = dict(zip(names, row)).get("deadline_at")
        return value if isinstance(value, dt.datetime) else None


PERIOD_FACTS_SQL = """
    select scope_level, scope_code, indicator_code, platform, value_in_period, growth_pct, cumulative_value,
           target_year, target_value, target_attainment_pct, is_sample_target
    from marts.fct_indicator_values
    where period_type = %(type)s and period_key = %(key)s and platform in ('all', 'postmart', 'voso')
      and map_version = %(map)s and scope_level in ('province', 'region', 'nation')
    order by scope_level, scope_code, indicator_code, platform
"""


def read_period_facts(conn, period: Period) -> list[dict]:
    """Rows of marts.fct_indicator_values for a period on the period's map (today's unless --map
    as-reported), in the shape of the weekly report rows (section, tt, labels from the indicator
    catalogue; scope names from the province reference of that map): platform 'all', with the postmart
    and voso figures beside it (`<value field>_<platform>`, `cumulative_value_<platform>`)."""
    from lensan import reference

    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_indicator_values') is not null")
        if not cur.fetchone()[0]:
            return []
        cur.execute("select column_name from information_schema.columns where table_schema = 'marts'"
                    " and table_name = 'fct_indicator_values'"
                    " and column_name in ('notes', 'platforms_additive', 'attainment_flag')")
        extra = sorted(r[0] for r in cur.fetchall())
        sql = PERIOD_FACTS_SQL.replace("is_sample_target\n", ", ".join(["is_sample_target", *extra]) + "\n", 1)
        cur.execute(sql, {"type": period.type, "key": period.key, "map": period.map_version})
        names = [d[0] for d in cur.description]
        facts = [dict(zip(names, r)) for r in cur.fetchall()]
    by_platform = {(f["scope_level"], f["scope_code"], f["indicator_code"], f["platform"]): f for f in facts}
    catalogue = {i.code: i for i in reference.indicators()}
    names_by_scope = scope_names(period.map_version)
    rows = []
    for fact in facts:
        ind = catalogue.get(fact["indicator_code"])
        if ind is None or fact["indicator_code"].startswith("_") or fact["platform"] != "all":
            continue
        fact = {k: v for k, v in fact.items() if k != "platform"}
        fact[period.value_field] = fact.pop("value_in_period")   # a week's rows say value_in_week
        for p in PLATFORMS:
            split = by_platform.get((fact["scope_level"], fact["scope_code"], fact["indicator_code"], p)) or {}
            fact[f"{period.value_field}_{p}"] = split.get("value_in_period")
            fact[f"cumulative_value_{p}"] = split.get("cumulative_value")
        rows.append(fact | {
            "scope_name": names_by_scope.get((fact["scope_level"], fact["scope_code"]), fact["scope_code"]),
            "section": ind.section, "tt": ind.tt, "sort_order": ind.sort_order,
            "indicator_label_vi": ind.label_vi, "unit_vi": ind.unit_vi, "notes": fact.get("notes"),
            "quality_flags": None,
        })
    return rows


PRODUCT_TYPES_SQL = """
    select scope_level, scope_code, platform, product_group, product_type, orders, volume_t, revenue_vnd
    from marts.fct_product_type_monthly
    where month_key = %(key)s and map_version = %(map)s and scope_level in ('province', 'region', 'nation')
    order by scope_level, scope_code,
             case platform when 'all' then 0 when 'postmart' then 1 else 2 end,
             case product_group when 'agricultural' then 0 when 'input' then 1 else 2 end, product_type
"""


def read_product_types(conn, period: Period) -> dict[str, list[dict]] | None:
    """Scope key -> per-product-type rows of the month (marts.fct_product_type_monthly); None when the
    mart does not exist (then the monthly files carry no product statistics)."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_product_type_monthly') is not null")
        if not cur.fetchone()[0]:
            return None
        cur.execute(PRODUCT_TYPES_SQL, {"key": period.key, "map": period.map_version})
        names = [d[0] for d in cur.description]
        out: dict[str, list[dict]] = {}
        for values in cur.fetchall():
            row = dict(zip(names, values))
            out.setdefault(f"{row['scope_level']}-{row['scope_code']}", []).append(
                {f: (to_number(row[f]) if f in ("orders", "volume_t", "revenue_vnd") else row[f])
                 for f in PRODUCT_FIELDS})
        return out


def scope_names(map_version: str = MAP_VERSION) -> dict[tuple[str, str], str]:
    """(scope_level, scope_code) -> name, for the nation, the regions and the provinces of a map (the
    pre-reform names for the map of its time)."""
    from lensan import reference

    names = {("nation", NATION_CODE): NATION_NAME}
    for (version, code), prov in reference.provinces().items():
        if version != map_version:
            continue
        names[("province", code)] = prov["province_name"]
        names[("region", prov["region_code"])] = prov["region_name"]
    return names


def no_period_rows_message(period: Period) -> str:
    """Why a month / half-year / year has nothing to publish (Vietnamese / English)."""
    conn = warehouse.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('marts.fct_indicator_values') is not null")
            exists = cur.fetchone()[0]
            known = []
            if exists:
                cur.execute("select distinct period_type from marts.fct_indicator_values order by 1")
                known = [r[0] for r in cur.fetchall()]
        conn.commit()
    finally:
        conn.close()
    noun = PERIOD_TYPE_VI[period.type]
    if not exists:
        detail_vi, detail_en = "bảng chưa tồn tại", "the table does not exist"
    elif period.type not in known:
        detail_vi = f"mart chưa có kỳ loại '{period.type}' (hiện có: {', '.join(known) or 'không có'})"
        detail_en = f"the mart has no '{period.type}' periods yet (it has: {', '.join(known) or 'none'})"
    else:
        detail_vi, detail_en = "không có dòng nào cho kỳ này", "no rows for this period"
    return (f"Không có dữ liệu marts.fct_indicator_values cho {noun} {period.key} (tỉnh/vùng/toàn quốc, "
            f"platform 'all'): {detail_vi} / no rows in marts.fct_indicator_values for {period.type} "
            f"{period.key}: {detail_en}")


SOURCE_FILES_SQL = """
    with units as (
        select map_version, unit_code, current_province_code as province_code,
               coalesce(valid_from, date '1900-01-01') as valid_from,
               coalesce(valid_to, date '9999-12-31') as valid_to
        from marts.dim_admin_unit
        where is_reporting_unit
    ),
    loaded as (
        select file_id, sha256, source, entity, public_name, arrived_at, unit_code, file_date
        from raw.landed_files
        where status = 'loaded' {not_withdrawn}
    ),
    -- forms of the weeks that end in the period (for a week: that week), located by their header's unit
    forms as (
        select l.file_id, l.sha256, l.source, f.unit_code as subject, f.week_key as when_key,
               f.week_key as period_key, l.file_date, l.arrived_at, l.public_name, u.province_code
        from loaded as l
        join raw.weekly_forms as f on f.file_id = l.file_id
        join units as u on u.map_version = f.map_version and u.unit_code = f.unit_code
        where f.week_end between %(start)s and %(end)s
    ),
    -- every register snapshot as delivered: the file at its own date, and a byte-identical file
    -- re-delivered under a new snapshot date at that date
    register_files as (
        select file_id, sha256, source, unit_code, file_date, arrived_at, public_name
        from loaded where source = 'household_register'
        {redeliveries}
    ),
    registers as (
        select r.*, u.map_version, u.province_code
        from register_files as r
        join units as u on u.unit_code = r.unit_code and r.file_date between u.valid_from and u.valid_to
        where u.valid_from <= %(end)s and u.valid_to >= %(start)s
    ),
    -- the snapshots in force during the period (as int_households__snapshot_asof picks them): those
    -- taken in it, and per unit the one standing at its start — the latest before it, else the unit's
    -- first snapshot, which stands in for the weeks before it
    registers_in_force as (
        select * from registers where file_date between %(start)s and %(end)s
        union
        (select distinct on (map_version, unit_code) * from registers
         order by map_version, unit_code, file_date < %(start)s desc,
                  case when file_date < %(start)s then file_date end desc nulls last, file_date, file_id desc)
    )
    select file_id, sha256, source, subject, when_key, period_key, file_date, arrived_at, public_name,
           province_code, false as national
    from forms
    union all
    select file_id, sha256, source, unit_code, file_date::text, null, file_date, arrived_at, public_name,
           province_code, false
    from registers_in_force
    union all
    -- platform extracts are national: the days of the period feed every scope
    select file_id, sha256, source, entity, file_date::text, null, file_date, arrived_at, public_name, null,
           true
    from loaded
    where source not in ('weekly_form', 'household_register') and file_date between %(start)s and %(end)s
    -- by what the files are, not by landing order (file ids are the warehouse's own)
    order by national, source, file_date, subject, sha256, province_code
"""

REDELIVERIES_SQL = """
        union all
        select l.file_id, l.sha256, l.source, coalesce(d.unit_code, l.unit_code), d.file_date, d.arrived_at,
               d.public_name
        from raw.deliveries as d
        join loaded as l on l.file_id = d.file_id
        where l.source = 'household_register' and d.file_date is distinct from l.file_date"""


def read_source_files(conn, period: Period) -> list[dict]:
    """The loaded raw files that fed the period, each named by SHA-256, source, date and the public name
    landing stored, which holds no personal data (lensan.landing.names.landed_public_name; the name as
    delivered stays in the archive). `province_code` (post-2025) says which province's scopes a unit's file fed; `national`
    marks a platform extract, which feeds every scope. Withdrawn files are left out. [] without
    raw.landed_files; extracts only without marts.dim_admin_unit."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('raw.landed_files') is not null,"
                    " to_regclass('raw.weekly_forms') is not null,"
                    " to_regclass('marts.dim_admin_unit') is not null, to_regclass('raw.deliveries') is not null,"
                    " exists (select 1 from information_schema.columns where table_schema = 'raw'"
                    " and table_name = 'landed_files' and column_name = 'withdrawn_at')")
        has_files, has_forms, has_units, has_deliveries, has_withdrawal = cur.fetchone()
        if not has_files:
            return []
        sql = SOURCE_FILES_SQL.format(not_withdrawn="and withdrawn_at is null" if has_withdrawal else "",
                                      redeliveries=REDELIVERIES_SQL if has_deliveries else "")
        if not (has_forms and has_units):   # older warehouses: the national extracts only
            sql = sql.replace("from marts.dim_admin_unit", "from (select null::text as map_version, null::text"
                              " as unit_code, null::text as current_province_code, null::date as valid_from,"
                              " null::date as valid_to, false as is_reporting_unit) as no_units")
            sql = sql.replace("join raw.weekly_forms as f", "join (select null::bigint as file_id, null::text"
                              " as week_key, null::text as map_version, null::text as unit_code, null::date"
                              " as week_end) as f")
        cur.execute(sql, {"start": period.start, "end": period.end})
        rows = cur.fetchall()
    # no file_id: a warehouse-internal number, meaningless to a recipient (the SHA-256 names the file)
    return [{"sha256": sha, "source": source, "period_key": period_key,
             "file_date": file_date.isoformat() if file_date else None,
             "safe_name": public_name, "arrived_at": iso_utc(arrived_at), "province_code": province,
             "national": national}
            for file_id, sha, source, subject, when, period_key, file_date, arrived_at, public_name, province,
            national in rows]


def scope_source_files(files: list[dict], level: str, code: str) -> list[dict]:
    """The files that fed one scope: a province its units' files, a region those of its provinces, the
    nation all; platform extracts every scope. Each file (SHA-256 and date) once, without the locating
    keys."""
    from lensan import reference

    if level == "province":
        wanted = {code}
    elif level == "region":
        wanted = {p for (map_version, p), prov in reference.provinces().items()
                  if map_version == MAP_VERSION and prov["region_code"] == code}
    else:
        wanted = None
    out, seen = [], set()
    for f in files:
        if not f["national"] and wanted is not None and f["province_code"] not in wanted:
            continue
        key = (f["sha256"], f["file_date"])
        if key not in seen:
            seen.add(key)
            out.append({k: v for k, v in f.items() if k not in ("province_code", "national")})
    return out

"""Publication of the reports (weekly: appendix 02 of Quảng Ninh plan 201/KH-UBND; monthly, 6-monthly and
year-end: the same layout over those periods) as immutable revisions.

`publish_weekly(week_key)` reads `marts.rpt_weekly_report` for the week and writes, for every scope
(each province, each region, the nation) found there:

    LENSAN_HOME/exports/week/<week_key>/<scope_level>-<scope_code>/rev-<n>/
        bao_cao_tuan_<week_key>_<scope_level>-<scope_code>.xlsx   the template (+ sheet "Biểu đồ"), for people
        bao_cao_tuan_<week_key>_<scope_level>-<scope_code>.csv    UTF-8 with BOM, ';', decimal comma
        bao_cao_tuan_<week_key>_<scope_level>-<scope_code>.json   machine form, numbers as numbers
                                                                  (docs/schemas/weekly_report.schema.json)
        manifest.json                                             period, scope, revision, SHA-256s …
    LENSAN_HOME/exports/week/<week_key>/index.json                what was published / unchanged / blocked
    LENSAN_HOME/exports/week/<week_key>/tom_tat_<week_key>.html   one-page summary (inline SVG charts)

`publish_period(period_type, period_key)` does the same for 'month' ('2026-11'), 'half_year'
('2026-H1') and 'year' ('2026') from `marts.fct_indicator_values` (provinces on post-2025 boundaries,
regions, the nation; platform 'all') into exports/<period_type>/<period_key>/…, files
bao_cao_thang_… / bao_cao_6_thang_… / bao_cao_nam_… (docs/schemas/period_report.schema.json);
'week' is publish_weekly.

Revisions are immutable. A scope's content is the CSV + JSON bytes (both deterministic); when it
equals the latest revision's content nothing is written (status `unchanged`), otherwise rev n+1 is
written next to the older ones, with the changed rows (indicator_code, old/new values) listed in its
manifest. The XLSX is deterministic too apart from generated_at (workbook properties and zip entry
times are set from it), but revisions are compared on the CSV/JSON content hash only. The summary
HTML and index.json describe the latest state and are rewritten on every run.

Scopes in `blocked_scopes` ("province-22" → reason), and those a gate summary marks as blocked, are
not written; the summary, index.json and the HTML list them with their reasons, and their numbers are
left out of the per-province charts of the other scopes. Every written revision is recorded in
`ops.publications` and, in the same transaction, every row it published in `ops.published_values`
(period, scope, indicator, revision, published_at = generated_at, the values): the dbt mart
`marts.fct_indicator_values_asof_deadline` reads it to reproduce what stood at each deadline.

Monthly reports also carry the platforms' statistics per product type (DOMAIN §6) from
`marts.fct_product_type_monthly` (when that mart exists): a sheet `Thống kê theo loại sản phẩm` in the
XLSX, `product_types` in the JSON and a second CSV `<base>_loai_san_pham.csv`.
"""

from __future__ import annotations

import calendar
import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from lensan import settings

from lensan.calendar import periods

from lensan.db import warehouse
from lensan.db.locks import file_lock
from lensan.settings import NATION_CODE

ISSUING_BODY = "BỘ NÔNG NGHIỆP VÀ MÔI TRƯỜNG"
SYSTEM_LINE = "Hệ thống giám sát Chương trình 1034 (lensan)"
TEMPLATE_LINE = ("Mẫu Phụ lục 02 — Kế hoạch số 201/KH-UBND ngày 18/10/2021 của UBND tỉnh Quảng Ninh "
                 "(báo cáo trước 14h00 thứ 5 hằng tuần)")
TITLE = "BÁO CÁO TUẦN"

HEADINGS = (
    "TT",
    "Chỉ tiêu",
    "Đơn vị tính",
    "Chỉ tiêu đạt được trong tuần (Số lượng)",
    "Tăng trưởng so với tuần trước (%)",
    "Chỉ tiêu đạt được lũy kế đến hiện tại (Số lượng)",
    "Tỉ lệ hoàn thành chỉ tiêu đến thời điểm hiện tại (%)",
    "Ghi chú thông tin bổ sung",
)
# the values of columns D–G
VALUE_FIELDS = ("value_in_week", "growth_pct", "cumulative_value", "target_attainment_pct")
COMPARED_FIELDS = VALUE_FIELDS + ("target_value", "is_sample_target", "notes", "quality_flags",
                                  "indicator_label_vi", "unit_vi")

SECTION_TITLES = {
    "II": "Chỉ tiêu hỗ trợ đưa hộ SXNN lên sàn TMĐT",
    "III": "Chỉ tiêu hỗ trợ đẩy mạnh tiêu thụ sản phẩm nông nghiệp",
    "IV": "Chỉ tiêu hỗ trợ cung cấp thông tin, nguyên liệu đầu vào phục vụ sản xuất, kinh doanh",
    "N": "Chỉ tiêu chung của Chương trình (Quyết định 1034/QĐ-BTTTT)",
}
COMPLETENESS_FIELDS = ("expected", "received", "on_time", "late", "missing", "received_pct")
COMPLETENESS_HEADINGS = ("Số đơn vị phải báo cáo", "Số đơn vị đã báo cáo", "Đúng hạn", "Muộn",
                         "Chưa báo cáo", "Tỉ lệ đã báo cáo (%)")
SECTION_NUMERALS = {"I": "I", "II": "II", "III": "III", "IV": "IV", "N": "V"}
COLUMN_WIDTHS = (6, 50, 12, 14, 13, 14, 14, 44)   # A–H of the report sheet (fits A4 landscape)
SCOPE_ORDER = {"nation": 0, "region": 1, "province": 2}
SCOPE_LEVEL_VI = {"nation": "Toàn quốc", "region": "Vùng", "province": "Tỉnh/thành phố"}
NATION_NAME = "Toàn quốc"
MAP_VERSION = "post2025"   # periodic reports: provinces on today's boundaries
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PLATFORM_NOTE = ("Hộ bán trên cả hai sàn (postmart.vn, voso.vn) được đếm một lần trong tổng; số liệu theo "
                 "từng sàn có thể có tổng lớn hơn tổng chung. \"Chưa báo cáo\" (ô trống) khác với 0.")
PERIOD_TYPES = ("week", "month", "half_year", "year")
PRODUCT_SHEET = "Thống kê theo loại sản phẩm"
PRODUCT_FIELDS = ("platform", "product_group", "product_type", "orders", "volume_t", "revenue_vnd")
PRODUCT_HEADINGS = ("Sàn", "Nhóm sản phẩm", "Loại sản phẩm", "Số đơn hàng thành công", "Sản lượng (tấn)",
                    "Doanh thu (VNĐ)")
PLATFORM_VI = {"all": "Cả hai sàn", "postmart": "postmart.vn", "voso": "voso.vn"}
PRODUCT_GROUP_VI = {"agricultural": "Nông sản", "input": "Đầu vào", "unknown": "Không rõ"}
PERIOD_TYPE_VI = {"week": "tuần", "month": "tháng", "half_year": "6 tháng", "year": "năm"}
_KEY_PATTERNS = {
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "half_year": re.compile(r"^(\d{4})-H([12])$"),
    "year": re.compile(r"^(\d{4})$"),
}


class NothingToPublish(LookupError):
    """The mart has no rows for the requested period."""


@dataclass(frozen=True)
class Period:
    """One reporting period and the wording of its report."""
    type: str
    key: str
    start: dt.date
    end: dt.date
    deadline_at: dt.datetime | None = None

    @property
    def year(self) -> int:
        return self.end.year

    @property
    def title(self) -> str:
        if self.type == "week":
            return TITLE
        if self.type == "month":
            return f"BÁO CÁO THÁNG {self.end.month}/{self.year}"
        if self.type == "half_year":
            return f"BÁO CÁO 6 THÁNG {'ĐẦU' if self.end.month == 6 else 'CUỐI'} NĂM {self.year}"
        return f"BÁO CÁO NĂM {self.year}"

    @property
    def label(self) -> str:
        """The period line under the title, e.g. 'Tuần 47/2026 (từ ngày 16/11/2026 đến ngày 22/11/2026)'."""
        span = f"(từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y})"
        if self.type == "week":
            year, week = self.key.split("-W")
            return f"Tuần {int(week)}/{year} {span}"
        if self.type == "month":
            return f"Tháng {self.end.month}/{self.year} {span}"
        if self.type == "half_year":
            return f"6 tháng {'đầu' if self.end.month == 6 else 'cuối'} năm {self.year} {span}"
        return f"Năm {self.year} {span}"

    @property
    def template_line(self) -> str:
        if self.type == "week":
            return TEMPLATE_LINE
        line = ("Bố cục theo Mẫu Phụ lục 02 — Kế hoạch số 201/KH-UBND ngày 18/10/2021 của UBND tỉnh Quảng Ninh; "
                f"kỳ báo cáo {PERIOD_TYPE_VI[self.type]}")
        if self.deadline_at is not None:
            local = self.deadline_at.astimezone(settings.LOCAL_TZ)
            if local.time() == dt.time(0, 0):
                line += f" (hạn: hết ngày {local.date() - dt.timedelta(days=1):%d/%m/%Y})"
            else:
                line += f" (hạn: trước {local:%Hh%M} ngày {local:%d/%m/%Y})"
        return line

    @property
    def file_prefix(self) -> str:
        return {"week": "bao_cao_tuan", "month": "bao_cao_thang", "half_year": "bao_cao_6_thang",
                "year": "bao_cao_nam"}[self.type]

    @property
    def sheet_title(self) -> str:
        return {"week": "Báo cáo tuần", "month": "Báo cáo tháng", "half_year": "Báo cáo 6 tháng",
                "year": "Báo cáo năm"}[self.type]

    @property
    def value_field(self) -> str:
        return "value_in_week" if self.type == "week" else "value_in_period"

    @property
    def value_fields(self) -> tuple[str, ...]:
        return (self.value_field,) + VALUE_FIELDS[1:]

    @property
    def headings(self) -> tuple[str, ...]:
        if self.type == "week":
            return HEADINGS
        noun = PERIOD_TYPE_VI[self.type]
        previous = {"month": "tháng trước", "half_year": "6 tháng trước", "year": "năm trước"}[self.type]
        return (HEADINGS[0], HEADINGS[1], HEADINGS[2],
                f"Chỉ tiêu đạt được trong {noun} (Số lượng)",
                f"Tăng trưởng so với {previous} (%)",
                f"Chỉ tiêu đạt được lũy kế đến cuối kỳ báo cáo (Số lượng)",
                f"Tỉ lệ hoàn thành chỉ tiêu năm {self.year} đến cuối kỳ báo cáo (%)",
                HEADINGS[7])


def period_bounds(period_type: str, period_key: str) -> tuple[dt.date, dt.date]:
    """First and last day of a period key ('2026-W47', '2026-11', '2026-H1', '2026'); ValueError if malformed."""
    pattern = _KEY_PATTERNS.get(period_type)
    if pattern is None:
        raise ValueError(f"unknown period type {period_type!r} (expected one of {', '.join(PERIOD_TYPES)})")
    match = pattern.match(period_key or "")
    if not match:
        raise ValueError(f"not a {period_type} key: {period_key!r}")
    if period_type == "week":
        return periods.week_bounds(period_key)
    year = int(match[1])
    if period_type == "month":
        month = int(match[2])
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    if period_type == "half_year":
        return (dt.date(year, 1, 1), dt.date(year, 6, 30)) if match[2] == "1" else (dt.date(year, 7, 1),
                                                                                    dt.date(year, 12, 31))
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def period_deadline(period_type: str, period_key: str) -> dt.datetime:
    """Same rule as int_calendar__periods (dbt): week Thursday 14:00 after the week; month end of the 3rd day of
    the next month; half-year 10 days after it; year 15 December (local time)."""
    start, end = period_bounds(period_type, period_key)
    if period_type == "week":
        return periods.weekly_deadline(period_key)
    if period_type == "year":
        day = dt.date(start.year, 12, 15)
    else:
        day = end + dt.timedelta(days=4 if period_type == "month" else 11)
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=settings.LOCAL_TZ)


@dataclass
class ScopePublication:
    scope_key: str
    scope_level: str
    scope_code: str
    scope_name: str
    status: str                    # new | unchanged | blocked
    revision: int | None = None
    path: str | None = None
    content_hash: str | None = None
    reason: str | None = None
    changed_rows: int = 0


@dataclass
class PublishSummary:
    period_type: str
    week_key: str                  # the period key (name kept from the weekly-only version)
    generated_at: str
    export_dir: str
    index_path: str
    gate_status: str | None
    published: list[dict] = field(default_factory=list)   # new revisions
    unchanged: list[dict] = field(default_factory=list)   # content equal to the latest revision
    blocked: dict[str, str] = field(default_factory=dict)  # scope key → reason
    summary_html: str | None = None                        # exports/<type>/<key>/tom_tat_<key>.html
    completeness: dict[str, dict] = field(default_factory=dict)  # scope key → reporting completeness

    @property
    def period_key(self) -> str:
        return self.week_key

    @property
    def scopes(self) -> list[dict]:
        return self.published + self.unchanged


# --------------------------------------------------------------------------------------------
# public API


def publish_weekly(week_key: str, gate_summary: dict | None = None,
                   blocked_scopes: dict[str, str] | None = None,
                   logical_date: dt.datetime | None = None,
                   generated_at: dt.datetime | None = None) -> PublishSummary:
    """Publish the weekly report of `week_key` for every province, region and the nation.

    `gate_summary` is the marts gate summary (lensan.quality.gate.run_checkpoint); its status goes into every
    manifest and its warnings flag the affected rows. `blocked_scopes` ("province-22" → reason) are
    not written. `logical_date` is accepted for the DAG (the week is already resolved from it);
    `generated_at` (UTC) defaults to now.
    """
    periods.week_bounds(week_key)   # ValueError on a malformed key, as before
    return publish_period("week", week_key, gate_summary=gate_summary, blocked_scopes=blocked_scopes,
                          logical_date=logical_date, generated_at=generated_at)


def publish_period(period_type: str, period_key: str, gate_summary: dict | None = None,
                   blocked_scopes: dict[str, str] | None = None,
                   logical_date: dt.datetime | None = None,
                   generated_at: dt.datetime | None = None) -> PublishSummary:
    """Publish the report of one period for every province (post-2025 map), region and the nation.

    period_type 'week' reads marts.rpt_weekly_report (with the completeness annex); 'month',
    'half_year' and 'year' read marts.fct_indicator_values (platform 'all'), with the target
    attainment for the period's year. Raises NothingToPublish when the mart has no rows for it.
    """
    start, end = period_bounds(period_type, period_key)
    now = (generated_at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    blocked = dict((gate_summary or {}).get("blocked_scopes") or {})
    blocked.update(blocked_scopes or {})

    conn = warehouse.connect()
    try:
        ensure_ops_schema(conn)
        deadline = _deadline_from_mart(conn, period_type, period_key) or period_deadline(period_type, period_key)
        period = Period(period_type, period_key, start, end, deadline)
        if period_type == "week":
            rows = _read_report(conn, period_key)
            completeness = _completeness(conn, period_key, start, end) if rows else {}
        else:
            rows = _read_period_facts(conn, period)
            completeness = {}
        product_types = _read_product_types(conn, period) if period_type == "month" else None
        landed = _landed_files(conn)
        conn.commit()
    finally:
        conn.close()
    if not rows:
        if period_type == "week":
            raise NothingToPublish(
                f"Không có dữ liệu marts.rpt_weekly_report cho tuần {period_key} / "
                f"no rows in marts.rpt_weekly_report for week {period_key}")
        raise NothingToPublish(_no_period_rows_message(period))

    scopes: dict[str, list[dict]] = {}
    for row in rows:
        scopes.setdefault(f"{row['scope_level']}-{row['scope_code']}", []).append(row)
    ordered = sorted(scopes, key=lambda k: (SCOPE_ORDER.get(scopes[k][0]["scope_level"], 9), k))
    provinces = _province_values(scopes, blocked)

    period_dir = settings.home_dir("exports") / period_type / period_key
    period_dir.mkdir(parents=True, exist_ok=True)
    gate_compact = _compact_gate(gate_summary)
    summary = PublishSummary(period_type=period_type, week_key=period_key, generated_at=_iso(now),
                             export_dir=str(period_dir), index_path=str(period_dir / "index.json"),
                             gate_status=(gate_summary or {}).get("status"),
                             completeness={k: v for k, v in completeness.items() if k not in blocked})
    with file_lock(period_dir / ".lock"):
        for key in ordered:
            if key in blocked:
                summary.blocked[key] = blocked[key]
                continue
            pub = _publish_scope(period_dir, period, key, scopes[key], now, gate_summary, gate_compact, landed,
                                 completeness.get(key), provinces,
                                 None if product_types is None else product_types.get(key, []))
            (summary.published if pub.status == "new" else summary.unchanged).append(dict(pub.__dict__))
        for key, reason in blocked.items():  # blocked scopes that have no rows this period too
            summary.blocked.setdefault(key, reason)
        _write_index(period_dir, summary, scopes)
        summary.summary_html = str(_write_summary_html(period_dir, period, summary, scopes, provinces))
    return summary


# --------------------------------------------------------------------------------------------
# reading


def _read_report(conn, week_key: str) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute("select * from marts.rpt_weekly_report where week_key = %s"
                    " order by scope_level, scope_code, sort_order, indicator_code", (week_key,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def _deadline_from_mart(conn, period_type: str, period_key: str) -> dt.datetime | None:
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
    select scope_level, scope_code, indicator_code, value_in_period, growth_pct, cumulative_value,
           target_year, target_value, target_attainment_pct, is_sample_target
    from marts.fct_indicator_values
    where period_type = %(type)s and period_key = %(key)s and platform = 'all' and map_version = %(map)s
      and scope_level in ('province', 'region', 'nation')
    order by scope_level, scope_code, indicator_code
"""


def _read_period_facts(conn, period: Period) -> list[dict]:
    """Rows of marts.fct_indicator_values for a month/half-year/year, in the shape of the weekly report
    rows (section, tt, labels from the indicator catalogue; scope names from the province reference)."""
    from lensan import reference

    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_indicator_values') is not null")
        if not cur.fetchone()[0]:
            return []
        cur.execute("select exists (select 1 from information_schema.columns where table_schema = 'marts'"
                    " and table_name = 'fct_indicator_values' and column_name = 'notes')")
        has_notes = cur.fetchone()[0]
        sql = PERIOD_FACTS_SQL.replace("is_sample_target\n", "is_sample_target, notes\n", 1) if has_notes \
            else PERIOD_FACTS_SQL
        cur.execute(sql, {"type": period.type, "key": period.key, "map": MAP_VERSION})
        names = [d[0] for d in cur.description]
        facts = [dict(zip(names, r)) for r in cur.fetchall()]
    catalogue = {i.code: i for i in reference.indicators()}
    scope_names = _scope_names()
    rows = []
    for fact in facts:
        ind = catalogue.get(fact["indicator_code"])
        if ind is None or fact["indicator_code"].startswith("_"):
            continue
        rows.append(fact | {
            "scope_name": scope_names.get((fact["scope_level"], fact["scope_code"]), fact["scope_code"]),
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


def _read_product_types(conn, period: Period) -> dict[str, list[dict]] | None:
    """Scope key -> per-product-type rows of the month (marts.fct_product_type_monthly); None when the
    mart does not exist (then the monthly files carry no product statistics)."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_product_type_monthly') is not null")
        if not cur.fetchone()[0]:
            return None
        cur.execute(PRODUCT_TYPES_SQL, {"key": period.key, "map": MAP_VERSION})
        names = [d[0] for d in cur.description]
        out: dict[str, list[dict]] = {}
        for values in cur.fetchall():
            row = dict(zip(names, values))
            out.setdefault(f"{row['scope_level']}-{row['scope_code']}", []).append(
                {f: (_number(row[f]) if f in ("orders", "volume_t", "revenue_vnd") else row[f])
                 for f in PRODUCT_FIELDS})
        return out


def render_product_csv(product_rows: list[dict]) -> bytes:
    """The per-product-type statistics of a monthly report: UTF-8 with BOM, ';', decimal comma."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(PRODUCT_HEADINGS)
    for row in product_rows:
        writer.writerow([PLATFORM_VI.get(row["platform"], row["platform"]),
                         PRODUCT_GROUP_VI.get(row["product_group"], row["product_group"]),
                         neutralise(row["product_type"]), _csv_number(row["orders"]),
                         _csv_number(row["volume_t"]), _csv_number(row["revenue_vnd"])])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _scope_names() -> dict[tuple[str, str], str]:
    from lensan import reference

    names = {("nation", NATION_CODE): NATION_NAME}
    for (map_version, code), prov in reference.provinces().items():
        if map_version != MAP_VERSION:
            continue
        names[("province", code)] = prov["province_name"]
        names[("region", prov["region_code"])] = prov["region_name"]
    return names


def _no_period_rows_message(period: Period) -> str:
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


def _province_values(scopes: dict[str, list[dict]], blocked: dict[str, str]):
    """Headline-indicator attainment of every published province, for the per-province charts."""
    from lensan import reference
    from lensan.publish.render import charts

    refs = reference.provinces()
    out = []
    for key in sorted(k for k in scopes if k.startswith("province-")):
        if key in blocked:
            continue
        rows = scopes[key]
        code = rows[0]["scope_code"]
        ref = refs.get((MAP_VERSION, code)) or {}
        values = {r["indicator_code"]: _number(r.get("target_attainment_pct")) for r in rows
                  if r.get("indicator_code") in charts.HEADLINE_INDICATORS}
        out.append(charts.ProvinceValues(code, ref.get("province_short_name") or rows[0].get("scope_name") or code,
                                         ref.get("region_code"), values))
    return out


def _completeness(conn, week_key: str, week_start: dt.date, week_end: dt.date) -> dict[str, dict]:
    """Reporting completeness per scope key: expected units (the week's map), received, on time,
    late, missing, and the late and missing units by code and name — from marts.rpt_reporting_completeness
    and marts.fct_reporting_completeness (dbt models/marts/quality). Falls back to the counts from
    marts.dim_admin_unit and marts.fct_reported_values when those marts are absent; {} when all are."""
    from lensan.reference import map_version_for

    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.rpt_reporting_completeness') is not null"
                    " and to_regclass('marts.fct_reporting_completeness') is not null")
        if cur.fetchone()[0]:
            return _completeness_from_marts(conn, week_key)
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


def _completeness_from_marts(conn, week_key: str) -> dict[str, dict]:
    """The completeness annex from the quality marts. Provinces list every late / missing unit; regions
    and the nation list those of provinces that reported, and name the provinces where no unit
    reported at all (`silent_provinces`) instead of listing their units one by one."""
    with conn.cursor() as cur:
        cur.execute("select scope_level, scope_code, expected_units, received_units, on_time_units, late_units,"
                    " missing_units, received_pct from marts.rpt_reporting_completeness where week_key = %s",
                    (week_key,))
        result = {}
        for level, code, expected, received, on_time, late, missing, pct in cur.fetchall():
            result[f"{level}-{code}"] = {
                "expected": expected, "received": received, "on_time": on_time, "late": late,
                "missing": missing, "received_pct": float(pct) if pct is not None else None,
                "late_units": [], "missing_units": [], "silent_provinces": []}
        cur.execute(
            """
            select current_province_code, current_province_name, region_code, unit_code, unit_name,
                   reporting_status, first_received_at, hours_late,
                   count(*) filter (where is_received) over (partition by current_province_code) as province_received,
                   count(*) over (partition by current_province_code) as province_expected
            from marts.fct_reporting_completeness
            where week_key = %s
            order by current_province_code, unit_code
            """, (week_key,))
        silent_seen = set()
        for (province, province_name, region, unit, unit_name, status, received_at, hours_late,
             province_received, province_expected) in cur.fetchall():
            if status == "on_time":
                continue
            keys = [f"province-{province}", f"region-{region}", f"nation-{NATION_CODE}"]
            if status == "late":
                item = {"unit_code": unit, "unit_name": unit_name, "province_code": province,
                        "received_at": _iso(received_at),
                        "hours_late": float(hours_late) if hours_late is not None else None}
                for key in keys:
                    if key in result:
                        result[key]["late_units"].append(item)
                continue
            item = {"unit_code": unit, "unit_name": unit_name, "province_code": province}
            for key in keys:
                if key not in result:
                    continue
                if key.startswith("province-") or province_received:
                    result[key]["missing_units"].append(item)
                elif (key, province) not in silent_seen:
                    silent_seen.add((key, province))
                    result[key]["silent_provinces"].append(
                        {"province_code": province, "province_name": province_name, "expected": province_expected})
        return result


def _landed_files(conn) -> list[dict]:
    """Every loaded raw file up to now (the publication may depend on any of them)."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('raw.landed_files') is not null")
        if not cur.fetchone()[0]:
            return []
        cur.execute("select file_id, source, original_name, sha256, arrived_at from raw.landed_files"
                    " where status = 'loaded' order by file_id")
        return [{"file_id": r[0], "source": r[1], "original_name": r[2], "sha256": r[3],
                 "arrived_at": _iso(r[4])} for r in cur.fetchall()]


# --------------------------------------------------------------------------------------------
# one scope


def _publish_scope(period_dir: Path, period: Period, key: str, raw_rows: list[dict], now: dt.datetime,
                   gate_summary: dict | None, gate_compact: dict | None, landed: list[dict],
                   completeness: dict | None = None, provinces: list | None = None,
                   product_types: list[dict] | None = None) -> ScopePublication:
    first = raw_rows[0]
    level, code = first["scope_level"], first["scope_code"]
    name = first.get("scope_name") or key
    rows = [_clean_row(r, key, gate_summary, period.value_field) for r in sorted(raw_rows, key=_row_order)]
    base = f"{period.file_prefix}_{period.key}_{key}"
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
    if product_types is not None:   # monthly report: per-platform statistics by product type
        payload["product_types"] = product_types
    json_bytes = (json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")
    csv_bytes = render_csv(rows, period)
    product_csv = render_product_csv(product_types) if product_types else None
    content_hash = hashlib.sha256(b"csv\0" + csv_bytes + b"\0json\0" + json_bytes
                                  + (b"\0products\0" + product_csv if product_csv else b"")).hexdigest()

    scope_dir = period_dir / key
    scope_dir.mkdir(parents=True, exist_ok=True)
    latest = _latest_revision(scope_dir)
    if latest is not None:
        manifest = json.loads((scope_dir / f"rev-{latest}" / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("content_hash") == content_hash:
            return ScopePublication(key, level, code, name, "unchanged", latest,
                                    str(scope_dir / f"rev-{latest}"), content_hash)
    revision = (latest or 0) + 1
    changes = (_changes(scope_dir / f"rev-{latest}" / f"{base}.json", rows,
                        period.value_fields + COMPARED_FIELDS[len(VALUE_FIELDS):]) if latest else [])

    if level == "nation":
        scope_provinces = provinces
    elif level == "region":
        scope_provinces = [p for p in provinces or [] if p.region_code == code]
    else:
        scope_provinces = None
    tmp = Path(tempfile.mkdtemp(prefix=f".rev-{revision}-", dir=scope_dir))
    try:
        (tmp / f"{base}.json").write_bytes(json_bytes)
        (tmp / f"{base}.csv").write_bytes(csv_bytes)
        xlsx_bytes = render_xlsx(period.key, period.start, period.end, level, code, name, rows, revision, now,
                                 gate_summary, completeness, period=period, provinces=scope_provinces,
                                 product_types=product_types)
        (tmp / f"{base}.xlsx").write_bytes(xlsx_bytes)
        files = [{"name": f"{base}.{ext}", "format": ext, "bytes": len(data),
                  "sha256": hashlib.sha256(data).hexdigest()}
                 for ext, data in (("xlsx", xlsx_bytes), ("csv", csv_bytes), ("json", json_bytes))]
        if product_csv:
            (tmp / f"{base}_loai_san_pham.csv").write_bytes(product_csv)
            files.append({"name": f"{base}_loai_san_pham.csv", "format": "csv", "bytes": len(product_csv),
                          "sha256": hashlib.sha256(product_csv).hexdigest(), "content": "product_types"})
        manifest = {
            "period_type": period.type, "period_key": period.key,
            "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
            "deadline_at": period.deadline_at.isoformat() if period.deadline_at else None,
            "scope_level": level, "scope_code": code, "scope_name": name, "scope_key": key,
            "revision": revision, "previous_revision": latest,
            "generated_at": _iso(now),
            "content_hash": content_hash,
            "row_counts": {"indicator_rows": len(rows), "json_rows": len(rows),
                           "csv_data_rows": len(list(csv.reader(io.StringIO(csv_bytes[3:].decode("utf-8")),
                                                                delimiter=";"))) - 1,
                           "section_rows": sum(1 for s_, rs in _section_blocks(rows) if not _is_own_row(s_, rs)),
                           "reported_rows": sum(1 for r in rows if r[period.value_field] is not None
                                                or r["cumulative_value"] is not None)}
                          | ({"product_type_rows": len(product_types)} if product_types is not None else {}),
            "files": files,
            "gate": gate_compact,
            "quality_flags": sorted({f for r in rows for f in r["quality_flags"]}),
            "changes": changes,
            "source_files": landed,
            "source_file_count": len(landed),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
        for path in tmp.iterdir():
            os.chmod(path, 0o444)
        final = scope_dir / f"rev-{revision}"
        os.rename(tmp, final)  # atomic: a revision directory is either complete or absent
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest_sha = hashlib.sha256((final / "manifest.json").read_bytes()).hexdigest()
    _record(period.key, level, code, revision, final, content_hash, manifest_sha, now,
            (gate_summary or {}).get("status"), len(changes), period_type=period.type,
            rows=rows, value_field=period.value_field)
    return ScopePublication(key, level, code, name, "new", revision, str(final), content_hash,
                            changed_rows=len(changes))


def _row_order(row: dict):
    return (row.get("sort_order") if row.get("sort_order") is not None else 999, row.get("indicator_code") or "")


FIRST_ROW_INDICATOR = "ocop_listed"   # row I: scope-wide quality flags go there (as in rpt_weekly_report)


def _clean_row(row: dict, scope_key: str, gate_summary: dict | None, value_field: str = "value_in_week") -> dict:
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
        value_field: _number(row.get(value_field)),
        "growth_pct": _number(row.get("growth_pct")),
        "cumulative_value": _number(row.get("cumulative_value")),
        "target_value": _number(row.get("target_value")),
        "target_attainment_pct": _number(row.get("target_attainment_pct")),
        "is_sample_target": bool(row["is_sample_target"]) if row.get("is_sample_target") is not None else None,
        "notes": row.get("notes") or None,
        "quality_flags": flags,
    }


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


def _number(value: Any) -> int | float | None:
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


def _latest_revision(scope_dir: Path) -> int | None:
    revisions = [int(m[1]) for p in scope_dir.iterdir()
                 if p.is_dir() and (m := re.fullmatch(r"rev-(\d+)", p.name)) and (p / "manifest.json").exists()]
    return max(revisions) if revisions else None


def _changes(previous_json: Path, rows: list[dict], compared: tuple[str, ...] = COMPARED_FIELDS) -> list[dict]:
    """Rows that differ from the previous revision: indicator_code + old/new of each changed field."""
    try:
        old_rows = json.loads(previous_json.read_text(encoding="utf-8"))["rows"]
    except (OSError, ValueError, KeyError):
        return []
    old = {r["indicator_code"]: r for r in old_rows}
    new = {r["indicator_code"]: r for r in rows}
    changes = []
    for code in list(new) + [c for c in old if c not in new]:
        before, after = old.get(code), new.get(code)
        if before is None or after is None:
            changes.append({"indicator_code": code, "change": "added" if before is None else "removed",
                            "old": before, "new": after})
            continue
        fields = {f: {"old": before.get(f), "new": after.get(f)}
                  for f in compared if before.get(f) != after.get(f)}
        if fields:
            changes.append({"indicator_code": code, "change": "changed",
                            "label": after.get("indicator_label_vi"), "fields": fields})
    return changes


# --------------------------------------------------------------------------------------------
# formats


def neutralise(text: str | None) -> str | None:
    """Formula-injection guard for spreadsheet text: a leading = + - @ (tab, CR) gets an apostrophe."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def vn_number(value: int | float | None, decimals: int | None = None) -> str:
    """1234.5 → '1.234,5' (Vietnamese: thousands '.', decimal ',')."""
    if value is None:
        return ""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def _csv_number(value: int | float | None) -> str:
    """CSV numbers for a Vietnamese Excel: decimal comma, no thousands separator."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value)).replace(".", ",")


def _display_tt(row: dict) -> str:
    return SECTION_NUMERALS.get(row["tt"], row["tt"]) if row.get("section") == row.get("tt") else (row.get("tt") or "")


def _notes_text(row: dict) -> str | None:
    parts = []
    if row.get("notes"):
        parts.append(row["notes"])
    if row.get("target_value") is not None:
        sample = " (số liệu mẫu)" if row.get("is_sample_target") else ""
        parts.append(f"Chỉ tiêu năm{sample}: {vn_number(row['target_value'])} {row.get('unit_vi') or ''}".rstrip())
    if row.get("quality_flags"):
        parts.append("Cảnh báo chất lượng: " + "; ".join(row["quality_flags"]))
    return "\n".join(parts) if parts else None


def render_csv(rows: list[dict], period: Period | None = None) -> bytes:
    """UTF-8 with BOM, ';' separator (Vietnamese Excel), the 8 template headings, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(period.headings if period else HEADINGS)
    value_field = period.value_field if period else "value_in_week"
    for section, section_rows in _section_blocks(rows):
        if not _is_own_row(section, section_rows):
            writer.writerow([SECTION_NUMERALS.get(section, section), SECTION_TITLES.get(section, section),
                             "", "", "", "", "", ""])
        for row in section_rows:
            writer.writerow(_csv_cells(row, value_field))
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _csv_cells(row: dict, value_field: str = "value_in_week") -> list[str]:
    return [
            neutralise(_display_tt(row)),
            neutralise(row["indicator_label_vi"]),
            neutralise(row["unit_vi"]),
            _csv_number(row[value_field]),
            _csv_number(row["growth_pct"]),
            _csv_number(row["cumulative_value"]),
            _csv_number(row["target_attainment_pct"]),
            neutralise(_notes_text(row)) or "",
    ]


def _is_own_row(section: str, section_rows: list[dict]) -> bool:
    """Section I of the template is itself an indicator row (ocop_listed): no separate header row."""
    return len(section_rows) == 1 and section_rows[0].get("tt") == section


def _section_blocks(rows: list[dict]):
    """(section, rows) in template order; section I is itself the ocop_listed row."""
    order = []
    for row in rows:
        if row.get("section") not in order:
            order.append(row.get("section"))
    for section in order:
        yield section, [r for r in rows if r.get("section") == section]


def render_xlsx(week_key: str, week_start: dt.date, week_end: dt.date, level: str, code: str, name: str,
                rows: list[dict], revision: int, generated_at: dt.datetime, gate_summary: dict | None,
                completeness: dict | None = None, *, period: Period | None = None,
                provinces: list | None = None, product_types: list[dict] | None = None) -> bytes:
    """The report workbook: sheet 1 the appendix-02 layout, sheet 2 `Biểu đồ` (charts).

    `week_key` is the period key (a week unless `period` says otherwise); `provinces`
    (lensan.publish.render.charts.ProvinceValues) adds the per-province chart (national and region workbooks)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.properties import PageSetupProperties

    from lensan.publish.render import charts

    if period is None:
        period = Period("week", week_key, week_start, week_end)
    value_field = period.value_field
    wb = Workbook()
    ws = wb.active
    ws.title = period.sheet_title
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    top_left = Alignment(horizontal="left", vertical="top", wrap_text=True)
    font = "Times New Roman"

    def text_cell(row, col, value, **style):
        cell = ws.cell(row=row, column=col)
        if value is not None:
            cell.value = str(value)
            cell.data_type = "s"  # never a formula
            if str(value).startswith(FORMULA_PREFIXES):
                cell.quotePrefix = True  # Excel keeps it literal text, also when edited
        for key, val in style.items():
            setattr(cell, key, val)
        return cell

    def banner(row, value, size=12, bold=False, italic=False):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=8)
        text_cell(row, 1, value, font=Font(name=font, size=size, bold=bold, italic=italic), alignment=center)

    banner(1, ISSUING_BODY, bold=True)
    banner(2, f"{SYSTEM_LINE} — {SCOPE_LEVEL_VI.get(level, level)}: {name} (mã {code})")
    banner(3, period.title, size=14, bold=True)
    banner(4, period.label, bold=True)
    banner(5, f"Phạm vi báo cáo: {name}")
    banner(6, period.template_line, size=10, italic=True)
    ws.row_dimensions[3].height = 22

    header_row = 8
    fill = PatternFill("solid", fgColor="D9E1F2")
    for col, heading in enumerate(period.headings, start=1):
        text_cell(header_row, col, heading, font=Font(name=font, size=11, bold=True), alignment=center,
                  border=border, fill=fill)
    ws.row_dimensions[header_row].height = max(60.0, 4 + 14.0 * max(
        _wrapped_lines(h, w * 1.05) for h, w in zip(period.headings, COLUMN_WIDTHS)))

    r = header_row + 1
    body_font = Font(name=font, size=11)
    bold_font = Font(name=font, size=11, bold=True)
    for section, section_rows in _section_blocks(rows):
        if not _is_own_row(section, section_rows):
            text_cell(r, 1, SECTION_NUMERALS.get(section, section), font=bold_font, alignment=center,
                      border=border)
            text_cell(r, 2, SECTION_TITLES.get(section, section), font=bold_font, alignment=left, border=border)
            for col in range(3, 9):
                ws.cell(row=r, column=col).border = border
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=8)
            r += 1
        for row in section_rows:
            own = row.get("tt") == section
            fnt = bold_font if own else body_font
            text_cell(r, 1, _display_tt(row), font=fnt, alignment=center, border=border)
            text_cell(r, 2, row["indicator_label_vi"], font=fnt, alignment=left, border=border)
            text_cell(r, 3, row["unit_vi"], font=body_font, alignment=center, border=border)
            for col, fld in zip((4, 5, 6, 7), period.value_fields):
                cell = ws.cell(row=r, column=col)
                value = row[fld]
                cell.value = value
                cell.font = body_font
                cell.border = border
                cell.alignment = Alignment(horizontal="right", vertical="center")
                if value is not None:
                    pct = fld in ("growth_pct", "target_attainment_pct")
                    cell.number_format = "#,##0.0" if pct else ("#,##0" if float(value).is_integer() else "#,##0.00")
            notes = _notes_text(row)
            text_cell(r, 8, notes, font=Font(name=font, size=10), alignment=top_left, border=border)
            # LibreOffice/Excel do not grow rows for wrapped text written by openpyxl: size them here
            height = max(13.5 * _wrapped_lines(row["indicator_label_vi"], COLUMN_WIDTHS[1] * 1.12),
                         13.5 * _wrapped_lines(row["unit_vi"], COLUMN_WIDTHS[2] * 1.12),
                         12.5 * _wrapped_lines(notes, COLUMN_WIDTHS[7] * 1.4))
            ws.row_dimensions[r].height = max(16.0, height + 3)
            r += 1

    r += 1
    gate_status = (gate_summary or {}).get("status")
    gate_vi = {"passed": "đạt", "warning": "đạt, có cảnh báo", "failed": "không đạt"}.get(gate_status or "",
                                                                                     "không chạy")
    footer = [
        f"Ghi chú: {PLATFORM_NOTE}",
        f"Kiểm tra chất lượng dữ liệu (cổng GX): {gate_vi}.",
        f"Lần công bố (revision): {revision}. Lập tự động bởi lensan lúc "
        f"{generated_at.astimezone(settings.LOCAL_TZ):%H:%M ngày %d/%m/%Y} (giờ Việt Nam).",
    ]
    for line in footer:
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=8)
        text_cell(r, 1, line, font=Font(name=font, size=10, italic=True), alignment=left)
        ws.row_dimensions[r].height = 30
        r += 1

    if completeness:
        r += 1
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=8)
        text_cell(r, 1, "PHỤ LỤC: TÌNH HÌNH GỬI BÁO CÁO TUẦN CỦA CÁC ĐƠN VỊ", font=bold_font, alignment=left)
        r += 1
        for col, heading in enumerate(COMPLETENESS_HEADINGS, start=2):
            text_cell(r, col, heading, font=bold_font, alignment=center, border=border, fill=fill)
        ws.row_dimensions[r].height = 45
        r += 1
        for col, key in enumerate(COMPLETENESS_FIELDS, start=2):
            cell = ws.cell(row=r, column=col, value=completeness.get(key))
            cell.font, cell.border = body_font, border
            cell.alignment = Alignment(horizontal="center", vertical="center")
            cell.number_format = "#,##0.0" if key == "received_pct" else "#,##0"
        r += 1
        for label, text in _completeness_unit_lines(completeness):
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=8)
            text_cell(r, 1, label, font=bold_font, alignment=left)
            text_cell(r, 2, text, font=body_font, alignment=left)
            ws.row_dimensions[r].height = max(15, 15 * _wrapped_lines(text, sum(COLUMN_WIDTHS[1:])))
            r += 1

    for col, width in zip("ABCDEFGH", COLUMN_WIDTHS):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1   # the whole report on one A4 landscape page, as the template
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5

    stamp = generated_at.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    wb.properties.creator = "lensan"
    wb.properties.lastModifiedBy = "lensan"
    charts.add_chart_sheet(wb, rows=rows, scope_name=name, period_label=f"{period.title} — {period.label}",
                           provinces=provinces, font_name=font)
    if product_types is not None:
        _add_product_sheet(wb, product_types, f"{period.title} — {period.label}", name, font)
    wb.properties.title = f"{period.title} {period.key} — {name}"
    wb.properties.created = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    return _deterministic_zip(buffer.getvalue(), stamp)


def _add_product_sheet(wb, product_types: list[dict], period_label: str, scope_name: str, font: str) -> None:
    """Sheet `Thống kê theo loại sản phẩm`: orders, tonnes and revenue per platform and product type."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    ws = wb.create_sheet(PRODUCT_SHEET)
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    title = ws.cell(row=1, column=1, value="THỐNG KÊ THEO LOẠI SẢN PHẨM TRÊN SÀN TMĐT")
    title.font = Font(name=font, size=13, bold=True)
    title.alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=6)
    ws.cell(row=2, column=1, value=f"{period_label} — {scope_name}").alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=6)
    ws.cell(row=3, column=1, value="Đơn hàng thành công theo trạng thái mới nhất (đơn hoàn/hủy không tính).").font = \
        Font(name=font, size=10, italic=True)
    header = 5
    fill = PatternFill("solid", fgColor="D9E1F2")
    for col, heading in enumerate(PRODUCT_HEADINGS, start=1):
        cell = ws.cell(row=header, column=col, value=heading)
        cell.font, cell.fill, cell.border = Font(name=font, bold=True), fill, border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(product_types, start=header + 1):
        texts = (PLATFORM_VI.get(row["platform"], row["platform"]),
                 PRODUCT_GROUP_VI.get(row["product_group"], row["product_group"]), row["product_type"])
        for col, text in enumerate(texts, start=1):
            cell = ws.cell(row=r, column=col)
            cell.value = str(text) if text is not None else None
            cell.data_type = "s"
            if cell.value and cell.value.startswith(FORMULA_PREFIXES):
                cell.quotePrefix = True
            cell.border = border
        for col, fld, fmt in ((4, "orders", "#,##0"), (5, "volume_t", "#,##0.000"), (6, "revenue_vnd", "#,##0")):
            cell = ws.cell(row=r, column=col, value=row[fld])
            cell.number_format, cell.border = fmt, border
    if not product_types:
        ws.cell(row=header + 1, column=1, value="Không có đơn hàng thành công trong tháng.")
    for col, width in zip("ABCDEF", (14, 14, 24, 16, 16, 20)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4


def _completeness_unit_lines(completeness: dict) -> list[tuple[str, str]]:
    """Rows of the completeness annex naming the late and missing units ("code name")."""
    lines = []
    late = completeness.get("late_units") or []
    if late:
        lines.append(("Báo cáo muộn", "; ".join(
            f"{u['unit_code']} {u['unit_name']}" + (f" (muộn {vn_number(u['hours_late'], 1)} giờ)"
                                                     if u.get("hours_late") is not None else "")
            for u in late)))
    missing = completeness.get("missing_units") or []
    if missing:
        lines.append(("Chưa báo cáo", "; ".join(f"{u['unit_code']} {u['unit_name']}" for u in missing)))
    silent = completeness.get("silent_provinces") or []
    if silent:
        lines.append(("Tỉnh chưa có đơn vị báo cáo", "; ".join(
            f"{p['province_name']} ({p['expected']} đơn vị)" for p in silent)))
    return lines


def _wrapped_lines(text: str | None, width_chars: float) -> int:
    """Lines a wrapped cell needs (greedy word wrap; a column width unit ≈ one character)."""
    if not text:
        return 1
    capacity = max(4, int(width_chars * 0.95))
    lines = 0
    for paragraph in str(text).split("\n"):
        used, count = 0, 1
        for word in paragraph.split():
            need = len(word) + (1 if used else 0)
            if used and used + need > capacity:
                count += 1
                used = len(word)
            else:
                used += need
        lines += count
    return lines


def _deterministic_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Rewrite the XLSX package with fixed entry times and core-property dates (= generated_at)."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + iso.encode() + rb"\2", content)
                content = re.sub(rb"(<dcterms:created[^>]*>)[^<]*(<)", rb"\g<1>" + iso.encode() + rb"\2", content)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, content)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# index, ops.publications, helpers


def _write_index(week_dir: Path, summary: PublishSummary, scopes: dict[str, list[dict]]) -> None:
    """index.json of a period folder: what was published / unchanged / blocked by the latest run."""
    entries = []
    for item in summary.published + summary.unchanged:
        entries.append({k: item[k] for k in ("scope_key", "scope_level", "scope_code", "scope_name", "status",
                                             "revision", "content_hash", "changed_rows")}
                       | {"path": os.path.relpath(item["path"], week_dir)})
    for key, reason in summary.blocked.items():
        level, _, code = key.partition("-")
        name = scopes[key][0].get("scope_name") if key in scopes else None
        latest = _latest_revision(week_dir / key) if (week_dir / key).is_dir() else None
        entries.append({"scope_key": key, "scope_level": level, "scope_code": code, "scope_name": name,
                        "status": "blocked", "reason": reason, "latest_published_revision": latest})
    entries.sort(key=lambda e: (SCOPE_ORDER.get(e["scope_level"], 9), e["scope_key"]))
    index = {
        "period_type": summary.period_type, "period_key": summary.week_key, "generated_at": summary.generated_at,
        "gate_status": summary.gate_status,
        "counts": {"new": len(summary.published), "unchanged": len(summary.unchanged),
                   "blocked": len(summary.blocked)},
        "scopes": entries,
    }
    tmp = week_dir / ".index.json.tmp"
    tmp.write_text(json.dumps(index, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, week_dir / "index.json")


def _write_summary_html(period_dir: Path, period: Period, summary: PublishSummary,
                        scopes: dict[str, list[dict]], provinces: list) -> Path:
    """exports/<type>/<key>/tom_tat_<key>.html — the one-page summary of the latest state."""
    from lensan.publish.render import html as report_html

    nation_key = f"nation-{NATION_CODE}"
    nation_rows = None
    if nation_key in scopes and nation_key not in summary.blocked:
        nation_rows = [_clean_row(r, nation_key, None, period.value_field)
                       for r in sorted(scopes[nation_key], key=_row_order)]
    links = []
    for item in sorted(summary.scopes, key=lambda e: (SCOPE_ORDER.get(e["scope_level"], 9), e["scope_key"])):
        rev_dir = Path(item["path"])
        files = {}
        for ext in ("xlsx", "csv", "json"):
            name = f"{period.file_prefix}_{period.key}_{item['scope_key']}.{ext}"
            if (rev_dir / name).exists():
                files[ext] = os.path.relpath(rev_dir / name, period_dir)
        links.append({"scope_key": item["scope_key"], "scope_level": item["scope_level"],
                      "scope_name": item["scope_name"], "revision": item["revision"], "status": item["status"],
                      "files": files})
    html = report_html.render_summary(
        title=period.title, period_label=period.label, value_heading=period.headings[3],
        generated_at=dt.datetime.fromisoformat(summary.generated_at.replace("Z", "+00:00")),
        gate_status=summary.gate_status, nation_rows=nation_rows, value_field=period.value_field,
        provinces=provinces, completeness=summary.completeness, scope_names={
            k: (v[0].get("scope_name") or k) for k, v in scopes.items()},
        links=links, blocked=summary.blocked, note=PLATFORM_NOTE)
    path = period_dir / f"tom_tat_{period.key}.html"
    tmp = period_dir / f".tom_tat_{period.key}.html.tmp"
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path


PUBLICATIONS_DDL = """
create schema if not exists ops;
create table if not exists ops.publications (
    period_type      text        not null,
    period_key       text        not null,
    scope_level      text        not null,
    scope_code       text        not null,
    revision         integer     not null,
    path             text        not null,
    content_hash     text        not null,
    manifest_sha256  text        not null,
    gate_status      text,
    changed_rows     integer     not null default 0,
    created_at       timestamptz not null,
    primary key (period_type, period_key, scope_level, scope_code, revision)
);
create table if not exists ops.published_values (
    period_type            text        not null,
    period_key             text        not null,
    scope_level            text        not null,
    scope_code             text        not null,
    indicator_code         text        not null,
    revision               integer     not null,
    published_at           timestamptz not null,
    map_version            text        not null default 'post2025',
    platform               text        not null default 'all',
    value_in_period        numeric,
    growth_pct             numeric,
    cumulative_value       numeric,
    target_value           numeric,
    target_attainment_pct  numeric,
    is_sample_target       boolean,
    primary key (period_type, period_key, scope_level, scope_code, indicator_code, revision)
);
"""


def ensure_ops_schema(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(PUBLICATIONS_DDL)


def _record(week_key, level, code, revision, path, content_hash, manifest_sha, now, gate_status, changed,
            period_type="week", rows=None, value_field="value_in_week"):
    """ops.publications + ops.published_values (every published row) in ONE transaction."""
    conn = warehouse.connect()
    try:
        ensure_ops_schema(conn)
        with conn.cursor() as cur:
            cur.execute("""delete from ops.published_values where period_type = %s and period_key = %s
                           and scope_level = %s and scope_code = %s and revision = %s""",
                        (period_type, week_key, level, code, revision))
            for row in rows or []:
                if not row.get("indicator_code"):
                    continue
                cur.execute(
                    """insert into ops.published_values (period_type, period_key, scope_level, scope_code,
                           indicator_code, revision, published_at, map_version, platform, value_in_period,
                           growth_pct, cumulative_value, target_value, target_attainment_pct, is_sample_target)
                       values (%s, %s, %s, %s, %s, %s, %s, %s, 'all', %s, %s, %s, %s, %s, %s)""",
                    (period_type, week_key, level, code, row["indicator_code"], revision, now, MAP_VERSION,
                     row.get(value_field), row.get("growth_pct"), row.get("cumulative_value"),
                     row.get("target_value"), row.get("target_attainment_pct"), row.get("is_sample_target")))
            cur.execute(
                """insert into ops.publications (period_type, period_key, scope_level, scope_code, revision,
                       path, content_hash, manifest_sha256, gate_status, changed_rows, created_at)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   on conflict (period_type, period_key, scope_level, scope_code, revision) do update set
                       path = excluded.path, content_hash = excluded.content_hash,
                       manifest_sha256 = excluded.manifest_sha256, gate_status = excluded.gate_status,
                       changed_rows = excluded.changed_rows, created_at = excluded.created_at""",
                (period_type, week_key, level, code, revision, str(path), content_hash, manifest_sha, gate_status,
                 changed, now),
            )
        conn.commit()
    finally:
        conn.close()


def _compact_gate(gate_summary: dict | None) -> dict | None:
    if not gate_summary:
        return None
    from lensan.quality.gate import compact

    return compact(gate_summary)


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")



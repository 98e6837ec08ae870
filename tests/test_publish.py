"""lensan.publish: weekly / monthly / 6-monthly / yearly exports, manifests, immutable revisions, the
chart sheet, the HTML summary and the JSON schema, against the real embedded PostgreSQL.

Runs in a database of its own (LENSAN_WAREHOUSE_URL points at it) holding marts.rpt_weekly_report and
marts.fct_indicator_values with the contract's columns, and in a LENSAN_HOME of its own per test for
the exports. Nothing here needs LibreOffice (scripts/render_report.sh is the visual check).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html.parser
import inspect
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lensan.db.warehouse import scratch_database
from lensan import reference
from lensan.calendar import periods
from lensan.publish import rows as report_rows
from lensan.publish import service as publish
from lensan.publish import template
from lensan.publish.render import charts, formatting, xlsx

pytestmark = pytest.mark.integration

WEEK = "2026-W47"
TEST_DB = "lensan_publish_test"
HEADINGS = list(template.HEADINGS)
SCOPES = [("nation", "VN", "Toàn quốc"), ("region", "bac", "Miền Bắc"), ("province", "22", "Tỉnh Quảng Ninh")]
FORMULA_NOTE = '=HYPERLINK("http://evil.example","bấm vào")'

DDL = """
drop schema if exists marts cascade;
drop schema if exists ops cascade;
drop schema if exists raw cascade;
create schema marts;
create schema raw;
create table marts.rpt_weekly_report (week_key text, scope_level text, scope_code text, scope_name text,
    section text, tt text, sort_order int, indicator_code text, indicator_label_vi text, unit_vi text,
    value_in_week numeric, growth_pct numeric, cumulative_value numeric, target_value numeric,
    target_attainment_pct numeric, notes text, quality_flags text, value_in_week_postmart numeric,
    cumulative_value_postmart numeric, value_in_week_voso numeric, cumulative_value_voso numeric,
    platforms_additive boolean, attainment_flag text);
create table marts.dim_admin_unit (map_version text, unit_level text, unit_code text, unit_name text,
    province_code text, region_code text, current_province_code text, is_reporting_unit boolean,
    valid_from date, valid_to date);
insert into marts.dim_admin_unit values
    ('post2025','commune','07090','Xã A','22','bac','22',true,'2025-07-01','9999-12-31'),
    ('post2025','commune','07091','Xã B','22','bac','22',true,'2025-07-01','9999-12-31'),
    ('post2025','commune','07092','Xã C','22','bac','22',true,'2025-07-01','9999-12-31'),
    ('post2025','province','22','Quảng Ninh','22','bac','22',false,'2025-07-01','9999-12-31'),
    ('pre2025','district','205','Đông Triều','22','bac','22',true,'1900-01-01','2025-06-30');
create table marts.fct_indicator_values (period_type text, period_key text, scope_level text, scope_code text,
    map_version text, platform text, indicator_code text, indicator_kind text, value_in_period numeric,
    cumulative_value numeric, previous_value numeric, growth_pct numeric, target_year integer,
    target_value numeric, target_attainment_pct numeric, is_sample_target boolean, source text,
    platforms_additive boolean, attainment_flag text);
create table marts.fct_reported_values (week_key text, map_version text, unit_code text, indicator_code text,
    is_late boolean);
insert into marts.fct_reported_values values
    ('2026-W47','post2025','07090','ocop_listed',false), ('2026-W47','post2025','07090','orders',false),
    ('2026-W47','post2025','07091','ocop_listed',true), ('2026-W46','post2025','07092','ocop_listed',false);
create table raw.landed_files (file_id bigserial primary key, sha256 text not null unique, source text not null,
    entity text, public_name text not null, name_hash text not null, archive_dir text not null, size_bytes bigint not null,
    arrived_at timestamptz not null, status text not null, unit_code text, period_key text, file_date date);
insert into raw.landed_files (sha256, source, entity, public_name, name_hash, archive_dir, size_bytes, arrived_at,
    status, unit_code, period_key, file_date) values
    ('aa11', 'weekly_form', 'form', 'weekly_form_07090_2026-W47_aa11.xlsx', 'h1', '/a', 10,
     '2026-11-23 09:00+07', 'loaded', '07090', '2026-W47', '2026-11-22'),
    ('bb22', 'postmart', 'don_hang', 'postmart_don_hang_2026-11-22_bb22.csv', 'h2', '/a', 20, '2026-11-23 01:00+07',
     'loaded', null, null, '2026-11-22'),
    ('cc33', 'voso', 'orders', 'voso_cc33.jsonl.gz', 'h3', '/a', 30, '2026-11-23 01:00+07', 'quarantined',
     null, null, '2026-11-22'),
    ('dd44', 'weekly_form', 'form', 'weekly_form_07092_2026-W46_dd44.xlsx', 'h4', '/a', 10, '2026-11-16 09:00+07',
     'loaded', '07092', '2026-W46', '2026-11-15'),
    ('ee55', 'postmart', 'don_hang', 'postmart_don_hang_2026-11-15_ee55.csv', 'h5', '/a', 20, '2026-11-16 01:00+07',
     'loaded', null, null, '2026-11-15');
create table raw.weekly_forms (file_id bigint primary key, unit_code text, map_version text, week_key text,
    week_end date);
insert into raw.weekly_forms values (1, '07090', 'post2025', '2026-W47', '2026-11-22'),
    (4, '07092', 'post2025', '2026-W46', '2026-11-15');
"""


def _seed(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(DDL)
        for level, code, name in SCOPES:
            for ind in reference.weekly_form_indicators():
                value = 1234567 if ind.code == "volume_sold_t" else 12
                notes = None
                if ind.code == "domestic_markets":
                    notes = "Miền Bắc: Hà Nội, Hải Phòng; Miền Trung: Đà Nẵng"
                if ind.code == "foreign_markets" and code == "22":
                    notes = FORMULA_NOTE
                not_reported = ind.code == "inputs_discounted"
                cur.execute(
                    "insert into marts.rpt_weekly_report values"
                    " (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (WEEK, level, code, name, ind.section, ind.tt, ind.sort_order, ind.code, ind.label_vi,
                     ind.unit_vi, None if not_reported else value, None if not_reported else -12.5,
                     None if not_reported else 1234.5, 2000, None if not_reported else 61.7, notes, None))
        # a household on both platforms: postmart 9 + voso 5 > the 12 of both together
        cur.execute("update marts.rpt_weekly_report set value_in_week_postmart = 9, cumulative_value_postmart = 900,"
                    " value_in_week_voso = 5, cumulative_value_voso = 500, platforms_additive = false"
                    " where indicator_code = 'hh_with_shop'")
    conn.commit()


@pytest.fixture(scope="module")
def publish_db(warehouse):
    with scratch_database(TEST_DB, warehouse) as info, pytest.MonkeyPatch.context() as mp:
        mp.setenv("LENSAN_WAREHOUSE_URL", info.url)
        yield info


@pytest.fixture
def home(publish_db, tmp_path, monkeypatch):
    from lensan.db import warehouse

    monkeypatch.setenv("LENSAN_HOME", str(tmp_path))
    conn = warehouse.connect()
    _seed(conn)
    yield tmp_path, conn
    conn.rollback()
    conn.close()


def _execute(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
    conn.commit()


def _rev_dir(home: Path, scope: str, rev: int) -> Path:
    return home / "exports" / "week" / WEEK / scope / f"rev-{rev}"


GATE = {"run_id": "r1", "checkpoint": "marts_checkpoint", "period_key": WEEK, "success": True,
        "status": "warning", "counts": {"failed_error": 0, "failed_warning": 1}, "failed": [],
        "blocked_scopes": {},
        "warnings": [{"name": "marts_weekly_report.expect_column_values_to_be_between(value_in_week)",
                      "description": "a stock decreased during the week", "unexpected_count": 1,
                      "affected_scopes": ["province-22"],
                      "sample_unexpected_rows": [{"scope_key": "province-22", "row_key": "hh_with_shop"}]}]}


# ------------------------------------------------------------------------------------------------


def test_publish_writes_four_files_per_scope_with_correct_sha256(home):
    root, _ = home
    summary = publish.publish_weekly(WEEK, gate_summary=GATE)
    assert sorted(p["scope_key"] for p in summary.published) == ["nation-VN", "province-22", "region-bac"]
    assert summary.unchanged == [] and summary.blocked == {}
    for scope in ("nation-VN", "region-bac", "province-22"):
        rev = _rev_dir(root, scope, 1)
        base = f"bao_cao_tuan_{WEEK}_{scope}"
        assert sorted(p.name for p in rev.iterdir()) == sorted(
            [f"{base}.xlsx", f"{base}.csv", f"{base}.json", "manifest.json"])
        manifest = json.loads((rev / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["period_type"] == "week" and manifest["period_key"] == WEEK
        assert manifest["scope_key"] == scope and manifest["revision"] == 1
        assert manifest["generated_at"].endswith("Z")
        assert manifest["row_counts"]["json_rows"] == manifest["row_counts"]["indicator_rows"] == 17
        assert manifest["row_counts"]["section_rows"] == 3  # II, III, IV (I is the ocop_listed row)
        assert manifest["row_counts"]["csv_data_rows"] == 20
        assert {f["name"] for f in manifest["files"]} == {f"{base}.xlsx", f"{base}.csv", f"{base}.json"}
        for entry in manifest["files"]:
            assert hashlib.sha256((rev / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
        # the files that fed the week (not W46's form or extract, not a quarantined file), by the public
        # name landing stored (the warehouse keeps no name as delivered)
        assert [f["safe_name"] for f in manifest["source_files"]] == [
            "weekly_form_07090_2026-W47_aa11.xlsx", "postmart_don_hang_2026-11-22_bb22.csv"]
        assert {"sha256", "source", "file_date", "safe_name"} <= manifest["source_files"][0].keys()
        assert manifest["gate"]["status"] == "warning" and manifest["gate"]["checkpoint"] == "marts_checkpoint"
    flagged = json.loads((_rev_dir(root, "province-22", 1) / f"bao_cao_tuan_{WEEK}_province-22.json").read_text())
    row = next(r for r in flagged["rows"] if r["indicator_code"] == "hh_with_shop")
    assert any(f.startswith("gx_warning:") for f in row["quality_flags"])
    index = json.loads((root / "exports" / "week" / WEEK / "index.json").read_text(encoding="utf-8"))
    assert index["counts"] == {"new": 3, "unchanged": 0, "blocked": 0}
    _, conn = home
    with conn.cursor() as cur:
        cur.execute("select scope_level, scope_code, revision, content_hash from ops.publications"
                    " where period_key = %s order by 1, 2", (WEEK,))
        rows = cur.fetchall()
    conn.commit()
    assert [(r[0], r[1], r[2]) for r in rows] == [("nation", "VN", 1), ("province", "22", 1), ("region", "bac", 1)]


def test_json_keeps_numbers_as_numbers_and_not_reported_as_null(home):
    root, _ = home
    publish.publish_weekly(WEEK)
    data = json.loads((_rev_dir(root, "nation-VN", 1) / f"bao_cao_tuan_{WEEK}_nation-VN.json").read_text())
    assert data["period_key"] == WEEK and data["scope"] == {"level": "nation", "code": "VN", "name": "Toàn quốc"}
    rows = {r["indicator_code"]: r for r in data["rows"]}
    assert list(rows) == [i.code for i in reference.weekly_form_indicators()]
    assert rows["volume_sold_t"]["value_in_week"] == 1234567 and rows["volume_sold_t"]["growth_pct"] == -12.5
    assert rows["inputs_discounted"]["value_in_week"] is None  # not reported is not 0
    assert rows["inputs_discounted"]["target_value"] == 2000


def test_republishing_unchanged_content_keeps_the_revision(home):
    root, _ = home
    first = publish.publish_weekly(WEEK)
    second = publish.publish_weekly(WEEK, generated_at=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
    assert second.published == [] and len(second.unchanged) == 3
    assert {u["revision"] for u in second.unchanged} == {1}
    assert {u["content_hash"] for u in second.unchanged} == {p["content_hash"] for p in first.published}
    assert not _rev_dir(root, "province-22", 2).exists()


def test_a_changed_value_makes_rev_2_naming_the_changed_row(home):
    root, conn = home
    publish.publish_weekly(WEEK)
    _execute(conn, "update marts.rpt_weekly_report set cumulative_value = 1300 where scope_code = '22'"
                   " and indicator_code = 'hh_with_shop'")
    summary = publish.publish_weekly(WEEK)
    assert [p["scope_key"] for p in summary.published] == ["province-22"]
    assert {u["scope_key"] for u in summary.unchanged} == {"nation-VN", "region-bac"}
    manifest = json.loads((_rev_dir(root, "province-22", 2) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["revision"] == 2 and manifest["previous_revision"] == 1
    assert manifest["changes"] == [{
        "indicator_code": "hh_with_shop", "change": "changed",
        "label": next(i.label_vi for i in reference.indicators() if i.code == "hh_with_shop"),
        "fields": {"cumulative_value": {"old": 1234.5, "new": 1300}}}]
    assert _rev_dir(root, "province-22", 1).exists()  # the old revision stays as it was
    old = json.loads((_rev_dir(root, "province-22", 1) / "manifest.json").read_text())
    assert old["revision"] == 1


def test_csv_has_bom_headings_and_neutralised_formula(home):
    root, _ = home
    publish.publish_weekly(WEEK)
    raw = (_rev_dir(root, "province-22", 1) / f"bao_cao_tuan_{WEEK}_province-22.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8")), delimiter=";"))
    assert rows[0][:8] == HEADINGS and len(rows) == 1 + 17 + 3
    assert rows[0][8:] == ["postmart.vn: đạt được trong tuần", "postmart.vn: lũy kế", "voso.vn: đạt được trong tuần",
                           "voso.vn: lũy kế", template.ATTAINMENT_FLAG_HEADING]   # added after the template's
    # columns: earlier readers keep working
    assert all(len(r) == 13 for r in rows)
    assert [r[0] for r in rows if r[0] in ("I", "II", "III", "IV")] == ["I", "II", "III", "IV"]
    assert next(r for r in rows if r[0] == "II")[1] == "Chỉ tiêu hỗ trợ đưa hộ SXNN lên sàn TMĐT"
    foreign = next(r for r in rows if r[1].startswith("Số thị trường nước ngoài"))
    assert foreign[7].startswith("'=HYPERLINK(")
    volume = next(r for r in rows if r[1].startswith("Sản lượng"))
    assert volume[3] == "1234567" and volume[4] == "-12,5" and volume[5] == "1234,5"
    for row in rows[1:]:
        for cell in (row[0], row[1], row[2], row[7]):
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_xlsx_follows_the_appendix_02_template(home):
    root, _ = home
    publish.publish_weekly(WEEK)
    wb = load_workbook(_rev_dir(root, "province-22", 1) / f"bao_cao_tuan_{WEEK}_province-22.xlsx")
    ws = wb.active
    texts = [ws.cell(row=r, column=1).value for r in range(1, 8)]
    assert "UBND TỈNH QUẢNG NINH" in texts and "BÁO CÁO TUẦN" in texts
    assert "Tuần 47/2026 (từ ngày 16/11/2026 đến ngày 22/11/2026)" in texts
    assert any("Tỉnh Quảng Ninh" in (t or "") for t in texts)
    header = next(r for r in range(1, 20) if ws.cell(row=r, column=1).value == "TT")
    assert [ws.cell(row=header, column=c).value for c in range(1, 9)] == HEADINGS
    first_col = {ws.cell(row=r, column=1).value: r for r in range(header + 1, header + 25)}
    merged = {str(m) for m in ws.merged_cells.ranges}
    for numeral in ("II", "III", "IV"):
        r = first_col[numeral]
        assert f"B{r}:H{r}" in merged and ws.cell(row=r, column=2).font.b
    assert ws.cell(row=first_col["I"], column=4).value == 12  # section I is the ocop_listed row itself
    volume_row = next(r for r in range(header, header + 25)
                      if (ws.cell(row=r, column=2).value or "").startswith("Sản lượng"))
    cell = ws.cell(row=volume_row, column=4)
    assert cell.value == 1234567 and cell.number_format == "#,##0"
    assert ws.cell(row=volume_row, column=6).number_format == "#,##0.00"
    assert ws.cell(row=volume_row, column=5).value == -12.5 and ws.cell(row=volume_row, column=5).data_type == "n"
    foreign_row = next(r for r in range(header, header + 25)
                       if (ws.cell(row=r, column=2).value or "").startswith("Số thị trường nước ngoài"))
    note = ws.cell(row=foreign_row, column=8)
    assert note.data_type == "s" and note.value.startswith("=HYPERLINK") and note.quotePrefix
    assert note.alignment.wrap_text
    not_reported = next(r for r in range(header, header + 25)
                        if ws.cell(row=r, column=2).value == next(
                            i.label_vi for i in reference.indicators() if i.code == "inputs_discounted"))
    assert ws.cell(row=not_reported, column=4).value is None
    assert ws.freeze_panes == f"A{header + 1}"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["B"].width > 40


def test_xlsx_is_deterministic_apart_from_generated_at(home):
    rows = [report_rows.clean_row(dict(week_key=WEEK, scope_level="nation", scope_code="VN", section=i.section,
                                       tt=i.tt, sort_order=i.sort_order, indicator_code=i.code,
                                       indicator_label_vi=i.label_vi, unit_vi=i.unit_vi, value_in_week=1),
                                  "nation-VN", None) for i in reference.weekly_form_indicators()]
    when = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.timezone.utc)
    args = (WEEK, dt.date(2026, 11, 16), dt.date(2026, 11, 22), "nation", "VN", "Toàn quốc", rows, 1)
    first = xlsx.render_xlsx(*args, when, None)
    assert xlsx.render_xlsx(*args, when, None) == first
    assert xlsx.render_xlsx(*args, when + dt.timedelta(hours=1), None) != first
    provinces = [charts.ProvinceValues("22", "Quảng Ninh", "bac", {"hh_with_shop": 61.7})]
    with_charts = xlsx.render_xlsx(*args, when, None, provinces=provinces)
    assert xlsx.render_xlsx(*args, when, None, provinces=provinces) == with_charts != first


def test_blocked_scopes_are_not_written_and_are_listed(home):
    root, _ = home
    summary = publish.publish_weekly(WEEK, blocked_scopes={"province-22": "gate: negative households"})
    assert summary.blocked == {"province-22": "gate: negative households"}
    assert {p["scope_key"] for p in summary.published} == {"nation-VN", "region-bac"}
    assert not (root / "exports" / "week" / WEEK / "province-22").exists()
    index = json.loads((root / "exports" / "week" / WEEK / "index.json").read_text(encoding="utf-8"))
    blocked = [s for s in index["scopes"] if s["status"] == "blocked"]
    assert blocked == [{"scope_key": "province-22", "scope_level": "province", "scope_code": "22",
                        "scope_name": "Tỉnh Quảng Ninh", "status": "blocked",
                        "reason": "gate: negative households", "latest_published_revision": None}]


def test_reporting_completeness_annex(home):
    root, _ = home
    publish.publish_weekly(WEEK)
    data = json.loads((_rev_dir(root, "province-22", 1) / f"bao_cao_tuan_{WEEK}_province-22.json").read_text())
    assert data["completeness"] == {"expected": 3, "received": 2, "on_time": 1, "late": 1, "missing": 1,
                                    "received_pct": 66.7}
    nation = json.loads((_rev_dir(root, "nation-VN", 1) / f"bao_cao_tuan_{WEEK}_nation-VN.json").read_text())
    assert nation["completeness"]["expected"] == 3
    ws = load_workbook(_rev_dir(root, "province-22", 1) / f"bao_cao_tuan_{WEEK}_province-22.xlsx").active
    annex = next(r for r in range(1, ws.max_row + 1)
                 if (ws.cell(row=r, column=1).value or "").startswith("PHỤ LỤC: TÌNH HÌNH GỬI BÁO CÁO"))
    assert [ws.cell(row=annex + 2, column=c).value for c in range(2, 8)] == [3, 2, 1, 1, 1, 66.7]


def test_a_week_without_rows_is_refused(home):
    with pytest.raises(publish.NothingToPublish):
        publish.publish_weekly("2020-W01")


def test_vietnamese_number_text():
    assert formatting.vn_number(1234567) == "1.234.567"
    assert formatting.vn_number(1234.5) == "1.234,5"
    assert formatting.neutralise("@SUM(A1)") == "'@SUM(A1)" and formatting.neutralise("Hà Nội") == "Hà Nội"


# ------------------------------------------------------------------------------------------------
# chart sheet, HTML summary, JSON schema, other periods

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"
CHART_SHEET = charts.SHEET_TITLE


def _add_province_92(conn, hh_with_shop_pct=80):
    """A second province (Cần Thơ, region nam): a copy of province 22 with another attainment."""
    _execute(conn, """
        insert into marts.rpt_weekly_report
        select week_key, 'province', '92', 'Thành phố Cần Thơ', section, tt, sort_order, indicator_code,
               indicator_label_vi, unit_vi, value_in_week, growth_pct, cumulative_value, target_value,
               case when indicator_code = 'hh_with_shop' then %s else target_attainment_pct end,
               case when indicator_code = 'foreign_markets' then null else notes end, quality_flags
        from marts.rpt_weekly_report where scope_level = 'province' and scope_code = '22'""", (hh_with_shop_pct,))


def _charts(path: Path):
    wb = load_workbook(path)
    assert wb.sheetnames[1] == CHART_SHEET
    return wb, wb[CHART_SHEET]._charts


def _rich(title) -> str:
    return "".join(run.t for p in title.tx.rich.p for run in (p.r or []))


def _categories(chart, series=0) -> list[str]:
    cache = chart.series[series].cat.strRef.strCache
    return [pt.v for pt in sorted(cache.pt, key=lambda p: p.idx)]


def _values(chart, series=0) -> dict[int, float]:
    return {pt.idx: pt.v for pt in chart.series[series].val.numRef.numCache.pt}


def test_every_workbook_has_a_chart_sheet_of_attainment_per_indicator(home):
    root, _ = home
    publish.publish_weekly(WEEK)
    wb, found = _charts(_rev_dir(root, "province-22", 1) / f"bao_cao_tuan_{WEEK}_province-22.xlsx")
    assert wb.sheetnames == ["Báo cáo tuần", CHART_SHEET, template.PLATFORM_SHEET]
    assert len(found) == 1  # a province workbook has no per-province chart
    chart = found[0]
    assert chart.tagname == "barChart" and chart.type == "bar" and len(chart.series) == 1
    assert "Tỉ lệ hoàn thành chỉ tiêu năm" in _rich(chart.title) and "Tỉnh Quảng Ninh" in _rich(chart.title)
    assert _rich(chart.y_axis.title) == "Tỉ lệ hoàn thành chỉ tiêu năm (%)"
    labels = _categories(chart)
    assert len(labels) == 17  # every seeded indicator has a target
    assert labels[3] == "Hộ có gian hàng trên sàn"
    values = _values(chart)
    assert values[3] == 61.7
    assert 16 not in values  # inputs_discounted: not reported → no bar, not a 0 bar
    ws = wb[CHART_SHEET]
    row = next(r for r in range(1, 40) if ws.cell(row=r, column=2).value == "Hộ có gian hàng trên sàn")
    assert ws.cell(row=row, column=1).value == "II.3" and ws.cell(row=row, column=3).value == 61.7
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9


def test_national_and_region_workbooks_chart_the_headline_indicators_per_province(home):
    root, conn = home
    _add_province_92(conn)
    publish.publish_weekly(WEEK)
    _, found = _charts(_rev_dir(root, "nation-VN", 1) / f"bao_cao_tuan_{WEEK}_nation-VN.xlsx")
    assert len(found) == 2
    per_province = found[1]
    assert len(per_province.series) == len(charts.HEADLINE_INDICATORS) == 3
    assert "tỉnh/thành phố" in _rich(per_province.title)
    names = [s.tx.strRef.strCache.pt[0].v for s in per_province.series]
    assert names == ["Hộ được tập huấn kỹ năng số (%)", "Hộ có gian hàng trên sàn (%)",
                     "Sản lượng tiêu thụ qua sàn (%)"]
    assert _categories(per_province) == ["Quảng Ninh", "Cần Thơ"]
    assert _values(per_province, 1) == {0: 61.7, 1: 80.0}  # hh_with_shop per province
    _, region = _charts(_rev_dir(root, "region-bac", 1) / f"bao_cao_tuan_{WEEK}_region-bac.xlsx")
    assert len(region) == 2 and _categories(region[1]) == ["Quảng Ninh"]  # Cần Thơ is in the south


def test_summary_html_is_self_contained_with_provinces_numbers_and_links(home):
    root, conn = home
    _add_province_92(conn)
    summary = publish.publish_weekly(WEEK, gate_summary=GATE)
    week_dir = root / "exports" / "week" / WEEK
    assert summary.summary_html == str(week_dir / f"tom_tat_{WEEK}.html")
    page = Path(summary.summary_html).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page
    assert "TÓM TẮT BÁO CÁO TUẦN" in page and "Tuần 47/2026 (từ ngày 16/11/2026 đến ngày 22/11/2026)" in page
    assert "đạt, có cảnh báo" in page  # the gate status
    assert "1.234.567" in page and "-12,5" in page  # national volume sold in the week, growth
    assert "61,7%" in page and "80,0%" in page  # attainment bars
    assert ">Quảng Ninh<" in page and ">Cần Thơ<" in page  # per-province bars
    assert "66,7" in page  # completeness of province 22 (2 of 3 units)
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert set(re.findall(r"https?://[^\"' <]+", page)) == {"http://www.w3.org/2000/svg"}
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) == 1 + len(charts.HEADLINE_INDICATORS)
    for svg in svgs:
        ET.fromstring(svg)  # well-formed

    class Links(html.parser.HTMLParser):
        hrefs: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.hrefs.append(dict(attrs)["href"])

    parser = Links()
    parser.hrefs = []
    parser.feed(page)
    assert len(parser.hrefs) == 4 * 3  # nation, region bac, provinces 22 and 92 × xlsx/csv/json
    assert f"province-22/rev-1/bao_cao_tuan_{WEEK}_province-22.xlsx" in parser.hrefs
    for href in parser.hrefs:
        assert (week_dir / href).is_file(), href

    _execute(conn, "update marts.rpt_weekly_report set cumulative_value = 99 where scope_code = '22'"
                   " and indicator_code = 'orders'")
    publish.publish_weekly(WEEK)
    page = (week_dir / f"tom_tat_{WEEK}.html").read_text(encoding="utf-8")
    assert f"province-22/rev-2/bao_cao_tuan_{WEEK}_province-22.json" in page  # links follow the latest revision
    assert "province-22/rev-1/" not in page and "nation-VN/rev-1/" in page


def test_a_blocked_province_stays_out_of_charts_and_summary(home):
    root, conn = home
    _add_province_92(conn, hh_with_shop_pct=87.5)
    summary = publish.publish_weekly(WEEK, blocked_scopes={"province-92": "gate: negative households"})
    _, found = _charts(_rev_dir(root, "nation-VN", 1) / f"bao_cao_tuan_{WEEK}_nation-VN.xlsx")
    assert _categories(found[1]) == ["Quảng Ninh"]
    page = Path(summary.summary_html).read_text(encoding="utf-8")
    assert "87,5" not in page and ">Cần Thơ<" not in page
    assert "Bị chặn: gate: negative households" in page


def _validator(name: str):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_every_published_json_validates_against_its_schema_and_broken_ones_do_not(home):
    root, conn = home
    _seed_period(conn, "month", "2026-11")
    publish.publish_weekly(WEEK, gate_summary=GATE)
    publish.publish_period("month", "2026-11")
    weekly, period = _validator("weekly_report"), _validator("period_report")
    weekly_files = sorted((root / "exports" / "week").glob("*/*/rev-*/bao_cao_tuan_*.json"))
    month_files = sorted((root / "exports" / "month").glob("*/*/rev-*/bao_cao_thang_*.json"))
    assert len(weekly_files) == 3 and len(month_files) == 3
    for path in weekly_files:
        assert list(weekly.iter_errors(json.loads(path.read_text(encoding="utf-8")))) == [], path
    for path in month_files:
        assert list(period.iter_errors(json.loads(path.read_text(encoding="utf-8")))) == [], path

    good = json.loads(weekly_files[0].read_text(encoding="utf-8"))

    def broken(change):
        data = json.loads(json.dumps(good))
        change(data)
        return data

    cases = {
        "number as text": lambda d: d["rows"][0].update(value_in_week="1.234"),
        "missing rows": lambda d: d.pop("rows"),
        "unknown period type": lambda d: d.update(period_type="weekly"),
        "bad week key": lambda d: d.update(period_key="2026-47"),
        "extra row field": lambda d: d["rows"][0].update(value=1),
        "negative completeness": lambda d: d.update(completeness={"expected": -1, "received": 0, "on_time": 0,
                                                                  "late": 0, "missing": 0, "received_pct": None}),
        "bad scope level": lambda d: d["scope"].update(level="district"),
        "bad date": lambda d: d.update(period_start="2026-02-30"),
    }
    for label, change in cases.items():
        assert list(weekly.iter_errors(broken(change))), label
    month = json.loads(month_files[0].read_text(encoding="utf-8"))
    assert list(weekly.iter_errors(month))  # a monthly file is not a weekly report
    month["period_key"] = "2026-13"
    assert list(period.iter_errors(month))


# --- other periods -------------------------------------------------------------------------------


def _seed_period(conn, period_type: str, period_key: str, value: int = 10, year: int = 2026) -> None:
    """marts.fct_indicator_values rows of one period for the nation, region bac and province 22 (post2025,
    platform 'all'), plus a row publish_period must ignore on today's map (pre-2025 province) and one it
    publishes beside the total (postmart only)."""
    with conn.cursor() as cur:
        for level, code, _ in SCOPES:
            for ind in reference.indicators():
                target = 1000 if ind.kind in ("stock", "flow") else None
                cumulative = value * 10
                cur.execute(
                    "insert into marts.fct_indicator_values (period_type, period_key, scope_level, scope_code,"
                    " map_version, platform, indicator_code, indicator_kind, value_in_period, cumulative_value,"
                    " previous_value, growth_pct, target_year, target_value, target_attainment_pct,"
                    " is_sample_target) values (%s,%s,%s,%s,'post2025','all',%s,%s,%s,%s,%s,%s,%s,%s,%s,true)",
                    (period_type, period_key, level, code, ind.code, ind.kind, value, cumulative, value - 2, 25,
                     year, target, None if target is None else round(100.0 * cumulative / target, 2)))
        cur.execute(
            "insert into marts.fct_indicator_values (period_type, period_key, scope_level, scope_code, map_version,"
            " platform, indicator_code, value_in_period, cumulative_value) values"
            " (%s,%s,'province','22','pre2025','all','orders',999,999),"
            " (%s,%s,'province','22','post2025','postmart','orders',555,555)",
            (period_type, period_key, period_type, period_key))
    conn.commit()


def test_month_publication_has_its_own_tree_title_and_revisions(home):
    root, conn = home
    _seed_period(conn, "month", "2026-11")
    summary = publish.publish_period("month", "2026-11")
    assert summary.period_type == "month" and summary.period_key == "2026-11"
    assert sorted(p["scope_key"] for p in summary.published) == ["nation-VN", "province-22", "region-bac"]
    rev = root / "exports" / "month" / "2026-11" / "province-22" / "rev-1"
    base = "bao_cao_thang_2026-11_province-22"
    assert sorted(p.name for p in rev.iterdir()) == sorted([f"{base}.xlsx", f"{base}.csv", f"{base}.json",
                                                            "manifest.json"])
    manifest = json.loads((rev / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["period_type"] == "month" and manifest["period_start"] == "2026-11-01"
    assert manifest["period_end"] == "2026-11-30" and manifest["deadline_at"] == "2026-12-04T00:00:00+07:00"
    assert manifest["row_counts"]["json_rows"] == 24
    for entry in manifest["files"]:
        assert hashlib.sha256((rev / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    data = json.loads((rev / f"{base}.json").read_text(encoding="utf-8"))
    assert data["title"] == "BÁO CÁO THÁNG 11/2026" and data["target_year"] == 2026
    assert data["scope"] == {"level": "province", "code": "22", "name": "Quảng Ninh"}
    orders = next(r for r in data["rows"] if r["indicator_code"] == "orders")
    assert orders["value_in_period"] == 10 and "value_in_week" not in orders  # not the pre-2025 / postmart rows
    assert orders["value_in_period_postmart"] == 555 and orders["value_in_period_voso"] is None
    shop = next(r for r in data["rows"] if r["indicator_code"] == "hh_with_shop")
    assert shop["target_attainment_pct"] == 10 and shop["section"] == "II" and shop["tt"] == "3"
    rows = list(csv.reader(io.StringIO((rev / f"{base}.csv").read_bytes()[3:].decode("utf-8")), delimiter=";"))
    assert rows[0][3] == "Chỉ tiêu đạt được trong tháng (Số lượng)"
    assert rows[0][4] == "Tăng trưởng so với tháng trước (%)"
    ws = load_workbook(rev / f"{base}.xlsx").active
    texts = [ws.cell(row=r, column=1).value for r in range(1, 8)]
    assert "BÁO CÁO THÁNG 11/2026" in texts
    assert "Tháng 11/2026 (từ ngày 01/11/2026 đến ngày 30/11/2026)" in texts
    assert ws.title == "Báo cáo tháng"
    assert (root / "exports" / "month" / "2026-11" / "tom_tat_2026-11.html").is_file()
    index = json.loads((root / "exports" / "month" / "2026-11" / "index.json").read_text(encoding="utf-8"))
    assert index["period_type"] == "month" and index["counts"]["new"] == 3

    again = publish.publish_period("month", "2026-11")
    assert again.published == [] and {u["revision"] for u in again.unchanged} == {1}
    _execute(conn, "update marts.fct_indicator_values set value_in_period = 11 where period_type = 'month'"
                   " and scope_code = '22' and platform = 'all' and map_version = 'post2025'"
                   " and indicator_code = 'orders'")
    third = publish.publish_period("month", "2026-11")
    assert [p["scope_key"] for p in third.published] == ["province-22"]
    manifest = json.loads((rev.parent / "rev-2" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["revision"] == 2 and manifest["changes"] == [{
        "indicator_code": "orders", "change": "changed",
        "label": next(i.label_vi for i in reference.indicators() if i.code == "orders"),
        "fields": {"value_in_period": {"old": 10, "new": 11}}}]
    with conn.cursor() as cur:
        cur.execute("select period_type, scope_code, revision from ops.publications"
                    " where period_key = '2026-11' order by 2, 3")
        published = cur.fetchall()
    conn.commit()
    assert published == [("month", "22", 1), ("month", "22", 2), ("month", "VN", 1), ("month", "bac", 1)]


@pytest.mark.parametrize("period_type, key, title, heading, prefix", [
    ("half_year", "2026-H1", "BÁO CÁO 6 THÁNG ĐẦU NĂM 2026", "Chỉ tiêu đạt được trong 6 tháng (Số lượng)",
     "bao_cao_6_thang"),
    ("half_year", "2026-H2", "BÁO CÁO 6 THÁNG CUỐI NĂM 2026", "Chỉ tiêu đạt được trong 6 tháng (Số lượng)",
     "bao_cao_6_thang"),
    ("year", "2026", "BÁO CÁO NĂM 2026", "Chỉ tiêu đạt được trong năm (Số lượng)", "bao_cao_nam"),
])
def test_half_year_and_year_reports_with_target_attainment_for_the_year(home, period_type, key, title, heading,
                                                                         prefix):
    root, conn = home
    _seed_period(conn, period_type, key, value=40)
    publish.publish_period(period_type, key)
    rev = root / "exports" / period_type / key / "nation-VN" / "rev-1"
    data = json.loads((rev / f"{prefix}_{key}_nation-VN.json").read_text(encoding="utf-8"))
    assert data["title"] == title and data["columns"]["value_in_period"] == heading
    assert data["columns"]["target_attainment_pct"] == "Tỉ lệ hoàn thành chỉ tiêu năm 2026 đến cuối kỳ báo cáo (%)"
    shop = next(r for r in data["rows"] if r["indicator_code"] == "hh_with_shop")
    assert shop["cumulative_value"] == 400 and shop["target_value"] == 1000 and shop["target_attainment_pct"] == 40
    wb = load_workbook(rev / f"{prefix}_{key}_nation-VN.xlsx")
    assert title in [wb.active.cell(row=r, column=1).value for r in range(1, 8)]
    assert len(wb[CHART_SHEET]._charts) == 2  # nation: per indicator + per province
    assert list(_validator("period_report").iter_errors(data)) == []


def test_a_period_the_mart_does_not_have_is_refused_clearly(home):
    _, conn = home
    with pytest.raises(publish.NothingToPublish, match="no 'month' periods yet"):
        publish.publish_period("month", "2026-11")
    _seed_period(conn, "month", "2026-10")
    with pytest.raises(publish.NothingToPublish, match="tháng 2026-11.*no rows for this period"):
        publish.publish_period("month", "2026-11")
    with pytest.raises(ValueError):
        publish.publish_period("month", "2026-13")
    with pytest.raises(ValueError):
        publish.publish_period("quarter", "2026-Q4")


def test_publish_weekly_keeps_its_signature():
    assert list(inspect.signature(publish.publish_weekly).parameters) == [
        "week_key", "gate_summary", "blocked_scopes", "logical_date", "generated_at", "map_version"]
    with pytest.raises(ValueError):
        publish.publish_weekly("2026-11")


def test_period_wording_and_deadlines():
    month = template.Period("month", "2026-11", *periods.period_bounds("month", "2026-11"))
    assert month.title == "BÁO CÁO THÁNG 11/2026" and month.end == dt.date(2026, 11, 30)
    assert periods.period_bounds("month", "2028-02") == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert periods.period_bounds("half_year", "2026-H2") == (dt.date(2026, 7, 1), dt.date(2026, 12, 31))
    assert periods.period_deadline("year", "2026").isoformat() == "2026-12-15T00:00:00+07:00"
    assert periods.period_deadline("week", WEEK).isoformat() == "2026-11-26T14:00:00+07:00"


def test_summary_when_every_scope_is_blocked_says_so(home):
    root, _ = home
    blocked = {f"{level}-{code}": "gate: failed" for level, code, _ in SCOPES}
    summary = publish.publish_weekly(WEEK, blocked_scopes=blocked)
    assert summary.published == [] and summary.unchanged == []
    page = Path(summary.summary_html).read_text(encoding="utf-8")
    assert "Báo cáo toàn quốc chưa được công bố (bị chặn: gate: failed)" in page
    assert "<a href" not in page and page.count("Bị chặn: gate: failed") == 3
    assert "1.234.567" not in page  # no number of a blocked scope leaks into the summary


def test_render_script_is_valid_bash_and_explains_its_usage():
    import os
    import subprocess

    script = Path(__file__).resolve().parents[1] / "scripts" / "render_report.sh"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    done = subprocess.run([str(script)], capture_output=True, text=True)
    assert done.returncode == 2 and "usage:" in done.stderr  # no LibreOffice needed to get here


# --- as-of-deadline source and monthly product types ------------------------------------------------


def test_every_published_row_is_recorded_with_its_revision(home):
    _, conn = home
    first_at = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.timezone.utc)
    publish.publish_weekly(WEEK, generated_at=first_at)
    _execute(conn, "update marts.rpt_weekly_report set value_in_week = 13 where scope_code = '22'"
                   " and indicator_code = 'hh_with_shop'")
    publish.publish_weekly(WEEK, generated_at=first_at + dt.timedelta(days=3))
    with conn.cursor() as cur:
        cur.execute("""select scope_code, revision, count(*), min(published_at), max(map_version), max(platform)
                       from ops.published_values where period_type = 'week' and period_key = %s
                       group by 1, 2 order by 1, 2""", (WEEK,))
        counts = cur.fetchall()
        cur.execute("""select revision, value_in_period, cumulative_value, target_value from ops.published_values
                       where scope_code = '22' and indicator_code = 'hh_with_shop' order by revision""")
        shop = cur.fetchall()
        cur.execute("""select count(*) from ops.publications p where not exists (
                           select 1 from ops.published_values v where (v.period_type, v.period_key, v.scope_level,
                           v.scope_code, v.revision) = (p.period_type, p.period_key, p.scope_level, p.scope_code,
                           p.revision))""")
        orphans = cur.fetchone()[0]
    conn.commit()
    assert [(c[0], c[1], c[2]) for c in counts] == [("22", 1, 17), ("22", 2, 17), ("VN", 1, 17), ("bac", 1, 17)]
    assert counts[0][3] == first_at and counts[1][3] == first_at + dt.timedelta(days=3)
    assert counts[0][4:] == ("post2025", "all")
    assert [(r[0], int(r[1]), float(r[2]), int(r[3])) for r in shop] == [(1, 12, 1234.5, 2000), (2, 13, 1234.5, 2000)]
    assert orphans == 0


PRODUCT_DDL = """
create table marts.fct_product_type_monthly (month_key text, month_start date, month_end date, scope_level text,
    scope_code text, map_version text, platform text, product_group text, product_type text, orders bigint,
    volume_t numeric, revenue_vnd numeric);
insert into marts.fct_product_type_monthly values
    ('2026-11','2026-11-01','2026-11-30','province','22','post2025','all','agricultural','Gạo',3,1.75,450000),
    ('2026-11','2026-11-01','2026-11-30','province','22','post2025','postmart','agricultural','Gạo',2,0.75,150000),
    ('2026-11','2026-11-01','2026-11-30','province','22','post2025','voso','agricultural','Gạo',1,1,300000),
    ('2026-11','2026-11-01','2026-11-30','province','22','post2025','voso','input','=Phân bón',1,0.04,80000),
    ('2026-11','2026-11-01','2026-11-30','province','22','post2025','all','input','=Phân bón',1,0.04,80000),
    ('2026-11','2026-11-01','2026-11-30','nation','VN','post2025','all','agricultural','Gạo',3,1.75,450000),
    ('2026-10','2026-10-01','2026-10-31','province','22','post2025','all','agricultural','Chè',9,9,9);
"""


def test_month_report_carries_product_type_statistics(home):
    root, conn = home
    _seed_period(conn, "month", "2026-11")
    _execute(conn, PRODUCT_DDL)
    summary = publish.publish_period("month", "2026-11")
    assert len(summary.published) == 3
    rev = root / "exports" / "month" / "2026-11" / "province-22" / "rev-1"
    base = "bao_cao_thang_2026-11_province-22"
    assert sorted(p.name for p in rev.iterdir()) == sorted([f"{base}.xlsx", f"{base}.csv", f"{base}.json",
                                                            f"{base}_loai_san_pham.csv", "manifest.json"])
    data = json.loads((rev / f"{base}.json").read_text(encoding="utf-8"))
    assert data["product_types"][:3] == [
        {"platform": "all", "product_group": "agricultural", "product_type": "Gạo", "orders": 3, "volume_t": 1.75,
         "revenue_vnd": 450000},
        {"platform": "all", "product_group": "input", "product_type": "=Phân bón", "orders": 1, "volume_t": 0.04,
         "revenue_vnd": 80000},
        {"platform": "postmart", "product_group": "agricultural", "product_type": "Gạo", "orders": 2,
         "volume_t": 0.75, "revenue_vnd": 150000}]
    assert len(data["product_types"]) == 5   # not October's row
    assert list(_validator("period_report").iter_errors(data)) == []
    manifest = json.loads((rev / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["row_counts"]["product_type_rows"] == 5
    for entry in manifest["files"]:
        assert hashlib.sha256((rev / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    raw = (rev / f"{base}_loai_san_pham.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8")), delimiter=";"))
    assert rows[0] == list(template.PRODUCT_HEADINGS)
    assert rows[1] == ["Cả hai sàn", "Nông sản", "Gạo", "3", "1,75", "450000"]
    assert rows[2][2] == "'=Phân bón"   # formula guard
    wb = load_workbook(rev / f"{base}.xlsx")
    assert wb.sheetnames == ["Báo cáo tháng", CHART_SHEET, template.PLATFORM_SHEET, xlsx.PRODUCT_SHEET]
    ws = wb[xlsx.PRODUCT_SHEET]
    header = next(r for r in range(1, 10) if ws.cell(row=r, column=1).value == "Sàn")
    assert [ws.cell(row=header + 1, column=c).value for c in range(1, 7)] == [
        "Cả hai sàn", "Nông sản", "Gạo", 3, 1.75, 450000]
    nation = json.loads((root / "exports" / "month" / "2026-11" / "nation-VN" / "rev-1"
                         / "bao_cao_thang_2026-11_nation-VN.json").read_text(encoding="utf-8"))
    assert [r["orders"] for r in nation["product_types"]] == [3]
    region = json.loads((root / "exports" / "month" / "2026-11" / "region-bac" / "rev-1"
                         / "bao_cao_thang_2026-11_region-bac.json").read_text(encoding="utf-8"))
    assert region["product_types"] == []   # the mart exists but has no rows for the region
    # a changed product figure makes a new revision of that scope only
    _execute(conn, "update marts.fct_product_type_monthly set orders = 4 where scope_code = '22'"
                   " and platform = 'all' and product_type = 'Gạo' and month_key = '2026-11'")
    again = publish.publish_period("month", "2026-11")
    assert [p["scope_key"] for p in again.published] == ["province-22"]


def test_a_periodic_gate_result_is_in_every_manifest_and_blocks_its_scopes(home):
    """The monthly / half-year / year-end DAGs pass lensan.quality.checkpoints.run_period_checkpoint's merged summary:
    a province failing in one week of the month is not published, the others carry the gate result."""
    import datetime as _dt

    from lensan.quality.summary import merge_summaries

    root, conn = home
    _seed_period(conn, "month", "2026-11")
    month_part = {"checkpoint": "marts_period_checkpoint", "period_key": "2026-11", "run_id": "r", "status": "passed",
                  "counts": {"validations": 1, "evaluated": 10, "successful": 10}, "failed": [], "warnings": []}
    week_part = {"checkpoint": "marts_checkpoint", "period_key": "2026-W47", "run_id": "r__2026-W47",
                 "status": "failed", "counts": {"validations": 6, "evaluated": 40, "successful": 39, "failed_error": 1},
                 "failed": [{"name": "marts_weekly_report.expect_column_values_to_be_between(cumulative_value)"}],
                 "warnings": [], "blocked_scopes": {"province-22": "negative households"},
                 "flagged_scopes": {"region-bac": "includes province-22", "nation-VN": "includes province-22"}}
    merged = merge_summaries([month_part, week_part], run_id="r", period_key="2026-11",
                             started=_dt.datetime(2026, 12, 3, 1, tzinfo=_dt.timezone.utc))
    merged.update(period_type="month", weeks=["2026-W45", "2026-W46", "2026-W47", "2026-W48"])
    summary = publish.publish_period("month", "2026-11", gate_summary=merged)
    assert summary.blocked == {"province-22": "[2026-W47] negative households"}
    assert sorted(p["scope_key"] for p in summary.published) == ["nation-VN", "region-bac"]
    assert not (root / "exports" / "month" / "2026-11" / "province-22").exists()
    rev = root / "exports" / "month" / "2026-11" / "nation-VN" / "rev-1"
    manifest = json.loads((rev / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["gate"]["checkpoint"] == "marts_period_gate" and manifest["gate"]["status"] == "failed"
    assert manifest["gate"]["weeks"] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    assert [p["period_key"] for p in manifest["gate"]["parts"]] == ["2026-11", "2026-W47"]
    assert manifest["gate"]["blocked_scopes"] == {"province-22": "[2026-W47] negative households"}
    data = json.loads((rev / "bao_cao_thang_2026-11_nation-VN.json").read_text(encoding="utf-8"))
    first = next(r for r in data["rows"] if r["indicator_code"] == "ocop_listed")
    assert "Cảnh báo: [2026-W47] includes province-22" in first["quality_flags"]
    index = json.loads((root / "exports" / "month" / "2026-11" / "index.json").read_text(encoding="utf-8"))
    assert index["gate_status"] == "failed" and index["counts"] == {"new": 2, "unchanged": 0, "blocked": 1}


# --- issue #19: per-platform figures, completeness per cell, the map of its time, the issuing body --------


def test_per_platform_figures_in_csv_json_and_xlsx(home):
    root, _ = home
    publish.publish_weekly(WEEK)
    rev = _rev_dir(root, "province-22", 1)
    base = f"bao_cao_tuan_{WEEK}_province-22"
    data = json.loads((rev / f"{base}.json").read_text(encoding="utf-8"))
    shop = next(r for r in data["rows"] if r["indicator_code"] == "hh_with_shop")
    assert (shop["value_in_week"], shop["value_in_week_postmart"], shop["value_in_week_voso"]) == (12, 9, 5)
    assert (shop["cumulative_value_postmart"], shop["cumulative_value_voso"]) == (900, 500)
    assert shop["platforms_additive"] is False
    assert data["columns"]["value_in_week_voso"] == "voso.vn: đạt được trong tuần"
    assert "cả hai sàn" in data["platform_note"] and "exceed the total" in data["platform_note"]
    rows = list(csv.reader(io.StringIO((rev / f"{base}.csv").read_bytes()[3:].decode("utf-8")), delimiter=";"))
    csv_shop = next(r for r in rows if r[1].startswith("Số hộ SXNN có tài khoản bán hàng"))
    assert csv_shop[3] == "12" and csv_shop[8:12] == ["9", "900", "5", "500"]
    ws = load_workbook(rev / f"{base}.xlsx")[template.PLATFORM_SHEET]
    assert "postmart.vn + voso.vn có thể lớn hơn tổng" in ws["A3"].value
    header = next(r for r in range(1, 10) if ws.cell(row=r, column=1).value == "TT")
    assert [ws.cell(row=header, column=c).value for c in range(4, 10)] == [
        "Cả hai sàn: đạt được trong tuần", "Cả hai sàn: lũy kế", "postmart.vn: đạt được trong tuần",
        "postmart.vn: lũy kế", "voso.vn: đạt được trong tuần", "voso.vn: lũy kế"]
    xlsx_shop = next(r for r in range(header, header + 30)
                     if (ws.cell(row=r, column=2).value or "").startswith("Số hộ SXNN có tài khoản bán hàng"))
    assert [ws.cell(row=xlsx_shop, column=c).value for c in range(4, 10)] == [12, 1234.5, 9, 900, 5, 500]


def test_issuing_body_comes_from_the_seed_by_scope_and_date_and_can_be_overridden(home, monkeypatch):
    root, _ = home
    monkeypatch.delenv("LENSAN_NATIONAL_ISSUING_BODY", raising=False)
    assert template.issuing_body("province", "22", dt.date(2026, 11, 26)) == "UBND TỈNH QUẢNG NINH"
    assert template.issuing_body("nation", "VN", dt.date(2025, 2, 28)) == "BỘ THÔNG TIN VÀ TRUYỀN THÔNG"
    assert template.issuing_body("nation", "VN", dt.date(2025, 3, 1)) == "BỘ KHOA HỌC VÀ CÔNG NGHỆ"
    assert template.issuing_body("region", "bac", dt.date(2026, 1, 1)) == "BỘ KHOA HỌC VÀ CÔNG NGHỆ"
    bodies = {(r["map_version"], r["scope_code"]) for r in reference.issuing_bodies() if r["scope_level"] == "province"}
    assert set(reference.provinces()) <= bodies   # every province of both maps has its body
    # a pre-2025 province merged away keeps the body of its time
    assert template.issuing_body("province", "30", dt.date(2026, 1, 1), "pre2025") == "UBND TỈNH HẢI DƯƠNG"
    publish.publish_weekly(WEEK, generated_at=dt.datetime(2026, 11, 26, 3, tzinfo=dt.timezone.utc))
    nation = _rev_dir(root, "nation-VN", 1)
    assert load_workbook(nation / f"bao_cao_tuan_{WEEK}_nation-VN.xlsx").active["A1"].value == "BỘ KHOA HỌC VÀ CÔNG NGHỆ"
    manifest = json.loads((nation / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["issuing_body"] == "BỘ KHOA HỌC VÀ CÔNG NGHỆ" and manifest["map_version"] == "post2025"
    html_page = (root / "exports" / "week" / WEEK / f"tom_tat_{WEEK}.html").read_text(encoding="utf-8")
    assert '<div class="org">BỘ KHOA HỌC VÀ CÔNG NGHỆ</div>' in html_page

    monkeypatch.setenv("LENSAN_NATIONAL_ISSUING_BODY", "BỘ THỬ NGHIỆM")
    assert template.issuing_body("nation", "VN", dt.date(2026, 1, 1)) == "BỘ THỬ NGHIỆM"
    assert template.issuing_body("region", "nam", dt.date(2026, 1, 1)) == "BỘ THỬ NGHIỆM"
    assert template.issuing_body("province", "22", dt.date(2026, 1, 1)) == "UBND TỈNH QUẢNG NINH"
    publish.publish_weekly(WEEK)   # the heading is content: a new revision names the new body
    data = json.loads((_rev_dir(root, "nation-VN", 2) / f"bao_cao_tuan_{WEEK}_nation-VN.json").read_text(
        encoding="utf-8"))
    assert data["issuing_body"] == "BỘ THỬ NGHIỆM"


def _seed_as_reported_week(conn, week: str) -> None:
    """A pre-2025 week in marts.fct_indicator_values on both maps: today's province 22 and the nation, and the
    provinces of its time 22 (Quảng Ninh) and 30 (Hải Dương, merged into Hải Phòng on 1 July 2025)."""
    with conn.cursor() as cur:
        for map_version, level, code, value in (("post2025", "province", "22", 10), ("post2025", "nation", "VN", 30),
                                                ("pre2025", "province", "22", 7), ("pre2025", "province", "30", 3)):
            for ind in reference.weekly_form_indicators():
                for platform, share in (("all", 1), ("postmart", 0.5), ("voso", 0.75)):
                    cur.execute(
                        "insert into marts.fct_indicator_values (period_type, period_key, scope_level, scope_code,"
                        " map_version, platform, indicator_code, value_in_period, cumulative_value) values"
                        " ('week', %s, %s, %s, %s, %s, %s, %s, %s)",
                        (week, level, code, map_version, platform, ind.code, value * share, value * 10 * share))
    conn.commit()


def test_a_week_before_the_reform_on_the_map_of_its_time_beside_todays(home):
    root, conn = home
    week = "2024-W10"
    _seed_as_reported_week(conn, week)
    _execute(conn, f"insert into marts.rpt_weekly_report (week_key, scope_level, scope_code, scope_name, section, tt,"
                   f" sort_order, indicator_code, indicator_label_vi, unit_vi, value_in_week) values"
                   f" ('{week}', 'province', '22', 'Quảng Ninh', 'I', 'I', 1, 'ocop_listed', 'OCOP', 'Sản phẩm', 10)")
    today = publish.publish_weekly(week)
    old = publish.publish_weekly(week, map_version="pre2025")
    assert [p["scope_key"] for p in today.published] == ["province-22"]
    assert sorted(p["scope_key"] for p in old.published) == ["province-22", "province-30"]
    assert old.map_version == "pre2025" and old.export_dir.endswith(f"week/{week}/pre2025")
    week_dir = root / "exports" / "week" / week
    assert (week_dir / "province-22" / "rev-1" / f"bao_cao_tuan_{week}_province-22.json").is_file()
    rev = week_dir / "pre2025" / "province-30" / "rev-1"
    base = f"bao_cao_tuan_{week}_pre2025_province-30"
    assert sorted(p.name for p in rev.iterdir()) == sorted([f"{base}.xlsx", f"{base}.csv", f"{base}.json",
                                                            "manifest.json"])
    manifest = json.loads((rev / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["map_version"] == "pre2025" and manifest["scope_name"] == "Tỉnh Hải Dương"
    assert manifest["issuing_body"] == "UBND TỈNH HẢI DƯƠNG"
    data = json.loads((rev / f"{base}.json").read_text(encoding="utf-8"))
    ocop = next(r for r in data["rows"] if r["indicator_code"] == "ocop_listed")
    assert (ocop["value_in_week"], ocop["value_in_week_postmart"], ocop["value_in_week_voso"]) == (3, 1.5, 2.25)
    assert data["map_version"] == "pre2025" and list(_validator("weekly_report").iter_errors(data)) == []
    ws = load_workbook(rev / f"{base}.xlsx").active
    assert any("63 tỉnh/thành phố" in (ws.cell(row=r, column=1).value or "") for r in range(1, 8))
    index = json.loads((week_dir / "pre2025" / "index.json").read_text(encoding="utf-8"))
    assert index["map_version"] == "pre2025"
    assert json.loads((week_dir / "index.json").read_text(encoding="utf-8"))["map_version"] == "post2025"
    with conn.cursor() as cur:   # the publication log (and the as-of-deadline mart) follow today's map only
        cur.execute("select scope_code, revision from ops.publications where period_key = %s", (week,))
        assert cur.fetchall() == [("22", 1)]
    conn.commit()
    again = publish.publish_weekly(week, map_version="pre2025")
    assert again.published == [] and len(again.unchanged) == 2


COMPLETENESS_MARTS = """
create table marts.rpt_reporting_completeness (week_key text, scope_level text, scope_code text,
    expected_units int, received_units int, on_time_units int, late_units int, missing_units int,
    received_pct numeric, expected_rows int, reported_rows int, reported_rows_pct numeric);
create table marts.fct_reporting_completeness (week_key text, map_version text, unit_code text, unit_name text,
    province_code text, province_name text, current_province_code text, current_province_name text,
    region_code text, reporting_status text, is_received boolean, first_received_at timestamptz,
    hours_late numeric, expected_rows int, reported_rows int);
insert into marts.rpt_reporting_completeness values
    ('2026-W47', 'province', '22', 3, 2, 1, 1, 1, 66.7, 51, 31, 60.8),
    ('2026-W47', 'region', 'bac', 3, 2, 1, 1, 1, 66.7, 51, 31, 60.8),
    ('2026-W47', 'nation', 'VN', 3, 2, 1, 1, 1, 66.7, 51, 31, 60.8);
insert into marts.fct_reporting_completeness values
    ('2026-W47', 'post2025', '07090', 'Xã A', '22', 'Quảng Ninh', '22', 'Quảng Ninh', 'bac', 'on_time', true,
     '2026-11-23 09:00+07', null, 17, 17),
    ('2026-W47', 'post2025', '07091', 'Xã B', '22', 'Quảng Ninh', '22', 'Quảng Ninh', 'bac', 'late', true,
     '2026-11-27 09:00+07', 19, 17, 14),
    ('2026-W47', 'post2025', '07092', 'Xã C', '22', 'Quảng Ninh', '22', 'Quảng Ninh', 'bac', 'missing', false,
     null, null, 17, 0);
"""


def test_completeness_annex_counts_the_form_rows_each_unit_filled(home):
    root, conn = home
    _execute(conn, COMPLETENESS_MARTS)
    publish.publish_weekly(WEEK)
    rev = _rev_dir(root, "province-22", 1)
    data = json.loads((rev / f"bao_cao_tuan_{WEEK}_province-22.json").read_text(encoding="utf-8"))
    annex = data["completeness"]
    assert (annex["expected_rows"], annex["reported_rows"], annex["reported_rows_pct"]) == (51, 31, 60.8)
    assert [(u["unit_code"], u["status"], u["reported_rows"], u["expected_rows"]) for u in annex["units"]] == [
        ("07090", "on_time", 17, 17), ("07091", "late", 14, 17), ("07092", "missing", 0, 17)]
    assert [(u["unit_code"], u["reported_rows"]) for u in annex["incomplete_units"]] == [("07091", 14)]
    assert list(_validator("weekly_report").iter_errors(data)) == []
    nation = json.loads((_rev_dir(root, "nation-VN", 1) / f"bao_cao_tuan_{WEEK}_nation-VN.json").read_text(
        encoding="utf-8"))["completeness"]
    assert "units" not in nation and [u["unit_code"] for u in nation["incomplete_units"]] == ["07091"]
    wb = load_workbook(rev / f"bao_cao_tuan_{WEEK}_province-22.xlsx")
    texts = [c for row in wb.active.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "31 / 51 (60,8%)" in texts
    assert any(t.startswith("07091 Xã B (14/17 dòng)") for t in texts)
    units = wb["Tình hình báo cáo"]
    assert [c.value for c in units[5]] == ["07091", "Xã B", "Muộn", 14, 17]


def test_lensan_publish_month_withholds_blocked_scopes_refreshes_and_delivers_as_the_dags(home, monkeypatch):
    """`lensan publish --month` through the DAGs' functions: the gate decision (stubbed here: its rules are
    tests/test_gate.py's), Blocked scopes withheld and the rest published, the as-of snapshot refreshed (a dbt
    run, stubbed), the new revisions delivered to the outbox; Stop publishes nothing and fails."""
    from lensan.cli.main import main
    from lensan.orchestration import publication
    from lensan.quality import policy

    root, conn = home
    monkeypatch.delenv("LENSAN_DELIVERY_CHANNELS", raising=False)
    _seed_period(conn, "month", "2026-11")
    gate = {"status": "failed", "failed": [{"name": "x"}], "blocked_scopes": {"province-22": "tồn kho âm"}}
    decided, refreshed = [], []

    def blocked(period_type, key, run_id=None):
        decided.append((period_type, key))
        return policy.Blocked(gate, dict(gate["blocked_scopes"]), "tồn kho âm / negative stock")

    monkeypatch.setattr(publication, "decide", blocked)
    monkeypatch.setattr(publication, "refresh_asof_snapshot", lambda: refreshed.append(True))
    assert main(["publish", "--month", "2026-11"]) == 0
    assert decided == [("month", "2026-11")] and refreshed == [True]
    month = root / "exports" / "month" / "2026-11"
    assert (month / "nation-VN" / "rev-1").is_dir() and not (month / "province-22").exists()
    index = json.loads((month / "index.json").read_text(encoding="utf-8"))
    assert {e["scope_key"]: e["status"] for e in index["scopes"]}["province-22"] == "blocked"
    assert (root / "outbox" / "month" / "2026-11" / "nation-VN" / "rev-1" / "manifest.json").is_file()
    assert not (root / "outbox" / "month" / "2026-11" / "province-22").exists()

    monkeypatch.setattr(publication, "decide",
                        lambda *a, **k: policy.Stop({"status": "failed", "blocks_all": True}, "quy tắc X / rule X"))
    _execute(conn, "update marts.fct_indicator_values set value_in_period = 11 where scope_code = 'VN'")
    assert main(["publish", "--month", "2026-11"]) == 1
    assert not (month / "nation-VN" / "rev-2").exists() and refreshed == [True]


@pytest.mark.parametrize("argv, expected", [
    (["--week", "2026-W47"], ("week", "2026-W47", "post2025")),
    (["--month", "2026-11"], ("month", "2026-11", "post2025")),
    (["--half", "2026-H1"], ("half_year", "2026-H1", "post2025")),
    (["--year", "2026"], ("year", "2026", "post2025")),
    (["--week", "2024-W10", "--map", "as-reported"], ("week", "2024-W10", "pre2025")),
    (["--month", "2025-06", "--map", "as-reported"], ("month", "2025-06", "pre2025")),
    (["--month", "2025-07", "--map", "as-reported"], ("month", "2025-07", "post2025")),   # its time is today's map
])
def test_publish_command_resolves_every_period_and_its_map(argv, expected):
    from lensan.cli import publish as publish_cmd
    from lensan.cli.main import build_parser

    args = build_parser().parse_args(["publish", *argv])
    period_type, key = publish_cmd.resolve_period(args)
    assert (period_type, key, publish_cmd.map_version_of(period_type, key, args.map)) == expected
    with pytest.raises(SystemExit):   # one period at a time
        build_parser().parse_args(["publish", "--week", "2026-W47", "--month", "2026-11"])
    with pytest.raises(ValueError):
        publish_cmd.resolve_period(build_parser().parse_args(["publish", "--half", "2026-H3"]))


# ------------------------------------------------------------------------------------------------
# attainment flags, national coverage, page setup (issue #19)


def _flag_rows(conn, table: str, key_column: str, key: str) -> None:
    """hh_with_shop above its target, ocop_listed implausibly low — in every scope."""
    _execute(conn, f"update {table} set target_attainment_pct = 341.2, attainment_flag = 'above_target'"
                   f" where {key_column} = %s and indicator_code = 'hh_with_shop'", (key,))
    _execute(conn, f"update {table} set target_attainment_pct = 3.1, attainment_flag = 'implausibly_low'"
                   f" where {key_column} = %s and indicator_code = 'ocop_listed'", (key,))


def _check_flags_published(rev: Path, base: str, value_field: str, schema: str) -> None:
    data = json.loads((rev / f"{base}.json").read_text(encoding="utf-8"))
    by_code = {r["indicator_code"]: r for r in data["rows"]}
    assert by_code["hh_with_shop"]["attainment_flag"] == "above_target"
    assert by_code["ocop_listed"]["attainment_flag"] == "implausibly_low"
    assert by_code["hh_trained_digital"]["attainment_flag"] is None
    assert data["columns"]["attainment_flag"] == template.ATTAINMENT_FLAG_HEADING
    assert list(_validator(schema).iter_errors(data)) == []
    rows = list(csv.reader(io.StringIO((rev / f"{base}.csv").read_bytes()[3:].decode("utf-8")), delimiter=";"))
    assert rows[0][12] == template.ATTAINMENT_FLAG_HEADING and {len(r) for r in rows} == {13}
    flags = {r[1]: r[12] for r in rows[1:]}
    assert flags[by_code["hh_with_shop"]["indicator_label_vi"]] == "above_target"
    assert flags[by_code["ocop_listed"]["indicator_label_vi"]] == "implausibly_low"
    assert flags[by_code["hh_trained_digital"]["indicator_label_vi"]] == ""
    # the XLSX reader SEES the flag: the % cell coloured and marked, its note beside it, the legend below
    ws = load_workbook(rev / f"{base}.xlsx").active
    found = {}
    for r in range(9, ws.max_row + 1):
        label = ws.cell(row=r, column=2).value
        for code in ("hh_with_shop", "ocop_listed", "hh_trained_digital"):
            if label == by_code[code]["indicator_label_vi"]:
                found[code] = (ws.cell(row=r, column=7), (ws.cell(row=r, column=8).value or "").split("\n")[0])
    pct, note = found["hh_with_shop"]
    assert pct.value == 341.2 and "▲" in pct.number_format and pct.fill.fgColor.rgb.endswith("FFE699")
    assert note == "▲ Tỉ lệ hoàn thành: vượt chỉ tiêu năm (trên 100%)"
    pct, note = found["ocop_listed"]
    assert pct.value == 3.1 and "▼" in pct.number_format and pct.fill.fgColor.rgb.endswith("F8CBAD")
    assert note == "▼ Tỉ lệ hoàn thành: thấp bất thường (dưới 5% chỉ tiêu năm)"
    pct, note = found["hh_trained_digital"]
    assert "▲" not in pct.number_format and "▼" not in pct.number_format and pct.fill.fill_type is None
    texts = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    assert template.ATTAINMENT_LEGEND in texts


def test_attainment_flags_are_carried_into_csv_json_and_seen_in_the_xlsx(home):
    root, conn = home
    _flag_rows(conn, "marts.rpt_weekly_report", "week_key", WEEK)
    publish.publish_weekly(WEEK)
    for scope in ("nation-VN", "province-22"):
        _check_flags_published(_rev_dir(root, scope, 1), f"bao_cao_tuan_{WEEK}_{scope}", "value_in_week",
                               "weekly_report")
    page = (root / "exports" / "week" / WEEK / f"tom_tat_{WEEK}.html").read_text(encoding="utf-8")
    assert 'title="Vượt chỉ tiêu năm (trên 100%)">▲</span>' in page


def test_attainment_flags_of_a_month_come_from_the_fact_table(home):
    root, conn = home
    _seed_period(conn, "month", "2026-11")
    _flag_rows(conn, "marts.fct_indicator_values", "period_key", "2026-11")
    publish.publish_period("month", "2026-11")
    rev = root / "exports" / "month" / "2026-11" / "region-bac" / "rev-1"
    _check_flags_published(rev, "bao_cao_thang_2026-11_region-bac", "value_in_period", "period_report")


def test_attainment_legend_states_the_thresholds_of_the_dbt_project():
    import yaml

    project = yaml.safe_load((Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml")
                             .read_text(encoding="utf-8"))
    variables = project["vars"]
    low, month = variables["attainment_low_pct"], variables["attainment_low_from_month"]
    assert f"dưới {low}% chỉ tiêu năm trong kỳ kết thúc từ tháng {month}" in template.ATTAINMENT_LEGEND
    assert f"(dưới {low}% chỉ tiêu năm)" in template.ATTAINMENT_FLAGS["implausibly_low"][1]
    assert "trên 100%" in template.ATTAINMENT_LEGEND


def test_national_and_region_reports_name_the_provinces_their_figures_come_from(home):
    root, conn = home
    # a second province with targets but no figure on them (only on a row without a target, as platform
    # accounts active everywhere): on the map, not in the sum the national attainment measures
    _execute(conn, "insert into marts.rpt_weekly_report (week_key, scope_level, scope_code, scope_name, section,"
                   " tt, sort_order, indicator_code, indicator_label_vi, unit_vi, value_in_week, cumulative_value,"
                   " target_value)"
                   " select week_key, 'province', '01', 'Hà Nội', section, tt, sort_order, indicator_code,"
                   " indicator_label_vi, unit_vi, case when tt = section then null else 0 end, 0, target_value"
                   " from marts.rpt_weekly_report where scope_code = '22'")
    _execute(conn, "update marts.rpt_weekly_report set value_in_week = 5, cumulative_value = 50, target_value = null"
                   " where scope_code = '01' and indicator_code = 'domestic_markets'")
    publish.publish_weekly(WEEK)
    provinces = {code: ref for (version, code), ref in reference.provinces().items() if version == "post2025"}
    in_bac = sorted(c for c, ref in provinces.items() if ref["region_code"] == "bac")
    name_22 = provinces["22"].get("province_short_name") or provinces["22"]["province_name"]
    for scope, total, where in (("nation-VN", len(provinces), "cả nước"), ("region-bac", len(in_bac), "vùng")):
        base = f"bao_cao_tuan_{WEEK}_{scope}"
        rev = _rev_dir(root, scope, 1)
        data = json.loads((rev / f"{base}.json").read_text(encoding="utf-8"))
        assert data["coverage"] == {"provinces_with_data": 1, "provinces": total, "province_codes": ["22"],
                                    "province_names": [name_22]}
        assert list(_validator("weekly_report").iter_errors(data)) == []
        ws = load_workbook(rev / f"{base}.xlsx").active
        texts = [ws.cell(row=r, column=1).value or "" for r in range(1, ws.max_row + 1)]
        assert any(t.startswith("Phạm vi báo cáo:") and f"số liệu từ 1/{total} tỉnh, thành phố" in t for t in texts)
        line = next(t for t in texts if t.startswith("Phạm vi số liệu:"))
        assert f"1/{total} tỉnh, thành phố ({name_22})" in line and f"chỉ tiêu năm là chỉ tiêu của {where}" in line
        assert "tỉ lệ hoàn thành thấp" in line
    data = json.loads((_rev_dir(root, "province-22", 1) / f"bao_cao_tuan_{WEEK}_province-22.json")
                      .read_text(encoding="utf-8"))
    assert data["coverage"] is None
    ws = load_workbook(_rev_dir(root, "province-22", 1) / f"bao_cao_tuan_{WEEK}_province-22.xlsx").active
    assert not any((ws.cell(row=r, column=1).value or "").startswith("Phạm vi số liệu:")
                   for r in range(1, ws.max_row + 1))


def test_every_sheet_prints_one_page_wide_with_its_heading_repeated(home):
    root, conn = home
    publish.publish_weekly(WEEK)
    base = f"bao_cao_tuan_{WEEK}_province-22"
    rows = json.loads((_rev_dir(root, "province-22", 1) / f"{base}.json").read_text(encoding="utf-8"))["rows"]
    start, end = periods.week_bounds(WEEK)
    # every sheet a workbook can have: the units' sheet of a province, the product types of a month
    units = [{"unit_code": "07090", "unit_name": "Xã A", "status": "on_time", "reported_rows": 17,
              "expected_rows": 17}]
    products = [{"platform": "all", "product_group": "agricultural", "product_type": "Vải", "orders": 3,
                 "volume_t": 0.5, "revenue_vnd": 100000}]
    books = [load_workbook(_rev_dir(root, "province-22", 1) / f"{base}.xlsx"),
             load_workbook(io.BytesIO(xlsx.render_xlsx(
                 WEEK, start, end, "province", "22", "Quảng Ninh", rows, 1,
                 dt.datetime(2026, 11, 26, tzinfo=dt.timezone.utc), None, {"expected": 1, "units": units},
                 product_types=products)))]
    seen = set()
    for wb in books:
        for ws in wb.worksheets:
            seen.add(ws.title)
            assert int(ws.page_setup.fitToWidth) == 1 and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4, ws.title
            if ws.title != CHART_SHEET:
                assert ws.print_title_rows, ws.title
        main, platforms = wb.worksheets[0], wb[template.PLATFORM_SHEET]
        assert (int(main.page_setup.fitToWidth), int(main.page_setup.fitToHeight)) == (1, 1)   # one page
        assert platforms.page_setup.orientation == "landscape" and int(platforms.page_setup.fitToHeight) == 0
        header = next(r for r in range(1, 10) if platforms.cell(row=r, column=1).value == "TT")
        assert platforms.print_title_rows == f"${header}:${header}"
    assert {template.PLATFORM_SHEET, xlsx.UNITS_SHEET, xlsx.PRODUCT_SHEET} <= seen

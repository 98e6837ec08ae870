"""lensan.publish: weekly exports, manifests and immutable revisions, against the real embedded PostgreSQL.

Runs in a database of its own (LENSAN_WAREHOUSE_URL points at it) holding marts.rpt_weekly_report
with the contract's columns, and in a LENSAN_HOME of its own per test for the exports.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lensan import publish, reference

WEEK = "2026-W47"
TEST_DB = "lensan_publish_test"
HEADINGS = [
    "TT",
    "Chỉ tiêu",
    "Đơn vị tính",
    "Chỉ tiêu đạt được trong tuần (Số lượng)",
    "Tăng trưởng so với tuần trước (%)",
    "Chỉ tiêu đạt được lũy kế đến hiện tại (Số lượng)",
    "Tỉ lệ hoàn thành chỉ tiêu đến thời điểm hiện tại (%)",
    "Ghi chú thông tin bổ sung",
]
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
    target_attainment_pct numeric, notes text, quality_flags text);
create table marts.dim_admin_unit (map_version text, unit_level text, unit_code text, unit_name text,
    province_code text, region_code text, current_province_code text, is_reporting_unit boolean,
    valid_from date, valid_to date);
insert into marts.dim_admin_unit values
    ('post2025','commune','07090','Xã A','22','bac','22',true,'2025-07-01','9999-12-31'),
    ('post2025','commune','07091','Xã B','22','bac','22',true,'2025-07-01','9999-12-31'),
    ('post2025','commune','07092','Xã C','22','bac','22',true,'2025-07-01','9999-12-31'),
    ('post2025','province','22','Quảng Ninh','22','bac','22',false,'2025-07-01','9999-12-31'),
    ('pre2025','district','205','Đông Triều','22','bac','22',true,'1900-01-01','2025-06-30');
create table marts.fct_reported_values (week_key text, map_version text, unit_code text, indicator_code text,
    is_late boolean);
insert into marts.fct_reported_values values
    ('2026-W47','post2025','07090','ocop_listed',false), ('2026-W47','post2025','07090','orders',false),
    ('2026-W47','post2025','07091','ocop_listed',true), ('2026-W46','post2025','07092','ocop_listed',false);
create table raw.landed_files (file_id bigserial primary key, sha256 text not null unique, source text not null,
    entity text, original_name text not null, archive_path text not null, size_bytes bigint not null,
    arrived_at timestamptz not null, status text not null);
insert into raw.landed_files (sha256, source, original_name, archive_path, size_bytes, arrived_at, status) values
    ('aa11', 'weekly_form', 'bao_cao_tuan_205_2026-W47.xlsx', '/a/1', 10, '2026-11-23 09:00+07', 'loaded'),
    ('bb22', 'postmart', 'postmart_don_hang_20261122.csv', '/a/2', 20, '2026-11-23 01:00+07', 'loaded'),
    ('cc33', 'voso', 'voso_orders_2026-11-22.jsonl.gz', '/a/3', 30, '2026-11-23 01:00+07', 'quarantined');
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
    conn.commit()


@pytest.fixture(scope="module")
def publish_db(warehouse):
    import psycopg2

    from lensan.warehouse import ConnectionInfo

    admin = psycopg2.connect(host=warehouse.host, port=warehouse.port, user=warehouse.user,
                             password=warehouse.password or None, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {TEST_DB} with (force)")
        cur.execute(f"create database {TEST_DB}")
    info = ConnectionInfo(warehouse.host, warehouse.port, warehouse.user, warehouse.password, TEST_DB)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LENSAN_WAREHOUSE_URL", info.url)
        yield info
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {TEST_DB} with (force)")
    admin.close()


@pytest.fixture
def home(publish_db, tmp_path, monkeypatch):
    from lensan import warehouse

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
        assert [f["original_name"] for f in manifest["source_files"]] == [
            "bao_cao_tuan_205_2026-W47.xlsx", "postmart_don_hang_20261122.csv"]
        assert {"file_id", "original_name", "sha256"} <= manifest["source_files"][0].keys()
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
    assert rows[0] == HEADINGS and len(rows) == 1 + 17 + 3
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
    assert "BỘ NÔNG NGHIỆP VÀ MÔI TRƯỜNG" in texts and "BÁO CÁO TUẦN" in texts
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
    rows = [publish._clean_row(dict(week_key=WEEK, scope_level="nation", scope_code="VN", section=i.section,
                                    tt=i.tt, sort_order=i.sort_order, indicator_code=i.code,
                                    indicator_label_vi=i.label_vi, unit_vi=i.unit_vi, value_in_week=1),
                                "nation-VN", None) for i in reference.weekly_form_indicators()]
    when = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.timezone.utc)
    args = (WEEK, dt.date(2026, 11, 16), dt.date(2026, 11, 22), "nation", "VN", "Toàn quốc", rows, 1)
    first = publish.render_xlsx(*args, when, None)
    assert publish.render_xlsx(*args, when, None) == first
    assert publish.render_xlsx(*args, when + dt.timedelta(hours=1), None) != first


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
    assert publish.vn_number(1234567) == "1.234.567"
    assert publish.vn_number(1234.5) == "1.234,5"
    assert publish.neutralise("@SUM(A1)") == "'@SUM(A1)" and publish.neutralise("Hà Nội") == "Hà Nội"

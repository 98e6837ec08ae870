"""Landing against the real embedded PostgreSQL: archive, load, quarantine, dedupe, pseudonymise, COPY."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import stat
import threading
from dataclasses import astuple
from pathlib import Path

import pytest
from psycopg2 import sql

from fixtures.landing_builders import (BUYER_PHONES, CITIZEN_IDS, FORM_ROWS, HEAD_NAMES, HEAD_PHONES, LOCAL_TZ,
                                       OWNER_PHONES, PM_ORDER_HEADINGS, REPORTER_NAME, REPORTER_PHONE,
                                       build_form, build_postmart_csv, build_register_csv, build_register_xlsx,
                                       build_voso_gz, default_header, pm_order, register_rows, vs_order)
from lensan import settings
from lensan.settings import SOURCES
from lensan.landing import ensure_raw_schema, land_pending
from lensan.landing.archive import kept_copy
from lensan.landing.ledger import name_key
from lensan.landing.pseudonymise import pseudonymise

pytestmark = pytest.mark.integration


@pytest.fixture
def home(warehouse, lensan_home, db):
    """The session LENSAN_HOME with empty landing folders and the raw schema in place."""
    for source in SOURCES:
        folder = settings.landing_dir(source)
        for path in folder.iterdir():
            if path.is_file():
                path.unlink()
    ensure_raw_schema(db)
    return lensan_home


def _form_rows(note: str) -> list[list]:
    """FORM_ROWS with a distinct note, so each test's file has its own SHA-256."""
    rows = [list(r) for r in FORM_ROWS]
    rows[-1][7] = note
    return rows


def _landed(db, name: str) -> list[tuple]:
    """The raw.landed_files rows of the file first delivered as `name` (found by the name's keyed hash:
    the warehouse keeps no name as delivered)."""
    with db.cursor() as cur:
        cur.execute("""select file_id, status, reason_code, row_count, unit_code, period_key, file_date, arrived_at,
                              archive_dir, sha256, source, entity
                       from raw.landed_files where name_hash = %s order by file_id""", (name_key(name),))
        return cur.fetchall()


def _count(db, table: str, file_id: int) -> int:
    with db.cursor() as cur:
        cur.execute(sql.SQL("select count(*) from raw.{} where file_id = %s").format(sql.Identifier(table)),
                    (file_id,))
        return cur.fetchone()[0]


def test_good_form_lands(home, db):
    name = "bao_cao_tuan_205_2024-W47.xlsx"
    path = build_form(settings.landing_dir("weekly_form") / name, rows=_form_rows("good form"))
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc)
    summary = land_pending(["weekly_form"])
    assert [astuple(x)[:3] for x in summary.landed] == [("weekly_form", name, 17)]
    assert summary.quarantined == [] and summary.failed == []
    assert not path.exists()
    (file_id, status, reason, rows, unit, period, file_date, arrived_at, archive_dir, sha, source,
     entity), = _landed(db, name)
    assert (status, reason, rows, unit, period, source, entity) == ("loaded", None, 17, "205", "2024-W47",
                                                                    "weekly_form", "form")
    assert arrived_at == mtime and file_date == dt.date(2024, 11, 24)
    with db.cursor() as cur:
        cur.execute("""select unit_code, map_version, week_key, week_start, week_end, received_at,
                              reporter_name_hash, reporter_phone_hash from raw.weekly_forms where file_id = %s""",
                    (file_id,))
        form = cur.fetchone()
        assert form[:6] == ("205", "pre2025", "2024-W47", dt.date(2024, 11, 18), dt.date(2024, 11, 24), mtime)
        assert form[6] == pseudonymise("name", REPORTER_NAME) and form[7] == pseudonymise("phone", REPORTER_PHONE)
        cur.execute("""select indicator_code, section, tt, value_in_week, growth_pct, cumulative_value,
                              completion_pct, notes from raw.weekly_form_rows where file_id = %s
                       order by row_number""", (file_id,))
        rows = cur.fetchall()
    assert len(rows) == 17
    by_code = {r[0]: r for r in rows}
    assert by_code["hh_trained_digital"][3:7] == (1234, 12.5, 5678, 45.5)
    assert by_code["hh_trained_logistics"][3:7] == (None, None, None, None)     # '-' → NULL
    assert by_code["hh_with_shop"][3:7] == (None, None, None, None)             # blank → NULL
    assert by_code["hh_branded"][3] == 0                                        # 0 stays 0
    assert str(by_code["volume_sold_t"][3]) == "1234.5"
    assert by_code["foreign_markets"][7] == "Danh sách các quốc gia:\nBỉ, Đức, Séc"
    assert [r[0] for r in rows][:2] == ["ocop_listed", "hh_trained_digital"]


def test_archive_is_byte_identical_and_private(home, db):
    name = "bao_cao_tuan_205_2024-W47_2.xlsx"
    path = build_form(settings.landing_dir("weekly_form") / name, rows=_form_rows("archive test"))
    original = path.read_bytes()
    sha = hashlib.sha256(original).hexdigest()
    land_pending(["weekly_form"])
    row, = _landed(db, name)
    assert row[9] == sha
    assert Path(row[8]) == home / "archive" / "weekly_form" / "2024" / "11"       # the folder, not the name
    archive = kept_copy(Path(row[8]), sha)
    assert archive == home / "archive" / "weekly_form" / "2024" / "11" / f"{sha}__{name}"
    assert archive.read_bytes() == original
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600


def _counts(db) -> tuple:
    with db.cursor() as cur:
        cur.execute("select (select count(*) from raw.landed_files), (select count(*) from raw.weekly_forms),"
                    " (select count(*) from raw.weekly_form_rows), (select count(*) from raw.household_register)")
        return cur.fetchone()


def _deliveries(db, file_id: int) -> list[tuple]:
    with db.cursor() as cur:
        cur.execute("select name_hash, file_date, delivery_id > %s from raw.deliveries where file_id = %s "
                    "order by delivery_id", (file_id, file_id))
        return cur.fetchall()


def test_redelivery_is_a_noop(home, db):
    name = "bao_cao_tuan_205_2024-W47.xlsx"
    path = build_form(settings.landing_dir("weekly_form") / name, rows=_form_rows("redelivery"))
    data = path.read_bytes()
    first = land_pending(["weekly_form"])
    assert len(first.landed) == 1
    before = _counts(db)
    # the same bytes under the same name: nothing changes at all
    path.write_bytes(data)
    second = land_pending(["weekly_form"])
    assert second.landed == [] and second.redelivered == []
    assert [astuple(s)[:3] for s in second.skipped] == [("weekly_form", name)]
    assert _counts(db) == before and not path.exists()
    file_id = _landed(db, name)[-1][0]
    assert _deliveries(db, file_id) == []


def test_form_resent_under_another_name_is_a_delivery_of_the_same_bytes(home, db):
    name = "bao_cao_tuan_205_2024-W47.xlsx"
    path = build_form(settings.landing_dir("weekly_form") / name, rows=_form_rows("resend"))
    data = path.read_bytes()
    land_pending(["weekly_form"])
    before = _counts(db)
    again = settings.landing_dir("weekly_form") / "Bao cao tuan 47 - gui lai.xlsx"
    again.write_bytes(data)
    second = land_pending(["weekly_form"])
    assert second.landed == [] and second.skipped == [] and second.quarantined == []
    assert [(r.name, r.first_name, r.file_date) for r in second.redelivered] == [(again.name, name, "2024-11-24")]
    assert _counts(db) == before and not again.exists()     # no second copy of the rows
    file_id = _landed(db, name)[-1][0]
    assert _deliveries(db, file_id) == [(name_key(again.name), dt.date(2024, 11, 24), True)]
    # that resend once more: nothing new
    again.write_bytes(data)
    third = land_pending(["weekly_form"])
    assert third.redelivered == [] and len(third.skipped) == 1
    assert len(_deliveries(db, file_id)) == 1


def test_register_resent_under_a_new_snapshot_date_takes_effect(home, db):
    rows = register_rows()
    rows[0][0] = "HH205-09001"      # bytes of this test's own
    first = build_register_csv(settings.landing_dir("household_register") / "danh_sach_ho_205_20241115.csv", rows)
    data = first.read_bytes()
    land_pending(["household_register"])
    before = _counts(db)
    file_id = _landed(db, first.name)[-1][0]
    resent = settings.landing_dir("household_register") / "danh_sach_ho_205_20241122.csv"
    resent.write_bytes(data)
    summary = land_pending(["household_register"])
    assert [(r.name, r.file_date) for r in summary.redelivered] == [(resent.name, "2024-11-22")]
    assert _counts(db) == before        # the bytes and rows are stored once
    (_, _, newer), = _deliveries(db, file_id)
    assert newer
    with db.cursor() as cur:   # the snapshots staging reads: the rows at both dates, the new one a file of its own
        cur.execute("select snapshot_date, file_id = %s, count(*) from raw.household_register_snapshots "
                    "where file_id = %s or file_id in (select delivery_id from raw.deliveries where file_id = %s) "
                    "group by 1, 2 order by 1", (file_id, file_id, file_id))
        assert cur.fetchall() == [(dt.date(2024, 11, 15), True, 2), (dt.date(2024, 11, 22), False, 2)]
    # the same bytes under a name that cannot be read: quarantined with the reason, never dropped
    odd = settings.landing_dir("household_register") / "danh sach ho moi.csv"
    odd.write_bytes(data)
    summary = land_pending(["household_register"])
    assert [astuple(q)[:3] for q in summary.quarantined] == [("household_register", odd.name, "UNKNOWN_SOURCE")]
    kept = Path(summary.quarantined[0].path)
    assert kept.read_bytes() == data and not odd.exists()
    reason = json.loads(kept.with_name(kept.name + ".reason.json").read_text(encoding="utf-8"))
    assert reason["code"] == "UNKNOWN_SOURCE" and reason["message_vi"] and reason["message_en"]


def test_relanding_reads_each_row_from_its_own_name_when_bytes_are_kept_under_several(home, db):
    """The archive may keep the same bytes under several names (kept from before a raw reset, when the
    same bytes had landed under another date); relanding (new pseudonym key) re-reads a row from the
    copy whose name gives the row's own snapshot date."""
    from lensan.landing import reland_all

    rows = register_rows()
    rows[0][0] = "HH205-09002"      # bytes of this test's own
    first = build_register_csv(settings.landing_dir("household_register") / "danh_sach_ho_205_20241122.csv", rows)
    land_pending(["household_register"])
    file_id, _, _, _, _, _, _, _, folder, sha, _, _ = _landed(db, first.name)[-1]
    kept = Path(folder) / f"{sha}__danh_sach_ho_205_20241122.csv"
    older = Path(folder) / f"{sha}__danh_sach_ho_205_20241108.csv"   # sorts first
    shutil.copy2(kept, older)
    db.rollback()
    try:
        reland_all()
    finally:
        older.unlink()
    with db.cursor() as cur:
        cur.execute("select distinct snapshot_date from raw.household_register where file_id = %s", (file_id,))
        assert cur.fetchall() == [(dt.date(2024, 11, 22),)]
    db.rollback()


def test_unidentified_new_files_are_quarantined_never_dropped(home, db):
    cases = {"household_register": "danh_sach_ho.csv", "postmart": "don_hang_thang_11.csv",
             "voso": "voso_orders_latest.jsonl.gz"}
    written = {}
    for source, name in cases.items():
        path = settings.landing_dir(source) / name
        path.write_bytes(f"noi dung {source}\n".encode())
        written[source] = path
    summary = land_pending(list(cases))
    assert sorted((q.source, q.name) for q in summary.quarantined) == sorted(cases.items())
    for q in summary.quarantined:
        assert q.message_vi and q.message_en and Path(q.path).exists()
    assert not any(p.exists() for p in written.values())


def test_bad_file_is_quarantined_and_batch_continues(home, db):
    good = build_form(settings.landing_dir("weekly_form") / "bao_cao_tuan_205_2024-W47.xlsx",
                      rows=_form_rows("batch good"))
    rows = _form_rows("batch bad")
    rows[2][3] = "khoảng 20"
    bad = build_form(settings.landing_dir("weekly_form") / "bao_cao_tuan_206_2024-W47.xlsx", rows=rows)
    bad_bytes = bad.read_bytes()
    garbage = settings.landing_dir("weekly_form") / "bao_cao_tuan_207_2024-W47.xlsx"
    build_form(garbage, header=[["Danh sách"], []], rows=_form_rows("batch garbage"))
    orders = build_postmart_csv(settings.landing_dir("postmart") / "postmart_don_hang_20241118.csv",
                                PM_ORDER_HEADINGS, [pm_order(i) for i in range(100, 110)])
    summary = land_pending()
    assert sorted(astuple(q)[:3] for q in summary.quarantined) == [
        ("weekly_form", bad.name, "VALUE_NOT_NUMBER"), ("weekly_form", garbage.name, "TEMPLATE_NOT_RECOGNISED")]
    assert sorted((x.name, x.rows) for x in summary.landed) == sorted([(orders.name, 10), (good.name, 17)])
    quarantine = home / "quarantine" / "weekly_form"
    assert (quarantine / bad.name).read_bytes() == bad_bytes
    reason = json.loads((quarantine / (bad.name + ".reason.json")).read_text(encoding="utf-8"))
    assert reason["code"] == "VALUE_NOT_NUMBER"
    assert "D11" in reason["message_vi"] and "khoảng 20" in reason["message_vi"]
    assert "D11" in reason["message_en"] and reason["detail"]["value"] == "khoảng 20"
    row, = _landed(db, bad.name)
    assert row[1:3] == ("quarantined", "VALUE_NOT_NUMBER")
    assert _count(db, "weekly_forms", row[0]) == 0
    garbage_reason = json.loads((quarantine / (garbage.name + ".reason.json")).read_text(encoding="utf-8"))
    assert garbage_reason["code"] == "TEMPLATE_NOT_RECOGNISED"
    assert not any(p.is_file() for s in SOURCES for p in settings.landing_dir(s).iterdir())
    # the same bad bytes again: a duplicate, not a second quarantine
    bad.write_bytes(bad_bytes)
    again = land_pending(["weekly_form"])
    assert again.quarantined == [] and len(again.skipped) == 1


@pytest.mark.parametrize("header, arrival, code", [
    (default_header("07090", 2024, 47), None, "WRONG_MAP_UNIT"),
    (default_header("205", 2024, 48), dt.datetime(2024, 11, 29, 9, 0, tzinfo=LOCAL_TZ), "FUTURE_PERIOD"),
])
def test_form_file_errors_are_quarantined(home, db, header, arrival, code):
    name = f"bao_cao_tuan_x_{code}.xlsx"
    build_form(settings.landing_dir("weekly_form") / name, header=header, rows=_form_rows(f"error {code}"),
               mtime=arrival)
    summary = land_pending(["weekly_form"])
    assert [astuple(q)[:3] for q in summary.quarantined] == [("weekly_form", name, code)]
    row, = _landed(db, name)
    assert row[1:3] == ("quarantined", code)


def test_register_lands_with_personal_data_hashed(home, db):
    csv_path = build_register_csv(settings.landing_dir("household_register") / "danh_sach_ho_205_20241124.csv")
    xlsx_path = build_register_xlsx(settings.landing_dir("household_register") / "danh_sach_ho_206_20241124.xlsx",
                                    rows=[[f"HH206-0000{i}", HEAD_NAMES[i], HEAD_PHONES[i], CITIZEN_IDS[i], "7147",
                                           "Hộ SXNN", "Lúa", "", "", ""] for i in range(2)])
    summary = land_pending(["household_register"])
    assert sorted((x.name, x.rows) for x in summary.landed) == [(csv_path.name, 2), (xlsx_path.name, 2)]
    row, = _landed(db, csv_path.name)
    assert row[4] == "205" and row[6] == dt.date(2024, 11, 24)
    with db.cursor() as cur:
        cur.execute("""select household_code, head_name_hash, phone_hash, citizen_id_hash, commune_code,
                              trained_digital_on from raw.household_register where file_id = %s
                       order by row_number""", (row[0],))
        first = cur.fetchone()
    assert first == ("HH205-00001", pseudonymise("name", HEAD_NAMES[0]), pseudonymise("phone", HEAD_PHONES[0]),
                     pseudonymise("citizen_id", CITIZEN_IDS[0]), "07090", dt.date(2024, 11, 5))


def test_copy_path_loads_platform_extracts(home, db):
    n = 2500
    pm = build_postmart_csv(settings.landing_dir("postmart") / "postmart_don_hang_20241117.csv", PM_ORDER_HEADINGS,
                            [pm_order(i, day="17/11/2024") for i in range(n)])
    weird = pm_order(n, day="17/11/2024")
    weird[10] = "VN\\t"                      # characters COPY text format must escape
    vs = build_voso_gz(settings.landing_dir("voso") / "voso_orders_2024-11-17.jsonl.gz",
                       [vs_order(i) for i in range(n)] + [vs_order(n) | {"product_id": "a\tb\\c\nd"}])
    build_postmart_csv(pm, PM_ORDER_HEADINGS, [pm_order(i, day="17/11/2024") for i in range(n)] + [weird])
    summary = land_pending(["postmart", "voso"])
    assert sorted((x.name, x.rows) for x in summary.landed) == [(pm.name, n + 1), (vs.name, n + 1)]
    pm_row, = _landed(db, pm.name)
    vs_row, = _landed(db, vs.name)
    assert pm_row[3] == n + 1 and vs_row[3] == n + 1 and pm_row[6] == dt.date(2024, 11, 17)
    assert _count(db, "postmart_orders", pm_row[0]) == n + 1
    assert _count(db, "voso_orders", vs_row[0]) == n + 1
    with db.cursor() as cur:
        cur.execute("""select row_number, extract_date, order_id, buyer_phone_hash, weight_kg, status, buyer_country
                       from raw.postmart_orders where file_id = %s order by row_number""", (pm_row[0],))
        rows = cur.fetchall()
        assert rows[0] == (1, dt.date(2024, 11, 17), "PMDH00000000", pseudonymise("phone", BUYER_PHONES[0]),
                           "1,5", "Thành công", "VN")
        assert [r[0] for r in rows] == list(range(1, n + 2))
        assert rows[-1][6] == "VN\\t"
        cur.execute("""select order_id, weight_g, amount_vnd, buyer_phone_hash, updated_at, product_id
                       from raw.voso_orders where file_id = %s order by row_number""", (vs_row[0],))
        vrows = cur.fetchall()
    assert vrows[1] == ("VSDH00000001", "1500", "120000", pseudonymise("phone", BUYER_PHONES[1]),
                        "2024-11-18T04:00:00Z", "VSSP20500101")
    assert vrows[-1][5] == "a\tb\\c\nd"


def test_truncated_gzip_is_quarantined(home, db):
    name = "voso_orders_2024-11-16.jsonl.gz"
    build_voso_gz(settings.landing_dir("voso") / name, [vs_order(i) for i in range(5000)], truncate=True)
    summary = land_pending(["voso"])
    assert [astuple(q)[:3] for q in summary.quarantined] == [("voso", name, "TRUNCATED")]
    row, = _landed(db, name)
    assert row[1:3] == ("quarantined", "TRUNCATED")
    assert _count(db, "voso_orders", row[0]) == 0          # the partial COPY was rolled back
    reason = json.loads((home / "quarantine" / "voso" / f"{name}.reason.json").read_text(encoding="utf-8"))
    assert reason["code"] == "TRUNCATED" and reason["message_vi"] and reason["message_en"]


def test_duplicate_order_in_file_vs_later_status_update(home, db):
    bad = build_postmart_csv(settings.landing_dir("postmart") / "postmart_don_hang_20241115.csv", PM_ORDER_HEADINGS,
                             [pm_order(7, day="15/11/2024"), pm_order(7, status="Hủy", day="15/11/2024")],
                             mtime=dt.datetime(2024, 11, 16, 2, 0, tzinfo=LOCAL_TZ))
    first = build_voso_gz(settings.landing_dir("voso") / "voso_orders_2024-11-14.jsonl.gz", [vs_order(900)],
                          mtime=dt.datetime(2024, 11, 15, 2, 0, tzinfo=LOCAL_TZ))
    later = build_voso_gz(settings.landing_dir("voso") / "voso_orders_2024-11-15.jsonl.gz",
                          [vs_order(900, status="returned")],
                          mtime=dt.datetime(2024, 11, 16, 2, 0, tzinfo=LOCAL_TZ))
    postmart_rows_before = _postmart_order_rows(db)
    summary = land_pending(["postmart", "voso"])
    assert [astuple(q)[:3] for q in summary.quarantined] == [("postmart", bad.name, "DUPLICATE_ORDER_ID")]
    assert sorted(x.name for x in summary.landed) == [first.name, later.name]
    # the repeat is found after the last row was sent: the COPY rolled back
    assert _postmart_order_rows(db) == postmart_rows_before


def _postmart_order_rows(db) -> int:
    with db.cursor() as cur:
        cur.execute("select count(*) from raw.postmart_orders")
        return cur.fetchone()[0]


def test_unknown_names_and_empty_files_are_quarantined(home, db):
    stray = settings.landing_dir("postmart") / "bao_cao_tuan_205_2024-W47.xlsx"     # a form in the wrong folder
    build_form(stray, rows=_form_rows("stray"))
    empty = settings.landing_dir("voso") / "voso_shops_2024-11-16.jsonl.gz"
    empty.write_bytes(b"")
    partial = settings.landing_dir("voso") / "voso_shops_2024-11-17.jsonl.gz.part"   # still uploading: left alone
    partial.write_bytes(b"x")
    summary = land_pending(["postmart", "voso"])
    assert sorted(astuple(q)[:3] for q in summary.quarantined) == [("postmart", stray.name, "UNKNOWN_SOURCE"),
                                                             ("voso", empty.name, "EMPTY_FILE")]
    assert partial.exists()
    partial.unlink()


def test_personal_data_never_in_clear(home, db):
    build_form(settings.landing_dir("weekly_form") / "bao_cao_tuan_205_2024-W47.xlsx", rows=_form_rows("pii"))
    register = register_rows()
    for row in register:
        row[0] = row[0].replace("-0000", "-0010")          # own content, so not a duplicate of other tests
    build_register_csv(settings.landing_dir("household_register") / "danh_sach_ho_205_20241117.csv", rows=register,
                       mtime=dt.datetime(2024, 11, 18, 9, 0, tzinfo=LOCAL_TZ))
    build_postmart_csv(settings.landing_dir("postmart") / "postmart_don_hang_20241114.csv", PM_ORDER_HEADINGS,
                       [pm_order(i, day="14/11/2024") for i in range(300, 310)])
    build_postmart_csv(settings.landing_dir("postmart") / "postmart_gian_hang_20241114.csv",
                       ["Mã gian hàng", "SĐT chủ gian hàng", "Mã hộ SXNN", "Mã xã", "Ngày tạo", "Ví VNPostPay",
                        "Trạng thái"],
                       [["PMGH1", OWNER_PHONES[0], "HH205-00001", "07090", "14/11/2024 08:00:00", "Có", "Hoạt động"]])
    build_voso_gz(settings.landing_dir("voso") / "voso_orders_2024-11-13.jsonl.gz",
                  [vs_order(i) for i in range(400, 410)])
    summary = land_pending()
    assert summary.quarantined == [] and len(summary.landed) == 5
    needles = {REPORTER_NAME, *HEAD_NAMES, *CITIZEN_IDS}
    for phone in (REPORTER_PHONE, *HEAD_PHONES, *BUYER_PHONES, *OWNER_PHONES):
        digits = "".join(ch for ch in phone if ch.isdigit())
        needles |= {phone, digits, digits[-9:]}
    with db.cursor() as cur:
        cur.execute("""select table_name, column_name from information_schema.columns
                       where table_schema = 'raw' and data_type = 'text'""")
        columns = cur.fetchall()
        assert len(columns) > 50
        hits = []
        for table, column in columns:
            for needle in needles:
                cur.execute(sql.SQL("select count(*) from raw.{} where position(%s in {}) > 0").format(
                    sql.Identifier(table), sql.Identifier(column)), (needle,))
                if cur.fetchone()[0]:
                    hits.append((table, column, needle))
    assert hits == []


def test_concurrent_runs_land_each_file_once(home, db, warehouse):
    from lensan.db import warehouse as wh

    names = []
    for i in range(6):
        name = f"voso_activities_2024-11-{i + 1:02d}.jsonl.gz"
        records = [{"account_id": f"VSTK{i}{j}", "occurred_at": "2024-11-01T01:00:00Z", "activity_type": "search",
                    "ward_code": "07090"} for j in range(200 + i)]
        build_voso_gz(settings.landing_dir("voso") / name, records, mtime=dt.datetime(2024, 11, 28, tzinfo=LOCAL_TZ))
        names.append(name)
    results = []

    def run():
        conn = wh.connect()
        try:
            results.append(land_pending(["voso"], conn=conn))
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    landed = [x.name for r in results for x in r.landed]
    assert sorted(landed) == sorted(names)
    assert all(r.failed == [] and r.quarantined == [] for r in results)
    for name in names:
        rows = _landed(db, name)
        assert len(rows) == 1 and _count(db, "voso_activity", rows[0][0]) == rows[0][3]


def test_generated_batch_lands_cleanly(home, db, tmp_path):
    generate = pytest.importorskip("lensan_dev.generate")
    gen_home = tmp_path / "gen"
    summary = generate.generate(["22"], ["2025-W26", "2025-W27", "2025-W28"], seed=7, home=gen_home)
    for path in summary.paths:                      # into the session landing folders, mtimes kept
        target = settings.landing_dir(path.parent.name) / path.name
        shutil.copy2(path, target)
    result = land_pending()
    assert result.failed == []
    assert result.quarantined == [], result.quarantined[:5]
    # byte-identical files under other names (empty day extracts, resent forms) are further deliveries
    assert len(result.landed) + len(result.skipped) + len(result.redelivered) == len(summary.paths)
    assert {r.source for r in result.redelivered} <= {"weekly_form", "postmart", "voso"}
    by_source: dict[str, int] = {}
    for item in result.landed:
        by_source[item.source] = by_source.get(item.source, 0) + item.rows
    assert by_source["weekly_form"] == summary.rows_by_entity["weekly_form"] - 17 * sum(
        1 for s in result.skipped + result.redelivered if s.source == "weekly_form")
    assert by_source["household_register"] == summary.rows_by_entity["household_register"]
    for platform in ("postmart", "voso"):
        expected = sum(v for k, v in summary.rows_by_entity.items() if k.startswith(platform + "_"))
        collapsed = sum(w["detail"]["count"] for item in result.landed if item.source == platform
                        for w in item.warnings if w["code"] == "DUPLICATE_LINES")   # exact repeats load once
        assert by_source[platform] == expected - collapsed
    with db.cursor() as cur:
        cur.execute("select distinct map_version from raw.weekly_forms where week_key in "
                    "('2025-W26', '2025-W27', '2025-W28') order by 1")
        assert [r[0] for r in cur.fetchall()] == ["post2025", "pre2025"]


def test_reader_crash_quarantines_but_infrastructure_failure_keeps_file(home, db, monkeypatch):
    import psycopg2

    from lensan.landing import LandingIncomplete, load
    from lensan.landing.parsers import weekly_form

    path = build_form(settings.landing_dir("weekly_form") / "bao_cao_tuan_205_2024-W47.xlsx",
                      rows=_form_rows("reader crash"))
    monkeypatch.setattr(weekly_form, "parse", lambda *a, **k: (_ for _ in ()).throw(KeyError("xl/styles.xml")))
    summary = land_pending(["weekly_form"])
    assert [q.code for q in summary.quarantined] == ["UNREADABLE"]
    monkeypatch.undo()

    path = build_form(path, rows=_form_rows("database down"))

    def down(*args, **kwargs):
        raise psycopg2.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(load, "load_form", down)
    with pytest.raises(LandingIncomplete) as info:
        land_pending(["weekly_form"])
    assert [f["name"] for f in info.value.summary.failed] == [path.name]
    assert path.exists() and _landed(db, path.name)[-1][2] == "UNREADABLE"   # only the earlier quarantine row
    monkeypatch.undo()
    summary = land_pending(["weekly_form"])                   # the next run lands it
    assert [x.name for x in summary.landed] == [path.name]


def test_oversized_and_repeated_bad_files(home, db, monkeypatch):
    big = build_postmart_csv(settings.landing_dir("postmart") / "postmart_don_hang_20241112.csv", PM_ORDER_HEADINGS,
                             [pm_order(i, day="12/11/2024") for i in range(500, 600)])
    monkeypatch.setenv("LENSAN_MAX_FILE_MB", "0.001")
    summary = land_pending(["postmart"])
    assert [astuple(q)[:3] for q in summary.quarantined] == [("postmart", big.name, "FILE_TOO_LARGE")]
    row, = _landed(db, big.name)
    assert Path(row[8]) == home / "quarantine" / "postmart" and kept_copy(Path(row[8]), row[9]).exists()
    assert not list((home / "archive" / "postmart").glob(f"*/*/{row[9]}__*"))
    monkeypatch.delenv("LENSAN_MAX_FILE_MB")
    # two different empty files have the same SHA-256: the second is a duplicate, yet still quarantined
    first = settings.landing_dir("voso") / "voso_products_2024-11-10.jsonl.gz"
    second = settings.landing_dir("voso") / "voso_products_2024-11-11.jsonl.gz"
    first.write_bytes(b"")
    second.write_bytes(b"")
    summary = land_pending(["voso"])
    quarantine = home / "quarantine" / "voso"
    assert (quarantine / first.name).exists() and (quarantine / second.name).exists()
    reason = json.loads((quarantine / (second.name + ".reason.json")).read_text(encoding="utf-8"))
    assert reason["code"] == "EMPTY_FILE" and reason["message_en"]
    assert not first.exists() and not second.exists()


def test_content_the_database_refuses_is_quarantined(home, db):
    name = "voso_orders_2024-11-09.jsonl.gz"
    build_voso_gz(settings.landing_dir("voso") / name, [vs_order(700), vs_order(701) | {"product_id": "VS\u0000X"}])
    summary = land_pending(["voso"])
    assert [astuple(q)[:3] for q in summary.quarantined] == [("voso", name, "UNREADABLE")]
    assert summary.failed == []
    row, = _landed(db, name)
    assert _count(db, "voso_orders", row[0]) == 0


def test_platform_rows_belong_to_their_landed_file_without_a_per_row_foreign_key(home, db):
    """Issue #6: the per-row FK raw.<platform> → raw.landed_files is gone (it cost more than the COPY);
    the landed_files row and its raw rows still commit together or not at all, and an old warehouse
    loses the constraint on the next landing."""
    with db.cursor() as cur:      # a warehouse created before the change
        cur.execute("alter table raw.voso_orders add foreign key (file_id) references raw.landed_files (file_id)")
    db.commit()
    good = build_voso_gz(settings.landing_dir("voso") / "voso_orders_2024-10-03.jsonl.gz",
                         [vs_order(i) for i in range(3000)])
    bad = build_voso_gz(settings.landing_dir("voso") / "voso_orders_2024-10-02.jsonl.gz",
                        [vs_order(i) for i in range(3000)] + [vs_order(5000) | {"quantity": -1}])
    summary = land_pending(["voso"])
    assert [x.name for x in summary.landed] == [good.name]
    assert [q.name for q in summary.quarantined] == [bad.name]
    with db.cursor() as cur:
        cur.execute("""select c.conrelid::regclass::text from pg_constraint c
                       where c.contype = 'f' and c.confrelid = 'raw.landed_files'::regclass""")
        assert sorted(r[0] for r in cur.fetchall()) == ["raw.household_register", "raw.weekly_forms"]
        for table in ("postmart_orders", "voso_orders", "voso_shops", "postmart_activity"):
            cur.execute(sql.SQL("select count(*) from raw.{} r where not exists (select 1 from raw.landed_files l "
                                "where l.file_id = r.file_id and l.status = 'loaded')").format(sql.Identifier(table)))
            assert cur.fetchone()[0] == 0, table
    row, = _landed(db, bad.name)
    assert _count(db, "voso_orders", row[0]) == 0          # the first 3,000 rows of the bad file were rolled back
    assert _count(db, "voso_orders", _landed(db, good.name)[0][0]) == 3000


OLD_LEDGER = """
create schema raw;
create table raw.landed_files (file_id bigserial primary key, sha256 text not null unique, source text not null,
    entity text, original_name text not null, archive_path text not null, size_bytes bigint not null,
    arrived_at timestamptz not null, status text not null, reason_code text, reason_vi text, reason_en text,
    reason_detail text, row_count integer, unit_code text, period_key text, file_date date,
    withdrawn_at timestamptz, withdrawn_reason text);
create table raw.deliveries (delivery_id bigint primary key, file_id bigint not null, original_name text not null,
    arrived_at timestamptz not null, recorded_at timestamptz not null default now(), entity text, unit_code text,
    period_key text, file_date date, unique (file_id, original_name));
"""


def test_a_warehouse_keeping_names_as_delivered_is_migrated_to_public_names(warehouse):
    """Before issue 18 raw kept each file's name as delivered: ensure_raw_schema replaces it, once, by
    the public name, the name's keyed hash and the copy's folder, and rewrites reasons that quoted it."""
    import uuid

    from lensan.db.warehouse import scratch_database
    from lensan.landing.names import landed_public_name, safe_name

    form, register = "Bao cao tuan 47 - Ta Quang Khai 0912345678.xlsx", "danh sach ho - Ta Quang Khai.csv"
    sha1, sha2 = "a" * 64, "b" * 64
    with scratch_database(f"mig18_{uuid.uuid4().hex[:8]}", warehouse) as info:
        conn = info.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(OLD_LEDGER)
                cur.execute("""insert into raw.landed_files (sha256, source, entity, original_name, archive_path,
                                   size_bytes, arrived_at, status, reason_code, reason_en, reason_detail, unit_code,
                                   period_key, file_date) values
                               (%s, 'weekly_form', 'form', %s, %s, 1, now(), 'loaded', null, null, null, '20501',
                                '2026-W47', '2026-11-22'),
                               (%s, 'household_register', null, %s, %s, 1, now(), 'quarantined', 'UNKNOWN_SOURCE',
                                %s, %s, null, null, null)""",
                            (sha1, form, f"/h/archive/weekly_form/2026/11/{sha1}__{safe_name(form)}",
                             sha2, register, f"/h/archive/household_register/2026/11/{sha2}__{safe_name(register)}",
                             f"The file name '{register}' is not recognised", json.dumps({"name": register})))
                cur.execute("""insert into raw.deliveries (delivery_id, file_id, original_name, arrived_at, entity,
                                   unit_code, period_key, file_date)
                               values (9, 1, 'Bao cao tuan 47 gui lai.xlsx', now(), 'form', '20501', '2026-W47',
                                       '2026-11-22')""")
            conn.commit()
            ensure_raw_schema(conn)
            ensure_raw_schema(conn)                       # once only: the second run changes nothing
            with conn.cursor() as cur:
                cur.execute("select column_name from information_schema.columns where table_schema = 'raw' "
                            "and column_name in ('original_name', 'archive_path')")
                assert cur.fetchall() == []
                cur.execute("select sha256, public_name, name_hash, archive_dir, reason_en, reason_detail "
                            "from raw.landed_files order by file_id")
                (_, public1, hash1, dir1, _, _), (_, public2, hash2, dir2, reason, detail) = cur.fetchall()
                cur.execute("select public_name, name_hash from raw.deliveries")
                delivery, = cur.fetchall()
            conn.rollback()
        finally:
            conn.close()
    assert public1 == landed_public_name("weekly_form", sha1, unit_code="20501", period_key="2026-W47",
                                         original_name=form) == f"weekly_form_20501_2026-W47_{sha1[:12]}.xlsx"
    assert (hash1, dir1) == (name_key(form), "/h/archive/weekly_form/2026/11")
    assert (public2, hash2) == (f"household_register_{sha2[:12]}.csv", name_key(register))
    assert register not in reason and public2 in reason and json.loads(detail) == {"name": public2}
    assert delivery == (f"weekly_form_20501_2026-W47_{sha1[:12]}.xlsx", name_key("Bao cao tuan 47 gui lai.xlsx"))


def test_an_extract_cut_right_after_a_separator_is_refused_with_its_line(home, db):
    """The last line stops right after a separator (its last field, an optional timestamp, lost): a
    cut-off row like any other, refused with its line number by check and landing alike — not a row
    whose last value is blank. A whole last line without a line end, or one of separators only, lands."""
    from lensan.landing import check_file

    folder = settings.landing_dir("postmart")
    whole = build_postmart_csv(folder / "postmart_don_hang_20241113.csv", PM_ORDER_HEADINGS,
                               [pm_order(i, day="13/11/2024") for i in range(700, 703)]).read_bytes()
    lines = whole.rstrip(b"\r\n").split(b"\n")
    cut = folder / "postmart_don_hang_20241114.csv"
    cut.write_bytes(b"\n".join(lines[:-1] + [lines[-1][:lines[-1].rindex(b";") + 1]]).replace(b"13/11/2024",
                                                                                             b"14/11/2024"))
    unended = folder / "postmart_don_hang_20241115.csv"
    unended.write_bytes(whole.rstrip(b"\r\n").replace(b"13/11/2024", b"15/11/2024") + b"\r\n;;;;")
    checked = check_file(cut)
    assert (checked.ok, checked.code) == (False, "TRUNCATED_ROW") and f"line {len(lines)}:" in checked.message_en
    summary = land_pending(["postmart"])
    assert [(q.name, q.code) for q in summary.quarantined] == [(cut.name, "TRUNCATED_ROW")]
    assert f"line {len(lines)}:" in summary.quarantined[0].message_en
    assert sorted((x.name, x.rows) for x in summary.landed) == [
        ("postmart_don_hang_20241113.csv", 3), (unended.name, 3)]

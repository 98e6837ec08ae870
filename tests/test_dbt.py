"""The dbt project end to end on a real embedded PostgreSQL.

A small hand-built set of raw rows (the shapes of docs/raw_formats.md: postmart text with local
dates, decimal commas and Có/Không; voso ISO-8601 UTC, grams, true/false) is loaded into the raw
schema, then `dbt seed` and `dbt build` (models + data tests + unit tests) run through
`lensan.transform.dbt.run_dbt`, and the marts are checked against values computed by hand below.

Weeks used: 2026-W46 (9–15 Nov), 2026-W47 (16–22 Nov), 2026-W48 (23–29 Nov), local time.
Units: communes 07090 and 07093 (Quảng Ninh, 22), 00070 (Hà Nội, 01) on the post-2025 map; one
pre-reform shop in commune 00688 (district 024, Hà Giang 02 -> today's Tuyên Quang 08).

Hand computation (province 22, platform 'all' unless said otherwise):
* register: 07090 snapshot 01/11 (3 households), replaced by the snapshot of 17/11 (4);
  07093 snapshot 01/11 (1). hh_digitized W46 = 4, W47 = 5. hh_trained_digital: W46 = 2
  (trained 01/10 and 12/11), W47 = 4 (+17/11, +18/11); hh_trained_logistics W46 = W47 = 1.
* shops: HH07090-00001 has a postmart shop (05/11) AND a voso shop (16/11, linked by phone only);
  HH07093-00001 a voso shop created 2026-11-15T18:30Z = 16/11 01:30 local (W47, not W46).
  hh_with_shop W46 = 1, W47 = 2 in 'all', but postmart 1 + voso 2 = 3 in the platform rows.
* tonnes: W46 = 12,5 kg (the voso order of W46 was delivered, then returned on 18/11: excluded,
  which revises W46) = 0.0125 t; W47 = 1.000,5 kg + 500 000 g = 1.5005 t (a cancelled order and
  an order of inputs excluded); cumulative at W47 = 1.513 t.
* domestic markets (successful orders, any product): W46 {Hà Nội} = 1, W47 {Hà Nội, Hồ Chí Minh,
  Quảng Ninh} = 3; a Hà Nội shop also sells to Hà Nội in W47: the nation has 3 markets, not 1 + 3.
* household indicators count Hộ SXNN only (an HTX trained on 01/11 is not counted).
* active accounts W47 = 3 (A1 twice, A2, V1); W46 = 1; month 2026-11 = 3, not 1 + 3.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from decimal import Decimal

import pytest
from fixtures.sql import one as _value
from fixtures.sql import rows as _rows

pytestmark = pytest.mark.integration

P1, P2, P3, P4, P5 = (f"phonehash{i}" for i in range(1, 6))


def _landed(cur, source: str, entity: str, name: str, file_date: str, unit_code=None, period_key=None) -> int:
    cur.execute(
        """insert into raw.landed_files (sha256, source, entity, public_name, name_hash, archive_dir, size_bytes,
                                         arrived_at, status, row_count, unit_code, period_key, file_date)
           values (md5(%s) || md5(%s), %s, %s, %s, md5(%s), '/dev/null', 1, now(), 'loaded', 0, %s, %s, %s)
           returning file_id""",
        (name, source, source, entity, name, name, unit_code, period_key, file_date))
    return cur.fetchone()[0]


def _insert(cur, table: str, file_id: int, extract_date: str | None, rows: list[dict]) -> None:
    for number, row in enumerate(rows, start=1):
        cols = ["file_id", "row_number"] + (["extract_date"] if extract_date else []) + list(row)
        vals = [file_id, number] + ([extract_date] if extract_date else []) + list(row.values())
        cur.execute(f"insert into raw.{table} ({', '.join(cols)}) values ({', '.join(['%s'] * len(vals))})", vals)


def load_fixture(conn, empty_raw) -> None:
    """Create the raw schema (idempotent), empty it, and load the hand-built rows."""
    with conn.cursor() as cur:
        empty_raw(cur)

        # --- S2 household register ------------------------------------------------------------------
        def hh(code, phone, digital=None, logistics=None, commune="07090", kind="Hộ SXNN"):
            return {"unit_code": commune, "household_code": code, "phone_hash": phone, "commune_code": commune,
                    "household_type": kind, "trained_digital_on": digital, "trained_logistics_on": logistics}

        for unit, snap, households in [
            ("07090", "2026-11-01", [hh("HH07090-00001", P1, "2026-10-01", "2026-11-10"),
                                     hh("HH07090-00002", P2, "2026-11-12"), hh("HH07090-00003", P3)]),
            ("07093", "2026-11-01", [hh("HH07093-00001", P4, "2026-11-18", commune="07093")]),
            ("07090", "2026-11-17", [hh("HH07090-00001", P1, "2026-10-01", "2026-11-10"),
                                     hh("HH07090-00002", P2, "2026-11-12"), hh("HH07090-00003", P3),
                                     hh("HH07090-00004", P5, "2026-11-17"),
                                     hh("HH07090-00005", "coop-phone", "2026-11-01", kind="HTX")]),
            # Hà Nội's only snapshot comes on 22/11: it stands in for the earlier weeks' training counts
            ("00070", "2026-11-22", [hh("HH00070-00001", "hn-phone", "2026-11-03", commune="00070")]),
        ]:
            fid = _landed(cur, "household_register", "register", f"danh_sach_ho_{unit}_{snap}.csv", snap, unit)
            _insert(cur, "household_register", fid, None,
                    [{**h, "unit_code": unit, "snapshot_date": snap} for h in households])

        # --- S3 postmart (text as delivered: local dates, decimal comma, Có/Không) -------------------------
        fid = _landed(cur, "postmart", "gian_hang", "postmart_gian_hang_20261117.csv", "2026-11-17")
        _insert(cur, "postmart_shops", fid, "2026-11-17", [
            {"shop_id": "PM-S1", "owner_phone_hash": P1, "household_code": "HH07090-00001", "commune_code": "07090",
             "created_at": "05/11/2026 10:00:00", "has_epay": "Có", "status": "Hoạt động"},
            {"shop_id": "PM-S2", "owner_phone_hash": "unknown-phone", "household_code": "", "commune_code": "70",
             "created_at": "01/11/2026 08:00:00", "has_epay": "Không", "status": "Hoạt động"},
            {"shop_id": "PM-S3", "owner_phone_hash": "old-phone", "household_code": "HH024-00009",
             "commune_code": "00688", "created_at": "15/03/2025 08:00:00", "has_epay": "Không",
             "status": "Hoạt động"},
        ])
        fid = _landed(cur, "postmart", "gian_hang", "postmart_gian_hang_20261118.csv", "2026-11-18")
        _insert(cur, "postmart_shops", fid, "2026-11-18", [
            {"shop_id": "PM-S3", "owner_phone_hash": "old-phone", "household_code": "HH024-00009",
             "commune_code": "00688", "created_at": "15/03/2025 08:00:00", "has_epay": "Có",
             "status": "Hoạt động"},
        ])
        fid = _landed(cur, "postmart", "san_pham", "postmart_san_pham_20261117.csv", "2026-11-17")
        _insert(cur, "postmart_products", fid, "2026-11-17", [
            {"product_id": "PM-P1", "shop_id": "PM-S1", "product_name": "Gạo ST25", "product_group": "Nông sản",
             "product_type": "Gạo", "ocop_stars": "4", "traceable": "Có", "brand_marked": "Có",
             "household_discount": "Không", "listed_at": "06/11/2026 09:00:00"},
            {"product_id": "PM-P2", "shop_id": "PM-S1", "product_name": "Rau", "product_group": "Nông sản",
             "product_type": "Rau củ", "ocop_stars": "2", "traceable": "Không", "brand_marked": "Không",
             "household_discount": "Không", "listed_at": "17/11/2026 09:00:00"},
            # a second rice product: one more product, not one more TYPE of product (III.1)
            {"product_id": "PM-P3", "shop_id": "PM-S1", "product_name": "Gạo nếp", "product_group": "Nông sản",
             "product_type": "Gạo", "ocop_stars": "0", "traceable": "Không", "brand_marked": "Không",
             "household_discount": "Không", "listed_at": "18/11/2026 09:00:00"},
        ])
        fid = _landed(cur, "postmart", "don_hang", "postmart_don_hang_20261117.csv", "2026-11-17")

        def pm_order(oid, at, kg, amount, province, status="Thành công", shop="PM-S1", country="VN"):
            return {"order_id": oid, "ordered_at": at, "shop_id": shop, "buyer_account_id": "B-" + oid,
                    "buyer_phone_hash": None, "product_id": "PM-P1", "quantity": "1", "weight_kg": kg,
                    "amount_vnd": amount, "buyer_province_code": province, "buyer_country": country,
                    "status": status, "updated_at": at}

        _insert(cur, "postmart_orders", fid, "2026-11-17", [
            pm_order("PM-O1", "10/11/2026 10:00:00", "12,5", "250000", "01"),
            pm_order("PM-O2", "17/11/2026 08:00:00", "1.000,5", "5000000", "79"),
            pm_order("PM-O3", "17/11/2026 09:00:00", "3", "60000", "48", status="Hủy"),
            pm_order("PM-O5", "18/11/2026 09:00:00", "2", "40000", "01", shop="PM-S2"),
        ])
        fid = _landed(cur, "postmart", "hoat_dong", "postmart_hoat_dong_20261117.csv", "2026-11-17")
        _insert(cur, "postmart_activity", fid, "2026-11-17", [
            {"account_id": "A1", "occurred_at": "10/11/2026 10:00:00", "activity_type": "Tìm kiếm", "commune_code": "07090"},
            {"account_id": "A1", "occurred_at": "17/11/2026 10:00:00", "activity_type": "Đăng SP", "commune_code": "07090"},
            {"account_id": "A1", "occurred_at": "17/11/2026 11:00:00", "activity_type": "Nhắn tin", "commune_code": "07090"},
            {"account_id": "A2", "occurred_at": "18/11/2026 10:00:00", "activity_type": "Giao dịch", "commune_code": "07093"},
        ])
        fid = _landed(cur, "postmart", "thong_tin", "postmart_thong_tin_20261122.csv", "2026-11-22")
        _insert(cur, "postmart_info_posts", fid, "2026-11-22", [
            {"post_id": "PM-I1", "category": "Giá cả", "province_code": "22", "posted_at": "16/11/2026 08:00:00"},
            {"post_id": "PM-I2", "category": "Thời tiết", "province_code": "22", "posted_at": "19/11/2026 08:00:00"},
            {"post_id": "PM-I3", "category": "Giá cả", "province_code": "22", "posted_at": "22/11/2026 20:00:00"},
        ])

        # --- S4 voso (ISO-8601 UTC, grams, true/false) ------------------------------------------------------
        fid = _landed(cur, "voso", "shops", "voso_shops_2026-11-16.jsonl.gz", "2026-11-16")
        _insert(cur, "voso_shops", fid, "2026-11-16", [
            {"shop_id": "VS-S1", "owner_phone_hash": P1, "household_code": None, "commune_code": "07090",
             "created_at": "2026-11-16T02:00:00Z", "has_epay": "true", "status": "active"},
            {"shop_id": "VS-S2", "owner_phone_hash": P4, "household_code": "HH07093-00001", "commune_code": "7093",
             "created_at": "2026-11-15T18:30:00Z", "has_epay": "false", "status": "active"},
        ])
        fid = _landed(cur, "voso", "products", "voso_products_2026-11-17.jsonl.gz", "2026-11-17")
        _insert(cur, "voso_products", fid, "2026-11-17", [
            {"product_id": "VS-P1", "shop_id": "VS-S1", "product_name": "Mật ong", "product_group": "agricultural",
             "product_type": "Mật ong", "ocop_stars": "3", "traceable": "false", "brand_marked": "true",
             "household_discount": "false", "listed_at": "2026-11-16T03:00:00Z"},
            {"product_id": "VS-P2", "shop_id": "VS-S2", "product_name": "Phân bón", "product_group": "input",
             "product_type": "Phân bón", "ocop_stars": "0", "traceable": "false", "brand_marked": "false",
             "household_discount": "true", "listed_at": "2026-11-17T03:00:00Z"},
        ])

        def vs_order(oid, at, grams, amount, province, status="delivered", shop="VS-S1", product="VS-P1",
                     country="VN", phone=None, updated=None):
            return {"order_id": oid, "ordered_at": at, "shop_id": shop, "buyer_account_id": "VB-" + oid,
                    "buyer_phone_hash": phone, "product_id": product, "quantity": "1", "weight_g": grams,
                    "amount_vnd": amount, "buyer_province_code": province, "buyer_country": country,
                    "status": status, "updated_at": updated or at}

        fid = _landed(cur, "voso", "orders", "voso_orders_2026-11-12.jsonl.gz", "2026-11-12")
        _insert(cur, "voso_orders", fid, "2026-11-12", [
            vs_order("VS-O1", "2026-11-12T02:00:00Z", "2500", "100000", "22"),
        ])
        fid = _landed(cur, "voso", "orders", "voso_orders_2026-11-18.jsonl.gz", "2026-11-18")
        _insert(cur, "voso_orders", fid, "2026-11-18", [
            vs_order("VS-O1", "2026-11-12T02:00:00Z", "2500", "100000", "22", status="returned",
                     updated="2026-11-18T05:00:00Z"),
            vs_order("VS-O2", "2026-11-18T03:00:00Z", "500000", "2000000", None, country="JP"),
            vs_order("VS-O3", "2026-11-19T03:00:00Z", "1000", "300000", "22", shop="VS-S2", product="VS-P2",
                     phone=P2),
            vs_order("VS-O4", "2026-11-22T17:30:00Z", "1000", "50000", "22"),
        ])
        fid = _landed(cur, "voso", "activities", "voso_activities_2026-11-20.jsonl.gz", "2026-11-20")
        _insert(cur, "voso_activity", fid, "2026-11-20", [
            {"account_id": "V1", "occurred_at": "2026-11-17T01:00:00Z", "activity_type": "search", "commune_code": "07090"},
            {"account_id": "V1", "occurred_at": "2026-11-20T01:00:00Z", "activity_type": "message", "commune_code": "07090"},
        ])
        fid = _landed(cur, "voso", "info_posts", "voso_info_posts_2026-11-17.jsonl.gz", "2026-11-17")
        _insert(cur, "voso_info_posts", fid, "2026-11-17", [
            {"post_id": "VS-I1", "category": "Kỹ thuật", "province_code": "22", "posted_at": "2026-11-17T01:00:00Z"},
        ])

        # --- S1 weekly forms: unit 07090, week 47, sent on time then resent late (the resend wins) ---------
        for name, received, shop_value in [("bao_cao_tuan_07090_2026-W47.xlsx", "2026-11-26T05:00:00Z", 1),
                                           ("bao_cao_tuan_07090_2026-W47_2.xlsx", "2026-11-27T03:00:00Z", 2)]:
            fid = _landed(cur, "weekly_form", "form", name, "2026-11-22", "07090", "2026-W47")
            cur.execute("""insert into raw.weekly_forms (file_id, unit_code, unit_name, map_version, week_key,
                               week_start, week_end, received_at)
                           values (%s, '07090', 'UBND PHƯỜNG AN SINH', 'post2025', '2026-W47',
                                   '2026-11-16', '2026-11-22', %s)""", (fid, received))
            cur.execute("""insert into raw.weekly_form_rows (file_id, row_number, tt, section, indicator_code, label,
                               unit_label, value_in_week, growth_pct, cumulative_value, completion_pct, notes)
                           values (%s, 1, '3', 'II', 'hh_with_shop', 'Số hộ có gian hàng', 'Hộ', %s, null, 2, null, null),
                                  (%s, 2, '2', 'III', 'volume_sold_t', 'Sản lượng', 'Tấn', 1.5, null, 1.51, null, null)""",
                        (fid, shop_value, fid))
    conn.commit()


# ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(warehouse, empty_raw):
    """Load the fixture, seed and build once for the module; returns the timings."""
    from lensan.transform import dbt as lensan_dbt
    from lensan.db import warehouse as wh

    conn = wh.connect()
    try:
        load_fixture(conn, empty_raw)
    finally:
        conn.close()
    timings = {}
    start = time.monotonic()
    lensan_dbt.run_dbt(["seed"])
    timings["seed"] = time.monotonic() - start
    start = time.monotonic()
    lensan_dbt.run_dbt(["build", "--exclude", "resource_type:seed"])
    timings["build"] = time.monotonic() - start
    print(f"\ndbt seed {timings['seed']:.1f}s, dbt build {timings['build']:.1f}s")
    return timings


def _fact(db, indicator, period_key, scope_level="province", scope_code="22", platform="all",
          column="cumulative_value", map_version="post2025", period_type=None):
    period_type = period_type or ("week" if "-W" in period_key else "month")
    return _value(db, f"""select {column} from marts.fct_indicator_values
                          where period_type = %s and period_key = %s and scope_level = %s and scope_code = %s
                            and map_version = %s and platform = %s and indicator_code = %s""",
                  (period_type, period_key, scope_level, scope_code, map_version, platform, indicator))


def test_profiles_and_manifest(warehouse):
    from lensan.transform import dbt as lensan_dbt

    directory = lensan_dbt.profiles_dir()
    text = (directory / "profiles.yml").read_text()
    assert "lensan:" in text and "target: warehouse" in text and f"port: {warehouse.port}" in text
    assert "threads: 2" in text
    manifest = lensan_dbt.ensure_manifest()
    assert manifest.exists() and manifest.name == "manifest.json"
    mtime = manifest.stat().st_mtime
    assert lensan_dbt.ensure_manifest().stat().st_mtime == mtime  # fresh: not parsed again


def test_run_dbt_raises_on_failure(warehouse):
    from lensan.transform import dbt as lensan_dbt

    with pytest.raises(lensan_dbt.DbtError):
        lensan_dbt.run_dbt(["run", "--select", "no_such_model_anywhere", "--fail-fast", "--vars", "{bad yaml"])


def test_build_is_fast_enough(built):
    assert built["build"] < 120


def test_schemas_and_contracts(built, db):
    rows = dict(_value(db, """select json_object_agg(table_schema, n) from (
                                select table_schema, count(*) n from information_schema.tables
                                where table_schema in ('staging', 'intermediate', 'marts', 'reference')
                                group by 1) t"""))
    assert set(rows) == {"staging", "intermediate", "marts", "reference"}
    marts = {r for (r,) in _rows(db, "select table_name from information_schema.tables where table_schema = 'marts'")}
    assert {"dim_admin_unit", "dim_indicator", "dim_period", "fct_indicator_values", "fct_reported_values",
            "rpt_weekly_report"} <= marts


def test_periods(built, db):
    start, end, prev, deadline = _value(db, """select period_start, period_end, previous_period_key, deadline_at
                                               from marts.dim_period where period_type = 'week'
                                                 and period_key = '2026-W47'""")
    assert (start, end, prev) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22), "2026-W46")
    assert deadline == dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.timezone.utc)  # Thu 14:00 +07
    assert _value(db, "select count(*) from marts.dim_period where period_key in ('2026-11', '2026-H2', '2026')") == 3


def test_register_stocks(built, db):
    assert _fact(db, "hh_digitized", "2026-W46") == 4
    assert _fact(db, "hh_digitized", "2026-W47") == 5
    assert _fact(db, "hh_trained_digital", "2026-W46") == 2
    assert _fact(db, "hh_trained_digital", "2026-W47") == 4
    assert _fact(db, "hh_trained_digital", "2026-W47", column="value_in_period") == 2
    assert _fact(db, "hh_trained_logistics", "2026-W47") == 1
    assert _fact(db, "hh_trained_digital", "2026-W47", scope_level="unit", scope_code="07093") == 1
    # backfill: Hà Nội's first snapshot (22/11) counts its household trained on 03/11 in W46 too,
    # but the household was not digitised before the snapshot
    assert _fact(db, "hh_trained_digital", "2026-W46", scope_code="01") == 1
    assert _fact(db, "hh_digitized", "2026-W46", scope_code="01") == 0
    assert _fact(db, "hh_digitized", "2026-W47", scope_code="01") == 1


def test_household_on_both_platforms_counts_once(built, db):
    assert _fact(db, "hh_with_shop", "2026-W46") == 1
    assert _fact(db, "hh_with_shop", "2026-W47") == 2
    assert _fact(db, "hh_with_shop", "2026-W47", platform="postmart") == 1
    assert _fact(db, "hh_with_shop", "2026-W47", platform="voso") == 2
    assert _fact(db, "hh_with_shop", "2026-W47", column="value_in_period") == 1
    assert _fact(db, "hh_with_shop", "2026-W47", scope_level="unit", scope_code="07090") == 1
    assert _fact(db, "hh_with_shop", "2026-W47", scope_level="nation", scope_code="VN") == 3
    assert _fact(db, "hh_with_shop", "2026-W47", column="platforms_additive") is False
    # a stock is a level, never a sum over weeks: the month's level equals the last week's
    assert _fact(db, "hh_with_shop", "2026-11") == 2
    assert _fact(db, "hh_with_epay", "2026-W47") == 1
    assert _fact(db, "hh_with_epay", "2026-W47", scope_level="nation", scope_code="VN") == 2


def test_pre_reform_shop_on_both_maps(built, db):
    # shop created 15/03/2025 in old district 024 of Hà Giang (02) -> today's Tuyên Quang (08)
    assert _fact(db, "hh_with_shop", "2026-W47", scope_code="08") == 1
    assert _fact(db, "hh_with_shop", "2025-W20", scope_code="02", map_version="pre2025") == 1
    assert _fact(db, "hh_with_shop", "2025-W20", scope_code="08") == 1
    assert _fact(db, "hh_with_shop", "2025-W20", scope_level="unit", scope_code="024", map_version="pre2025") == 1
    # the district was abolished on 1 July 2025: its last week is 2025-W27 (30/6-6/7), no row after it
    assert _fact(db, "hh_with_shop", "2025-W27", scope_level="unit", scope_code="024", map_version="pre2025") == 1
    assert _value(db, """select count(*) from marts.fct_indicator_values where map_version = 'pre2025'
                         and scope_code = '024' and period_key in ('2025-W28', '2026-W47')""") == 0
    assert _value(db, """select count(*) from marts.fct_indicator_values where map_version = 'pre2025'
                         and scope_level = 'province' and period_key = '2026-W47'""") == 0
    # e-wallet switched on in the extract of 18/11/2026
    assert _fact(db, "hh_with_epay", "2026-W46", scope_code="08") == 0
    assert _fact(db, "hh_with_epay", "2026-W47", scope_code="08") == 1


def test_units_only_while_they_existed_and_zero_not_blank(built, db):
    """Issue #19: a unit has rows only in periods overlapping its days (ref_admin_units valid_from/valid_to);
    every scope with data has every computed indicator on every platform, 0 where nothing happened."""
    outside = _value(db, """select count(*) from marts.fct_indicator_values as v
                            join marts.dim_period as p using (period_type, period_key)
                            join marts.dim_admin_unit as u
                              on u.map_version = v.map_version and u.unit_code = v.scope_code
                             and u.unit_level <> 'province'
                            where v.scope_level = 'unit'
                              and (p.period_end < u.valid_from or p.period_start > u.valid_to)""")
    assert outside == 0
    # commune 07090 (created 1 July 2025) has no row before it existed
    assert _value(db, """select count(*) from marts.fct_indicator_values where scope_level = 'unit'
                         and scope_code = '07090' and period_key = '2025-W20'""") == 0
    # Tuyên Quang (08) has one postmart shop and nothing on voso: 0 there, not a missing row
    for indicator in ("hh_with_shop", "volume_sold_t", "orders", "foreign_markets", "active_accounts"):
        assert _fact(db, indicator, "2026-W47", scope_code="08", platform="voso") == 0, indicator
    # Hà Nội's commune 00070 has a register but no discounted input on voso: 0, not a missing row
    assert _fact(db, "inputs_discounted", "2026-W47", scope_level="unit", scope_code="00070", platform="voso") == 0
    assert _value(db, """select count(*) from marts.fct_indicator_values where indicator_code = 'hh_digitized'
                         and platform <> 'all'""") == 0
    # every scope with data has the same set of computed indicator x platform rows in a week
    shapes = _rows(db, """select count(*) from marts.fct_indicator_values
                          where period_key = '2026-W47' and scope_level = 'province' and map_version = 'post2025'
                            and indicator_kind in ('stock', 'flow', 'distinct_in_period')
                          group by scope_code""")
    assert len({n for (n,) in shapes}) == 1, shapes


def test_volume_in_tonnes_successful_latest_status(built, db):
    assert _fact(db, "volume_sold_t", "2026-W46", column="value_in_period") == Decimal("0.0125")
    assert _fact(db, "volume_sold_t", "2026-W47", column="value_in_period") == Decimal("1.5005")
    assert _fact(db, "volume_sold_t", "2026-W47") == Decimal("1.5130")
    assert _fact(db, "volume_sold_t", "2026-W47", platform="postmart", column="value_in_period") == Decimal("1.0005")
    assert _fact(db, "volume_sold_t", "2026-W47", platform="voso", column="value_in_period") == Decimal("0.5")
    assert _fact(db, "volume_sold_t", "2026-W48", column="value_in_period") == Decimal("0.001")
    assert _fact(db, "volume_sold_t", "2026-W47", scope_level="nation", scope_code="VN",
                 column="value_in_period") == Decimal("1.5025")
    assert _fact(db, "volume_sold_t", "2026-11", column="value_in_period") == Decimal("1.514")
    assert _fact(db, "orders", "2026-W47", column="value_in_period") == 2
    assert _fact(db, "gmv_vnd", "2026-W47", column="value_in_period") == 7_000_000


def test_products_and_markets(built, db):
    assert _fact(db, "products_promoted", "2026-W46") == 1
    assert _fact(db, "products_promoted", "2026-W47") == 3
    assert _fact(db, "ocop_listed", "2026-W47") == 2
    assert _fact(db, "products_branded", "2026-W47") == 2
    assert _fact(db, "hh_branded", "2026-W47") == 1
    assert _fact(db, "traceable", "2026-W47") == 1
    assert _fact(db, "inputs_listed", "2026-W47") == 1
    assert _fact(db, "inputs_discounted", "2026-W47") == 1
    assert _fact(db, "hh_bought_inputs", "2026-W47") == 1
    assert _fact(db, "domestic_markets", "2026-W46") == 1
    assert _fact(db, "domestic_markets", "2026-W47") == 3
    assert _fact(db, "domestic_markets", "2026-W48") == 3
    assert _fact(db, "domestic_markets", "2026-W47", scope_code="01") == 1
    # distinct per scope, not a sum of provinces (1 + 3)
    assert _fact(db, "domestic_markets", "2026-W47", scope_level="nation", scope_code="VN") == 3
    assert _fact(db, "foreign_markets", "2026-W47") == 1


def test_products_promoted_counts_types_and_keeps_the_product_count(built, db):
    # III.1 is "Số/loại sản phẩm" with a target in % of the province's main products: it counts
    # distinct product TYPES (Gạo 06/11; Rau củ 17/11, Mật ong 16/11 and a 2nd Gạo 18/11 in W47); the number of
    # products listed rides along in detail_value / notes
    assert _fact(db, "products_promoted", "2026-W47") == 3
    assert _fact(db, "products_promoted", "2026-W47", column="detail_value") == 4   # PM-P1, P2, P3, VS-P1
    assert _fact(db, "products_promoted", "2026-W47", column="notes") == "Số loại sản phẩm: 3; số sản phẩm: 4"
    assert _fact(db, "products_promoted", "2026-W47", platform="postmart") == 2      # Gạo, Rau củ
    assert _fact(db, "products_promoted", "2026-W47", platform="postmart", column="detail_value") == 3


def test_product_type_monthly(built, db):
    rows = {(r[0], r[1]): r[2:] for r in _rows(db, """
        select platform, product_type, orders, volume_t, revenue_vnd from marts.fct_product_type_monthly
        where month_key = '2026-11' and scope_level = 'province' and scope_code = '22'""")}
    # hand numbers: postmart Gạo PM-O1 (12,5 kg, 250 000) + PM-O2 (1.000,5 kg, 5 000 000), PM-O3 cancelled;
    # voso Mật ong VS-O2 (500 000 g, 2 000 000) + VS-O4 (1 000 g, 50 000; 23/11 local), VS-O1 returned;
    # voso Phân bón (input) VS-O3 (1 000 g, 300 000)
    assert rows[("postmart", "Gạo")] == (2, Decimal("1.013"), 5_250_000)
    assert rows[("voso", "Mật ong")] == (2, Decimal("0.501"), 2_050_000)
    assert rows[("voso", "Phân bón")] == (1, Decimal("0.001"), 300_000)
    assert rows[("all", "Gạo")] == (2, Decimal("1.013"), 5_250_000)
    assert set(rows) == {("postmart", "Gạo"), ("voso", "Mật ong"), ("voso", "Phân bón"), ("all", "Gạo"),
                         ("all", "Mật ong"), ("all", "Phân bón")}
    # the Hà Nội shop's Gạo order (2 kg, 40 000) joins at the nation
    assert _rows(db, """select orders, volume_t, revenue_vnd from marts.fct_product_type_monthly
                        where month_key = '2026-11' and scope_level = 'nation' and platform = 'all'
                          and product_type = 'Gạo'""") == [(3, Decimal("1.015"), 5_290_000)]


def test_dbt_docs_generate(built):
    import json

    from lensan.transform import dbt as lensan_dbt

    lensan_dbt.run_dbt(["docs", "generate"])
    target = lensan_dbt.target_dir()
    assert (target / "index.html").is_file()
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    for model in ("fct_indicator_values", "fct_product_type_monthly", "fct_indicator_values_asof_deadline"):
        assert f"model.lensan.{model}" in catalog["nodes"], model
    assert "source.lensan.ops.published_values" in catalog["sources"]


@pytest.mark.parametrize("table", ["intermediate.int_indicators__members_per_unit",
                                   "intermediate.int_platforms__orders", "marts.fct_reported_values",
                                   "marts.fct_reconciliation", "marts.fct_plausibility"])
def test_natural_keys_are_unique_indexes(built, db, table):
    """The natural keys are enforced by unique indexes (a duplicate fails the insert), not by data tests
    scanning all history on every incremental build; fct_indicator_values' by its post-hook (below)."""
    import psycopg2.errors

    try:
        with pytest.raises(psycopg2.errors.UniqueViolation):
            with db.cursor() as cur:
                cur.execute(f"insert into {table} select * from {table} limit 1")
    finally:
        db.rollback()


@pytest.mark.parametrize("column, value", [("platform", "'shopee'"), ("scope_level", "'district'"),
                                           ("map_version", "'2024'"), ("attainment_flag", "'low'"),
                                           ("indicator_code", "null"), ("period_key", "null"),
                                           ("scope_code", "null"), ("platform", "null")])
def test_indicator_values_reject_a_value_outside_their_domain(built, db, column, value):
    """The contract's constraints check each row of fct_indicator_values as it is inserted (data tests
    would read every period after every build)."""
    import psycopg2.errors

    try:
        with pytest.raises((psycopg2.errors.CheckViolation, psycopg2.errors.NotNullViolation)):
            with db.cursor() as cur:
                cur.execute(f"""update marts.fct_indicator_values set {column} = {value}
                                where ctid = (select ctid from marts.fct_indicator_values limit 1)""")
    finally:
        db.rollback()


def test_all_below_a_platform_fails_the_build_and_keeps_the_rows(built, db):
    """'all' is never below either platform for a stock or a flow: fct_indicator_values checks the rows
    it writes (macros/checks.sql) and fails, its rows and watermark rolled back."""
    from lensan.transform import dbt as lensan_dbt

    stored = """select count(*), sum(cumulative_value),
                       (select upto_file_id from ops.build_watermarks where model = 'fct_indicator_values')
                from marts.fct_indicator_values"""
    before = _rows(db, stored)
    bump = """update intermediate.int_indicators__running_levels set running_value = running_value + %s
              where platform = 'voso' and indicator_code = 'hh_with_shop'"""
    with db.cursor() as cur:
        cur.execute(bump, (1000,))
        assert cur.rowcount > 0
    db.commit()
    try:
        with pytest.raises(lensan_dbt.DbtError, match="assert_all_platforms_not_below_each_platform.*hh_with_shop"):
            lensan_dbt.run_dbt(["run", "--select", "fct_indicator_values", "--full-refresh"])
    finally:
        with db.cursor() as cur:
            cur.execute(bump, (-1000,))
        db.commit()
    assert _rows(db, stored) == before


def test_a_duplicate_key_fails_the_build_and_keeps_the_rows(built, db):
    """One row per key: the key index is not unique (each unique check visited the row the window
    delete removed, a cost growing with history), so the last post-hook counts the rows of every
    group written; a period's active accounts stored twice give two rows of one key: the build fails,
    its rows kept."""
    from lensan.transform import dbt as lensan_dbt

    stored = """select count(*), sum(cumulative_value),
                       (select upto_file_id from ops.build_watermarks where model = 'fct_indicator_values')
                from marts.fct_indicator_values"""
    before = _rows(db, stored)
    twice = """insert into intermediate.int_indicators__active_accounts
               select * from intermediate.int_indicators__active_accounts
               where platform = 'postmart' and scope_level = 'nation' and period_type = 'week'
               order by period_key desc limit 1 returning period_key"""
    with db.cursor() as cur:
        cur.execute(twice)
        (week,), = cur.fetchall()
    db.commit()
    try:
        with pytest.raises(lensan_dbt.DbtError,
                           match=f"fct_indicator_values_one_row_per_key.*{week}, nation VN.*active_accounts"):
            lensan_dbt.run_dbt(["run", "--select", "fct_indicator_values", "--full-refresh"])
    finally:
        with db.cursor() as cur:
            cur.execute("""delete from intermediate.int_indicators__active_accounts
                           where ctid = (select max(ctid) from intermediate.int_indicators__active_accounts
                                         where platform = 'postmart' and scope_level = 'nation'
                                           and period_type = 'week' and period_key = %s)""", (week,))
            assert cur.rowcount == 1
        db.commit()
    assert _rows(db, stored) == before


def test_two_builds_of_an_incremental_model_take_turns(built, db):
    """A build of fct_indicator_values started while another holds the model (here: this test's
    transaction holds its lock) waits for it to end instead of deleting and inserting the same window
    side by side (no unique index would stop the copies); it then runs to the end."""
    import threading

    from lensan.transform import dbt as lensan_dbt

    with db.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('lensan.build:marts.fct_indicator_values'))")
    failures = []

    def build():
        try:
            lensan_dbt.run_dbt(["run", "--select", "fct_indicator_values"])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    thread = threading.Thread(target=build)
    thread.start()
    try:
        deadline = time.monotonic() + 180
        waiting = 0
        while thread.is_alive() and time.monotonic() < deadline and not waiting:
            time.sleep(0.5)
            waiting = _value(db, "select count(*) from pg_locks where locktype = 'advisory' and not granted")
        assert waiting == 1 and thread.is_alive()
    finally:
        db.rollback()   # the lock is released with the transaction
        thread.join(timeout=600)
    assert not thread.is_alive() and failures == []


def test_a_rebuilt_table_keeps_its_indexes(built, db):
    """A table model built again is a new table, and gets its indexes again: the old table, renamed by
    dbt until it drops it after the hooks, held the index names (the gate's week index and the
    targets' lookup index went missing on every second build)."""
    from lensan.transform import dbt as lensan_dbt

    wanted = {("fct_reporting_completeness", "fct_reporting_completeness__week"),
              ("int_targets__resolved", "int_targets__resolved__lookup")}
    lensan_dbt.run_dbt(["run", "--select", " ".join(table for table, _ in wanted)])
    db.rollback()
    with db.cursor() as cur:
        cur.execute("select tablename, indexname from pg_indexes where indexname = any(%s)",
                    ([index for _, index in wanted],))
        assert set(cur.fetchall()) == wanted


def test_order_version_check_fails_on_a_status_that_is_not_the_newest(built, db):
    """assert_latest_order_version_only reads only the orders of the files landed since the last build
    (after this first build: all of them) and fails when a kept status is not the newest version's."""
    from lensan.transform import dbt as lensan_dbt

    check = ["test", "--select", "assert_latest_order_version_only"]
    with db.cursor() as cur:
        cur.execute("select platform, order_id, order_status from intermediate.int_platforms__orders limit 1")
        platform, order_id, status = cur.fetchone()
        cur.execute("""update intermediate.int_platforms__orders set order_status = 'stale'
                       where platform = %s and order_id = %s""", (platform, order_id))
    db.commit()
    try:
        with pytest.raises(lensan_dbt.DbtError, match="assert_latest_order_version_only"):
            lensan_dbt.run_dbt(check)
    finally:
        with db.cursor() as cur:
            cur.execute("""update intermediate.int_platforms__orders set order_status = %s
                           where platform = %s and order_id = %s""", (status, platform, order_id))
        db.commit()
    lensan_dbt.run_dbt(check)


@pytest.mark.parametrize("table, key", [("marts.fct_quality_checks", "week_key"),
                                        ("marts.fct_reporting_completeness", "week_key"),
                                        ("marts.rpt_weekly_report", "week_key"),
                                        ("marts.fct_indicator_values", "period_type || ':' || period_key")])
def test_a_periods_rows_lie_together(built, db, table, key):
    """After a build the rows of one period are stored together (the models end with `order by` the
    period): the gate and the publisher read one period by its index and visit only its pages. Rows of
    all weeks mixed made a gate of an old week read most of a 27-week table, query after query."""
    periods, pages, visited = _value(db, f"""
        with stored as (select {key} as k, (ctid::text::point)[0] as page from {table})
        select (select count(distinct k) from stored), (select count(distinct page) from stored),
               (select count(*) from (select distinct k, page from stored) as period_pages)""")
    assert periods > 1, f"{table}: the fixture builds several periods"
    # each page read once, plus at most a few pages shared with a neighbour period or a row placed in
    # an earlier page's free space; mixed rows would read each period's rows from as many pages
    assert visited <= pages + 3 * periods, f"{table}: one period at a time visits {visited} pages of {pages}"


def test_active_accounts_and_info(built, db):
    assert _fact(db, "active_accounts", "2026-W46", column="value_in_period") == 1
    assert _fact(db, "active_accounts", "2026-W47", column="value_in_period") == 3
    assert _fact(db, "active_accounts", "2026-11", column="value_in_period") == 3
    assert _fact(db, "active_accounts", "2026-W47", scope_level="unit", scope_code="07090",
                 column="value_in_period") == 2
    assert _fact(db, "info_items", "2026-W47") == 3
    assert _fact(db, "info_update_days", "2026-W47", column="value_in_period") == 3


def _seed_target(db, indicator, province="22", year=2026):
    """The province's yearly target of the seed ref_targets (post2025 map)."""
    return _value(db, """select target_value from reference.ref_targets where scope_level = 'province'
                         and map_version = 'post2025' and province_code = %s and indicator_code = %s
                         and target_year = %s""", (province, indicator, year))


def _seed_base(db, base_code, province="22", year=2026):
    return _value(db, """select base_value from reference.ref_bases where map_version = 'post2025'
                         and unit_level = 'province' and unit_code = %s and base_code = %s and base_year = %s""",
                  (province, base_code, year))


def test_targets(built, db):
    target, attainment, sample = _fact(db, "hh_with_shop", "2026-W47",
                                       column="target_value, target_attainment_pct, is_sample_target")
    assert target == _seed_target(db, "hh_with_shop") / 100 * _seed_base(db, "agri_households")
    assert attainment == round(Decimal(2) / target * 100, 2)
    assert sample is True
    # absolute target (number of provinces); 3 reached at W47
    target, attainment = _fact(db, "domestic_markets", "2026-W47", column="target_value, target_attainment_pct")
    assert target == _seed_target(db, "domestic_markets")
    assert attainment == round(Decimal(3) / target * 100, 2)
    # flows: attainment on the amount since 1 January, a % of production tonnes
    target, attainment = _fact(db, "volume_sold_t", "2026-W47", column="target_value, target_attainment_pct")
    assert target == round(_seed_target(db, "volume_sold_t") / 100 * _seed_base(db, "production_tonnes"), 4)
    assert attainment == round(Decimal("1.513") / target * 100, 2)
    # no target on the per-platform rows
    assert _fact(db, "hh_with_shop", "2026-W47", platform="voso", column="target_value") is None


def test_targets_on_bases_of_the_same_scope(built, db):
    # province 22, 2026: products_branded and traceable are a % of the agricultural products listed in
    # the same scope (4 at the end of W47: PM-P1, P2, P3, VS-P1), inputs_discounted a % of the inputs
    # listed (1), info_items a % of the 8 required categories
    branded, traceable = _seed_target(db, "products_branded"), _seed_target(db, "traceable")
    target, attainment, flag = _fact(db, "products_branded", "2026-W47",
                                     column="target_value, target_attainment_pct, attainment_flag")
    assert target == branded / 100 * 4 and attainment == round(Decimal(2) / target * 100, 2)   # 2 branded
    assert flag == ("above_target" if attainment > 100 else None)
    target, attainment = _fact(db, "traceable", "2026-W47", column="target_value, target_attainment_pct")
    assert target == traceable / 100 * 4 and attainment == round(Decimal(1) / target * 100, 2)  # 1 traceable
    target, attainment = _fact(db, "inputs_discounted", "2026-W47", column="target_value, target_attainment_pct")
    assert target == _seed_target(db, "inputs_discounted") / 100 * 1
    target, attainment = _fact(db, "info_items", "2026-W47", column="target_value, target_attainment_pct")
    assert target == _seed_target(db, "info_items") / 100 * 8
    assert attainment == round(Decimal(3) / target * 100, 2)     # 3 categories
    # W46: only the Gạo product PM-P1 was listed -> pct x 1
    assert _fact(db, "products_branded", "2026-W46", column="target_value") == branded / 100
    # the base of every indicator is documented in dim_indicator, with its source
    bases = dict(_rows(db, "select indicator_code, base_source from marts.dim_indicator"))
    assert bases["products_branded"] == bases["traceable"] == "platforms._products_listed"
    assert bases["hh_with_shop"] == "ref_bases.agri_households" and None not in bases.values()


def test_reported_values_latest_form_wins(built, db):
    value, is_late, versions = _value(db, """select value_in_week, is_late, versions_received
                                             from marts.fct_reported_values
                                             where unit_code = '07090' and week_key = '2026-W47'
                                               and indicator_code = 'hh_with_shop'""")
    assert (value, is_late, versions) == (2, True, 2)


def test_weekly_report(built, db):
    rows = _rows(db, """select indicator_code, value_in_week, growth_pct, cumulative_value, notes
                        from marts.rpt_weekly_report
                        where week_key = '2026-W47' and scope_level = 'province' and scope_code = '22'
                        order by sort_order""")
    codes = [r[0] for r in rows]
    assert codes[:17] == ["ocop_listed", "hh_trained_digital", "hh_trained_logistics", "hh_with_shop",
                          "hh_with_epay", "products_promoted", "volume_sold_t", "products_branded", "hh_branded",
                          "traceable", "domestic_markets", "foreign_markets", "info_items", "info_update_days",
                          "inputs_listed", "hh_bought_inputs", "inputs_discounted"]
    by_code = {r[0]: r for r in rows}
    assert by_code["domestic_markets"][4] == "Miền Bắc: Hà Nội, Quảng Ninh; Miền Nam: Hồ Chí Minh"
    assert by_code["foreign_markets"][4] == "Nhật Bản"
    assert by_code["volume_sold_t"][1] == Decimal("1.5005")
    # growth vs W46 (0.0125 t): (1.5005 - 0.0125) / 0.0125 * 100
    assert by_code["volume_sold_t"][2] == Decimal("11904.00")
    assert by_code["hh_with_shop"][3] == 2
    scopes = _rows(db, """select distinct scope_level, scope_code from marts.rpt_weekly_report
                          where week_key = '2026-W47' order by 1, 2""")
    assert ("nation", "VN") in scopes and ("region", "bac") in scopes


# ------------------------------------------------------------------------------------------------------
# Generated sample data: the marts against the generator's ground truth (when generator and landing
# are available). The truth is "as known at the week's end"; the warehouse uses each order's LATEST
# status, so flows and markets may only be lower (orders returned later), never higher; every other
# indicator must match exactly.


# The staging macros as compiled, on spellings people and platforms use: each macro's quick first test
# (landing's usual spelling) and its general rules give these values (the session's time zone UTC).
STAGING_SPELLINGS = [
    ("parse_local_timestamp('v')", ["17/11/2026 08:00:00", "1/7/2026 08:00:00", " 17/11/2026 08:00:00 ", "", None,
                                    "2026-11-17 08:00:00", "2026-11-17T08:00:00+00:00"],
     ["2026-11-17 01:00:00+00", "2026-07-01 01:00:00+00", "2026-11-17 01:00:00+00", None, None,
      "2026-11-17 01:00:00+00", "2026-11-17 08:00:00+00"]),
    ("parse_utc_timestamp('v')", ["2026-11-16T03:15:00Z", " 2026-11-16T03:15:00Z ", "2026-11-16T10:15:00+07:00",
                                  "2026-11-16 03:15:00", ""],
     ["2026-11-16 03:15:00+00", "2026-11-16 03:15:00+00", "2026-11-16 03:15:00+00", "2026-11-16 03:15:00+00", None]),
    ("parse_vn_number('v')", ["1234", "1.234", "1.234,5", "12,5", "2.5", " 12 ", "1 234", "007", "", " ", None],
     ["1234", "1234", "1234.5", "12.5", "2.5", "12", "1234", "7", None, None, None]),
    ("pad_code('v', 2)", ["1", "79", " 7 ", "A1", "", "205"], ["01", "79", "07", "A1", None, "205"]),
    ("normalise_order_status('v')", ["Thành công", "THÀNH CÔNG", "tha\u0300nh co\u0302ng", " Hủy ", "Huỷ", "Hoàn",
                                     "Delivered", "canceled", "Lost"],
     ["success", "success", "success", "cancelled", "cancelled", "returned", "success", "cancelled", "lost"]),
    ("normalise_activity_type('v')", ["Đăng SP", "tìm kiếm", "Nhắn tin ", "TRANSACTION"],
     ["post_product", "search", "message", "transaction"]),
    ("parse_bool('v')", ["Có", "KHÔNG", " x ", "co", "false", "1", "maybe", ""],
     ["true", "false", "true", "true", "false", "true", None, None]),
]


@functools.lru_cache(maxsize=1)
def _compiled_staging_macros() -> dict[str, str]:
    """Every call of STAGING_SPELLINGS compiled in one dbt invocation."""
    from lensan.transform import dbt as lensan_dbt

    calls = [call for call, _, _ in STAGING_SPELLINGS]
    compiled = lensan_dbt.compile_sql("\n-- next call --\n".join("{{ " + call + " }}" for call in calls))
    return dict(zip(calls, compiled.split("\n-- next call --\n")))


@pytest.mark.parametrize("call, spellings, expected", STAGING_SPELLINGS, ids=[c for c, _, _ in STAGING_SPELLINGS])
def test_staging_macros_read_every_spelling(warehouse, db, call, spellings, expected):
    expression = _compiled_staging_macros()[call]
    with db.cursor() as cur:
        cur.execute("set local timezone = 'UTC'")
        cur.execute(f"select ({expression.replace('%', '%%')})::text from unnest(%s::text[]) with ordinality as s (v, i) "
                    "order by i", (spellings,))
        assert [row[0] for row in cur.fetchall()] == expected

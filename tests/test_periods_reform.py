"""Issue 3 must-shows on generated data, end to end (generate -> land -> dbt build -> marts):

* Hậu Giang (pre-reform province 93), target year 2022: fct_indicator_values carries the REAL seeded
  targets of plan 211/KH-UBND (ref_targets) resolved on the province's bases (ref_bases), and the
  attainment = cumulative / target x 100.
* As-of-deadline snapshots: week 2022-W11 is published before its deadline (rev 1), a returned order
  lands late and the week is rebuilt and republished (rev 2); marts.fct_indicator_values_asof_deadline
  still shows rev 1 values at the deadline, the latest value next to them, and flags the revision.
* The 2025 map reform: Hậu Giang (93) and Sóc Trăng (94) merged into Cần Thơ (92) on 1 July 2025.
  Over 2025-W25..W29, the series of province 92 on today's boundaries equals, for pre-reform weeks,
  the sum of its old provinces' as-reported series (stocks of distinct households/products and flows),
  and its weekly increase across the reform is exactly the week's real change (generator ground
  truth), with no jump.

Runs on the session's embedded warehouse and LENSAN_HOME (conftest), after test_dbt in the same
session or alone (it seeds the reference data when missing).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest

from lensan.landing.ledger import name_key

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "dbt_project" / "seeds"
WEEKS_2022 = ["2022-W10", "2022-W11", "2022-W12"]
WEEKS_2025 = ["2025-W25", "2025-W26", "2025-W27", "2025-W28", "2025-W29"]
# platform stocks whose members (households, products) belong to exactly one province: the new
# province's level is the SUM of its old provinces' levels
DISJOINT_STOCKS = ("hh_with_shop", "hh_with_epay", "ocop_listed", "products_branded", "hh_branded", "traceable",
                   "inputs_listed", "inputs_discounted")
FLOWS = ("volume_sold_t", "orders", "gmv_vnd")


def _rows(conn, sql, params=()):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [d[0] for d in cur.description]
        out = [dict(zip(names, r)) for r in cur.fetchall()]
    conn.commit()
    return out


def _fresh_raw(home: Path, empty_raw) -> None:
    """Empty raw tables and the landing folders (a previous module's data must not leak in)."""
    from lensan.db import warehouse as wh

    conn = wh.connect()
    try:
        with conn.cursor() as cur:
            empty_raw(cur)
            cur.execute("create schema if not exists ops")
            cur.execute("drop table if exists ops.published_values")
            cur.execute("drop table if exists ops.publications")
        conn.commit()
    finally:
        conn.close()
    for folder in (home / "landing").glob("*"):
        for path in folder.glob("*"):
            if path.is_file():
                path.unlink()


def _seed_if_needed() -> None:
    from lensan.transform import dbt
    from lensan.db import warehouse as wh

    conn = wh.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('reference.ref_targets') is not null")
            seeded = cur.fetchone()[0]
        conn.commit()
    finally:
        conn.close()
    if not seeded:
        dbt.run_dbt(["seed"])


def _build(with_tests: bool = False) -> None:
    """Models only by default (test_dbt runs the data and unit tests); `with_tests` runs them too."""
    from lensan.transform import dbt

    dbt.run_dbt(["build", "--exclude", "resource_type:seed"] if with_tests else ["run"])


# ------------------------------------------------------------------------------------------------
# 2022: Hậu Giang targets and the as-of-deadline snapshot


@pytest.fixture(scope="module")
def hau_giang_2022(warehouse, lensan_home, empty_raw):
    from lensan import landing
    from lensan_dev import generate

    _fresh_raw(lensan_home, empty_raw)
    _seed_if_needed()
    generate.generate(["93"], WEEKS_2022, seed=2022, home=lensan_home)
    landing.land_pending()
    _build()
    return lensan_home


def _seed_csv(name):
    with open(SEEDS / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_hau_giang_2022_real_targets_and_attainment(hau_giang_2022, db):
    targets = {r["indicator_code"]: r for r in _seed_csv("ref_targets.csv")
               if r["scope_level"] == "province" and r["map_version"] == "pre2025" and r["province_code"] == "93"
               and r["target_year"] == "2022"}
    bases = {r["base_code"]: r for r in _seed_csv("ref_bases.csv")
             if r["map_version"] == "pre2025" and r["unit_level"] == "province" and r["unit_code"] == "93"
             and r["base_year"] == "2022"}
    base_of = {r["indicator_code"]: r["base_code"] for r in _seed_csv("ref_indicators.csv")}
    basis_of = {r["indicator_code"]: r["target_basis"] for r in _seed_csv("ref_indicators.csv")}
    required = sum(r["is_required"] == "true" for r in _seed_csv("ref_info_categories.csv"))
    # the plan's own figures (211/KH-UBND, DOMAIN §4), not sample data
    assert targets["hh_with_shop"]["target_value"] == "50" and targets["hh_with_shop"]["is_sample"] == "false"
    assert bases["agri_households"]["base_value"] == "100000" and bases["agri_households"]["is_sample"] == "false"

    facts = {r["indicator_code"]: r for r in _rows(db, """
        select indicator_code, cumulative_value, detail_value, target_year, target_value, target_attainment_pct,
               is_sample_target
        from marts.fct_indicator_values
        where period_type = 'week' and period_key = '2022-W12' and scope_level = 'province' and scope_code = '93'
          and map_version = 'pre2025' and platform = 'all'""")}
    assert facts, "no rows for Hậu Giang (93) in 2022-W12"
    # hand numbers: 50 % / 70 % / 60 % of 100 000 agricultural households; 10 and 2 markets (absolute)
    assert facts["hh_with_shop"]["target_value"] == 50000
    assert facts["hh_trained_digital"]["target_value"] == 70000
    assert facts["hh_trained_logistics"]["target_value"] == 60000
    assert facts["domestic_markets"]["target_value"] == 10
    assert facts["foreign_markets"]["target_value"] == 2
    assert facts["hh_with_shop"]["is_sample_target"] is False
    checked = 0
    for code, target in targets.items():
        fact = facts[code]
        assert fact["target_year"] == 2022
        if target["target_type"] == "absolute":
            expected, sample = Decimal(target["target_value"]), target["is_sample"] == "true"
        elif basis_of[code] != "pct_of_base":
            # bases measured in the same scope at the week's end: products / inputs listed, categories
            measured = {"pct_of_listed": facts["products_promoted"]["detail_value"],
                        "pct_of_inputs": facts["inputs_listed"]["cumulative_value"],
                        "pct_of_required": required}[basis_of[code]]
            expected, sample = Decimal(target["target_value"]) / 100 * measured, target["is_sample"] == "true"
        else:
            base = bases[base_of[code]]
            expected = Decimal(target["target_value"]) / 100 * Decimal(base["base_value"])
            sample = target["is_sample"] == "true" or base["is_sample"] == "true"
        assert fact["target_value"] == expected.quantize(Decimal("0.0001")).normalize(), code
        assert fact["is_sample_target"] is sample, code
        if expected > 0:
            assert fact["target_attainment_pct"] == round(fact["cumulative_value"] / fact["target_value"] * 100, 2), code
        checked += 1
    assert checked == len(targets) == 15   # every 2022 target of the plan (DOMAIN §4)
    assert facts["hh_with_shop"]["cumulative_value"] > 0   # the generated shops count toward the target
    # the month and the year carry the same yearly target; attainment on the level at their end
    year = _rows(db, """select cumulative_value, target_value, target_attainment_pct from marts.fct_indicator_values
                        where period_type = 'year' and period_key = '2022' and scope_level = 'province'
                          and scope_code = '93' and map_version = 'pre2025' and platform = 'all'
                          and indicator_code = 'hh_with_shop'""")[0]
    assert year["target_value"] == 50000
    assert year["target_attainment_pct"] == round(year["cumulative_value"] / Decimal(50000) * 100, 2)


def _a_w11_delivered_voso_order(db):
    rows = _rows(db, """
        select o.order_id, o.ordered_at, o.shop_id, o.product_id, o.weight_t, o.amount_vnd
        from intermediate.int_platforms__orders as o
        where o.platform = 'voso' and o.is_successful and o.product_group = 'agricultural'
          and o.ordered_date between date '2022-03-14' and date '2022-03-20' and o.province_code = '93'
        order by o.order_id limit 1""")
    assert rows, "the generator made no delivered voso order in 2022-W11"
    return rows[0]


def test_as_of_deadline_snapshot_keeps_rev_1_after_a_late_return(hau_giang_2022, db):
    from lensan import landing
    from lensan.transform import dbt
    from lensan.publish import service as publish

    home = hau_giang_2022
    deadline = dt.datetime(2022, 3, 24, 7, 0, tzinfo=dt.timezone.utc)   # Thu 24/03/2022 14:00 +07
    first = publish.publish_weekly("2022-W11", generated_at=deadline - dt.timedelta(hours=20))
    assert any(p["scope_key"] == "province-92" and p["revision"] == 1 for p in first.published)
    published = _rows(db, """select count(*) n, min(revision) r from ops.published_values
                             where period_type = 'week' and period_key = '2022-W11' and scope_code = '92'""")[0]
    assert published["n"] == 17 + 7 and published["r"] == 1   # every row of the report, same transaction
    rev1 = json.loads((home / "exports" / "week" / "2022-W11" / "province-92" / "rev-1"
                       / "bao_cao_tuan_2022-W11_province-92.json").read_text(encoding="utf-8"))
    rev1_volume = next(r for r in rev1["rows"] if r["indicator_code"] == "volume_sold_t")

    # a delivered order of the week comes back returned in a late extract (after the deadline)
    order = _a_w11_delivered_voso_order(db)
    raw = _rows(db, "select * from raw.voso_orders where order_id = %s order by updated_at desc limit 1",
                (order["order_id"],))[0]
    record = {"order_id": raw["order_id"], "ordered_at": raw["ordered_at"], "shop_id": raw["shop_id"],
              "buyer_account_id": raw["buyer_account_id"], "buyer_phone": None, "product_id": raw["product_id"],
              "quantity": int(raw["quantity"]), "weight_g": int(raw["weight_g"]),
              "amount_vnd": int(raw["amount_vnd"]), "buyer_province_code": raw["buyer_province_code"],
              "buyer_country": raw["buyer_country"], "status": "returned", "updated_at": "2022-03-28T03:00:00Z"}
    late = home / "landing" / "voso" / "voso_orders_2022-03-28.jsonl.gz"
    late.parent.mkdir(parents=True, exist_ok=True)
    late.write_bytes(gzip.compress((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"), mtime=0))
    landing.land_pending()
    assert _rows(db, "select status from raw.landed_files where name_hash = %s", (name_key(late.name),)) == [
        {"status": "loaded"}]
    _build()
    second = publish.publish_weekly("2022-W11", generated_at=deadline + dt.timedelta(days=5))
    assert any(p["scope_key"] == "province-92" and p["revision"] == 2 for p in second.published)
    dbt.run_dbt(["run", "--select", "fct_indicator_values_asof_deadline"])

    snap = {r["indicator_code"]: r for r in _rows(db, """
        select * from marts.fct_indicator_values_asof_deadline
        where period_type = 'week' and period_key = '2022-W11' and scope_level = 'province' and scope_code = '92'""")}
    volume = snap["volume_sold_t"]
    assert volume["deadline_at"] == deadline
    assert volume["deadline_revision"] == 1 and volume["latest_revision"] == 2
    assert float(volume["value_in_period"]) == pytest.approx(rev1_volume["value_in_week"])   # rev 1, as published
    assert float(volume["cumulative_value"]) == pytest.approx(rev1_volume["cumulative_value"])
    expected_now = Decimal(str(rev1_volume["value_in_week"])) - order["weight_t"]
    assert volume["latest_value"] == pytest.approx(expected_now)   # the returned order dropped out
    assert volume["revised_after_deadline"] is True and volume["differs_from_latest"] is True
    assert snap["orders"]["revised_after_deadline"] is True
    assert snap["orders"]["latest_value"] == snap["orders"]["value_in_period"] - 1
    # rows the late return did not change are not flagged
    assert snap["hh_trained_digital"]["revised_after_deadline"] is False
    assert snap["hh_trained_digital"]["deadline_revision"] == 1


# ------------------------------------------------------------------------------------------------
# 2025: the reform


@pytest.fixture(scope="module")
def reform_2025(warehouse, lensan_home, empty_raw):
    from lensan import landing
    from lensan_dev import generate

    _fresh_raw(lensan_home, empty_raw)
    _seed_if_needed()
    generate.generate(["93", "94"], WEEKS_2025, seed=2025, home=lensan_home)
    truth = json.loads((lensan_home / "generated" / "truth.json").read_text(encoding="utf-8"))
    landing.land_pending()
    _build()
    from lensan.transform import dbt
    # platform stocks never decrease, also across the reform ('all' below a platform fails the build itself)
    dbt.run_dbt(["test", "--select", "assert_stock_levels_never_decrease"])
    return truth


def _series(db, codes, map_version, scope_code):
    return {(r["period_key"], r["indicator_code"]): r for r in _rows(db, """
        select period_key, indicator_code, value_in_period, cumulative_value
        from marts.fct_indicator_values
        where period_type = 'week' and scope_level = 'province' and scope_code = %s and map_version = %s
          and platform = 'all' and indicator_code = any(%s)""", (scope_code, map_version, list(codes)))}


def test_new_boundaries_equal_old_provinces_before_the_reform(reform_2025, db):
    codes = DISJOINT_STOCKS + FLOWS + ("products_promoted", "domestic_markets")
    new = _series(db, codes, "post2025", "92")
    old = {p: _series(db, codes, "pre2025", p) for p in ("92", "93", "94")}
    assert new and old["93"] and old["94"]
    for week in ("2025-W25", "2025-W26"):
        for code in DISJOINT_STOCKS + FLOWS:
            for column in ("value_in_period", "cumulative_value"):
                total = sum((old[p].get((week, code)) or {}).get(column) or 0 for p in old)
                assert (new.get((week, code)) or {}).get(column, 0) == total, (week, code, column)
        # distinct things shared across provinces (product types, buyer provinces): between max and sum
        for code in ("products_promoted", "domestic_markets"):
            parts = [(old[p].get((week, code)) or {}).get("cumulative_value") or 0 for p in old]
            assert max(parts) <= new[(week, code)]["cumulative_value"] <= sum(parts), (week, code)
    assert new[("2025-W26", "hh_with_shop")]["cumulative_value"] > 0
    assert new[("2025-W26", "volume_sold_t")]["value_in_period"] > 0
    # the old provinces exist for pre-reform weeks only
    assert ("2025-W28", "hh_with_shop") not in old["93"] and ("2025-W28", "hh_with_shop") in new


def test_no_jump_at_the_reform_beyond_the_real_change(reform_2025, db):
    truth = reform_2025
    new = _series(db, DISJOINT_STOCKS + FLOWS, "post2025", "92")
    units = truth["units"].values()

    def truth_level(code, week):
        """Province 92 on today's boundaries from the generator's own population: pre-reform units keep
        their level after their last generated week, post-reform units add theirs."""
        total = 0
        for unit in units:
            weeks = [w for w in sorted(unit["weeks"]) if w <= week]
            if weeks:
                total += unit["weeks"][weeks[-1]]["indicators"].get(code, 0)
        return total

    for code in ("hh_with_shop", "products_branded", "inputs_listed"):
        previous = None
        for week in WEEKS_2025:
            row = new[(week, code)]
            level = row["cumulative_value"]
            assert level == truth_level(code, week), (code, week)
            if previous is not None:
                # the week's increase is exactly the real change, also across 1 July 2025 (W27)
                assert row["value_in_period"] == level - previous == truth_level(code, week) - truth_level(
                    code, WEEKS_2025[WEEKS_2025.index(week) - 1]), (code, week)
                assert level >= previous, (code, week)
            previous = level
    for code in FLOWS:   # year-to-date flows continue across the reform: YTD(W) = YTD(W-1) + week
        for before, week in zip(WEEKS_2025, WEEKS_2025[1:]):
            assert new[(week, code)]["cumulative_value"] == (
                new[(before, code)]["cumulative_value"] + new[(week, code)]["value_in_period"]), (code, week)
    # volume in the reform week on today's boundaries is at most the generator's sold tonnes
    sold = sum(u["weeks"].get("2025-W27", {}).get("indicators", {}).get("volume_sold_t", 0) for u in units)
    assert float(new[("2025-W27", "volume_sold_t")]["value_in_period"]) <= sold + 1e-6

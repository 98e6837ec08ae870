"""End to end: sample files → the REAL Airflow DAGs (`airflow dags test`, SQLite metadata) →
published weekly reports; then the same files delivered again and the whole pipeline run a second
time, which must change nothing (mart checksums, row counts, revisions).

Runs in the session's test LENSAN_HOME (conftest) against its embedded warehouse. Slow (several
minutes): `pytest -m "not e2e"` skips it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lensan import settings
from lensan_dev.golden import marts_checksums

from lensan.calendar import periods

pytestmark = pytest.mark.e2e

PROVINCES = ["22", "92"]               # post-reform Quảng Ninh and Cần Thơ
WEEKS = ["2026-W45", "2026-W46"]       # complete weeks, fixed so the test is reproducible
WEEK = WEEKS[-1]
SCOPES = ["province-22", "province-92", "nation-VN"]
SEED = 1034


def _run_all(week: str) -> tuple[list, dict]:
    from lensan_dev import airflow_harness
    from lensan.cli import run as cli

    results = cli.run_pipeline(week)
    states = {r.dag_id: airflow_harness.task_states(r.dag_id) for r in results}
    return results, states


def _raw_counts(conn) -> dict[str, int]:
    out = {}
    with conn.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = 'raw' order by 1")
        for (table,) in cur.fetchall():
            cur.execute(f'select count(*) from raw."{table}"')
            out[table] = cur.fetchone()[0]
        cur.execute("select status, count(*) from raw.landed_files group by 1")
        out.update({f"landed_files:{s}": n for s, n in cur.fetchall()})
    conn.commit()
    return out


def _latest_rev(scope_dir: Path) -> Path:
    revs = sorted(scope_dir.glob("rev-*"), key=lambda p: int(p.name.split("-")[1]))
    assert revs, f"no revision in {scope_dir}"
    return revs[-1]


@pytest.fixture(scope="module")
def first_run(warehouse, lensan_home, empty_raw):
    from lensan.cli import run as cli
    from lensan.db import warehouse as wh
    from lensan_dev.generate import generate
    from lensan.landing import ensure_raw_schema

    conn = wh.connect()   # only this module's files in raw: the nation is Quảng Ninh + Cần Thơ
    try:
        ensure_raw_schema(conn)
        with conn.cursor() as cur:
            empty_raw(cur)
        conn.commit()
    finally:
        conn.close()
    generate(PROVINCES, WEEKS, seed=SEED)
    cli.prepare_runtime()
    results, states = _run_all(WEEK)
    return {"results": results, "states": states}


@pytest.fixture(scope="module")
def truth(first_run, lensan_home) -> dict:
    return json.loads((lensan_home / "generated" / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def second_run(first_run, warehouse, lensan_home):
    """Deliver the very same files again (same seed → same bytes) and run the three DAGs again."""
    from lensan.db import warehouse as wh
    from lensan_dev.generate import generate

    conn = wh.connect()
    try:
        before = {"marts": marts_checksums(conn), "raw": _raw_counts(conn)}
    finally:
        conn.close()
    generate(PROVINCES, WEEKS, seed=SEED)
    results, states = _run_all(WEEK)
    conn = wh.connect()
    try:
        after = {"marts": marts_checksums(conn), "raw": _raw_counts(conn)}
    finally:
        conn.close()
    return {"before": before, "after": after, "results": results, "states": states}


def _published_rows(lensan_home: Path, scope: str) -> dict[str, dict]:
    rev = _latest_rev(lensan_home / "exports" / "week" / WEEK / scope)
    json_file = next(p for p in rev.glob("*.json") if p.name != "manifest.json")
    data = json.loads(json_file.read_text(encoding="utf-8"))
    assert data["period_key"] == WEEK
    return {row["indicator_code"]: row for row in data["rows"]}


# --- first run --------------------------------------------------------------------------------

def test_every_dag_run_succeeded(first_run):
    for result in first_run["results"]:
        assert result.ok, f"{result.dag_id} failed:\n{result.tail()}"
    for dag_id, states in first_run["states"].items():
        assert states and all(s == "success" for s in states.values()), (dag_id, states)
    # the transform really ran one task per dbt model
    transform = first_run["states"]["lensan_transform"]
    assert sum(1 for t in transform if t.startswith("dbt.") and t.endswith("run")) >= 10


@pytest.mark.parametrize("scope", SCOPES)
def test_exports_and_manifest_per_scope(first_run, lensan_home, scope):
    rev = _latest_rev(lensan_home / "exports" / "week" / WEEK / scope)
    suffixes = {p.suffix for p in rev.iterdir() if p.name != "manifest.json"}
    assert {".xlsx", ".csv", ".json"} <= suffixes, (scope, sorted(p.name for p in rev.iterdir()))
    manifest = json.loads((rev / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["period_key"] == WEEK and manifest["scope_key"] == scope
    assert manifest["gate"]["status"] in ("passed", "warning")
    assert manifest["source_files"], "the manifest lists the landed files it was built from"
    for entry in manifest["files"]:
        digest = hashlib.sha256((rev / entry["name"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], entry["name"]
    csv_bytes = next(rev.glob("*.csv")).read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbf"), "CSV must be UTF-8 with BOM"


def test_published_json_equals_the_mart(first_run, lensan_home, db):
    rows = _published_rows(lensan_home, "province-22")
    with db.cursor() as cur:
        cur.execute("select indicator_code, value_in_week, cumulative_value from marts.rpt_weekly_report "
                    "where week_key = %s and scope_level = 'province' and scope_code = '22'", (WEEK,))
        mart = {code: (vw, cv) for code, vw, cv in cur.fetchall()}
    assert set(mart) == set(rows)
    for code, (value_in_week, cumulative) in mart.items():
        for published, expected in ((rows[code]["value_in_week"], value_in_week),
                                    (rows[code]["cumulative_value"], cumulative)):
            if expected is None:
                assert published is None, code
            else:
                assert published == pytest.approx(float(expected), rel=1e-6, abs=1e-6), code


def _truth_sum(truth: dict, province: str, week: str, code: str) -> float:
    total = 0.0
    for unit in truth["units"].values():
        if unit["province_code"] == province and week in unit["weeks"]:
            total += unit["weeks"][week]["indicators"].get(code) or 0
    return total


def test_household_count_equals_raw_register_and_truth(first_run, truth, lensan_home, db):
    """II.1 hh_trained_digital for Quảng Ninh = agricultural households (hộ SXNN) of the province's
    latest register snapshots trained by the end of the week — counted from raw, and from the
    generator's ground truth."""
    _, week_end = periods.week_bounds(WEEK)
    with db.cursor() as cur:
        cur.execute(
            """
            with latest as (
                select distinct on (lf.unit_code) lf.file_id
                from raw.landed_files lf
                where lf.source = 'household_register' and lf.status = 'loaded'
                  and lf.unit_code in (select unit_code from marts.dim_admin_unit
                                       where map_version = 'post2025' and province_code = '22'
                                         and is_reporting_unit)
                order by lf.unit_code, lf.file_date desc, lf.file_id desc
            )
            select count(distinct h.household_code)
            from raw.household_register h join latest using (file_id)
            where h.household_type = 'Hộ SXNN' and h.trained_digital_on <= %s
            """, (week_end,))
        from_raw = cur.fetchone()[0]
    expected_truth = _truth_sum(truth, "22", WEEK, "hh_trained_digital")
    assert from_raw == expected_truth, "raw register and generator truth disagree"
    published = _published_rows(lensan_home, "province-22")["hh_trained_digital"]["cumulative_value"]
    assert published == from_raw, f"published {published}, counted from raw {from_raw}"


@pytest.mark.parametrize("code", ["hh_with_shop", "inputs_listed"])
def test_platform_stock_equals_truth(first_run, truth, lensan_home, code):
    """Stocks from the platforms: households / input products counted once (both platforms) at the
    week's end."""
    published = _published_rows(lensan_home, "province-22")[code]["cumulative_value"]
    assert published == _truth_sum(truth, "22", WEEK, code)


def test_volume_sold_in_week_equals_truth(first_run, truth, lensan_home):
    published = _published_rows(lensan_home, "province-22")["volume_sold_t"]["value_in_week"]
    assert published == pytest.approx(_truth_sum(truth, "22", WEEK, "volume_sold_t"), abs=1e-3)


def test_nation_includes_both_provinces(first_run, lensan_home):
    """A flow adds up: the nation's tonnes sold in the week = Quảng Ninh's + Cần Thơ's."""
    p22 = _published_rows(lensan_home, "province-22")["volume_sold_t"]["value_in_week"]
    p92 = _published_rows(lensan_home, "province-92")["volume_sold_t"]["value_in_week"]
    nation = _published_rows(lensan_home, "nation-VN")["volume_sold_t"]["value_in_week"]
    assert nation == pytest.approx(p22 + p92, abs=1e-3)


# --- second run: idempotent -------------------------------------------------------------------

def test_second_run_succeeds(second_run):
    for result in second_run["results"]:
        assert result.ok, f"{result.dag_id} failed on the second run:\n{result.tail()}"
    # nothing new landed: the raw asset is not updated (announce_raw skipped)
    assert second_run["states"]["lensan_ingest"]["announce_raw"] == "skipped"


def test_second_run_changes_no_mart_value(second_run):
    before, after = second_run["before"]["marts"], second_run["after"]["marts"]
    assert set(before) == set(after)
    changed = {t for t in before if before[t] != after[t]}
    assert not changed, f"marts changed on an identical second run: {sorted(changed)}"


def test_second_run_lands_no_duplicates(second_run):
    assert second_run["after"]["raw"] == second_run["before"]["raw"]


def test_no_duplicate_keys_in_marts(second_run, db):
    with db.cursor() as cur:
        cur.execute("""select count(*) from (select 1 from marts.fct_indicator_values
                       group by period_type, period_key, scope_level, scope_code, map_version, platform,
                                indicator_code having count(*) > 1) d""")
        assert cur.fetchone()[0] == 0
        cur.execute("""select count(*) from (select 1 from marts.rpt_weekly_report
                       group by week_key, scope_level, scope_code, indicator_code having count(*) > 1) d""")
        assert cur.fetchone()[0] == 0


def test_second_publication_is_not_a_new_revision(second_run, lensan_home):
    for scope in SCOPES:
        revs = list((lensan_home / "exports" / "week" / WEEK / scope).glob("rev-*"))
        assert [p.name for p in revs] == ["rev-1"], (scope, revs)


def test_status_shows_publication_and_gates(first_run):
    from lensan.cli import status as cli

    report = cli.status_report()
    assert any(r["period"] == f"week {WEEK}" and r["max_revision"] >= 1 for r in report["publications"])
    assert {"staging_checkpoint", "marts_checkpoint"} <= {r["checkpoint"] for r in report["gate_results"]}
    assert {r["source"] for r in report["landed"]} == set(settings.SOURCES)
    assert report["data_docs"] and Path(report["data_docs"]).exists()

"""Quality gates and the completeness report, end to end on generated data (issue #4 must-shows):

1. one generated week with a seeded impossible value in ONE province (a weekly form claiming more
   households with a shop than the unit has agricultural households): the marts gate blocks that
   province only, the publication leaves its files out and says why; every other province, its
   region and the nation are published (the region and the nation flagged);
2. with missing_units=2 and late_units=1 the completeness mart and the published annex list
   exactly those units (the generator's truth.json `forms`).

Runs in a database and a LENSAN_HOME of its own (the session's embedded server), so it never mixes
with the other modules' marts. Slow-ish: generate + land + dbt seed/build (~1–3 minutes).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lensan.db.warehouse import scratch_database

pytestmark = pytest.mark.integration

PROVINCES = ["12", "46"]            # Lai Châu (Bắc) and Huế (Trung), post-reform map: small provinces
WEEKS = ["2026-W46", "2026-W47"]
WEEK = WEEKS[-1]
SEED = 4104
DAMAGED_PROVINCE = "46"
TEST_DB = "lensan_quality_test"
IMPOSSIBLE = 999_999                # households with a shop claimed by one unit's form


def _damage_form(path: Path) -> None:
    """Type an impossible cumulative 'households with a shop' (II.3, column F) into a form, keep its mtime."""
    import openpyxl

    stat = path.stat()
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    section = None
    for r in range(1, ws.max_row + 1):
        tt = ws.cell(row=r, column=1).value
        if isinstance(tt, str) and tt.strip() in ("I", "II", "III", "IV"):
            section = tt.strip()
        elif section == "II" and tt is not None and str(tt).strip() == "3":
            ws.cell(row=r, column=6).value = IMPOSSIBLE
            break
    else:
        raise AssertionError("row II.3 not found")
    wb.save(path)
    os.utime(path, (stat.st_atime, stat.st_mtime))


@pytest.fixture(scope="module")
def pipeline(warehouse, tmp_path_factory):
    """Generate, damage one form of province 46, land, dbt seed + build; yields (home, truth, damaged unit)."""
    home = tmp_path_factory.mktemp("quality_home")
    with scratch_database(TEST_DB, warehouse) as info, pytest.MonkeyPatch.context() as mp:
        mp.setenv("LENSAN_WAREHOUSE_URL", info.url)
        mp.setenv("LENSAN_HOME", str(home))
        from lensan import landing
        from lensan.transform import dbt
        from lensan_dev import generate

        generate.generate(PROVINCES, WEEKS, seed=SEED, home=home, late_units=1, missing_units=2)
        truth = json.loads((home / "generated" / "truth.json").read_text(encoding="utf-8"))
        forms = truth["forms"]
        candidates = sorted(
            (f for f in forms.values()
             if f["week"] == WEEK and not f["late"] and not f["missing"] and len(f["files"]) == 1
             and truth["units"][f["unit"]]["province_code"] == DAMAGED_PROVINCE),
            key=lambda f: f["unit"])
        damaged = candidates[0]
        _damage_form(home / "landing" / "weekly_form" / damaged["files"][0]["name"])

        summary = landing.land_pending()
        assert not summary.quarantined, summary.quarantined   # the impossible value is a valid number
        dbt.run_dbt(["seed"])
        dbt.run_dbt(["build", "--exclude", "resource_type:seed"])
        yield {"home": home, "truth": truth, "damaged_unit": damaged["unit"].split(":")[1]}


@pytest.fixture(scope="module")
def gate_result(pipeline):
    from lensan.quality import checkpoints, summary

    with pytest.raises(summary.GateFailed) as caught:
        checkpoints.run_checkpoint("marts", {"week_key": WEEK})
    return caught.value


@pytest.fixture(scope="module")
def published(pipeline, gate_result):
    from lensan.publish import service as publish

    return publish.publish_weekly(WEEK, gate_summary=gate_result.summary, blocked_scopes=gate_result.blocked_scopes)


def _query(sql: str, params=None) -> list[tuple]:
    from lensan.db import warehouse

    conn = warehouse.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def _latest_json(home: Path, scope: str) -> dict:
    revs = sorted((home / "exports" / "week" / WEEK / scope).glob("rev-*"), key=lambda p: int(p.name[4:]))
    path = next(p for p in revs[-1].glob("*.json") if p.name != "manifest.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _truth_units(truth: dict, kind: str) -> set[str]:
    return {f["unit"].split(":")[1] for f in truth["forms"].values() if f["week"] == WEEK and f[kind]}


# ------------------------------------------------------------------------------------------------ must-show 1


def test_the_impossible_value_reaches_the_quality_mart_attributed_to_its_province(pipeline):
    rows = _query("select scope_key, subject_code, observed_value, limit_value from marts.fct_quality_checks"
                  " where week_key = %s and rule_code = 'reported_households_le_agri_households'"
                  " and is_violation = 1", (WEEK,))
    assert [(r[0], r[1], int(r[2])) for r in rows] == [(f"province-{DAMAGED_PROVINCE}", pipeline["damaged_unit"],
                                                        IMPOSSIBLE)]
    assert rows[0][3] < IMPOSSIBLE
    errors = _query("select scope_key, rule_code from marts.fct_quality_checks where week_key = %s"
                    " and severity = 'error' and is_violation = 1", (WEEK,))
    assert {r[0] for r in errors} == {f"province-{DAMAGED_PROVINCE}"}


def test_the_marts_gate_blocks_only_that_province(gate_result):
    summary = gate_result.summary
    assert set(gate_result.blocked_scopes) == {f"province-{DAMAGED_PROVINCE}"}
    assert summary["blocks_all"] is False
    reason = gate_result.blocked_scopes[f"province-{DAMAGED_PROVINCE}"]
    assert "reported_households_le_agri_households" in reason and "số hộ" in reason
    # the region (Trung) and the nation still publish, with a flag naming the blocked province
    assert set(summary["flagged_scopes"]) == {"region-trung", "nation-VN"}
    assert all(f"province-{DAMAGED_PROVINCE}" in text for text in summary["flagged_scopes"].values())
    assert "KHÔNG ĐẠT" in str(gate_result) and "FAILED" in str(gate_result)


def test_publication_leaves_out_the_blocked_province_and_says_why(pipeline, published):
    home = pipeline["home"]
    week_dir = home / "exports" / "week" / WEEK
    blocked = f"province-{DAMAGED_PROVINCE}"
    assert set(published.blocked) == {blocked}
    assert not (week_dir / blocked).exists()
    written = {p["scope_key"] for p in published.published + published.unchanged}
    assert {"province-12", "region-bac", "region-trung", "nation-VN"} <= written
    assert blocked not in written
    for scope in ("province-12", "region-trung", "nation-VN"):
        rev = next((week_dir / scope).glob("rev-*"))
        assert len(list(rev.glob("bao_cao_tuan_*"))) == 3      # xlsx, csv, json
    index = json.loads((week_dir / "index.json").read_text(encoding="utf-8"))
    entry = next(s for s in index["scopes"] if s["scope_key"] == blocked)
    assert entry["status"] == "blocked" and "reported_households_le_agri_households" in entry["reason"]
    # the nation's report carries the flag naming the blocked province, on its first row
    nation = _latest_json(home, "nation-VN")
    first = next(r for r in nation["rows"] if r["indicator_code"] == "ocop_listed")
    assert any(blocked in f for f in first["quality_flags"])
    manifest = json.loads(next((week_dir / "nation-VN").glob("rev-*/manifest.json")).read_text(encoding="utf-8"))
    assert manifest["gate"]["blocked_scopes"].keys() == {blocked}


# ------------------------------------------------------------------------------------------------ must-show 2


def test_completeness_mart_lists_exactly_the_missing_and_late_units(pipeline):
    truth = pipeline["truth"]
    missing, late = _truth_units(truth, "missing"), _truth_units(truth, "late")
    assert len(missing) == 2 and len(late) == 1
    rows = _query("select unit_code, reporting_status from marts.fct_reporting_completeness"
                  " where week_key = %s and current_province_code = any(%s)", (WEEK, PROVINCES))
    assert {u for u, s in rows if s == "missing"} == missing
    assert {u for u, s in rows if s == "late"} == late
    expected_units = sum(1 for f in truth["forms"].values() if f["week"] == WEEK)
    assert len(rows) == expected_units
    # rates per province / nation (the nation expects every unit of the map)
    nation = _query("select expected_units, received_units, late_units, missing_units from"
                    " marts.rpt_reporting_completeness where week_key = %s and scope_key = 'nation-VN'", (WEEK,))[0]
    assert nation[1] == expected_units - 2 and nation[2] == 1 and nation[0] == 3321
    provinces = _query("select sum(missing_units), sum(late_units) from marts.rpt_reporting_completeness"
                       " where week_key = %s and scope_level = 'province' and scope_code = any(%s)", (WEEK, PROVINCES))
    assert provinces[0] == (2, 1)


def test_the_published_annex_lists_exactly_those_units(pipeline, published):
    truth = pipeline["truth"]
    missing, late = _truth_units(truth, "missing"), _truth_units(truth, "late")
    nation = _latest_json(pipeline["home"], "nation-VN")["completeness"]
    assert {u["unit_code"] for u in nation["missing_units"]} == missing
    assert {u["unit_code"] for u in nation["late_units"]} == late
    assert all(u["unit_name"] for u in nation["missing_units"] + nation["late_units"])
    assert nation["late"] == 1 and len(nation["silent_provinces"]) == 32
    by_province = {p: _truth_units(truth, "missing") & {
        f["unit"].split(":")[1] for f in truth["forms"].values()
        if truth["units"][f["unit"]]["province_code"] == p} for p in PROVINCES}
    annex = _latest_json(pipeline["home"], "province-12")["completeness"]
    assert {u["unit_code"] for u in annex["missing_units"]} == by_province["12"]
    assert annex["missing"] == len(by_province["12"])
    # the XLSX annex names them too
    from openpyxl import load_workbook

    week_dir = pipeline["home"] / "exports" / "week" / WEEK
    ws = load_workbook(next((week_dir / "nation-VN").glob("rev-*/*.xlsx"))).active
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for unit in missing | late:
        assert unit in text
    # and the report's first row carries the Vietnamese completeness flags
    first = next(r for r in _latest_json(pipeline["home"], "region-bac")["rows"] if r["indicator_code"] == "ocop_listed")
    assert any("đơn vị chưa gửi báo cáo" in f for f in first["quality_flags"]) or not by_province["12"]


# ------------------------------------------------------------------------------------------------ other rules


def test_plausibility_and_reconciliation_marts(pipeline):
    rows = _query("select count(*), count(*) filter (where score_method = 'insufficient_history')"
                  " from marts.fct_plausibility where week_key = %s", (WEEK,))[0]
    assert rows[0] > 0 and rows[0] == rows[1]   # two weeks of data: no history to score against yet
    recon = _query("select reported_value, computed_value, is_divergent from marts.fct_reconciliation"
                   " where week_key = %s and unit_code = %s and indicator_code = 'hh_with_shop'",
                   (WEEK, pipeline["damaged_unit"]))
    assert recon and int(recon[0][0]) == IMPOSSIBLE and recon[0][2] is True
    flags = _query("select quality_flags from marts.rpt_weekly_report where week_key = %s"
                   " and scope_level = 'province' and scope_code = %s and indicator_code = 'hh_with_shop'",
                   (WEEK, DAMAGED_PROVINCE))[0][0]
    assert any(f.startswith("Chênh lệch") and "so với dữ liệu sàn" in f for f in json.loads(flags))


def test_plausibility_unit_test_is_part_of_the_build(pipeline):
    """dbt unit test plausibility_mad_score (models/marts/quality/_quality__models.yml) ran in the build."""
    home = pipeline["home"]
    results = next(home.rglob("run_results.json"))
    data = json.loads(results.read_text(encoding="utf-8"))
    unit_tests = {r["unique_id"].split(".")[-1]: r["status"] for r in data["results"]
                  if r["unique_id"].startswith("unit_test.")}
    assert unit_tests.get("plausibility_mad_score") == "pass"

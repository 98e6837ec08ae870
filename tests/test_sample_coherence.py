"""The demo's sample is coherent (issue #19, item 3), on the demo's own data built by the real dbt:

1. the reconciliation warnings of the published week are exactly the divergences the generator
   planted (generated/planted_divergences.json): its other forms agree with its platform data;
2. the demo provinces' attainment is plausible: in [0, 200] % unless flagged, and for the household,
   product and market indicators mid-way through the year (20–120 %), since the sample bases and
   targets are derived from the same population (lensan_dev.generate.bases).

Runs in a database and a LENSAN_HOME of its own (the session's embedded server). Slow-ish: generate
+ land + dbt seed/build of two provinces over four weeks (~2 minutes).
"""

from __future__ import annotations

import pytest

from lensan.db.warehouse import scratch_database

from fixtures.sql import rows as _rows

pytestmark = pytest.mark.integration

PROVINCES = ["22", "92"]                                         # the demo's provinces
WEEKS = ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]         # four complete weeks, as `lensan demo`
WEEK = WEEKS[-1]
SEED = 1034
TEST_DB = "lensan_sample_test"


@pytest.fixture(scope="module")
def pipeline(warehouse, tmp_path_factory):
    """Generate, land, dbt seed + build once for the module; yields the home. While it lives the
    warehouse URL is the module's database, so the session's `db` fixture connects there."""
    home = tmp_path_factory.mktemp("sample_home")
    with scratch_database(TEST_DB, warehouse) as info, pytest.MonkeyPatch.context() as mp:
        mp.setenv("LENSAN_WAREHOUSE_URL", info.url)
        mp.setenv("LENSAN_HOME", str(home))
        from lensan import landing
        from lensan.transform import dbt
        from lensan_dev import generate

        generate.generate(PROVINCES, WEEKS, seed=SEED, home=home)
        summary = landing.land_pending()
        assert not summary.quarantined, summary.quarantined
        dbt.run_dbt(["seed"])
        dbt.run_dbt(["build", "--exclude", "resource_type:seed"])
        yield home


def test_reconciliation_flags_exactly_the_planted_units(pipeline, db):
    from lensan_dev.generate import planted

    plants = planted.load(pipeline)
    kinds = {p["kind"] for p in plants}
    assert len(plants) >= 3 and "none_on_platforms" in kinds and "large" in kinds
    raised = planted.raised_divergences(WEEK)
    result = planted.compare(plants, raised, WEEK)
    assert result["match"], result
    assert result["planted"] == result["raised"] == len(plants)
    # the unit reporting foreign markets where the platforms show none is among them, as such
    none = next(p for p in plants if p["kind"] == "none_on_platforms")
    rows = _rows(db, "select reported_value, coalesce(computed_value, 0) from marts.fct_reconciliation"
                     " where week_key = %s and unit_code = %s and indicator_code = %s and is_divergent",
                 (WEEK, none["unit_code"], none["indicator"]))
    assert [(int(r[0]), int(r[1])) for r in rows] == [(none["reported"], 0)]


def test_published_warnings_of_divergence_only_where_planted(pipeline, db):
    """The report's reconciliation flags ('Chênh lệch … so với dữ liệu sàn', 'Báo cáo 5 nhưng dữ liệu sàn
    ghi nhận 0') sit on the planted indicators of the planted units' provinces, nowhere else."""
    import json

    from lensan_dev.generate import planted

    expected = {(p["province_code"], p["indicator"]) for p in planted.load(pipeline) if p["week"] == WEEK}
    rows = _rows(db, "select scope_code, indicator_code, quality_flags from marts.rpt_weekly_report"
                     " where week_key = %s and scope_level = 'province' and quality_flags is not null", (WEEK,))
    flagged = {(r[0], r[1]) for r in rows if any(f.startswith(("Chênh lệch", "Báo cáo ")) for f in json.loads(r[2]))}
    assert flagged == expected


def test_demo_provinces_attainment_is_plausible(pipeline, db):
    rows = _rows(db, "select scope_code, indicator_code, target_attainment_pct, attainment_flag"
                     " from marts.fct_indicator_values where period_type = 'week' and period_key = %s"
                     " and scope_level = 'province' and scope_code = any(%s) and platform = 'all'"
                     " and target_attainment_pct is not null", (WEEK, PROVINCES))
    assert {r[0] for r in rows} == set(PROVINCES)
    assert len({r[1] for r in rows}) >= 14        # every weekly-form indicator with a target
    for province, code, pct, flag in rows:
        assert 0 <= pct <= 200 or flag is not None, (province, code, pct)
        # a programme in mid-year: neither nothing done nor the year's target long passed
        assert 20 <= pct <= 120, (province, code, pct)

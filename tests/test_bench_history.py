"""lensan_dev.bench.history and .bi end to end at a tiny scale (one province of the national generator,
one week of history): the shape of every figure, and the five dashboard queries return rows as bi_reader.
No timing asserts: the 1-vs-26-week ratio and the latencies are measured by `bench/run --history 26 --bi`."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from lensan_dev.bench import bi, history


@pytest.mark.unit
def test_percentile_and_parameters():
    assert bi.percentile([float(v) for v in range(1, 21)], 95) == 19.0
    assert bi.percentile([5.0], 95) == 5.0
    weeks = [f"2026-W{n:02d}" for n in range(1, 31)]
    choices = {"weeks": weeks, "months": ["2026-01"], "provinces": ["01", "12"]}
    draws = [bi.parameters(choices, random.Random(s)) for s in range(30)]
    for p in draws:
        span = weeks.index(p["week"]) - weeks.index(p["first_week"]) + 1
        assert span == min(bi.TREND_WEEKS, weeks.index(p["week"]) + 1)
        assert p["indicator"] in bi.INDICATORS and p["province"] in choices["provinces"]
    assert len({p["week"] for p in draws}) > 1, "the parameters vary between runs"


@pytest.mark.unit
def test_compared_figure_shape():
    from lensan_dev.bench.incremental import compared

    assert compared(1.2, 1.3, unit="×") == {"value": 1.2, "target": "≤ 1.3", "met": True, "unit": "×"}
    assert compared(140.0, 100.0)["met"] is False
    assert compared(None, 1.3)["met"] is False
    assert compared(0.8, 0.7, at_most=False)["target"] == "≥ 0.7"


@pytest.mark.integration
def test_tiny_history_then_bi_queries(tmp_path):
    result = history.measure_history(history=1, scale=0.05, provinces=["12"], home=tmp_path / "hist", timeout=600)
    assert result["measured"] is True, result.get("reason")
    case = result["cases"]["1"]
    for key in ("generate_s", "history_land_s", "full_build_s", "land_s", "incremental_build_s"):
        assert isinstance(case[key], float) and math.isfinite(case[key]) and case[key] > 0, key
    assert case["orders_generated"] > 0 and case["new_week_rows"] > 0
    nodes = {n["node"] for n in case["slowest_nodes"]}   # every node of the incremental build, timed
    assert "fct_indicator_values" in nodes
    assert set(result["ratio"]) >= {"value", "target", "met"} and result["ratio"]["target"] == "≤ 1.3"
    sizes = result["table_sizes"]["1"]
    assert any(name.startswith("marts.") for name in sizes)
    assert all(name.split(".")[0] in ("raw", "intermediate", "marts") for name in sizes)
    for s in sizes.values():
        assert s["rows_per_week"] == round(s["rows"] / 2)   # 1 week of history + the new week
    # the weekly DAG's revision passes over the published history week (lensan_dev.bench.revise)
    revised = result["revise"]
    assert revised["publish_history"]["weeks"] == 1 and not revised["publish_history"]["stopped"]
    first = revised["first_pass"]
    assert first["revised"] == 1 and first["everything"], "no watermark yet: every published week"
    assert revised["after_new_week"]["everything"] is None, "the watermark of the first pass is used"
    assert revised["rerun"]["revised"] == 0 and revised["rerun"]["new_revisions"] == 0
    assert [c["measure"] for c in result["checks"]][1].startswith("weeks revised after a new week")
    assert any("national history" in line for line in history.render(result))
    assert any("first pass, no watermark" in line for line in history.render(result))
    home = Path(result["home"])
    assert home == (tmp_path / "hist" / "h1").resolve() and (home / "warehouse").exists()

    measured = bi.measure_bi(home, runs=3, warmups=1, timeout=300)
    assert measured["measured"] is True, measured.get("reason")
    assert measured["role"] == "bi_reader"
    assert set(measured["queries"]) == set(bi.QUERIES)
    for name, q in measured["queries"].items():
        assert q["min_rows"] > 0, name
        assert q["p50_ms"] > 0 and set(q["p95_ms"]) >= {"value", "target", "met"}, name
        assert q["p95_ms"]["target"] == "≤ 100"
    assert measured["met"] == all(q["p95_ms"]["met"] for q in measured["queries"].values())
    assert any("BI latency" in line for line in bi.render(measured))


@pytest.mark.unit
def test_national_weeks_share_one_population(tmp_path):
    """generate_national over consecutive weeks: the forms of every week, 7 daily extracts per week and
    entity, one register per unit listing one population, scale orders a week."""
    from lensan import reference
    from lensan_dev.generate.scale import generate_national

    weeks = ["2026-W08", "2026-W09", "2026-W10"]
    one = generate_national(0.05, weeks[-1], seed=7, home=tmp_path / "one", provinces=["12"])
    many = generate_national(0.05, weeks, seed=7, home=tmp_path / "many", provinces=["12"])
    units = len(reference.reporting_units("post2025", ["12"]))
    forms = [p.name for p in many.paths if p.parent.name == "weekly_form"]
    for week in weeks:
        assert sum(f"_{week}" in name for name in forms) >= units, week
    assert many.files_by_source["household_register"] == units
    assert many.files_by_source["postmart"] == 3 * one.files_by_source["postmart"]
    # one population over the three weeks: the registers list the same households as for one week
    assert many.rows_by_entity["household_register"] == one.rows_by_entity["household_register"]
    orders = many.rows_by_entity["postmart_don_hang"] + many.rows_by_entity["voso_orders"]
    assert 0.5 * 3 * 0.05e6 * units / 3321 < orders < 2 * 3 * 0.05e6 * units / 3321   # scale orders per week

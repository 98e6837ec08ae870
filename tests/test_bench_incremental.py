"""lensan_dev.bench.incremental end to end at a tiny scale: one history length, every figure reported
(no timing asserts: the 1-vs-26-week ratio is measured by `python -m lensan_dev.bench.incremental`)."""

from __future__ import annotations

import math

import pytest

from lensan_dev.bench import incremental as bench_incremental


@pytest.mark.unit
def test_history_weeks_and_file_split():
    assert bench_incremental.history_weeks("2026-W10", 2) == ["2026-W08", "2026-W09", "2026-W10"]
    new = bench_incremental.is_new_week_file
    assert new("postmart", "postmart_don_hang_20260302.csv", "2026-W10")          # Monday of W10
    assert not new("postmart", "postmart_don_hang_20260301.csv", "2026-W10")      # Sunday of W09
    assert new("voso", "voso_orders_2026-03-08.jsonl.gz", "2026-W10")
    assert new("weekly_form", "bao_cao_tuan_07090_2026-W10_2.xlsx", "2026-W10")
    assert not new("weekly_form", "bao_cao_tuan_07090_2026-W09.xlsx", "2026-W10")
    assert not new("household_register", "danh_sach_ho_07090_20260308.csv", "2026-W10")


@pytest.mark.integration
def test_tiny_measurement(tmp_path):
    result = bench_incremental.measure(history=(1,), provinces=["12"], orders_per_unit_week=2,
                                       home=tmp_path / "inc", timeout=600)
    assert result["measured"] is True
    case = result["cases"]["1"]
    for key in ("full_build_s", "land_s", "incremental_build_s"):
        assert isinstance(case[key], float) and math.isfinite(case[key]) and case[key] > 0, key
    assert case["history_rows"] > 0 and case["new_week_rows"] > 0
    assert case["incremental_checksums"]["fct_indicator_values"]["rows"] > 0
    flat = bench_incremental.flat_figures(result)
    assert flat["h1_incremental_build_s"] == case["incremental_build_s"]
    assert any("incremental dbt build" in line for line in bench_incremental.render(result))

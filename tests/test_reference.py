"""Reference data: both administrative maps, the derived crosswalk, regions, indicators, targets."""

from __future__ import annotations

import collections
import csv
import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

from lensan import reference
from lensan.settings import PROJECT_ROOT, SEEDS_DIR

pytestmark = pytest.mark.unit


def read(name):
    with (SEEDS_DIR / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_both_maps_have_the_official_counts():
    provinces = collections.Counter(r["map_version"] for r in read("ref_provinces.csv"))
    assert provinces == {"pre2025": 63, "post2025": 34}
    assert len(reference.reporting_units("post2025")) == 3321
    districts = reference.reporting_units("pre2025")
    assert 690 <= len(districts) <= 720
    assert all(u.level == "district" and len(u.code) == 3 for u in districts)


def test_every_old_province_merges_into_exactly_one_new_province():
    crosswalk = read("ref_province_crosswalk.csv")
    assert len(crosswalk) == 63
    assert len({r["old_province_code"] for r in crosswalk}) == 63
    assert len({r["new_province_code"] for r in crosswalk}) == 34
    walk = reference.province_crosswalk()
    # Known mergers of Resolution 202/2025/QH15: Hậu Giang and Sóc Trăng into Cần Thơ,
    # Hà Giang into Tuyên Quang, Quảng Ninh unchanged.
    assert walk["93"] == walk["94"] == walk["92"] == "92"
    assert walk["02"] == "08"
    assert walk["22"] == "22"


def test_regions_cover_every_province_and_follow_the_map():
    rows = read("ref_provinces.csv")
    assert {r["region_name"] for r in rows} == {"Miền Bắc", "Miền Trung", "Miền Nam"}
    by_key = {(r["map_version"], r["province_code"]): r["region_code"] for r in rows}
    assert by_key[("post2025", "01")] == "bac"  # Hà Nội
    assert by_key[("post2025", "48")] == "trung"  # Đà Nẵng
    assert by_key[("post2025", "79")] == "nam"  # TP. Hồ Chí Minh
    # A merged province lies in the region of every one of its members.
    walk = reference.province_crosswalk()
    for old, new in walk.items():
        assert by_key[("pre2025", old)] == by_key[("post2025", new)], old


def test_indicator_catalogue_matches_domain():
    indicators = reference.indicators()
    assert len(indicators) == 24
    assert len(reference.weekly_form_indicators()) == 17
    kinds = collections.Counter(i.kind for i in indicators)
    assert kinds["flow"] == 3 and kinds["distinct_in_period"] == 1 and kinds["ratio"] == 3
    by_code = {i.code: i for i in indicators}
    assert by_code["volume_sold_t"].unit_vi == "Tấn"
    assert (by_code["hh_with_shop"].section, by_code["hh_with_shop"].tt) == ("II", "3")


def test_real_targets_are_seeded_and_not_marked_sample():
    rows = read("ref_targets.csv")
    real = {(r["province_code"], r["indicator_code"], r["target_year"]): r for r in rows if r["is_sample"] == "false"}
    assert real[("93", "hh_trained_digital", "2022")]["target_value"] == "70"
    assert real[("93", "domestic_markets", "2023")]["target_type"] == "absolute"
    assert real[("22", "ocop_listed", "2021")]["target_value"] == "100"
    assert real[("00", "active_accounts", "2022")]["target_value"] == "10000000"
    sample = [r for r in rows if r["is_sample"] == "true"]
    assert sample and all("mẫu" in r["source_document"] for r in sample)


@pytest.mark.skipif(not (Path(sys.prefix) / "bin" / "pip").exists(), reason="needs pip to fetch the wheels")
def test_script_reproduces_the_committed_seeds(tmp_path):
    """The committed seeds are exactly what the script makes from the two wheels."""
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "build_reference_data.py"),
                             "--out", str(tmp_path)], capture_output=True, text=True)
    if result.returncode != 0 and "Could not" in result.stderr:
        pytest.skip(f"PyPI not reachable: {result.stderr[-200:]}")
    assert result.returncode == 0, result.stderr
    for name in ("ref_provinces.csv", "ref_admin_units.csv", "ref_province_crosswalk.csv", "ref_bases.csv",
                 "ref_targets.csv"):
        assert filecmp.cmp(tmp_path / name, SEEDS_DIR / name, shallow=False), name

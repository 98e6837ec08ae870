#!/usr/bin/env python3
"""Generate lensan's reference seeds from the `vietnam-provinces` wheels.

    python scripts/build_reference_data.py [--old WHEEL_0.6.0] [--new WHEEL_2025.10.1]

Without wheel paths it fetches both with `pip download` (they cannot be installed side by side).
Writes into dbt_project/seeds/:

* ref_provinces.csv         — 63 pre-reform and 34 post-reform provinces, with region (Bắc/Trung/Nam)
* ref_admin_units.csv       — districts and communes of both maps, which of them report weekly
* ref_province_crosswalk.csv — every old province → the one new province it merged into, derived
                               from the data: post-reform communes keep the GSO code of one of the
                               communes merged into them, so the old province of that code tells us
* ref_bases.csv, ref_targets.csv — the real figures of DOMAIN.md §4 (Hậu Giang 211/KH-UBND,
                               Quảng Ninh 201/KH-UBND, Decision 350/QĐ-BTTTT) plus deterministic
                               sample figures for every other province, flagged is_sample = true,
                               whose values are then derived from the generator's population
                               (lensan_dev.generate.bases, the last step)

The output is committed; rerunning the script must reproduce it byte for byte.
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"  # --out overrides
REFORM_DATE = "2025-07-01"
PRE_VALID = ("1900-01-01", "2025-06-30")
POST_VALID = (REFORM_DATE, "9999-12-31")

REGION_NAMES = {"bac": "Miền Bắc", "trung": "Miền Trung", "nam": "Miền Nam"}


def region_of(province_code: int) -> str:
    """GSO codes run north to south: up to Ninh Bình (37) is the North, Thanh Hóa (38) through the
    Central Highlands (68) the Centre, Bình Phước (70) onwards the South. Post-reform provinces keep
    one of their members' codes, so the same rule applies to both maps."""
    if province_code <= 37:
        return "bac"
    if province_code <= 68:
        return "trung"
    return "nam"


def short_name(name: str) -> str:
    for prefix in ("Thành phố ", "Tỉnh "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def load_wheel_json(wheel: Path) -> list:
    with zipfile.ZipFile(wheel) as zf:
        return json.loads(zf.read("vietnam_provinces/data/nested-divisions.json"))


def fetch_wheel(version: str, dest: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest),
                    f"vietnam-provinces=={version}"], check=True)
    return next(dest.glob(f"vietnam_provinces-{version}-*.whl"))


def stable_fraction(*parts: object) -> float:
    """A reproducible pseudo-random number in [0, 1) from the given parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def write_csv(name: str, header: list[str], rows: list[list]) -> None:
    path = SEEDS / name
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{name}: {len(rows)} rows")


def build(old: list, new: list) -> None:
    provinces, units = [], []
    for p in old:
        provinces.append(["pre2025", f"{p['code']:02d}", p["name"], short_name(p["name"]),
                          region_of(p["code"]), REGION_NAMES[region_of(p["code"])], *PRE_VALID])
        for d in p["districts"]:
            units.append(["pre2025", "district", f"{d['code']:03d}", d["name"], d["division_type"],
                          f"{p['code']:02d}", "", "true", *PRE_VALID])
            for w in d["wards"]:
                units.append(["pre2025", "commune", f"{w['code']:05d}", w["name"], w["division_type"],
                              f"{p['code']:02d}", f"{d['code']:03d}", "false", *PRE_VALID])
    for p in new:
        provinces.append(["post2025", f"{p['code']:02d}", p["name"], short_name(p["name"]),
                          region_of(p["code"]), REGION_NAMES[region_of(p["code"])], *POST_VALID])
        for w in p["wards"]:
            units.append(["post2025", "commune", f"{w['code']:05d}", w["name"], w["division_type"],
                          f"{p['code']:02d}", "", "true", *POST_VALID])
    write_csv("ref_provinces.csv", ["map_version", "province_code", "province_name", "province_short_name",
                                    "region_code", "region_name", "valid_from", "valid_to"], provinces)
    write_csv("ref_admin_units.csv", ["map_version", "unit_level", "unit_code", "unit_name", "division_type",
                                      "province_code", "district_code", "is_reporting_unit",
                                      "valid_from", "valid_to"], units)

    old_ward_province = {w["code"]: p["code"] for p in old for d in p["districts"] for w in d["wards"]}
    votes: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for p in new:
        for w in p["wards"]:
            if w["code"] in old_ward_province:
                votes[old_ward_province[w["code"]]][p["code"]] += 1
    names_old = {p["code"]: p["name"] for p in old}
    names_new = {p["code"]: p["name"] for p in new}
    crosswalk = []
    for code in sorted(names_old):
        targets = votes[code]
        if len(targets) != 1:
            raise SystemExit(f"province {code} does not map to exactly one new province: {targets}")
        (new_code, matched), = targets.items()
        crosswalk.append([f"{code:02d}", names_old[code], f"{new_code:02d}", names_new[new_code], matched])
    if len({row[2] for row in crosswalk}) != len(new):
        raise SystemExit("crosswalk does not cover every post-reform province")
    write_csv("ref_province_crosswalk.csv", ["old_province_code", "old_province_name", "new_province_code",
                                             "new_province_name", "communes_matched"], crosswalk)
    build_bases_and_targets(old, new)


# Real targets, DOMAIN.md §4 (sources: Hậu Giang plan 211/KH-UBND; Quảng Ninh plan 201/KH-UBND
# appendix 01; Decision 350/QĐ-BTTTT). Province codes of the pre-reform map, as reported then.
HAU_GIANG, QUANG_NINH = "93", "22"
REAL_TARGETS = [
    # (scope, province, indicator, year, type, value, source)
    *[("province", HAU_GIANG, ind, year, "pct_of_base", val, "211/KH-UBND Hậu Giang")
      for ind, v22, v23 in [
          ("hh_trained_digital", 70, 90), ("hh_trained_logistics", 60, 80), ("hh_with_shop", 50, 70),
          ("hh_with_epay", 50, 70), ("products_promoted", 30, 40), ("volume_sold_t", 5, 10),
          ("products_branded", 5, 10), ("hh_branded", 5, 10), ("traceable", 5, 10),
          ("inputs_listed", 20, 40), ("hh_bought_inputs", 5, 10), ("inputs_discounted", 100, 100),
          ("info_items", 100, 100)]
      for year, val in ((2022, v22), (2023, v23))],
    ("province", HAU_GIANG, "domestic_markets", 2022, "absolute", 10, "211/KH-UBND Hậu Giang"),
    ("province", HAU_GIANG, "domestic_markets", 2023, "absolute", 20, "211/KH-UBND Hậu Giang"),
    ("province", HAU_GIANG, "foreign_markets", 2022, "absolute", 2, "211/KH-UBND Hậu Giang"),
    ("province", HAU_GIANG, "foreign_markets", 2023, "absolute", 4, "211/KH-UBND Hậu Giang"),
    *[("province", QUANG_NINH, ind, year, "pct_of_base", val, "201/KH-UBND Quảng Ninh, phụ lục 01")
      for ind, v21, v22 in [
          ("ocop_listed", 100, 100), ("hh_trained_digital", 70, 90), ("hh_trained_logistics", 60, 90),
          ("hh_with_shop", 50, 70), ("hh_with_epay", 50, 60), ("products_promoted", 50, 50),
          ("volume_sold_t", 10, 20)]
      for year, val in ((2021, v21), (2022, v22))],
    ("nation", "00", "active_accounts", 2022, "absolute", 10_000_000, "350/QĐ-BTTTT"),
    ("nation", "00", "ocop_listed", 2022, "pct_of_base", 100, "350/QĐ-BTTTT"),
]
# Sample targets for the demo years: the 2023 levels of Hậu Giang's plan, rounded per province.
SAMPLE_TARGET_LEVELS = {
    "ocop_listed": 100, "hh_trained_digital": 90, "hh_trained_logistics": 80, "hh_with_shop": 70,
    "hh_with_epay": 70, "products_promoted": 40, "volume_sold_t": 10, "products_branded": 10,
    "hh_branded": 10, "traceable": 10, "inputs_listed": 40, "hh_bought_inputs": 10,
    "inputs_discounted": 100, "info_items": 100,
}
SAMPLE_YEARS_PRE = range(2021, 2026)
SAMPLE_YEARS_POST = range(2025, 2028)


def build_bases_and_targets(old: list, new: list) -> None:
    bases, targets = [], []
    # Real: Hậu Giang had "more than 100,000" agricultural households in 2022 (press, DOMAIN §4).
    real_bases = {("pre2025", HAU_GIANG, 2022, "agri_households"): 100_000}
    for map_version, plist, years in (("pre2025", old, SAMPLE_YEARS_PRE), ("post2025", new, SAMPLE_YEARS_POST)):
        for p in plist:
            pcode = f"{p['code']:02d}"
            children = p["districts"] if map_version == "pre2025" else p["wards"]
            # Agricultural households grow ~1%/year; split over reporting units by a stable weight.
            size = 40_000 + int(stable_fraction(map_version, pcode, "hh") * 260_000)
            if map_version == "post2025":
                size *= 2  # merged provinces are about twice as large
            weights = [0.5 + stable_fraction(map_version, c["code"], "w") for c in children]
            total_weight = sum(weights)
            for year in years:
                growth = 1.01 ** (year - 2021)
                province_bases = {
                    "agri_households": round(size * growth),
                    "ocop3_products": 20 + int(stable_fraction(map_version, pcode, "ocop") * 180),
                    "main_products": 10 + int(stable_fraction(map_version, pcode, "main") * 40),
                    "production_tonnes": round(size * 9.5 * growth),
                }
                for base_code, value in province_bases.items():
                    real = real_bases.get((map_version, pcode, year, base_code))
                    bases.append([map_version, "province", pcode, year, base_code,
                                  real if real is not None else value,
                                  "false" if real is not None else "true"])
                width = 3 if map_version == "pre2025" else 5
                for child, weight in zip(children, weights):
                    bases.append([map_version, "district" if map_version == "pre2025" else "commune",
                                  f"{child['code']:0{width}d}", year, "agri_households",
                                  round(province_bases["agri_households"] * weight / total_weight), "true"])
                for indicator, level in SAMPLE_TARGET_LEVELS.items():
                    if (map_version, pcode) in {("pre2025", HAU_GIANG), ("pre2025", QUANG_NINH)} and year <= 2023:
                        continue  # the real plans cover these years
                    targets.append(["province", map_version, pcode, indicator, year, "pct_of_base", level,
                                    "true", "mẫu (sample)"])
                for indicator, value in (("domestic_markets", 20), ("foreign_markets", 4)):
                    if (map_version, pcode) in {("pre2025", HAU_GIANG)} and year <= 2023:
                        continue
                    targets.append(["province", map_version, pcode, indicator, year, "absolute", value,
                                    "true", "mẫu (sample)"])
    for scope, pcode, indicator, year, kind, value, source in REAL_TARGETS:
        targets.append([scope, "pre2025" if scope == "province" else "", pcode, indicator, year, kind, value,
                        "false", source])
    for year in range(2023, 2028):
        targets.append(["nation", "", "00", "active_accounts", year, "absolute", 10_000_000, "true",
                        "mẫu (sample): mức năm 2022 của 350/QĐ-BTTTT"])
    targets.sort(key=lambda r: (r[0], r[1], r[2], r[3], r[4]))
    write_csv("ref_bases.csv", ["map_version", "unit_level", "unit_code", "base_year", "base_code", "base_value",
                                "is_sample"], bases)
    write_csv("ref_targets.csv", ["scope_level", "map_version", "province_code", "indicator_code", "target_year",
                                  "target_type", "target_value", "is_sample", "source_document"], targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, help="vietnam_provinces-0.6.0 wheel (pre-reform map)")
    parser.add_argument("--new", type=Path, help="vietnam_provinces-2025.10.1 wheel (post-reform map)")
    parser.add_argument("--out", type=Path, help="output folder (default: dbt_project/seeds)")
    args = parser.parse_args()
    if args.out:
        global SEEDS
        SEEDS = args.out
        SEEDS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        old_wheel = args.old or fetch_wheel("0.6.0", Path(tmp))
        new_wheel = args.new or fetch_wheel("2025.10.1", Path(tmp))
        build(load_wheel_json(old_wheel), load_wheel_json(new_wheel))
    # the sample rows' values come from the generator's population (lensan_dev.generate.bases)
    from lensan_dev.generate import bases

    bases.rewrite(SEEDS)


if __name__ == "__main__":
    main()

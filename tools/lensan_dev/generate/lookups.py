"""Reference data the generator reads from the seeds and the admin map, and which provinces to generate."""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import lru_cache

from lensan import settings, reference


@lru_cache
def countries() -> tuple[tuple[str, str], ...]:
    with (settings.SEEDS_DIR / "ref_countries.csv").open(encoding="utf-8", newline="") as fh:
        return tuple((r["country_code"], r["country_name_vi"]) for r in csv.DictReader(fh))


@lru_cache
def info_categories() -> tuple[str, ...]:
    with (settings.SEEDS_DIR / "ref_info_categories.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(r["category"] for r in csv.DictReader(fh))


@lru_cache
def indicator_base_codes() -> dict[str, tuple[str, str]]:
    with (settings.SEEDS_DIR / "ref_indicators.csv").open(encoding="utf-8", newline="") as fh:
        return {r["indicator_code"]: (r["target_basis"], r["base_code"]) for r in csv.DictReader(fh)}


@lru_cache
def targets() -> dict[tuple[str, str, str, int], tuple[str, float]]:
    out = {}
    with (settings.SEEDS_DIR / "ref_targets.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["scope_level"] == "province":
                out[(r["map_version"], r["province_code"], r["indicator_code"], int(r["target_year"]))] = (
                    r["target_type"], float(r["target_value"]))
    return out


@lru_cache
def unit_bases() -> dict[tuple[str, str, int, str], float]:
    out = {}
    with (settings.SEEDS_DIR / "ref_bases.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["unit_level"] in ("district", "commune"):
                out[(r["map_version"], r["unit_code"], int(r["base_year"]), r["base_code"])] = float(r["base_value"])
    return out


@lru_cache
def communes_by_district() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for (mv, level, code), unit in reference.admin_units().items():
        if mv == "pre2025" and level == "commune" and unit.district_code:
            out[unit.district_code].append(code)
    return {k: sorted(v) for k, v in out.items()}


@lru_cache
def communes_by_province(map_version: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for (mv, level, code), unit in reference.admin_units().items():
        if mv == map_version and level == "commune":
            out[unit.province_code].append(code)
    return {k: sorted(v) for k, v in out.items()}


@lru_cache
def province_codes(map_version: str) -> tuple[str, ...]:
    return tuple(sorted(code for (mv, code) in reference.provinces() if mv == map_version))


def provinces_for_map(map_version: str, provinces: list[str] | None, first_map: str) -> list[str]:
    """The province codes to generate on `map_version` for the codes given on `first_map`.

    Codes are read on the map of the earliest requested week; on later weeks of the other map they
    are carried over the reform with the crosswalk (old → new), so the same part of the country is
    generated on both sides. Codes not valid on `first_map` but valid on `map_version` are kept.
    """
    if provinces is None:
        return list(province_codes(map_version))
    valid_first = set(province_codes(first_map))
    valid_here = set(province_codes(map_version))
    crosswalk = reference.province_crosswalk()
    out: set[str] = set()
    for raw in provinces:
        code = str(raw).strip().zfill(2)
        if map_version == first_map or (code not in valid_first and code in valid_here):
            if code not in valid_here:
                raise ValueError(f"province {code} does not exist on the {map_version} map")
            out.add(code)
        elif first_map == "pre2025" and map_version == "post2025":
            out.add(crosswalk[code])
        else:  # post-reform codes on pre-reform weeks: every old province merged into it
            out.update(old for old, new in crosswalk.items() if new == code)
    return sorted(out)

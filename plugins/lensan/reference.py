"""Reference data (the committed dbt seeds) for Python code: admin units, indicators, provinces.

The seeds in dbt_project/seeds are the single source; the warehouse loads them with `dbt seed`,
and the generator, parsers and `lensan check` read the same files here.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from lensan.settings import SEEDS_DIR

REFORM_DATE = dt.date(2025, 7, 1)


def map_version_for(day: dt.date) -> str:
    """Which administrative map a date belongs to: 'pre2025' before 1 July 2025, else 'post2025'."""
    return "pre2025" if day < REFORM_DATE else "post2025"


def _read(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class Indicator:
    code: str
    section: str
    tt: str
    sort_order: int
    label_vi: str
    label_en: str
    unit_vi: str
    kind: str
    primary_source: str
    in_weekly_form: bool


@lru_cache
def indicators() -> tuple[Indicator, ...]:
    return tuple(
        Indicator(r["indicator_code"], r["section"], r["tt"], int(r["sort_order"]), r["label_vi"],
                  r["label_en"], r["unit_vi"], r["kind"], r["primary_source"], r["in_weekly_form"] == "true")
        for r in _read("ref_indicators.csv")
    )


def weekly_form_indicators() -> tuple[Indicator, ...]:
    """The 17 rows of the weekly form (I, II.1–4, III.1–7, IV.1–5) in template order."""
    return tuple(i for i in indicators() if i.in_weekly_form)


@dataclass(frozen=True)
class AdminUnit:
    map_version: str
    level: str            # district | commune
    code: str
    name: str
    province_code: str
    district_code: str    # pre-reform communes only
    is_reporting_unit: bool


@lru_cache
def admin_units() -> dict[tuple[str, str, str], AdminUnit]:
    """Keyed by (map_version, level, code): district and commune codes overlap in value."""
    units = {}
    for r in _read("ref_admin_units.csv"):
        unit = AdminUnit(r["map_version"], r["unit_level"], r["unit_code"], r["unit_name"], r["province_code"],
                         r["district_code"], r["is_reporting_unit"] == "true")
        units[(unit.map_version, unit.level, unit.code)] = unit
    return units


def reporting_unit_level(map_version: str) -> str:
    return "district" if map_version == "pre2025" else "commune"


def reporting_unit(map_version: str, code: str) -> AdminUnit | None:
    """The reporting unit with this code on this map (a district before the reform, a commune after)."""
    return admin_units().get((map_version, reporting_unit_level(map_version), code))


def commune(map_version: str, code: str) -> AdminUnit | None:
    return admin_units().get((map_version, "commune", code))


def reporting_units(map_version: str, province_codes: list[str] | None = None) -> list[AdminUnit]:
    wanted = set(province_codes) if province_codes else None
    return sorted(
        (u for u in admin_units().values()
         if u.map_version == map_version and u.is_reporting_unit
         and (wanted is None or u.province_code in wanted)),
        key=lambda u: u.code,
    )


@lru_cache
def provinces() -> dict[tuple[str, str], dict[str, str]]:
    """Keyed by (map_version, province_code)."""
    return {(r["map_version"], r["province_code"]): r for r in _read("ref_provinces.csv")}


@lru_cache
def province_crosswalk() -> dict[str, str]:
    """Pre-reform province code → the post-reform province it merged into."""
    return {r["old_province_code"]: r["new_province_code"] for r in _read("ref_province_crosswalk.csv")}


@lru_cache
def issuing_bodies() -> tuple[dict[str, str], ...]:
    """Who heads each report (ref_issuing_bodies.csv): scope level/code, map ('' = any), body, parent body,
    validity — the 2025 handover of the programme from Bộ TTTT to Bộ KH&CN is two rows, not code."""
    return tuple(_read("ref_issuing_bodies.csv"))

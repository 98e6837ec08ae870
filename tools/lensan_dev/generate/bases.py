"""The sample bases and targets (is_sample rows of ref_bases.csv / ref_targets.csv), derived from the
generator's own population so that a demo reads like a programme in mid-year (attainment ~70 %).

    python -m lensan_dev.generate.bases          # rewrite the sample rows of the two seeds
    python -m lensan_dev.generate.bases --check  # exit 1 if the committed seeds differ from the derivation

Seeds are lookups, committed; this script is how their sample rows were made. Real rows
(is_sample = false: DOMAIN.md §4, the provinces' plans) are kept as they are, and the sample rows keep
the layout of the seeds (the same provinces, units, years and indicators); only their values change:

* ``agri_households`` of a unit is the number of households of its simulated population
  (`population.household_count`: a property of the unit, the same for every seed); a province's is
  the sum over its units. So the checks "households <= agricultural households" hold for any seed
  (not for the national bench above SF 1, whose units are larger).
* ``main_products`` is the number of agricultural main products the population's households produce.
* Rates per household (households trained, with a shop, ..., products listed, tonnes sold) are
  measured on the population of the demo provinces over REFERENCE_WEEKS, at the end of the window.
* A percentage target is the rate divided by MIDYEAR_ATTAINMENT, rounded; where a plan fixes the
  percentage (OCOP 100 %, volume 10 %, information 100 %) the base is derived instead.
* Absolute targets: input products listed, the level expected at the province's size divided by
  MIDYEAR_ATTAINMENT; markets, the demo provinces' level divided by it, capped by what exists
  (provinces, countries). inputs_listed is absolute here, not a % of main_products: the population
  lists hundreds of input products per province against a dozen main products.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from lensan import reference, settings

from lensan.calendar import periods
from lensan_dev.generate.common import days_of_week
from lensan_dev.generate.lookups import countries, province_codes
from lensan_dev.generate.population import INPUT_TYPES, MAIN_PRODUCTS, build_unit, household_count, info_posts
from lensan_dev.generate.truth import week_truth

SEED = 1034
REFERENCE_PROVINCES = ("22", "92")     # the demo's provinces (post-reform map)
REFERENCE_WEEKS = tuple(periods.week_range("2026-W45", "2026-W48"))   # four weeks, as `lensan demo`
MIDYEAR_ATTAINMENT = 0.7
SOURCE = f"mẫu (sample): suy ra từ quần thể mẫu seed {SEED} (lensan_dev.generate.bases)"

# % of agricultural households
HOUSEHOLD_TARGETS = ("hh_trained_digital", "hh_trained_logistics", "hh_with_shop", "hh_with_epay", "hh_branded",
                     "hh_bought_inputs")
LISTED_SHARE_TARGETS = ("products_branded", "traceable")      # % of the agricultural products listed
PLAN_PCT = {"ocop_listed": 100, "volume_sold_t": 10, "info_items": 100}   # the plans' own levels: base derived
ABSOLUTE_TARGETS = ("domestic_markets", "foreign_markets", "inputs_listed")

BASES_FILE = "ref_bases.csv"
TARGETS_FILE = "ref_targets.csv"


def main_products() -> int:
    """Agricultural main products of the population's households (inputs are not products)."""
    return len({m for products in MAIN_PRODUCTS.values() for m in products} - set(INPUT_TYPES))


@lru_cache
def reference_levels() -> dict[str, float]:
    """Levels of the demo provinces' population at the end of REFERENCE_WEEKS, summed over them, and
    `households`: the households of those units. Distinct things (markets, product types) are the mean
    per province."""
    last = REFERENCE_WEEKS[-1]
    days = sorted(d for w in REFERENCE_WEEKS for d in days_of_week(w))
    totals: dict[str, float] = defaultdict(float)
    markets: dict[str, list[int]] = defaultdict(list)
    for province in REFERENCE_PROVINCES:
        posts = info_posts(SEED, "post2025", province, days)
        domestic, foreign, types = set(), set(), set()
        for ref_unit in reference.reporting_units("post2025", [province]):
            u = build_unit(SEED, ref_unit, list(REFERENCE_WEEKS), 12)
            t = week_truth(u, last, posts)
            totals["households"] += len(u.households)
            for code, value in t["indicators"].items():
                totals[code] += value
            types.update(p.type for s in u.shops for p in s.products
                         if p.group == "agri" and p.listed.date() <= periods.week_bounds(last)[1])
            domestic.update(t["domestic_provinces"])
            foreign.update(t["foreign_countries"])
        markets["domestic_markets"].append(len(domestic))
        markets["foreign_markets"].append(len(foreign))
        markets["products_promoted"].append(len(types))
    out = dict(totals)
    for code, values in markets.items():
        out[code] = sum(values) / len(values)
    return out


def _per_household(code: str) -> float:
    levels = reference_levels()
    return levels[code] / levels["households"]


def _pct(rate: float) -> int | float:
    """A plan-like percentage for a rate expected mid-year: rate / MIDYEAR_ATTAINMENT, rounded
    (to 5 from 20 %, to 1 from 10 %, else to 0.1), between 0.1 and 100."""
    raw = 100 * rate / MIDYEAR_ATTAINMENT
    pct = 5 * round(raw / 5) if raw >= 20 else round(raw) if raw >= 10 else round(raw, 1)
    pct = min(100, max(0.1, pct))
    return int(pct) if pct == int(pct) else pct


def target_pcts() -> dict[str, int | float]:
    """The sample percentage of each pct_of_base target (the same for every province)."""
    levels = reference_levels()
    out = {code: _pct(_per_household(code)) for code in HOUSEHOLD_TARGETS}
    out.update({code: _pct(levels[code] / levels["products_listed"]) for code in LISTED_SHARE_TARGETS})
    out["inputs_discounted"] = _pct(levels["inputs_discounted"] / levels["inputs_listed"])
    out["products_promoted"] = _pct(levels["products_promoted"] / main_products())
    out.update(PLAN_PCT)
    return out


def province_bases(households: int) -> dict[str, int]:
    """The bases of a province whose units hold `households` households in the population."""
    return {
        "agri_households": households,
        # the catalogue of OCOP >= 3 star products, of which a plan wants 100 % listed
        "ocop3_products": max(1, math.ceil(households * _per_household("ocop_listed")
                                          / (PLAN_PCT["ocop_listed"] / 100 * MIDYEAR_ATTAINMENT))),
        "main_products": main_products(),
        # production such that the tonnes sold over the reference weeks are mid-way to 10 % of it
        "production_tonnes": max(1, round(households * _per_household("volume_sold_t_ytd")
                                          / (PLAN_PCT["volume_sold_t"] / 100 * MIDYEAR_ATTAINMENT))),
    }


def absolute_targets(map_version: str, households: int) -> dict[str, int]:
    """Absolute targets of a province of `households` households: markets as many as a demo province
    reaches mid-year, capped by the provinces and countries there are (they hardly depend on the
    province's size: a few hundred orders reach nearly all); input products in proportion to size."""
    levels = reference_levels()
    caps = {"domestic_markets": len(province_codes(map_version)), "foreign_markets": len(countries()) - 1}
    out = {code: max(1, min(caps[code], math.ceil(levels[code] / MIDYEAR_ATTAINMENT)))
           for code in ("domestic_markets", "foreign_markets")}
    out["inputs_listed"] = max(1, math.ceil(households * _per_household("inputs_listed") / MIDYEAR_ATTAINMENT))
    return out


def _read(seeds_dir: Path, name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (seeds_dir / name).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _csv(header: list[str], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def derive(seeds_dir: Path = settings.SEEDS_DIR) -> dict[str, str]:
    """The two seed files' text with their sample rows derived (real rows and the layout as in `seeds_dir`)."""
    units = reference.admin_units()
    b_header, b_rows = _read(seeds_dir, BASES_FILE)
    t_header, t_rows = _read(seeds_dir, TARGETS_FILE)

    # households per province (map, province): the sum over the reporting units the seed lists
    province_hh: dict[tuple[str, str], int] = defaultdict(int)
    seen: set[tuple[str, str]] = set()
    for r in b_rows:
        if r["unit_level"] in ("district", "commune") and (r["map_version"], r["unit_code"]) not in seen:
            seen.add((r["map_version"], r["unit_code"]))
            unit = units[(r["map_version"], r["unit_level"], r["unit_code"])]
            province_hh[(r["map_version"], unit.province_code)] += household_count(r["map_version"], r["unit_code"])

    bases = []
    for r in b_rows:
        if r["is_sample"] == "true":
            mv = r["map_version"]
            if r["unit_level"] == "province":
                value = province_bases(province_hh[(mv, r["unit_code"])])[r["base_code"]]
            else:
                value = household_count(mv, r["unit_code"])
            r = {**r, "base_value": str(value)}
        bases.append(r)

    pcts = target_pcts()
    targets = []
    for r in t_rows:
        if r["is_sample"] == "true" and r["scope_level"] == "province":
            households = province_hh[(r["map_version"], r["province_code"])]
            code = r["indicator_code"]
            if code in ABSOLUTE_TARGETS:
                r = {**r, "target_type": "absolute",
                     "target_value": str(absolute_targets(r["map_version"], households)[code])}
            else:
                r = {**r, "target_type": "pct_of_base", "target_value": str(pcts[code])}
            r["source_document"] = SOURCE
        targets.append(r)
    return {BASES_FILE: _csv(b_header, bases), TARGETS_FILE: _csv(t_header, targets)}


def stale_files(seeds_dir: Path = settings.SEEDS_DIR) -> dict[str, str]:
    """The seed files of `seeds_dir` whose sample rows differ from the derivation -> their derived text."""
    return {name: text for name, text in derive(seeds_dir).items()
            if (seeds_dir / name).read_text(encoding="utf-8") != text}


def rewrite(seeds_dir: Path = settings.SEEDS_DIR) -> list[str]:
    """Rewrite the sample rows of the two seeds in `seeds_dir` (also the last step of
    scripts/build_reference_data.py); returns the names of the files rewritten."""
    stale = stale_files(seeds_dir)
    for name, text in stale.items():
        (seeds_dir / name).write_text(text, encoding="utf-8")
    return sorted(stale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare with the committed seeds")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"{name}: sample rows differ from `python -m lensan_dev.generate.bases`", file=sys.stderr)
        return 1 if stale else 0
    for name in rewrite():
        print(f"rewrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

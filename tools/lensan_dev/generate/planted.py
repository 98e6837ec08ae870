"""Divergences planted on purpose: a few units whose weekly form disagrees with their platform data.

Every other form agrees with the platforms up to typing noise below the reconciliation tolerance
(`form_noise_pct`, half of dbt's `reconciliation_threshold_pct`), so the reconciliation warnings of a
generated week are exactly the ones planted here. The planted set goes to
``<home>/generated/planted_divergences.json`` (outside ``landing/``: never landed), and `lensan demo`
compares it with what the gate raised (`raised_divergences`, `compare`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from lensan import settings

from lensan_dev.generate.common import rng_for
from lensan_dev.generate.lookups import countries

PLANTED_FILE = "planted_divergences.json"
# (kind, indicator): one unit each. "none_on_platforms" reports foreign markets the platforms never
# saw; "large" doubles a count; "moderate" overstates the tonnes sold by about a third.
PLANTS = (("none_on_platforms", "foreign_markets"), ("large", "inputs_listed"), ("moderate", "volume_sold_t"))


@lru_cache
def reconciliation_threshold_pct() -> float:
    """dbt's tolerance for a form vs the platforms (dbt_project.yml vars), the one place it is set."""
    import yaml

    data = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return float(data["vars"]["reconciliation_threshold_pct"])


def form_noise_pct() -> float:
    """The largest relative error a unit's typing adds to a form cell: well inside the tolerance."""
    return reconciliation_threshold_pct() / 2


def _eligible(kind: str, indicators: dict) -> bool:
    if kind == "none_on_platforms":
        return indicators["foreign_markets"] == 0
    if kind == "large":
        return indicators["inputs_listed"] >= 3
    return indicators["volume_sold_t_ytd"] >= 0.05   # enough tonnes for a third more to show after rounding


def choose(seed: int, map_version: str, week: str, truths: dict[str, dict],
           province_of: dict[str, str]) -> dict[str, dict]:
    """The planted divergences of `week`: unit code -> {kind, indicator, reported, computed, ...}.

    `truths` maps each unit code to its truth of `week` (truth.week_truth). One unit per entry of
    PLANTS, drawn among the units where the divergence can show, in a province not used yet while
    there is one; a unit gets at most one.
    """
    rng = rng_for(seed, "planted", map_version, week)
    names = dict(countries())
    out: dict[str, dict] = {}
    for kind, code in PLANTS:
        pool = sorted(u for u, t in truths.items() if u not in out and _eligible(kind, t["indicators"]))
        used = {province_of[u] for u in out}
        pool = [u for u in pool if province_of[u] not in used] or pool
        if not pool:
            continue
        unit = rng.choice(pool)
        ind = truths[unit]["indicators"]
        plant = {"kind": kind, "indicator": code, "week": week, "map_version": map_version}
        if kind == "none_on_platforms":
            chosen = sorted(rng.sample([c for c in names if c != "VN"], rng.randint(2, 5)))
            plant.update(reported=len(chosen), computed=0, countries=chosen)
        elif kind == "large":
            plant.update(reported=round(ind[code] * rng.uniform(1.8, 2.5)), computed=ind[code])
        else:
            factor = rng.uniform(1.3, 1.45)
            plant.update(reported=round(ind["volume_sold_t_ytd"] * factor, 3), computed=ind["volume_sold_t_ytd"],
                         reported_in_week=round(ind[code] * factor, 3))
        out[unit] = plant
    return out


def form_truth(truth: dict, plant: dict | None) -> dict:
    """The truth a unit's form is typed from: `truth`, with the planted value in place."""
    if plant is None:
        return truth
    indicators = dict(truth["indicators"])
    out = {**truth, "indicators": indicators}
    if plant["kind"] == "none_on_platforms":
        indicators["foreign_markets"] = plant["reported"]
        out["foreign_countries"] = plant["countries"]
    elif plant["indicator"] == "volume_sold_t":
        indicators["volume_sold_t"], indicators["volume_sold_t_ytd"] = plant["reported_in_week"], plant["reported"]
    else:
        indicators[plant["indicator"]] = plant["reported"]
    return out


def write(home: Path, planted: list[dict]) -> Path:
    path = home / "generated" / PLANTED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    planted = sorted(planted, key=lambda p: (p["week"], p["unit_code"], p["indicator"]))
    path.write_text(json.dumps({"threshold_pct": reconciliation_threshold_pct(), "form_noise_pct": form_noise_pct(),
                                "planted": planted}, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return path


def load(home: Path | None = None) -> list[dict]:
    """The planted divergences written by the last `generate()` into `home` (default LENSAN_HOME)."""
    path = (home or settings.lensan_home()) / "generated" / PLANTED_FILE
    return json.loads(path.read_text(encoding="utf-8"))["planted"] if path.exists() else []


def raised_divergences(week: str) -> list[dict]:
    """The reconciliation warnings of `week` in the marts (what the published report's
    'Chênh lệch … so với dữ liệu sàn' flags are made of): one per unit and indicator."""
    from lensan.db import warehouse

    conn = warehouse.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select unit_code, unit_name, indicator_code, reported_value, computed_value"
                        " from marts.fct_reconciliation where week_key = %s and is_divergent"
                        " order by unit_code, indicator_code", (week,))
            return [{"unit_code": r[0], "unit_name": r[1], "indicator": r[2],
                     "reported": None if r[3] is None else float(r[3]),
                     "computed": None if r[4] is None else float(r[4])} for r in cur.fetchall()]
    finally:
        conn.close()


def compare(planted: list[dict], raised: list[dict], week: str) -> dict:
    """Planted vs raised warnings of `week` as sets of (unit, indicator): counts, the differences, match."""
    want = {(p["unit_code"], p["indicator"]) for p in planted if p["week"] == week}
    got = {(r["unit_code"], r["indicator"]) for r in raised}
    return {"planted": len(want), "raised": len(got), "missed": sorted(want - got),
            "unexpected": sorted(got - want), "match": want == got}

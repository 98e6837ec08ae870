"""`generate()`: sample raw files of provinces × weeks, with the ground truth in generated/truth.json."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from lensan import settings, reference

from lensan.calendar import periods
from lensan_dev.generate import planted
from lensan_dev.generate.common import days_of_week, rng_for
from lensan_dev.generate.delivery import Writer, deliver_form, deliver_register, extract_delivery, extract_name, \
    unit_reporter
from lensan_dev.generate.encoding import csv_bytes, jsonl_gz_bytes
from lensan_dev.generate.lookups import provinces_for_map
from lensan_dev.generate.population import build_unit, info_posts
from lensan_dev.generate.platforms import PM_ENTITIES, PM_HEADERS, VS_ENTITIES, VS_FIELDS, post_row, unit_platform_rows
from lensan_dev.generate.truth import week_truth


@dataclass
class GenerateSummary:
    files_by_source: dict[str, int]
    rows_by_entity: dict[str, int]
    paths: list[Path]


def generate(provinces: list[str] | None, weeks: list[str], seed: int = 1034, home: Path | None = None,
             orders_per_unit_week: int = 12, late_units: int = 0, missing_units: int = 0,
             progress: Callable[[str], None] | None = None) -> GenerateSummary:
    """Write sample raw files for `provinces` × `weeks` into <home>/landing/<source>/ (see the package doc).

    `provinces` are codes on the map of the earliest week (None = all); later weeks on the other
    map get the crosswalked provinces. `late_units` units per week deliver their form after the
    deadline; `missing_units` units send no form for the last week.
    """
    say = progress or (lambda message: None)
    if not weeks:
        raise ValueError("no weeks to generate")
    weeks = sorted(set(weeks), key=lambda w: periods.week_bounds(w)[0])
    home = Path(home) if home is not None else settings.lensan_home()
    writer = Writer(home)
    week_map = {w: reference.map_version_for(periods.week_bounds(w)[0]) for w in weeks}
    first_map = week_map[weeks[0]]
    truth_out: dict = {"seed": seed, "weeks": weeks, "provinces": {}, "units": {}, "forms": {}}
    planted_out: list[dict] = []

    pm_rows: dict[tuple[str, dt.date], list] = defaultdict(list)
    vs_rows: dict[tuple[str, dt.date], list] = defaultdict(list)

    def add(platform: str, entity_pm: str, entity_vs: str, day: dt.date, sort_key, row):
        if platform == "postmart":
            pm_rows[(entity_pm, day)].append((sort_key, row))
        else:
            vs_rows[(entity_vs, day)].append((sort_key, row))

    all_days: list[dt.date] = []
    for mv in ("pre2025", "post2025"):
        mv_weeks = [w for w in weeks if week_map[w] == mv]
        if not mv_weeks:
            continue
        codes = provinces_for_map(mv, provinces, first_map)
        truth_out["provinces"][mv] = codes
        units = reference.reporting_units(mv, codes)
        if not units:
            raise ValueError(f"no reporting units for provinces {codes} on the {mv} map")
        say(f"{mv}: {len(codes)} province(s), {len(units)} reporting units, weeks {mv_weeks[0]}..{mv_weeks[-1]}")
        days = sorted(d for w in mv_weeks for d in days_of_week(w))
        all_days.extend(days)
        posts_by_prov = {p: info_posts(seed, mv, p, days) for p in codes}
        for p, posts in posts_by_prov.items():
            for post in posts:
                add(post[0], "thong_tin", "info_posts", post[4].date(), (post[4], post[1]), post_row(post[0], post))

        # which units deliver late / not at all
        sched = rng_for(seed, "schedule", mv)
        missing = set(sched.sample([u.code for u in units], min(missing_units, len(units)))) \
            if mv_weeks[-1] == weeks[-1] else set()
        late_by_week = {}
        for w in mv_weeks:
            pool = [u.code for u in units if not (w == weeks[-1] and u.code in missing)]
            late_by_week[w] = set(rng_for(seed, "late", mv, w).sample(pool, min(late_units, len(pool))))

        built = [build_unit(seed, ref_unit, mv_weeks, orders_per_unit_week) for ref_unit in units]
        # divergences planted on purpose in the forms of the last generated week (the one published)
        plants = planted.choose(seed, mv, weeks[-1], {u.code: week_truth(u, weeks[-1], posts_by_prov[u.province])
                                                      for u in built},
                                {u.code: u.province for u in built}) if mv_weeks[-1] == weeks[-1] else {}
        for code, plant in plants.items():
            unit = next(u for u in built if u.code == code)
            planted_out.append({**plant, "unit_code": code, "unit_name": unit.name, "province_code": unit.province})

        for index, u in enumerate(built):
            key = f"{mv}:{u.code}"
            unit_truth = {"map_version": mv, "unit_code": u.code, "unit_name": u.name, "province_code": u.province,
                          "weeks": {}}
            truth_out["units"][key] = unit_truth
            # platform rows
            for platform, entity_pm, entity_vs, day, sort_key, row in unit_platform_rows(u):
                add(platform, entity_pm, entity_vs, day, sort_key, row)

            # weekly forms
            reporter = unit_reporter(seed, u)
            for w in mv_weeks:
                t = week_truth(u, w, posts_by_prov[u.province])
                # the calendar week before (generated or not): what the unit had at the start of the week
                prev_truth = week_truth(u, periods.week_key(periods.week_bounds(w)[0] - dt.timedelta(days=7)),
                                        posts_by_prov[u.province])
                unit_truth["weeks"][w] = t
                late = u.code in late_by_week[w]
                form_info = {"unit": key, "week": w, "late": late, "missing": False, "files": []}
                truth_out["forms"][f"{key}:{w}"] = form_info
                if w == weeks[-1] and u.code in missing:
                    form_info["missing"] = True
                    continue
                plant = plants.get(u.code) if w == weeks[-1] else None
                form_info["files"].extend(deliver_form(writer, seed, u, w, t, prev_truth, reporter, late, plant))

            # register snapshot for the last week of this map
            deliver_register(writer, seed, u, periods.week_bounds(mv_weeks[-1])[1])
            if progress and (index + 1) % 50 == 0:
                say(f"{mv}: {index + 1}/{len(units)} units")

    # daily platform files (every entity, every day, possibly with no rows)
    say(f"writing platform extracts for {len(all_days)} days")
    for day in sorted(set(all_days)):
        delivered = extract_delivery(day)
        for entity in PM_ENTITIES:
            rows = [row for _, row in sorted(pm_rows.get((entity, day), []), key=lambda x: x[0])]
            assert all(len(row) == len(PM_HEADERS[entity]) for row in rows[:1]), entity
            writer.write("postmart", extract_name("postmart", entity, day),
                         csv_bytes(PM_HEADERS[entity], rows, ";", bom=True), delivered, f"postmart_{entity}", len(rows))
        for entity in VS_ENTITIES:
            rows = [row for _, row in sorted(vs_rows.get((entity, day), []), key=lambda x: x[0])]
            assert all(tuple(row) == VS_FIELDS[entity] for row in rows[:1]), entity
            writer.write("voso", extract_name("voso", entity, day), jsonl_gz_bytes(rows), delivered,
                         f"voso_{entity}", len(rows))

    truth_path = home / "generated" / "truth.json"
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(truth_out, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")
    planted_path = planted.write(home, planted_out)
    say(f"wrote {len(writer.paths)} files; truth in {truth_path}; {len(planted_out)} divergence(s) planted on "
        f"purpose in {planted_path.name}")
    return GenerateSummary(dict(writer.files_by_source), dict(writer.rows_by_entity), sorted(writer.paths))

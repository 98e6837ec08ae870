"""Incremental dbt build: the weekly build with 26 weeks of history vs the same with 1 week.

    python -m lensan_dev.bench.incremental [--history 1 26] [--week 2026-W10] [--provinces 12]
                                        [--orders 40] [--scale SF] [--home DIR] [--verify]

For each history length H, in its own LENSAN_HOME (<home>/h<H>/, its own embedded warehouse, or a
scratch database `lensan_bench_inc_h<H>` when LENSAN_WAREHOUSE_URL points to an external server),
in a child process:

1. `lensan_dev.generate.generate(provinces, H + 1 weeks)` — one population over the H history weeks and
   the new week (so the new week's files revise the history as real extracts do: orders delivered in
   the history and returned in the new week, late status changes); with `scale`, instead
   `generate_national(scale, H + 1 weeks, provinces=provinces or the whole nation)`, the same property
   at national volume (scale × 1M orders a week; lensan_dev.bench.history);
2. the history files (platform extracts dated before the new week's Monday, the weekly forms of the
   history weeks, the household registers) are landed (`land_pending`), then `dbt seed` and a full
   `dbt build` (timed: `full_build_s`);
3. after `vacuum (analyze)` and a CHECKPOINT (what happens between two weekly runs; the checkpoints
   during the build are counted: `checkpoints_during_build`), the new week's files (its 7 daily
   extracts per entity and platform, its weekly forms) are landed (`land_s`) and the weekly
   incremental build runs: `dbt build --exclude resource_type:seed
   resource_type:unit_test`, i.e. every model (incremental ones touch only the changed weeks) and
   every data test (timed: `incremental_build_s`); unit tests run on fixed mock rows, their cost does
   not depend on history, so they are left out like seeds; then the biggest raw / intermediate / marts
   tables are counted (`table_sizes`);
4. with `verify`, `dbt build --full-refresh` runs afterwards and the checksum of
   marts.fct_indicator_values (and fct_product_type_monthly) must equal the incremental one.

The result holds both cases' figures and `ratio` = incremental_build_s(26) / incremental_build_s(1)
(target ≤ 1.5, or `target` given to `measure`; `compared()` is the shape of every compared figure).
Registers land with the history: a register is a full snapshot of a unit, not a
weekly delta, and a new snapshot re-attributes households over all periods by design.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from lensan_dev.bench.child import emit_result, run_child
from lensan_dev.bench.common import checkpoint, checkpoints_run
from lensan_dev.bench.e2e import slowest_nodes

TARGET_RATIO = 1.5
DEFAULT_HISTORY = (1, 26)
DEFAULT_WEEK = "2026-W10"          # history weeks 2025-W36..2026-W09: post-reform map, across a new year
DEFAULT_PROVINCES = ("12",)        # Lai Châu: 38 reporting communes
DEFAULT_ORDERS = 40                # orders per reporting unit and week
# unit tests run on fixed mock rows (their cost does not depend on history): left out, like seeds
INCREMENTAL_COMMAND = ["build", "--exclude", "resource_type:seed", "resource_type:unit_test"]

_DATE_IN_NAME = re.compile(r"_(\d{4})-?(\d{2})-?(\d{2})\.(?:csv|jsonl\.gz|xlsx)$")
_WEEK_IN_NAME = re.compile(r"_(\d{4}-W\d{2})(?:_\d+)?\.xlsx$")

# the models compared between the incremental and the full build: table -> the columns checksummed
CHECKSUM_COLUMNS = {
    "marts.fct_indicator_values": "period_type, period_key, scope_level, scope_code, map_version, platform, "
                                  "indicator_code, value_in_period, cumulative_value, previous_value, growth_pct, "
                                  "target_value, target_attainment_pct, detail_value, notes",
    "marts.fct_product_type_monthly": "month_key, scope_level, scope_code, platform, product_group, product_type, "
                                      "orders, volume_t, revenue_vnd",
    "intermediate.int_indicators__active_accounts": "period_type, period_key, scope_level, scope_code, map_version, "
                                                    "platform, value_in_period",
    "marts.fct_quality_checks": "week_key, rule_code, scope_key, subject_level, subject_code, indicator_code, "
                                "observed_value, limit_value, is_violation",
    "marts.fct_plausibility": "week_key, map_version, unit_code, indicator_code, value_in_week, history_weeks, "
                              "median_value, mad_value, robust_score, is_outlier",
    "marts.rpt_reporting_completeness": "week_key, scope_key, expected_units, received_units, on_time_units, "
                                        "late_units, missing_units, resend_count, missing_unit_list, late_unit_list",
    "marts.rpt_weekly_report": "week_key, scope_level, scope_code, scope_name, indicator_code, value_in_week, "
                               "cumulative_value, target_value, attainment_flag, notes, quality_flags, "
                               "value_in_week_postmart, value_in_week_voso, platforms_additive",
    "marts.fct_reported_values": "week_key, map_version, unit_code, indicator_code, value_in_week, cumulative_value, "
                                 "notes, file_id, received_at, first_received_at, is_late, versions_received",
}


def history_weeks(week: str, history: int) -> list[str]:
    """The `history` ISO weeks before `week`, then `week`."""
    from lensan.calendar import periods

    monday, _ = periods.week_bounds(week)
    return [periods.week_key(monday - dt.timedelta(days=7 * k)) for k in range(history, -1, -1)]


def is_new_week_file(source: str, name: str, week: str) -> bool:
    """Whether a generated file belongs to the new week's delivery (else to the history)."""
    from lensan.calendar import periods

    if source == "weekly_form":
        m = _WEEK_IN_NAME.search(name)
        return bool(m) and m[1] == week
    if source == "household_register":
        return False
    m = _DATE_IN_NAME.search(name)
    if not m:
        return False
    return dt.date(int(m[1]), int(m[2]), int(m[3])) >= periods.week_bounds(week)[0]


def compared(value: float | None, target: float, at_most: bool = True, unit: str = "", **extra) -> dict:
    """One compared figure of the benchmark: {"value", "target": "≤ 1.3", "met": bool, "unit", ...extra}
    (met is False when nothing was measured)."""
    met = value is not None and (value <= target if at_most else value >= target)
    return {"value": value, "target": f"{'≤' if at_most else '≥'} {target:g}", "met": bool(met), "unit": unit,
            **extra}


def table_sizes(conn, schemas: tuple[str, ...] = ("raw", "intermediate", "marts"), top: int = 12) -> dict:
    """The `top` biggest tables of `schemas` (with indexes and TOAST): {schema.table: {rows, mb}}."""
    with conn.cursor() as cur:
        cur.execute("""select n.nspname || '.' || c.relname, pg_total_relation_size(c.oid)
                       from pg_class c join pg_namespace n on n.oid = c.relnamespace
                       where c.relkind in ('r', 'p') and n.nspname = any(%s)
                       order by 2 desc limit %s""", (list(schemas), top))
        biggest = cur.fetchall()
        out = {}
        for name, size in biggest:
            cur.execute(f"select count(*) from {name}")   # exact: stats may lag right after the build
            out[name] = {"rows": int(cur.fetchone()[0]), "mb": round(size / 1e6, 1)}
    conn.rollback()
    return out


def checksums(conn) -> dict:
    out = {}
    with conn.cursor() as cur:
        for table, columns in CHECKSUM_COLUMNS.items():
            name = table.split(".")[1]
            cur.execute(f"select count(*), coalesce(sum(hashtext(concat_ws('|', {columns}))::numeric), 0)"
                        f" from {table}")
            rows, total = cur.fetchone()
            out[name] = {"rows": int(rows), "checksum": str(total)}
    conn.rollback()
    return out


def move_files(gen_home: Path, home: Path, week: str, new_week: bool) -> int:
    moved = 0
    for folder in sorted((gen_home / "landing").iterdir()):
        for path in sorted(folder.iterdir()):
            if is_new_week_file(folder.name, path.name, week) == new_week:
                target = home / "landing" / folder.name / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)   # keeps the mtime (the delivery time)
                moved += 1
    return moved


def vacuum_analyze() -> None:
    from lensan.db import warehouse

    conn = warehouse.connect()
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("vacuum (analyze)")
    finally:
        conn.close()


def timed(result: dict, key: str, fn: Callable[[], Any]) -> Any:
    """fn()'s value; its wall-clock seconds (2 decimals) go to result[key]."""
    started = time.perf_counter()
    value = fn()
    result[key] = round(time.perf_counter() - started, 2)
    return value


def run_case(history: int, week: str, provinces: list[str], orders: int, seed: int, verify: bool,
             say: Callable[[str], None] = print, scale: float | None = None, revise: bool = False) -> dict:
    """One history length in the current LENSAN_HOME (call in a fresh process: see `measure`); with
    `revise`, the history weeks are published and the revision passes measured (lensan_dev.bench.revise)."""
    from lensan import settings
    from lensan.db import warehouse
    from lensan_dev import generate as gen
    from lensan.transform.dbt import run_dbt
    from lensan.landing import land_pending

    home = settings.lensan_home()
    weeks = history_weeks(week, history)
    result: dict[str, Any] = {"history_weeks": history, "weeks": [weeks[0], weeks[-2], weeks[-1]],
                              "provinces": provinces, "orders_per_unit_week": orders, "scale": scale}
    gen_home = home / "generated_files"
    if scale is None:
        summary = timed(result, "generate_s", lambda: gen.generate(provinces, weeks, seed=seed, home=gen_home,
                                                                   orders_per_unit_week=orders))
    else:
        from lensan_dev.generate.scale import generate_national

        say(f"  h{history}: generating {len(weeks)} national weeks at SF {scale:g}")
        summary = timed(result, "generate_s", lambda: generate_national(scale, weeks, seed=seed, home=gen_home,
                                                                        provinces=provinces or None))
    result["rows_generated"] = sum(summary.rows_by_entity.values())
    result["orders_generated"] = (summary.rows_by_entity.get("postmart_don_hang", 0)
                                  + summary.rows_by_entity.get("voso_orders", 0))

    result["history_files"] = move_files(gen_home, home, week, new_week=False)
    landed = timed(result, "history_land_s", land_pending)
    result["history_rows"] = landed.rows
    say(f"  h{history}: history landed ({landed.rows:,} rows); dbt seed + full build")
    run_dbt(["seed"])
    timed(result, "full_build_s", lambda: run_dbt(INCREMENTAL_COMMAND))
    if revise:
        from lensan_dev.bench import revise as revise_bench

        say(f"  h{history}: publishing {len(weeks) - 1} history week(s); first revision pass")
        result["revise"] = revise_bench.before_new_week(weeks[:-1], week)
    # between two weekly runs autovacuum has long finished with the history's bulk load, and a checkpoint
    # (checkpoint_timeout) has long written its pages; do both now, so the measured build neither shares
    # the 2 cores with them nor meets a checkpoint the history's WAL requested (the same for every history
    # length: the new week's landing and build start from a checkpoint)
    timed(result, "vacuum_analyze_s", vacuum_analyze)
    result["checkpoint_before_new_week"] = checkpoint()

    result["new_week_files"] = move_files(gen_home, home, week, new_week=True)
    landed = timed(result, "land_s", land_pending)
    result["new_week_rows"] = landed.rows
    say(f"  h{history}: new week landed ({landed.rows:,} rows); incremental build")
    checkpoints_before = checkpoints_run()
    timed(result, "incremental_build_s", lambda: run_dbt(INCREMENTAL_COMMAND))
    result["checkpoints_during_build"] = checkpoints_run() - checkpoints_before
    result["slowest_nodes"] = slowest_nodes(top=1000)   # every node: where the extra time of history goes
    conn = warehouse.connect()
    try:
        result["incremental_checksums"] = checksums(conn)
        result["table_sizes"] = table_sizes(conn)
        if verify:
            say(f"  h{history}: full refresh for comparison")
            timed(result, "full_refresh_s", lambda: run_dbt(INCREMENTAL_COMMAND + ["--full-refresh"]))
            result["full_refresh_checksums"] = checksums(conn)
            result["full_refresh_matches"] = result["full_refresh_checksums"] == result["incremental_checksums"]
    finally:
        conn.close()
    if revise:
        say(f"  h{history}: publishing {week}; revision passes")
        result["revise"].update(revise_bench.after_new_week(week))
    shutil.rmtree(gen_home, ignore_errors=True)
    return result


# ================================================================================= orchestration

def _child(case_home: Path, args: dict, env: dict, timeout: float | None, say: Callable[[str], None]) -> dict:
    cmd = [sys.executable, "-m", "lensan_dev.bench.incremental", "--case", json.dumps(args)]
    return run_child(cmd, env, f"incremental bench case {args.get('history')}", timeout,
                     echo=lambda line: line.startswith("  h"), say=say)


def stop_embedded(case_home: Path) -> None:
    env = dict(os.environ, LENSAN_HOME=str(case_home))
    subprocess.run([sys.executable, "-c", "from lensan.db import embedded; embedded.stop(mode='fast')"],
                   env=env, capture_output=True, timeout=120)


def measure(history: tuple[int, ...] = DEFAULT_HISTORY, week: str = DEFAULT_WEEK,
            provinces: tuple[str, ...] | list[str] = DEFAULT_PROVINCES, orders_per_unit_week: int = DEFAULT_ORDERS,
            seed: int = 1034, home: Path | None = None, verify: bool = False, keep: bool = False,
            timeout: float | None = 3600, say: Callable[[str], None] = print, scale: float | None = None,
            target: float = TARGET_RATIO, revise: bool = False) -> dict:
    """Measure the weekly incremental build for each history length; figures + ratio (see module doc).

    `home` is a throw-away directory (default: a new temporary one); each case gets <home>/h<H> as its
    LENSAN_HOME and is wiped first; the homes stay (with an embedded warehouse, stopped unless `keep`).
    `scale` generates national weeks (see run_case) instead of `orders_per_unit_week` in `provinces`;
    `revise` measures the revision passes too (see run_case).
    """
    home = Path(home) if home else Path(tempfile.mkdtemp(prefix="lensan-bench-inc-"))
    home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    out: dict[str, Any] = {"measured": True, "week": week, "provinces": list(provinces),
                           "orders_per_unit_week": orders_per_unit_week, "seed": seed,
                           "command": "dbt " + " ".join(INCREMENTAL_COMMAND), "target_ratio": target,
                           "scale": scale, "home": str(home.resolve()), "cases": {}}
    from lensan import settings

    external = bool(settings.external_warehouse_url())
    for h in history:
        case_home = (home / f"h{h}").resolve()
        if case_home.exists():
            if not external and (case_home / "warehouse").exists():
                stop_embedded(case_home)
            shutil.rmtree(case_home)
        case_home.mkdir(parents=True)
        env = dict(os.environ, LENSAN_HOME=str(case_home))
        env.setdefault("LENSAN_PSEUDONYM_KEY", "bench-incremental-pseudonym-key")
        args = {"history": h, "week": week, "provinces": list(provinces), "orders": orders_per_unit_week,
                "seed": seed, "verify": verify, "scale": scale, "revise": revise}
        say(f"incremental build: {h} week(s) of history + {week} in {case_home}")
        try:
            if external:
                from lensan.db import warehouse

                with warehouse.scratch_database(f"lensan_bench_inc_h{h}") as info:
                    out["cases"][str(h)] = _child(case_home, args, dict(env, LENSAN_WAREHOUSE_URL=info.url), timeout, say)
            else:
                out["cases"][str(h)] = _child(case_home, args, env, timeout, say)
        finally:
            if not external and not keep:
                stop_embedded(case_home)
    lo, hi = str(min(history)), str(max(history))
    if lo != hi:
        a, b = out["cases"][lo]["incremental_build_s"], out["cases"][hi]["incremental_build_s"]
        out["ratio"] = round(b / a, 3) if a else None
        out["meets_target"] = out["ratio"] is not None and out["ratio"] <= target
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def summary_rows(result: dict) -> list[dict]:
    """One row per history length (for the benchmark's table / JSON)."""
    rows = []
    for h, case in sorted(result.get("cases", {}).items(), key=lambda kv: int(kv[0])):
        rows.append({"history_weeks": int(h), "orders_generated": case["orders_generated"],
                     "history_rows": case["history_rows"], "new_week_rows": case["new_week_rows"],
                     "full_build_s": case["full_build_s"], "land_s": case["land_s"],
                     "incremental_build_s": case["incremental_build_s"],
                     "full_refresh_matches": case.get("full_refresh_matches")})
    return rows


def flat_figures(result: dict) -> dict:
    """The figures as one flat dict (the benchmark's hook row and JSON): per history length the rows landed,
    full and incremental build seconds, then the ratio."""
    out: dict[str, Any] = {"measured": bool(result.get("measured")), "command": result.get("command"),
                           "provinces": ",".join(result.get("provinces", [])),
                           "orders_per_unit_week": result.get("orders_per_unit_week")}
    for r in summary_rows(result):
        h = r["history_weeks"]
        out[f"h{h}_orders"] = r["orders_generated"]
        out[f"h{h}_full_build_s"] = r["full_build_s"]
        out[f"h{h}_incremental_build_s"] = r["incremental_build_s"]
    if "ratio" in result:
        out["ratio"] = result["ratio"]
        out["meets_target"] = result["meets_target"]
    out["target_ratio"] = TARGET_RATIO
    return out


def measure_hook(ctx: dict) -> dict:
    """The benchmark's hook (lensan_dev.bench.run): dbt build of the newest week with 1 vs 26 weeks of
    history already in the warehouse, when requested (`ctx["incremental"]`).

    Meaningful only when the dbt project builds incrementally; otherwise every build recomputes all
    history and the figure would only measure generating 25 more national weeks.
    """
    from lensan import settings

    try:
        from lensan.transform.dbt import run_dbt  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return {"measured": False, "reason": f"lensan.transform.dbt.run_dbt unavailable: {exc}"}
    models = settings.DBT_PROJECT_DIR / "models"
    incremental = [p.name for p in models.rglob("*.sql") if "incremental" in p.read_text(encoding="utf-8")]
    project = (settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8")
    if not incremental and "incremental" not in project:
        return {"measured": False,
                "reason": "the dbt project has no incremental models (no materialized='incremental' under "
                          "dbt_project/models): every build recomputes the whole history, so 1 vs 26 weeks "
                          "measures history size, not an incremental build; implement once models are incremental"}
    if not ctx.get("incremental"):
        return {"measured": False,
                "reason": "not requested: run with --incremental (or python -m lensan_dev.bench.incremental)"}
    try:   # its own homes and warehouses under <home>/incremental (see `measure`)
        res = measure(home=Path(ctx["home"]) / "incremental")
    except Exception as exc:  # noqa: BLE001
        return {"measured": False, "reason": f"incremental build failed: {str(exc)[-600:]}"}
    return flat_figures(res)


def render(result: dict) -> list[str]:
    if not result.get("measured"):
        return [f"incremental dbt build: not measured: {result.get('reason')}"]
    lines = [f"incremental dbt build ({result['command']}) — week {result['week']}, provinces "
             f"{','.join(result['provinces'])}, {result['orders_per_unit_week']} orders/unit/week",
             f"  {'history':>7} {'orders':>9} {'full build s':>13} {'land s':>7} {'incremental s':>14}  full-refresh =",
             ]
    for r in summary_rows(result):
        lines.append(f"  {r['history_weeks']:>7} {r['orders_generated']:>9,} {r['full_build_s']:>13.1f} "
                     f"{r['land_s']:>7.1f} {r['incremental_build_s']:>14.1f}  {r['full_refresh_matches']}")
    if "ratio" in result:
        lines.append(f"  ratio {result['ratio']:.3f} (target ≤ {result.get('target_ratio', TARGET_RATIO)}: "
                     f"{'met' if result['meets_target'] else 'MISSED'})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lensan_dev.bench.incremental",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, nargs="+", default=list(DEFAULT_HISTORY))
    parser.add_argument("--week", default=DEFAULT_WEEK)
    parser.add_argument("--provinces", nargs="+", default=list(DEFAULT_PROVINCES))
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS, help="orders per reporting unit and week")
    parser.add_argument("--scale", type=float, default=None,
                        help="national weeks at this SF instead of --orders (--provinces narrows them)")
    parser.add_argument("--seed", type=int, default=1034)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--verify", action="store_true", help="also full-refresh and compare checksums")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        a = json.loads(args.case)
        value = run_case(a["history"], a["week"], a["provinces"], a["orders"], a["seed"], a["verify"],
                         scale=a.get("scale"), revise=bool(a.get("revise")))
        emit_result(value)
        return 0
    result = measure(tuple(args.history), args.week, args.provinces, args.orders, args.seed, args.home,
                     args.verify, args.keep, scale=args.scale)
    print("\n".join(render(result)))
    print(json.dumps(result, indent=1, default=str, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

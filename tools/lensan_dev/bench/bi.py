"""BI latency: five named dashboard queries, run as the read-only role `bi_reader` on a history warehouse.

    bench/run --history 26 --bi
    python -m lensan_dev.bench.bi --home <the N-week home of lensan_dev.bench.history> [--runs 20]

The queries, written as a BI analyst writes them against the mart (README "Connect your BI tool"):

1. `weekly_report_province` — the appendix-02 report of one province for one week
   (marts.rpt_weekly_report, in template order);
2. `indicator_trend_provinces` — a 26-week trend of one indicator for all 34 provinces, with their
   names (marts.fct_indicator_values × marts.dim_admin_unit);
3. `unit_completeness` — every expected reporting unit of the nation for one week: status, arrival,
   hours late, rows filled (marts.fct_reporting_completeness);
4. `platform_monthly_gmv` — monthly sales value (gmv_vnd) of one province per platform
   (marts.fct_indicator_values, period_type month);
5. `top_product_types` — the 10 product types with the highest revenue in one month, nationally
   (marts.fct_product_type_monthly, platform all).

Each query runs `warmups` times, then `runs` times with its parameters varied (province, indicator,
week or month drawn from what the warehouse holds, seeded), each time on the same bi_reader
connection, timed from execute to the last row fetched. `measure_bi(home)` returns

    {"measured": True, "home", "runs", "warmups", "met": bool (all five),
     "checks": [{"measure", "value": "12.3 ms", "target": "≤ 100 ms", "met"}, ...],  # report.target_checks
     "queries": {name: {"p50_ms": float, "p95_ms": {"value": 12.3, "target": "≤ 100", "met": True,
                                                    "unit": "ms"},
                        "rows" / "min_rows": <rows of the last / the smallest run>,
                        "plan": <EXPLAIN ANALYZE key lines, only when missed>}}}

or {"measured": False, "reason": ...}. Embedded warehouse only: the history's scratch database on an
external server is dropped after `measure_history`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

from lensan_dev.bench.child import emit_result, run_child
from lensan_dev.bench.incremental import compared, stop_embedded

TARGET_P95_MS = 100.0
DEFAULT_RUNS = 20
DEFAULT_WARMUPS = 2
TREND_WEEKS = 26
INDICATORS = ("hh_with_shop", "orders", "gmv_vnd", "volume_sold_t", "active_accounts", "products_promoted")

QUERIES: dict[str, str] = {
    "weekly_report_province": """
        select sort_order, section, tt, indicator_label_vi, unit_vi, value_in_week, growth_pct, cumulative_value,
               target_value, target_attainment_pct, notes, quality_flags
        from marts.rpt_weekly_report
        where week_key = %(week)s and scope_level = 'province' and scope_code = %(province)s
        order by sort_order""",
    "indicator_trend_provinces": """
        select v.period_key, v.scope_code, a.unit_name as province_name, v.value_in_period, v.cumulative_value,
               v.target_value, v.target_attainment_pct
        from marts.fct_indicator_values v
        join marts.dim_admin_unit a
          on a.map_version = v.map_version and a.unit_level = 'province' and a.unit_code = v.scope_code
        where v.period_type = 'week' and v.scope_level = 'province' and v.map_version = 'post2025'
          and v.platform = 'all' and v.indicator_code = %(indicator)s
          and v.period_key between %(first_week)s and %(week)s
        order by v.scope_code, v.period_key""",
    "unit_completeness": """
        select current_province_code, current_province_name, unit_code, unit_name, reporting_status,
               first_received_at, hours_late, resend_count, reported_rows, expected_rows
        from marts.fct_reporting_completeness
        where week_key = %(week)s
        order by current_province_code, unit_code""",
    "platform_monthly_gmv": """
        select period_key as month_key, platform, value_in_period as gmv_vnd, cumulative_value as gmv_vnd_ytd
        from marts.fct_indicator_values
        where period_type = 'month' and scope_level = 'province' and scope_code = %(province)s
          and map_version = 'post2025' and indicator_code = 'gmv_vnd' and platform in ('postmart', 'voso')
        order by month_key, platform""",
    "top_product_types": """
        select product_group, product_type, orders, volume_t, revenue_vnd
        from marts.fct_product_type_monthly
        where month_key = %(month)s and scope_level = 'nation' and platform = 'all'
        order by revenue_vnd desc
        limit 10""",
}

# the plan lines worth printing when a query misses: scans, joins, sorts and the totals
_PLAN_KEYS = ("Scan", "Join", "Sort", "Aggregate", "Execution Time", "Planning Time")


def _choices(cur) -> dict:
    """What the parameters are drawn from: the weeks, months and provinces the warehouse has data of."""
    cur.execute("select distinct week_key from marts.rpt_weekly_report order by 1")
    weeks = [r[0] for r in cur.fetchall()]
    cur.execute("select distinct month_key from marts.fct_product_type_monthly order by 1")
    months = [r[0] for r in cur.fetchall()]
    cur.execute("select distinct scope_code from marts.rpt_weekly_report where scope_level = 'province' order by 1")
    provinces = [r[0] for r in cur.fetchall()]
    return {"weeks": weeks, "months": months, "provinces": provinces}


def parameters(choices: dict, rng: random.Random) -> dict:
    """One draw of every query's parameters."""
    weeks = choices["weeks"]
    index = rng.randrange(len(weeks))
    return {"week": weeks[index], "first_week": weeks[max(0, index - TREND_WEEKS + 1)],
            "province": rng.choice(choices["provinces"]), "indicator": rng.choice(INDICATORS),
            "month": rng.choice(choices["months"]) if choices["months"] else "0000-00"}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * q // 100) - 1))] if ordered else float("nan")


def plan_lines(cur, sql: str, params: dict) -> list[str]:
    cur.execute("explain (analyze, buffers) " + sql, params)
    return [r[0].strip() for r in cur.fetchall() if any(k in r[0] for k in _PLAN_KEYS)]


def bi_connection():
    """A connection as bi_reader to the configured warehouse (roles ensured by the owner first)."""
    from lensan import settings
    from lensan.db import roles, warehouse

    owner = warehouse.connect()
    try:
        roles.ensure_roles(owner)
    finally:
        owner.close()
    info = dataclasses.replace(warehouse.connection_info(), user=roles.BI_READER,
                               password=settings.load().bi_reader_password or "")
    return info.connect()


def run_queries(runs: int = DEFAULT_RUNS, warmups: int = DEFAULT_WARMUPS, seed: int = 1034) -> dict:
    """Time every query as bi_reader on the current LENSAN_HOME's warehouse (call in a child: measure_bi)."""
    conn = bi_connection()
    conn.autocommit = True   # a dashboard's reads, no transaction held open between them
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    try:
        with conn.cursor() as cur:
            cur.execute("select current_user")
            out["role"] = cur.fetchone()[0]
            choices = _choices(cur)
            out["choices"] = {k: len(v) for k, v in choices.items()}
            queries = {}
            for name, sql in QUERIES.items():
                timings, counts = [], []
                for i in range(warmups + runs):
                    params = parameters(choices, rng)
                    started = time.perf_counter()
                    cur.execute(sql, params)
                    fetched = len(cur.fetchall())
                    if i >= warmups:
                        timings.append((time.perf_counter() - started) * 1000)
                        counts.append(fetched)
                p95 = round(percentile(timings, 95), 2)
                q = {"p50_ms": round(statistics.median(timings), 2),
                     "p95_ms": compared(p95, TARGET_P95_MS, unit="ms"), "max_ms": round(max(timings), 2),
                     "rows": counts[-1], "min_rows": min(counts), "last_params": params}
                if not q["p95_ms"]["met"]:
                    q["plan"] = plan_lines(cur, sql, params)
                queries[name] = q
            out["queries"] = queries
    finally:
        conn.close()
    return out


def not_measured(reason: str) -> dict:
    return {"measured": False, "reason": reason,
            "checks": [{"measure": f"BI p95 as bi_reader ({len(QUERIES)} queries)", "value": "not measured",
                        "target": f"≤ {TARGET_P95_MS:g} ms", "met": None}]}


def measure_bi(home: Path | None, runs: int = DEFAULT_RUNS, warmups: int = DEFAULT_WARMUPS, seed: int = 1034,
               timeout: float | None = 900, say: Callable[[str], None] = print) -> dict:
    """The five queries on the warehouse of `home` (a kept embedded LENSAN_HOME, e.g. measure_history's
    "home"); the shape is in the module doc."""
    from lensan import settings

    if not home:
        return not_measured("no history warehouse: run with --history N")
    if settings.external_warehouse_url():
        return not_measured("external warehouse: the history's scratch database is gone")
    home = Path(home).resolve()
    if not (home / "warehouse").exists():
        return not_measured(f"no embedded warehouse under {home}")
    say(f"BI latency: {len(QUERIES)} queries × {runs} runs (+{warmups} warm-ups) as bi_reader on {home}")
    env = dict(os.environ, LENSAN_HOME=str(home))
    cmd = [sys.executable, "-m", "lensan_dev.bench.bi", "--home", str(home), "--child", "--runs", str(runs),
           "--warmups", str(warmups), "--seed", str(seed)]
    try:
        res = run_child(cmd, env, "BI latency", timeout, echo=lambda line: False, say=say)
    except Exception as exc:  # noqa: BLE001 - a failed measurement is reported, not raised
        return not_measured(f"BI queries failed: {str(exc)[-600:]}")
    finally:
        stop_embedded(home)
    out = {"measured": True, "home": str(home), "runs": runs, "warmups": warmups,
           "met": all(q["p95_ms"]["met"] for q in res["queries"].values()), **res}
    out["checks"] = [{"measure": f"BI p95 as bi_reader: {name}", "value": f"{q['p95_ms']['value']:.1f} ms",
                      "target": f"{q['p95_ms']['target']} ms", "met": q["p95_ms"]["met"]}
                     for name, q in res["queries"].items()]
    return out


def measure_hook(ctx: dict, history: dict | None) -> dict:
    """The benchmark's hook (lensan_dev.bench.run): the queries on the history warehouse of
    `history` (history.measure_hook's result) when `ctx["bi"]`; prints its table."""
    if not ctx.get("bi"):
        return {"measured": False, "reason": "not requested: run with --bi (and --history N)"}
    say = ctx.get("say", print)
    result = measure_bi((history or {}).get("home") if (history or {}).get("measured") else None, say=say)
    say("\n".join(render(result)))
    return result


def render(result: dict) -> list[str]:
    if not result.get("measured"):
        return [f"BI latency: not measured: {result.get('reason')}"]
    lines = [f"BI latency as {result.get('role')} ({result['runs']} runs after {result['warmups']} warm-ups, "
             f"parameters varied)",
             f"  {'query':<28} {'rows':>6} {'p50 ms':>8} {'p95 ms':>8}  target"]
    for name, q in result["queries"].items():
        p95 = q["p95_ms"]
        lines.append(f"  {name:<28} {q['rows']:>6} {q['p50_ms']:>8.1f} {p95['value']:>8.1f}  p95 {p95['target']} ms: "
                     f"{'MET' if p95['met'] else 'MISSED'}")
        for line in q.get("plan", []):
            lines.append(f"      plan: {line}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lensan_dev.bench.bi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--warmups", type=int, default=DEFAULT_WARMUPS)
    parser.add_argument("--seed", type=int, default=1034)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        emit_result(run_queries(args.runs, args.warmups, args.seed))
        return 0
    result = measure_bi(args.home, args.runs, args.warmups, args.seed)
    print("\n".join(render(result)))
    print(json.dumps(result, indent=1, default=str, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

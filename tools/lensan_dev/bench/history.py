"""National history: the weekly incremental dbt build with N weeks of national history vs 1 week.

    bench/run --history 26 [--history-scale 0.1] [--bi]
    python -m lensan_dev.bench.history [--history 26] [--scale 0.1] [--week 2026-W10] [--home DIR] [--bi]

`lensan_dev.bench.incremental.measure` with national weeks (`generate_national(scale, H + 1 weeks)`:
one population over the history and the new week, all 34 provinces / 3,321 communes, scale × 1M
orders a week) for H = 1 and H = N, each case in its own LENSAN_HOME <home>/h<H>. The figure compared
is ratio = incremental_build_s(N) / incremental_build_s(1), target ≤ 1.3. For each case the biggest
raw / intermediate / marts tables are listed with rows and MB, and per week of data (H + 1 weeks).
Each case also publishes its history weeks and times the weekly DAG's revision passes
(lensan_dev.bench.revise): the first pass revises every published week, the one after the new week only
the weeks its files can change, its rerun none.

`measure_history(...)` returns

    {"measured": True, "scale", "week", "history_weeks", "home": <home of the N-week case>, "seconds",
     "cases": {"1": {...}, "N": {...}},     # incremental.run_case figures (generate_s, history_land_s,
                                            # full_build_s, land_s, incremental_build_s, table_sizes...)
     "ratio": {"value": 1.12, "target": "≤ 1.3", "met": True, "unit": "×",
               "numerator_s": ..., "denominator_s": ...},
     "table_sizes": {"1": {table: {rows, mb, rows_per_week, mb_per_week}}, "N": {...}},
     "revise": {"publish_history", "first_pass", "publish_new_week", "after_new_week", "rerun"},  # N case
     "checks": [{"measure", "value": "1.120", "target": "≤ 1.3", "met"}]}   # for report.target_checks

or {"measured": False, "reason": ...}. The N-week home stays (its embedded warehouse stopped) so that
`lensan_dev.bench.bi.measure_bi(result["home"])` reads the same history.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

from lensan_dev.bench import incremental, revise

TARGET_RATIO = 1.3
DEFAULT_HISTORY = 26
DEFAULT_SCALE = 0.1


def per_week(sizes: dict, weeks: int) -> dict:
    """Table sizes with rows and MB per week of data."""
    return {name: {**s, "rows_per_week": round(s["rows"] / weeks), "mb_per_week": round(s["mb"] / weeks, 2)}
            for name, s in sizes.items()}


def measure_history(history: int = DEFAULT_HISTORY, scale: float = DEFAULT_SCALE, week: str = incremental.DEFAULT_WEEK,
                    seed: int = 1034, home: Path | None = None, provinces: list[str] | None = None,
                    verify: bool = False, timeout: float | None = None,
                    say: Callable[[str], None] = print, with_revisions: bool = True) -> dict:
    """1 vs `history` weeks of national history at `scale` (see the module doc for the result's shape).
    `provinces` narrows the nation (tests only); `with_revisions` False leaves out the revision passes (they
    publish every history week: about an hour nationally)."""
    started = time.perf_counter()
    lengths = tuple(sorted({1, int(history)}))
    try:
        res = incremental.measure(history=lengths, week=week, provinces=list(provinces or []), seed=seed,
                                  home=home, verify=verify, timeout=timeout, say=say, scale=scale,
                                  target=TARGET_RATIO, revise=with_revisions)
    except Exception as exc:  # noqa: BLE001 - a failed measurement is reported, not raised
        failed = {"measured": False, "reason": f"history build failed: {str(exc)[-600:]}", "history_weeks": history}
        return {**failed, "checks": [check(failed)]}
    cases = res["cases"]
    lo, hi = cases[str(lengths[0])], cases[str(lengths[-1])]
    out: dict[str, Any] = {
        "measured": True, "scale": scale, "week": week, "history_weeks": lengths[-1],
        "provinces": list(provinces or []) or "all", "command": res["command"], "cases": cases,
        "home": str(Path(res["home"]) / f"h{lengths[-1]}"),
        "ratio": incremental.compared(res.get("ratio"), TARGET_RATIO, unit="×",
                                      numerator_s=hi["incremental_build_s"], denominator_s=lo["incremental_build_s"]),
        "table_sizes": {h: per_week(c.get("table_sizes", {}), int(h) + 1) for h, c in cases.items()},
        "seconds": round(time.perf_counter() - started, 1)}
    out["revise"] = hi.get("revise") or {}
    out["checks"] = [check(out)] + revise_check(out)
    return out


def check(result: dict) -> dict:
    """The closing table's row (lensan_dev.bench.report.target_checks): measure, value, target, met."""
    measure = f"incremental build {result.get('history_weeks', DEFAULT_HISTORY)} / 1 weeks of national history"
    if not result.get("measured"):
        return {"measure": measure, "value": "not measured", "target": f"≤ {TARGET_RATIO}", "met": None}
    r = result["ratio"]
    value = "–" if r["value"] is None else f"{r['value']:.3f}"
    return {"measure": f"{measure} (SF {result['scale']:g})", "value": value, "target": r["target"],
            "met": r["met"] if r["value"] is not None else None}


def revise_check(result: dict) -> list[dict]:
    """The closing table's row for the revision pass after the new week on the N-week history: met when
    it revised fewer weeks than were published and its rerun revised none."""
    figures = result.get("revise") or {}
    after, rerun, first = (figures.get(k) for k in ("after_new_week", "rerun", "first_pass"))
    if not (after and rerun and first):
        return []
    published = first["revised"] + first["untouched"]
    return [{"measure": f"weeks revised after a new week, {published} weeks published (rerun)",
             "value": f"{after['revised']} ({rerun['revised']})", "target": f"< {published} (0)",
             "met": after["revised"] < published and rerun["revised"] == 0}]


def measure_hook(ctx: dict) -> dict:
    """The benchmark's hook (lensan_dev.bench.run): `ctx["history"]` weeks at `ctx["history_scale"]`
    under <home>/history; prints its table."""
    if not ctx.get("history"):
        return {"measured": False, "reason": "not requested: run with --history N"}
    say = ctx.get("say", print)
    say(f"national history: 1 vs {ctx['history']} weeks at SF {ctx.get('history_scale', DEFAULT_SCALE):g}")
    result = measure_history(int(ctx["history"]), float(ctx.get("history_scale") or DEFAULT_SCALE),
                             home=Path(ctx["home"]) / "history", say=say)
    say("\n".join(render(result)))
    return result


def render(result: dict) -> list[str]:
    if not result.get("measured"):
        return [f"national history: not measured: {result.get('reason')}"]
    r = result["ratio"]
    lines = [f"national history (SF {result['scale']:g}, provinces {result['provinces']}, new week {result['week']}; "
             f"{result['command']})",
             f"  {'history':>7} {'orders':>10} {'generate s':>10} {'land hist s':>11} {'full build s':>12} "
             f"{'land s':>7} {'incremental s':>13} {'checkpoints in it':>17}"]
    for h, c in sorted(result["cases"].items(), key=lambda kv: int(kv[0])):
        lines.append(f"  {h:>7} {c['orders_generated']:>10,} {c['generate_s']:>10.1f} {c['history_land_s']:>11.1f} "
                     f"{c['full_build_s']:>12.1f} {c['land_s']:>7.1f} {c['incremental_build_s']:>13.1f} "
                     f"{c.get('checkpoints_during_build', '?'):>17}")
    for h, sizes in sorted(result["table_sizes"].items(), key=lambda kv: int(kv[0])):
        lines.append(f"  tables with {h} week(s) of history ({int(h) + 1} weeks of data): rows, MB, per week")
        for name, s in sizes.items():
            lines.append(f"    {name:<52} {s['rows']:>11,} {s['mb']:>9.1f} MB {s['rows_per_week']:>10,}/wk "
                         f"{s['mb_per_week']:>8.2f} MB/wk")
    lines += grown_nodes(result)
    revised = result.get("revise") or {}
    if revised.get("first_pass"):
        first = revised["first_pass"]
        lines += revise.render(revised, first["revised"] + first["untouched"])
    lines.append(f"  incremental build {result['history_weeks']} / 1 weeks of history: {r['value']} "
                 f"(target {r['target']}: {'MET' if r['met'] else 'MISSED'})")
    return lines


def grown_nodes(result: dict, top: int = 6) -> list[str]:
    """The dbt nodes of the incremental build whose time grew most from 1 to N weeks of history."""
    cases = sorted(result["cases"].items(), key=lambda kv: int(kv[0]))
    (lo_h, lo), (hi_h, hi) = cases[0], cases[-1]
    if lo_h == hi_h or not hi.get("slowest_nodes"):
        return []
    before = {n["node"]: n["seconds"] for n in lo.get("slowest_nodes") or []}
    grown = sorted(((n["seconds"] - before.get(n["node"], 0.0), n) for n in hi["slowest_nodes"]),
                   key=lambda pair: pair[0], reverse=True)[:top]
    return [f"  incremental build, nodes that grew most from {lo_h} to {hi_h} weeks of history: "
            + ", ".join(f"{n['node']} {before.get(n['node'], 0):.1f} → {n['seconds']:.1f} s" for _, n in grown)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lensan_dev.bench.history", description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, default=DEFAULT_HISTORY)
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--week", default=incremental.DEFAULT_WEEK)
    parser.add_argument("--provinces", nargs="*", default=None, help="narrow the nation (tests)")
    parser.add_argument("--home", type=Path, required=True, help="throw-away directory (one home per case)")
    parser.add_argument("--bi", action="store_true", help="then the BI latency on the N-week warehouse")
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--no-revise", dest="with_revisions", action="store_false",
                        help="only the incremental builds, not the revision passes")
    args = parser.parse_args(argv)
    result = measure_history(args.history, args.scale, args.week, home=args.home, provinces=args.provinces,
                             verify=args.verify, with_revisions=args.with_revisions)
    print("\n".join(render(result)))
    if args.bi and result.get("measured"):
        from lensan_dev.bench import bi

        result["bi"] = bi.measure_bi(Path(result["home"]))
        print("\n".join(bi.render(result["bi"])))
    print(json.dumps(result, indent=1, default=str, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""National-scale benchmark: generate a national week, then load its orders three ways, side by side.

    bench/run [--scale 1] [--week 2026-W46] [--home /tmp/bench_home] [--out DIR] [--to-sql-sample 100000]
    bench/run rush [--communes N] [--clients 50]     (the portal's Thursday rush: lensan_dev.bench.rush)
    bench/run --scale 1 --history 26 --bi           (+ national history and BI latency: bench.history, bench.bi)

In a throw-away LENSAN_HOME with the embedded warehouse (`lensan.db.warehouse`):

1. `generate` — `lensan_dev.generate.scale.generate_national(scale, week)`; the postmart and voso *orders*
   files are set aside under <home>/bench/orders/ (the rows every method loads), the other files under
   <home>/bench/rest/.
2. `decode` (not a method, not compared) — the orders files decoded once into PostgreSQL COPY text
   (<home>/bench/decoded/<platform>.copy): file_id, extract_date, row_number, then the raw text columns.
3. (a) `copy` — bare `COPY bench.copy_<platform>_orders FROM STDIN` of the decoded rows into tables
   `LIKE raw.<platform>_orders INCLUDING ALL` (same columns, primary key): the lower bound.
   (b) `land` — the orders files linked into landing/ and `lensan.landing.land_pending(['postmart'])`
   then `(['voso'])`: archive + SHA-256 + parse/validate + pseudonymisation + COPY into raw.*.
   (c) `to_sql` — pandas `DataFrame.to_sql` (SQLAlchemy engine, method=None, chunksize=10,000,
   if_exists='append') of the same decoded rows into `bench.tosql_<platform>_orders`; above
   `--to-sql-sample` rows only a sample is loaded and the time is scaled linearly (the output says so).
   Each runs in its own subprocess, after a CHECKPOINT (the previous method's writes are not flushed
   during the next one); its peak RSS is that process's `ru_maxrss` (the PostgreSQL server's memory is
   not included).
4. When lensan/COPY misses its target, `profile` lands one day of orders again under cProfile and
   times the landing stages separately (archive, parse + validate + COPY text, + pseudonymise) on the
   same files, and the server's share alone (a COPY of landing's own COPY text, made beforehand).
4b. `land_workers` — the same orders landed again as the ingest DAG's mapped tasks (planned groups of whole
   entity-days), by 1 then 2 worker processes: the per-core figures of the README's "Scaling out".
5. Hooks for measurements that depend on other modules: `measure_incremental_build` (dbt build with 1
   vs 26 weeks of history) and `measure_end_to_end` (land + dbt build + gate + publish of the week);
   each returns figures or {"measured": False, "reason": ...}.

With `--history N` (`lensan_dev.bench.history`): the incremental build of a national week at
`--history-scale` (default SF 0.1) with N weeks of history vs 1 week (target ≤ 1.3), table sizes per week of
history; with `--bi` (`lensan_dev.bench.bi`): five named dashboard queries as `bi_reader` on that history
(target p95 ≤ 100 ms each). The run ends with one table: every compared figure, its target, MET or MISSED.

Everything is printed as a table and written to <out>/bench.json. MB/s always divides the size of the
orders files as delivered (postmart CSV + voso gzip) by the method's seconds, so the three are
comparable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from lensan_dev.bench.child import emit_result, run_step
from lensan_dev.bench.common import PLATFORMS, checkpoint, stop_embedded_warehouse
from lensan_dev.bench.bi import measure_hook as measure_bi
from lensan_dev.bench.e2e import measure_end_to_end, step_end_to_end
from lensan_dev.bench.history import measure_hook as measure_history
from lensan_dev.bench.incremental import measure_hook as measure_incremental_build
from lensan_dev.bench.methods import step_copy, step_decode, step_generate, step_land, step_land_workers, step_to_sql
from lensan_dev.bench.profile_landing import step_profile
from lensan_dev.bench.report import TARGET_VS_COPY, TARGET_VS_TO_SQL, cpu_budget, method_row, render, render_targets

DEFAULT_TO_SQL_SAMPLE = 100_000
HOME_MARKER = ".lensan_bench_home"


def default_week(today: dt.date | None = None) -> str:
    """The week before the last complete one: every simulated delivery of it is in the past."""
    from lensan.calendar import periods

    today = today or dt.datetime.now(dt.timezone.utc).date()
    return periods.week_key(today - dt.timedelta(days=today.isoweekday() + 7))


def _prepare_home(home: Path) -> None:
    home = home.resolve()
    if home.exists() and any(home.iterdir()):
        if not (home / HOME_MARKER).exists():
            raise SystemExit(f"{home} is not empty and is not a bench home (no {HOME_MARKER}); refusing to wipe it")
        os.environ["LENSAN_HOME"] = str(home)
        stop_embedded_warehouse()
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / HOME_MARKER).write_text("throw-away LENSAN_HOME of lensan_dev.bench; wiped by the next run\n")


def run_benchmark(scale: float = 1.0, home: Path | None = None, out: Path | None = None, week: str | None = None,
                  seed: int = 1034, to_sql_sample: int = DEFAULT_TO_SQL_SAMPLE, profile: str = "auto",
                  skip_e2e: bool = False, keep: bool = False,
                  say: Callable[[str], None] = print, incremental: bool = False, history: int = 0,
                  history_scale: float = 0.1, bi: bool = False) -> dict:
    """Run the whole benchmark; return (and write to <out>/bench.json) the results."""
    previous_home = os.environ.get("LENSAN_HOME")
    try:
        return _run_benchmark(scale, home, out, week, seed, to_sql_sample, profile, skip_e2e, keep, say, incremental,
                              {"history": history, "history_scale": history_scale, "bi": bi})
    finally:  # a library call must not leave the process pointed at the throw-away home
        if previous_home is None:
            os.environ.pop("LENSAN_HOME", None)
        else:
            os.environ["LENSAN_HOME"] = previous_home


def _run_benchmark(scale, home, out, week, seed, to_sql_sample, profile, skip_e2e, keep, say,
                   incremental=False, history_args: dict | None = None) -> dict:
    home = Path(home) if home else Path(tempfile.mkdtemp(prefix="lensan-bench-"))
    _prepare_home(home)
    home = home.resolve()
    os.environ["LENSAN_HOME"] = str(home)
    out = Path(out) if out else home / "out"
    out.mkdir(parents=True, exist_ok=True)
    week = week or default_week()
    started = time.perf_counter()
    result: dict[str, Any] = {"scale": scale, "week": week, "seed": seed, "home": str(home),
                              "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                              "targets": {"lensan_vs_copy": TARGET_VS_COPY, "lensan_vs_to_sql": TARGET_VS_TO_SQL}}
    try:
        say(f"[1/6] generate national week {week} at scale {scale} into {home}")
        gen = run_step("generate", home, {"scale": scale, "week": week, "seed": seed})
        result["generate"] = gen
        say(f"      {gen['rows']:,} rows in {gen['files']:,} files ({gen['mb']:.1f} MB) in {gen['seconds']:.1f} s, "
            f"peak RSS {gen['peak_rss_mb']:.0f} MB")
        say("[2/6] decode the orders files once (input of COPY and to_sql)")
        decoded = run_step("decode", home, {})
        result["decoded"] = decoded
        rows = {p: decoded[p]["rows"] for p in PLATFORMS}
        mb = {p: decoded[p]["input_mb"] for p in PLATFORMS}
        say("[3/6] (a) bare COPY FROM STDIN")
        checkpoints = [checkpoint()]
        copy = run_step("copy", home, {})
        say("[4/6] (b) lensan landing (land_pending)")
        checkpoints.append(checkpoint())
        land = run_step("land", home, {})
        say(f"[5/6] (c) pandas DataFrame.to_sql (sample ≤ {to_sql_sample:,} rows)")
        checkpoints.append(checkpoint())
        to_sql = run_step("to_sql", home, {"sample": to_sql_sample, "total_rows": rows})
        result["checkpoint_before_each_method"] = all(checkpoints)
        result["raw"] = {"copy": copy, "land": land, "to_sql": to_sql}
        say("      (d) landing as the ingest DAG's mapped tasks: planned groups, 1 then 2 worker processes")
        result["land_workers"] = [run_step("land_workers", home, {"workers": n}) for n in (1, 2)]

        total_rows, total_mb = sum(rows.values()), sum(mb.values())
        landed_rows = sum(land["platforms"][p]["rows"] for p in PLATFORMS)
        extrapolated = any(to_sql["platforms"][p]["extrapolated"] for p in PLATFORMS)
        loaded = sum(to_sql["platforms"][p]["rows_loaded"] for p in PLATFORMS)
        methods = [
            method_row("COPY (bare)", sum(copy["platforms"][p]["rows"] for p in PLATFORMS),
                       sum(copy["platforms"][p]["seconds"] for p in PLATFORMS), total_mb, copy["peak_rss_mb"]),
            method_row("lensan landing", landed_rows, sum(land["platforms"][p]["seconds"] for p in PLATFORMS),
                       total_mb, land["peak_rss_mb"]),
            method_row("pandas to_sql", total_rows, sum(to_sql["platforms"][p]["seconds"] for p in PLATFORMS),
                       total_mb, to_sql["peak_rss_mb"],
                       note=(f"measured on {loaded:,} rows, time scaled linearly to {total_rows:,}" if extrapolated
                             else "")),
        ]
        per_platform = {}
        for p in PLATFORMS:
            per_platform[p] = [
                method_row("COPY (bare)", copy["platforms"][p]["rows"], copy["platforms"][p]["seconds"], mb[p],
                           copy["peak_rss_mb"]),
                method_row("lensan landing", land["platforms"][p]["rows"], land["platforms"][p]["seconds"], mb[p],
                           land["peak_rss_mb"]),
                method_row("pandas to_sql", rows[p], to_sql["platforms"][p]["seconds"], mb[p], to_sql["peak_rss_mb"],
                           note="extrapolated" if to_sql["platforms"][p]["extrapolated"] else ""),
            ]
        rate = {m["method"]: m["rows_per_s"] or 0.0 for m in methods}
        ratios = {"lensan_vs_copy": round(rate["lensan landing"] / rate["COPY (bare)"], 3),
                  "lensan_vs_to_sql": round(rate["lensan landing"] / rate["pandas to_sql"], 3)}
        ratios["meets_copy_target"] = ratios["lensan_vs_copy"] >= TARGET_VS_COPY
        ratios["meets_to_sql_target"] = ratios["lensan_vs_to_sql"] >= TARGET_VS_TO_SQL
        result["cpu"] = cpu_budget(copy, land, methods[0]["seconds"])
        result.update({"rows": total_rows, "input_mb": round(total_mb, 2), "methods": methods,
                       "per_platform": per_platform, "ratios": ratios,
                       "landing_row_check": {"expected": total_rows, "landed": landed_rows,
                                             "quarantined": sum(len(land["platforms"][p]["quarantined"])
                                                                for p in PLATFORMS)}})

        want_profile = profile == "always" or (profile == "auto" and not ratios["meets_copy_target"])
        if want_profile:
            say("[6/6] profile: one day of orders landed again under cProfile")
            result["landing_profile"] = run_step("profile", home, {})
        else:
            result["landing_profile"] = {"measured": False, "reason": "lensan/COPY meets its target" if
                                         profile == "auto" else "disabled (--profile never)"}
        (out / "bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str),
                                        encoding="utf-8")
        say(render(result))
        ctx = {"home": home, "week": week, "skip_e2e": skip_e2e, "scale": scale, "incremental": incremental,
               "say": say, **(history_args or {})}
        say("hooks: incremental dbt build, end-to-end land+build+gate+publish")
        result["incremental_build"] = measure_incremental_build(ctx)
        result["end_to_end"] = measure_end_to_end(ctx)
        result["history"] = measure_history(ctx)   # national history (lensan_dev.bench.history)
        result["bi"] = measure_bi(ctx, result["history"])   # dashboard queries on that history
    finally:
        result["total_seconds"] = round(time.perf_counter() - started, 1)
        (out / "bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str),
                                        encoding="utf-8")
        if not keep:
            stop_embedded_warehouse()
    say(render(result, hooks_only=True))
    say(render_targets(result))
    say(f"written: {out / 'bench.json'}")
    return result


STEPS = {
    "generate": lambda home, a: step_generate(home, float(a["scale"]), a["week"], int(a["seed"])),
    "decode": lambda home, a: step_decode(home),
    "copy": lambda home, a: step_copy(home),
    "land": lambda home, a: step_land(home),
    "to_sql": lambda home, a: step_to_sql(home, int(a["sample"]), a["total_rows"]),
    "land_workers": lambda home, a: step_land_workers(home, int(a["workers"])),
    "profile": lambda home, a: step_profile(home),
    "end_to_end": lambda home, a: step_end_to_end(home, a["week"]),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["rush"]:   # the portal's Thursday rush (lensan_dev.bench.rush), options of its own
        from lensan_dev.bench import rush

        return rush.main(argv[1:])
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="SF: ~scale million orders (default 1)")
    parser.add_argument("--week", default=None, help="ISO week on the post-reform map (default: the week before "
                                                     "the last complete one)")
    parser.add_argument("--home", type=Path, default=None,
                        help="throw-away LENSAN_HOME (default: a new temporary directory); wiped at start if it "
                             "holds a previous bench run")
    parser.add_argument("--out", type=Path, default=None, help="where bench.json goes (default <home>/out)")
    parser.add_argument("--seed", type=int, default=1034)
    parser.add_argument("--to-sql-sample", type=int, default=DEFAULT_TO_SQL_SAMPLE,
                        help="to_sql loads at most this many rows and scales the time linearly")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="profile landing when lensan/COPY misses its target (auto)")
    parser.add_argument("--skip-e2e", action="store_true", help="do not run the end-to-end hook")
    parser.add_argument("--incremental", action="store_true",
                        help="also measure the weekly incremental dbt build, 1 vs 26 weeks of history")
    parser.add_argument("--history", type=int, default=0, metavar="N",
                        help="also the incremental build with N vs 1 weeks of national history (26)")
    parser.add_argument("--history-scale", type=float, default=0.1, help="SF of the history weeks (0.1)")
    parser.add_argument("--bi", action="store_true", help="also the BI queries as bi_reader on that history")
    parser.add_argument("--keep", action="store_true", help="leave the embedded warehouse running")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--step-args", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        home = Path(args.home).resolve()
        os.environ["LENSAN_HOME"] = str(home)
        value = STEPS[args.step](home, json.loads(args.step_args))
        emit_result(value)
        return 0
    run_benchmark(args.scale, home=args.home, out=args.out, week=args.week, seed=args.seed,
                  to_sql_sample=args.to_sql_sample, profile=args.profile, skip_e2e=args.skip_e2e, keep=args.keep,
                  incremental=args.incremental, history=args.history, history_scale=args.history_scale, bi=args.bi)
    return 0


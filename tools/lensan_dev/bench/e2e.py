"""The end-to-end hook: land the whole national week, dbt build (seeds included), gate, publish."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lensan_dev.bench.child import run_step
from lensan_dev.bench.common import PLATFORMS, bench_dir, checkpoint, link_into_landing, order_files, \
    reset_landed_orders
from lensan_dev.bench.methods import land_groups_in_workers
from lensan_dev.generate.scale import peak_rss_mb

LAND_WORKERS = 2   # the machine's cores: the ingest DAG runs up to 8 group tasks at once


def step_end_to_end(home: Path, week: str) -> dict:
    """Land the whole national week (orders again + every other file), dbt build (seeds included), gate, publish."""
    from lensan.quality import checkpoints
    from lensan.quality.summary import GateFailed
    from lensan.publish import service as publish
    from lensan.db import warehouse
    from lensan.transform.dbt import PRODUCTION_BUILD, ensure_manifest, run_dbt
    from lensan.landing.groups import plan_groups

    conn = warehouse.connect()
    reset_landed_orders(conn)
    conn.close()
    checkpoint()
    for platform in PLATFORMS:
        link_into_landing(order_files(home, platform), home, platform)
    rest = bench_dir(home) / "rest"
    for folder in sorted(rest.iterdir()) if rest.exists() else []:
        link_into_landing(sorted(folder.iterdir()), home, folder.name)
    # parsed before the clock, as the deployment's airflow-init (`lensan dbt-manifest`) does: the build
    # then parses partially, as every transform run does after the first
    ensure_manifest()
    timings: dict[str, Any] = {}
    # as the ingest DAG lands: its mapped tasks, one per planned group, two at a time on 2 cores
    landed = land_groups_in_workers(plan_groups(), LAND_WORKERS)
    timings["land_s"] = landed["seconds"]
    timings["land_rows"] = landed["rows"]
    timings["land_files"] = landed["files"]
    timings["land_workers"] = LAND_WORKERS
    timings["quarantined"] = landed["quarantined"]
    t = time.perf_counter()
    run_dbt(PRODUCTION_BUILD)   # seeds included, unit tests not, as the transform DAG's task group builds
    timings["dbt_build_s"] = time.perf_counter() - t
    slowest = slowest_nodes()
    t = time.perf_counter()
    gate_summary = None
    try:
        gate_summary = checkpoints.run_checkpoint("marts", {"week_key": week})
        timings["gate_status"] = gate_summary.get("status")
    except GateFailed as exc:
        gate_summary = exc.summary
        timings["gate_status"] = "failed"
    timings["gate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pub = publish.publish_weekly(week, gate_summary=gate_summary)
    timings["publish_s"] = time.perf_counter() - t
    timings["published_scopes"] = len(pub.published) + len(pub.unchanged)
    timings["blocked_scopes"] = len(pub.blocked)
    timings["total_s"] = sum(v for k, v in timings.items() if k.endswith("_s"))
    return timings | {"measured": True, "peak_rss_mb": peak_rss_mb(), "slowest_dbt_nodes": slowest}


def slowest_nodes(top: int = 10) -> list[dict]:
    """The dbt nodes of the last invocation that took longest (target/run_results.json): where the
    build's time goes, printed next to a missed end-to-end target."""
    import json

    from lensan.transform.dbt import target_dir

    try:
        results = json.loads((target_dir() / "run_results.json").read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    nodes = sorted(results, key=lambda r: r.get("execution_time") or 0, reverse=True)[:top]
    return [{"node": r["unique_id"].split(".", 2)[-1], "seconds": round(r.get("execution_time") or 0, 1)}
            for r in nodes]


def measure_end_to_end(ctx: dict) -> dict:
    """End-to-end land + build + gate + publish of the national week, if those modules are there."""
    try:
        from lensan.transform.dbt import run_dbt  # noqa: F401
        from lensan.publish.service import publish_weekly  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return {"measured": False, "reason": f"lensan.transform.dbt.run_dbt / lensan.publish.service.publish_weekly unavailable: {exc}"}
    if ctx.get("skip_e2e"):
        return {"measured": False, "reason": "skipped (--skip-e2e)"}
    try:
        return run_step("end_to_end", ctx["home"], {"week": ctx["week"]}, timeout=ctx.get("e2e_timeout", 3600))
    except Exception as exc:  # noqa: BLE001
        return {"measured": False, "reason": f"end-to-end run failed: {str(exc)[-600:]}"}

"""The benchmark's figures and targets: method rows, the CPU budget, and the table printed at the end."""

from __future__ import annotations

import os

from lensan_dev.bench.common import PLATFORMS

TARGET_VS_COPY = 0.7
TARGET_VS_TO_SQL = 10.0
TARGET_END_TO_END_S = 180.0   # issue #17: a national SF1 week landed, built, gated and published in 3 min


def cpu_budget(copy: dict, land: dict, copy_seconds: float) -> dict:
    """CPU seconds of the bare COPY and of landing (client, server), and what they allow: on this
    machine's cores, landing cannot take less than (client + server) / cores, so lensan/COPY cannot
    exceed the bare COPY's seconds divided by that, however well client and server overlap."""
    budget = {"cores": os.cpu_count(),
              "copy": {"client_cpu_s": copy.get("client_cpu_s"), "server_cpu_s": copy.get("server_cpu_s")},
              "land": {"client_cpu_s": land.get("client_cpu_s"), "server_cpu_s": land.get("server_cpu_s")}}
    if land.get("server_cpu_s") is not None and land.get("client_cpu_s") is not None:
        floor = (land["client_cpu_s"] + land["server_cpu_s"]) / budget["cores"]
        budget["landing_floor_s"] = round(floor, 2)
        budget["lensan_vs_copy_ceiling"] = round(copy_seconds / floor, 3) if floor > 0 else None
    return budget


def method_row(name: str, rows: int, seconds: float, mb: float, rss: float, note: str = "") -> dict:
    return {"method": name, "rows": rows, "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds, 1) if seconds else None,
            "mb_per_s": round(mb / seconds, 2) if seconds else None, "peak_rss_mb": round(rss, 1), "note": note}


def render(result: dict, hooks_only: bool = False) -> str:
    """The table printed at the end (also readable from bench.json)."""
    if hooks_only:
        return "\n".join(_hook_lines(result))
    return "\n".join(_table_lines(result) + _hook_lines(result))


def _table_lines(result: dict) -> list[str]:
    lines = [f"lensan national benchmark — scale {result.get('scale')} · week {result.get('week')} · "
             f"{result.get('rows', 0):,} order rows · {result.get('input_mb', 0):,.1f} MB of orders files "
             f"(postmart CSV + voso gzip)"]
    gen = result.get("generate")
    if gen:
        lines.append(f"generate_national: {gen['rows']:,} rows / {gen['files']:,} files / {gen['mb']:,.1f} MB in "
                     f"{gen['seconds']:,.1f} s ({gen['rows'] / gen['seconds']:,.0f} rows/s, "
                     f"{gen['mb'] / gen['seconds']:,.1f} MB/s), peak RSS {gen['peak_rss_mb']:,.0f} MB")
    header = f"{'method':<16} {'rows':>11} {'seconds':>9} {'rows/s':>11} {'MB/s':>8} {'peak RSS MB':>12}  note"
    for title, methods in [("both platforms", result.get("methods"))] + \
            [(p, result.get("per_platform", {}).get(p)) for p in PLATFORMS]:
        if not methods:
            continue
        lines += ["", f"[{title}]", header, "-" * len(header)]
        for m in methods:
            lines.append(f"{m['method']:<16} {m['rows']:>11,} {m['seconds']:>9.2f} {m['rows_per_s'] or 0:>11,.0f} "
                         f"{m['mb_per_s'] or 0:>8.2f} {m['peak_rss_mb']:>12.0f}  {m['note']}")
    ratios = result.get("ratios")
    if ratios:
        lines += ["", f"lensan / COPY   = {ratios['lensan_vs_copy']:.3f}  (target ≥ {TARGET_VS_COPY}: "
                      f"{'met' if ratios['meets_copy_target'] else 'MISSED'})",
                  f"lensan / to_sql = {ratios['lensan_vs_to_sql']:.2f}  (target ≥ {TARGET_VS_TO_SQL:g}: "
                  f"{'met' if ratios['meets_to_sql_target'] else 'MISSED'})"]
    cpu = result.get("cpu") or {}
    if cpu.get("landing_floor_s") is not None:
        c, land = cpu["copy"], cpu["land"]
        lines += [f"CPU seconds, client + server: bare COPY {c['client_cpu_s']:.2f} + {c['server_cpu_s']:.2f}, "
                  f"landing {land['client_cpu_s']:.2f} + {land['server_cpu_s']:.2f}; on {cpu['cores']} cores landing "
                  f"needs ≥ {cpu['landing_floor_s']:.2f} s, so lensan / COPY ≤ {cpu['lensan_vs_copy_ceiling']:.3f} "
                  f"however well the two overlap"]
    prof = result.get("landing_profile") or {}
    if prof.get("top_tottime"):
        lines += ["", f"where landing's time goes — {prof['rows_total']:,} rows ({', '.join(prof['files'].values())}), "
                      f"land_pending {prof['landing_seconds']:.2f} s = {prof['landing_rows_per_s']:,} rows/s:",
                  f"  {'stage':<28} {'seconds':>8} {'share':>7} {'µs/row':>8}"]
        for k, v in prof["stages_s"].items():
            lines.append(f"  {k:<28} {v:>8.2f} {prof['stages_share'][k]:>7.1%} {prof['stages_us_per_row'][k]:>8.2f}")
        if prof.get("server_copy_alone_s") is not None:
            lines.append(f"  (the server alone, COPY of landing's own COPY text made beforehand: "
                         f"{prof['server_copy_alone_s']:.2f} s, {prof['server_copy_alone_us_per_row']:.2f} µs/row)")
        lines.append(f"  landing under cProfile: {prof['landing_under_profiler_s']:.2f} s; top functions by own time:")
        for e in prof["top_tottime"][:12]:
            lines.append(f"    {e['tottime_s']:>8.3f} s own {e['cumtime_s']:>8.3f} s cum {e['calls']:>9,}  {e['function']}")
    return lines


def _hook_lines(result: dict) -> list[str]:
    lines = []
    for key, title in (("incremental_build", "incremental dbt build (1 vs 26 weeks)"),
                       ("end_to_end", "end-to-end land+build+gate+publish")):
        hook = result.get(key)
        if hook is None:
            continue
        if hook.get("measured"):
            figures = ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in hook.items()
                                if k not in ("measured", "slowest_dbt_nodes", "checks"))
            lines.append(f"{title}: {figures}")
            if hook.get("slowest_dbt_nodes"):
                lines.append("  slowest dbt nodes: " + ", ".join(f"{n['node']} {n['seconds']:.0f} s"
                                                                 for n in hook["slowest_dbt_nodes"]))
        else:
            lines.append(f"{title}: not measured: {hook.get('reason')}")
    return lines


def target_checks(result: dict) -> list[dict]:
    """Every compared figure of the run: {"measure", "value", "target", "met"}. The hooks (history, BI)
    return their own under "checks"; a figure not measured in this run is listed as such (met None)."""
    checks = []
    ratios = result.get("ratios") or {}
    if ratios:
        checks.append({"measure": "landing / bare COPY (rows/s)", "value": f"{ratios['lensan_vs_copy']:.3f}",
                       "target": f"≥ {TARGET_VS_COPY}", "met": ratios["meets_copy_target"]})
        checks.append({"measure": "landing / pandas to_sql (rows/s)", "value": f"{ratios['lensan_vs_to_sql']:.1f}",
                       "target": f"≥ {TARGET_VS_TO_SQL:g}", "met": ratios["meets_to_sql_target"]})
    e2e = result.get("end_to_end") or {}
    if e2e.get("measured"):
        checks.append({"measure": "end to end: land + dbt build + gate + publish",
                       "value": f"{e2e['total_s']:.0f} s", "target": f"≤ {TARGET_END_TO_END_S:.0f} s",
                       "met": e2e["total_s"] <= TARGET_END_TO_END_S})
    else:
        checks.append({"measure": "end to end", "value": "not measured", "target": f"≤ {TARGET_END_TO_END_S:.0f} s",
                       "met": None})
    for key in ("incremental_build", "history", "bi"):
        hook = result.get(key) or {}
        checks += hook.get("checks") or []
    return checks


def render_targets(result: dict) -> str:
    """The closing table: every figure with its target and MET / MISSED, and the per-core landing figures."""
    lines = ["", "targets (issue #17):"]
    for c in target_checks(result):
        verdict = "not measured" if c["met"] is None else ("MET" if c["met"] else "MISSED")
        lines.append(f"  {c['measure']:<58} {c['value']:>14}  target {c['target']:<10} {verdict}")
    workers = result.get("land_workers") or []
    if workers:
        lines.append("landing per worker process (the mapped ingest tasks; planned groups of whole entity-days):")
        for w in workers:
            cpu = "" if w.get("server_cpu_s") is None else \
                f", CPU client {w['client_cpu_s']:.1f} s + server {w['server_cpu_s']:.1f} s"
            lines.append(f"  {w['workers']} worker(s): {w['rows']:,} rows in {w['seconds']:.2f} s = "
                         f"{w['rows_per_s']:,.0f} rows/s ({w['rows_per_s'] / w['workers']:,.0f} per worker), "
                         f"{w['groups']} groups{cpu}")
    return "\n".join(lines)

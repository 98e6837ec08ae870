"""The national benchmark runs end to end at a tiny scale and reports every figure (no timing asserts)."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lensan import reference

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
SCALE = 0.002
METHODS = ("COPY (bare)", "lensan landing", "pandas to_sql")
FIGURES = ("rows", "seconds", "rows_per_s", "mb_per_s", "peak_rss_mb")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> tuple[Path, dict, str]:
    home = tmp_path_factory.mktemp("bench") / "home"
    out = home.parent / "out"
    env = dict(os.environ)
    env.pop("LENSAN_WAREHOUSE_URL", None)   # the benchmark owns its embedded warehouse
    proc = subprocess.run([str(ROOT / "bench" / "run"), "--scale", str(SCALE), "--home", str(home), "--out", str(out),
                           "--skip-e2e", "--profile", "always", "--to-sql-sample", "1000"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return home, json.loads((out / "bench.json").read_text(encoding="utf-8")), proc.stdout


def test_bench_json_has_every_figure(bench):
    _, result, _ = bench
    assert result["scale"] == SCALE
    assert result["rows"] > 0
    assert [m["method"] for m in result["methods"]] == list(METHODS)
    for m in result["methods"]:
        for key in FIGURES:
            assert _number(m[key]), (m["method"], key, m[key])
        assert m["rows"] == result["rows"]            # the same rows, every method
        assert m["seconds"] > 0
    for platform in ("postmart", "voso"):
        assert [m["method"] for m in result["per_platform"][platform]] == list(METHODS)
        for m in result["per_platform"][platform]:
            assert all(_number(m[key]) for key in FIGURES), m
    ratios = result["ratios"]
    assert _number(ratios["lensan_vs_copy"]) and _number(ratios["lensan_vs_to_sql"])
    assert isinstance(ratios["meets_copy_target"], bool) and isinstance(ratios["meets_to_sql_target"], bool)
    assert result["landing_row_check"]["landed"] == result["landing_row_check"]["expected"]
    assert result["landing_row_check"]["quarantined"] == 0
    assert result["checkpoint_before_each_method"] is True        # the embedded superuser may CHECKPOINT
    cpu = result["cpu"]                                           # the embedded server's /proc is readable
    for method in ("copy", "land"):     # a number, not None; the tiny bare COPY may take under one clock tick
        assert cpu[method]["client_cpu_s"] >= 0 and cpu[method]["server_cpu_s"] >= 0, cpu
    assert cpu["land"]["client_cpu_s"] > 0 and cpu["land"]["server_cpu_s"] > 0
    floor = (cpu["land"]["client_cpu_s"] + cpu["land"]["server_cpu_s"]) / cpu["cores"]
    assert cpu["landing_floor_s"] == pytest.approx(floor, abs=0.01)
    assert cpu["lensan_vs_copy_ceiling"] == pytest.approx(result["methods"][0]["seconds"] / floor, rel=0.02)
    # to_sql was sampled (1,000 rows) and says so
    to_sql = result["methods"][2]
    assert "scaled linearly" in to_sql["note"]
    assert _number(result["generate"]["peak_rss_mb"]) and result["generate"]["orders"] > 0
    # the mapped-landing figures: the same rows again, by 1 and by 2 worker processes
    assert [w["workers"] for w in result["land_workers"]] == [1, 2]
    for w in result["land_workers"]:
        assert w["rows"] == result["rows"] and w["quarantined"] == 0 and w["groups"] >= 2, w
        assert _number(w["rows_per_s"]) and w["server_cpu_s"] > 0


def test_bench_profile_and_hooks(bench):
    _, result, stdout = bench
    prof = result["landing_profile"]
    assert prof["rows_total"] > 0 and prof["top_tottime"]
    assert all(_number(v) for v in prof["stages_s"].values()) and _number(prof["landing_rows_per_s"])
    assert prof["server_copy_alone_s"] > 0 and _number(prof["server_copy_alone_us_per_row"])
    for hook in ("incremental_build", "end_to_end"):
        assert isinstance(result[hook]["measured"], bool)
        if not result[hook]["measured"]:
            assert result[hook]["reason"]
    # the closing table names every target with its verdict
    assert "targets (issue #17):" in stdout
    assert "landing / bare COPY (rows/s)" in stdout and "end to end" in stdout
    assert "2 worker(s):" in stdout
    assert result["end_to_end"]["reason"].startswith("skipped")
    # the printed table
    assert "lensan / COPY" in stdout and "lensan / to_sql" in stdout
    for method in METHODS:
        assert method in stdout
    assert "not measured:" in stdout


def test_bench_generated_a_form_for_every_commune(bench):
    home, result, _ = bench
    week = result["week"]
    forms = home / "bench" / "rest" / "weekly_form"
    names = {p.name for p in forms.iterdir()}
    pattern = re.compile(rf"^bao_cao_tuan_(\d{{5}})_{week}(_2)?\.xlsx$")
    assert all(pattern.match(n) for n in names), sorted(n for n in names if not pattern.match(n))[:5]
    codes = {pattern.match(n)[1] for n in names}
    expected = {u.code for u in reference.reporting_units("post2025")}
    assert len(expected) == 3321
    assert codes == expected
    registers = {p.name.split("_")[3] for p in (home / "bench" / "rest" / "household_register").iterdir()}
    assert registers == expected


def test_landing_ideas_hash_on_the_server_gives_landings_rows(bench):
    """#17's landing ideas (lensan_dev.bench.landing_ideas) on the bench's postmart orders: the HMAC
    computed by PostgreSQL's sha256() from the key pads gives exactly the rows landing writes."""
    home, _, _ = bench
    env = dict(os.environ, LENSAN_HOME=str(home), PYTHONPATH=f"{ROOT / 'tools'}:{ROOT / 'plugins'}")
    env.pop("LENSAN_WAREHOUSE_URL", None)
    proc = subprocess.run([sys.executable, "-m", "lensan_dev.bench.landing_ideas",
                           str(home / "bench" / "orders" / "postmart"), "--limit", "3", "--rounds", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["files"] == 3 and result["rows"] > 0
    assert {arm: runs[0]["rows"] for arm, runs in result["runs"].items()} == dict.fromkeys(result["runs"], result["rows"])
    assert result["same_rows_as_landing"]["server"] is True
    assert not (home / "warehouse" / "pgdata" / "postmaster.pid").exists()   # the tool stops the server it started

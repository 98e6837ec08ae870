"""National-scale benchmark: generate a national week, then load its orders three ways, side by side.

    bench/run [--scale 1] [--week 2026-W46] [--home /tmp/bench_home] [--out DIR] [--to-sql-sample 100000]

In a throw-away LENSAN_HOME with the embedded warehouse (`lensan.db.warehouse`):

1. `generate` — `lensan_dev.generate_scale.generate_national(scale, week)`; the postmart and voso *orders*
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
5. Hooks for measurements that depend on other modules: `measure_incremental_build` (dbt build with 1
   vs 26 weeks of history) and `measure_end_to_end` (land + dbt build + gate + publish of the week);
   each returns figures or {"measured": False, "reason": ...}.

Everything is printed as a table and written to <out>/bench.json. MB/s always divides the size of the
orders files as delivered (postmart CSV + voso gzip) by the method's seconds, so the three are
comparable.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

PLATFORMS = ("postmart", "voso")
ORDER_ENTITY = {"postmart": "don_hang", "voso": "orders"}
TABLE = {"postmart": "postmart_orders", "voso": "voso_orders"}
TARGET_VS_COPY = 0.7
TARGET_VS_TO_SQL = 10.0
DEFAULT_TO_SQL_SAMPLE = 100_000
TO_SQL_CHUNKSIZE = 10_000
HOME_MARKER = ".lensan_bench_home"
RESULT_PREFIX = "BENCH_RESULT "


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> tuple[float, float | None]:
    """(this process's CPU seconds, all threads; the embedded server's, or None)."""
    from lensan.db import warehouse

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, warehouse.embedded_server_cpu_seconds()


def _cpu_used(since: tuple[float, float | None]) -> dict:
    client, server = _cpu_seconds()
    return {"client_cpu_s": round(client - since[0], 2),
            "server_cpu_s": None if server is None or since[1] is None else round(server - since[1], 2)}


def default_week(today: dt.date | None = None) -> str:
    """The week before the last complete one: every simulated delivery of it is in the past."""
    from lensan.calendar import periods

    today = today or dt.datetime.now(dt.timezone.utc).date()
    return periods.week_key(today - dt.timedelta(days=today.isoweekday() + 7))


# ================================================================================= paths

def _bench_dir(home: Path) -> Path:
    return home / "bench"


def _order_files(home: Path, platform: str) -> list[Path]:
    return sorted((_bench_dir(home) / "orders" / platform).iterdir())


def _link_into_landing(files: list[Path], home: Path, source: str) -> None:
    """Hard links (same bytes, same mtime = arrival time) into landing/<source>/."""
    folder = home / "landing" / source
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        target = folder / path.name
        if target.exists():
            target.unlink()
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


# ================================================================================= steps (children)

def step_generate(home: Path, scale: float, week: str, seed: int) -> dict:
    from lensan_dev.generate_scale import generate_national

    started = time.perf_counter()
    last = {}

    def progress(p) -> None:
        last["line"] = str(p)
        print(f"  generate: {p}", flush=True)

    summary = generate_national(scale, week, seed=seed, home=home, progress=progress)
    seconds = time.perf_counter() - started
    rows = sum(summary.rows_by_entity.values())
    mb = sum(p.stat().st_size for p in summary.paths) / 1e6
    # set the orders files aside (the rows every method loads) and the rest for the end-to-end hook
    bench = _bench_dir(home)
    for path in summary.paths:
        source = path.parent.name
        is_orders = source in PLATFORMS and path.name.startswith(f"{source}_{ORDER_ENTITY[source]}_")
        folder = bench / ("orders" if is_orders else "rest") / source
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(path, folder / path.name)
    return {"rows": rows, "files": len(summary.paths), "seconds": seconds, "mb": mb,
            "rows_by_entity": summary.rows_by_entity, "files_by_source": summary.files_by_source,
            "orders": summary.rows_by_entity.get("postmart_don_hang", 0) + summary.rows_by_entity.get("voso_orders", 0),
            "peak_rss_mb": peak_rss_mb()}


def _decoded_rows(path: Path, platform: str):
    """The raw text values of an orders file, as landing stores them (before validation / hashing)."""
    if platform == "postmart":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=";", quotechar='"')
            next(reader)
            for values in reader:
                yield [v.strip() or None for v in values]
    else:
        from lensan.landing.platforms import VOSO

        fields = [f for f, _, _ in VOSO["orders"][1]]
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                yield [None if record[f] is None else str(record[f]) for f in fields]


_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def step_decode(home: Path) -> dict:
    out = {}
    folder = _bench_dir(home) / "decoded"
    folder.mkdir(parents=True, exist_ok=True)
    for platform in PLATFORMS:
        rows = 0
        with open(folder / f"{platform}.copy", "w", encoding="utf-8", newline="\n") as fh:
            for file_id, path in enumerate(_order_files(home, platform), start=1):
                extract_date = _extract_date(path.name, platform)
                for row_number, values in enumerate(_decoded_rows(path, platform), start=1):
                    cells = ["\\N" if v is None else v.translate(_ESC) for v in values]
                    fh.write(f"{file_id}\t{extract_date}\t{row_number}\t" + "\t".join(cells) + "\n")
                    rows += 1
        out[platform] = {"rows": rows, "input_mb": sum(p.stat().st_size for p in _order_files(home, platform)) / 1e6,
                         "copy_text_mb": (folder / f"{platform}.copy").stat().st_size / 1e6}
    return out


def _extract_date(name: str, platform: str) -> str:
    stem = name.rsplit("_", 1)[-1].split(".")[0]
    if platform == "postmart":
        return f"{stem[:4]}-{stem[4:6]}-{stem[6:8]}"
    return stem


def _columns(platform: str) -> list[str]:
    from lensan.landing.platforms import POSTMART, VOSO

    spec = (POSTMART if platform == "postmart" else VOSO)[ORDER_ENTITY[platform]][1]
    return ["file_id", "extract_date", "row_number"] + [c for _, c, _ in spec]


def _bench_tables(conn, prefix: str) -> None:
    from lensan.landing import ensure_raw_schema

    ensure_raw_schema(conn)
    with conn.cursor() as cur:
        cur.execute("create schema if not exists bench")
        for platform in PLATFORMS:
            cur.execute(f"drop table if exists bench.{prefix}_{TABLE[platform]}")
            # no autovacuum: vacuuming these rows must not run during the next method's measurement
            cur.execute(f"create table bench.{prefix}_{TABLE[platform]} (like raw.{TABLE[platform]} including all) "
                        f"with (autovacuum_enabled = false)")
    conn.commit()


def step_copy(home: Path) -> dict:
    from lensan.db import warehouse

    conn = warehouse.connect()
    _bench_tables(conn, "copy")
    out = {}
    cpu_before = _cpu_seconds()
    try:
        for platform in PLATFORMS:
            path = _bench_dir(home) / "decoded" / f"{platform}.copy"
            columns = ", ".join(_columns(platform))
            started = time.perf_counter()
            with conn.cursor() as cur, open(path, "rb") as fh:
                cur.copy_expert(f"copy bench.copy_{TABLE[platform]} ({columns}) from stdin", fh, size=1 << 18)
                conn.commit()
                cur.execute(f"select count(*) from bench.copy_{TABLE[platform]}")
                rows = cur.fetchone()[0]
            out[platform] = {"rows": rows, "seconds": time.perf_counter() - started}
    finally:
        conn.close()
    return {"platforms": out, "peak_rss_mb": peak_rss_mb(), **_cpu_used(cpu_before)}


def step_land(home: Path) -> dict:
    from lensan.landing import land_pending

    out = {}
    for platform in PLATFORMS:
        _link_into_landing(_order_files(home, platform), home, platform)
    cpu_before = _cpu_seconds()
    for platform in PLATFORMS:
        started = time.perf_counter()
        summary = land_pending([platform])
        seconds = time.perf_counter() - started
        out[platform] = {"rows": summary.rows, "seconds": seconds, "files": len(summary.landed),
                         "quarantined": [q.__dict__ for q in summary.quarantined],
                         "duplicates": len(summary.duplicates)}
    return {"platforms": out, "peak_rss_mb": peak_rss_mb(), **_cpu_used(cpu_before)}


def step_to_sql(home: Path, sample: int, total_rows: dict) -> dict:
    import pandas as pd
    import sqlalchemy

    from lensan.db import warehouse

    conn = warehouse.connect()
    _bench_tables(conn, "tosql")
    conn.close()
    url = warehouse.warehouse_url()
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1)
                                      if url.startswith("postgresql://") else url)
    grand_total = sum(total_rows.values())
    out = {}
    try:
        for platform in PLATFORMS:
            total = total_rows[platform]
            limit = total if grand_total <= sample else max(1, round(sample * total / grand_total))
            columns = _columns(platform)
            records = []
            with open(_bench_dir(home) / "decoded" / f"{platform}.copy", encoding="utf-8") as fh:
                for line in fh:
                    if len(records) >= limit:
                        break
                    records.append([None if v == "\\N" else v for v in line.rstrip("\n").split("\t")])
            frame = pd.DataFrame.from_records(records, columns=columns)
            del records
            started = time.perf_counter()
            frame.to_sql(f"tosql_{TABLE[platform]}", engine, schema="bench", if_exists="append", index=False,
                         chunksize=TO_SQL_CHUNKSIZE, method=None)
            seconds = time.perf_counter() - started
            loaded = len(frame)
            out[platform] = {"rows_loaded": loaded, "rows": total, "seconds_measured": seconds,
                             "seconds": seconds * total / loaded if loaded else 0.0,
                             "extrapolated": loaded < total}
    finally:
        engine.dispose()
    return {"platforms": out, "peak_rss_mb": peak_rss_mb()}


def _reset_landed_orders(conn) -> None:
    """Forget the landed orders files (throw-away warehouse) so the same bytes can land again."""
    with conn.cursor() as cur:
        for platform in PLATFORMS:
            cur.execute(f"""delete from raw.{TABLE[platform]} where file_id in
                            (select file_id from raw.landed_files where source = %s and entity = %s)""",
                        (platform, ORDER_ENTITY[platform]))
            cur.execute("delete from raw.landed_files where source = %s and entity = %s",
                        (platform, ORDER_ENTITY[platform]))
    conn.commit()


def _archive_like(path: Path, tmp_dir: Path) -> None:
    """What landing's archive stage does to a file: copy it while hashing (SHA-256), fsync, (move)."""
    import hashlib

    digest = hashlib.sha256()
    tmp = tmp_dir / f".bench-{path.name}"
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    tmp.unlink()


def _server_copy_alone(files: dict[str, Path], key: bytes) -> float:
    """Seconds the server alone takes to COPY landing's own COPY text of `files` (made beforehand, so
    no client work overlaps) into empty tables of the raw shape: the database's share of landing."""
    import io

    from lensan.db import warehouse
    from lensan.landing import platforms
    from lensan.landing.pseudonymise import Pseudonymiser

    texts = {}
    for platform, path in files.items():
        extract = platforms.describe(path.name, platform)
        texts[platform] = (extract, b"".join(data for _, data in platforms.copy_chunks(
            path, extract, Pseudonymiser(key), f"1\t{extract.extract_date.isoformat()}")))
    conn = warehouse.connect()
    try:
        _bench_tables(conn, "server")
        started = time.perf_counter()
        for platform, (extract, text) in texts.items():
            columns = ", ".join(platforms.copy_columns(extract))
            with conn.cursor() as cur:
                cur.copy_expert(f"copy bench.server_{TABLE[platform]} ({columns}) from stdin with "
                                f"{platforms.COPY_OPTIONS}", io.BytesIO(text), size=1 << 20)
            conn.commit()
        return time.perf_counter() - started
    finally:
        conn.close()


def step_profile(home: Path, top: int = 25, repeat: int = 2) -> dict:
    """Where landing's time goes, on the busiest day of orders of each platform.

    Stages are timed without a profiler, each as a full pass over the same files (best of `repeat`):
    archive (copy + SHA-256 + fsync), parse + validate + COPY text (`platforms.copy_chunks` without
    hashing), + pseudonymise (the same with the keyed hash, as landing does), and the real
    `land_pending` on those files; the remainder of the latter is the part of the database COPY
    (primary key) that did not overlap with the client's work, plus bookkeeping (it can be near zero or
    negative: the server loads one chunk while the client prepares the next). Then the same files land
    again under cProfile (slower: profiler overhead) for the function-level view.
    """
    import cProfile
    import pstats

    from lensan import settings

    from lensan.db import warehouse
    from lensan.landing import land_pending, platforms
    from lensan.landing.pseudonymise import Pseudonymiser

    conn = warehouse.connect()
    _reset_landed_orders(conn)
    conn.close()
    files = {p: max(_order_files(home, p), key=lambda f: f.stat().st_size) for p in PLATFORMS}
    key = settings.pseudonym_key()
    tmp_dir = _bench_dir(home) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)

    def best(fn) -> float:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    rows = {}
    passes = {"archive": 0.0, "parse": 0.0, "parse_hash": 0.0}
    for platform, path in files.items():
        extract = platforms.describe(path.name, platform)
        prefix = f"1\t{extract.extract_date.isoformat()}"
        rows[platform] = platforms.count_rows(path, extract)
        passes["archive"] += best(lambda: _archive_like(path, tmp_dir))
        # parse + validate + COPY text (the chunked column-wise path landing streams), without / with
        # the keyed hash of the personal columns
        passes["parse"] += best(lambda: sum(n for n, _ in platforms.copy_chunks(path, extract, None, prefix)))
        passes["parse_hash"] += best(lambda: sum(n for n, _ in platforms.copy_chunks(
            path, extract, Pseudonymiser(key), prefix)))

    def land_files() -> float:
        for platform, path in files.items():
            _link_into_landing([path], home, platform)
        t = time.perf_counter()
        for platform in PLATFORMS:
            land_pending([platform])
        seconds = time.perf_counter() - t
        conn = warehouse.connect()
        _reset_landed_orders(conn)
        conn.close()
        return seconds

    landed_seconds = land_files()
    server_alone = _server_copy_alone(files, key)
    stages = {
        "archive_copy_sha256_fsync": passes["archive"],
        "parse_validate_copy_text": passes["parse"],
        "pseudonymise": passes["parse_hash"] - passes["parse"],
    }
    stages["db_copy_and_bookkeeping"] = landed_seconds - sum(stages.values())
    total_rows = sum(rows.values())

    profiler = cProfile.Profile()
    for platform, path in files.items():
        _link_into_landing([path], home, platform)
    started = time.perf_counter()
    profiler.enable()
    for platform in PLATFORMS:
        land_pending([platform])
    profiler.disable()
    profiled_seconds = time.perf_counter() - started
    conn = warehouse.connect()
    _reset_landed_orders(conn)
    conn.close()
    stats = pstats.Stats(profiler)
    entries = []
    for (filename, line, func), (cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        entries.append({"function": f"{Path(filename).name}:{line}({func})", "calls": nc,
                        "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3)})
    by_tottime = sorted(entries, key=lambda e: -e["tottime_s"])[:top]
    wanted = ("_copy_to_archive", "copy_expert", "copy_chunks", "_postmart_frames", "_voso_frames", "emit",
              "hash_phones", "_pm_checked", "_vs_checked", "_checked", "_pm_plain_frame", "_vs_plain_frame",
              "write_csv", "_check_postmart_value", "_check_voso_value",
              "records", "fsync", "_insert_landed", "_land_one")
    by_cumtime = sorted((e for e in entries if e["function"].split("(")[-1].rstrip(")") in wanted),
                        key=lambda e: -e["cumtime_s"])
    return {"files": {p: f.name for p, f in files.items()}, "rows": rows, "rows_total": total_rows,
            "landing_seconds": round(landed_seconds, 3),
            "landing_rows_per_s": round(total_rows / landed_seconds) if landed_seconds else None,
            "stages_s": {k: round(v, 3) for k, v in stages.items()},
            "stages_share": {k: round(v / landed_seconds, 3) for k, v in stages.items()} if landed_seconds else {},
            "stages_us_per_row": {k: round(v / total_rows * 1e6, 2) for k, v in stages.items()} if total_rows else {},
            "server_copy_alone_s": round(server_alone, 3),
            "server_copy_alone_us_per_row": round(server_alone / total_rows * 1e6, 2) if total_rows else None,
            "landing_under_profiler_s": round(profiled_seconds, 3),
            "top_tottime": by_tottime, "key_cumtime": by_cumtime, "peak_rss_mb": peak_rss_mb()}


# ================================================================================= hooks

def measure_incremental_build(ctx: dict) -> dict:
    """dbt build of the newest week with 1 vs 26 weeks of history already in the warehouse.

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
        return {"measured": False, "reason": "not requested: run with --incremental (or python -m lensan_dev.bench_incremental)"}
    from lensan_dev import bench_incremental

    try:   # its own homes and warehouses under <home>/incremental (see lensan_dev.bench_incremental)
        res = bench_incremental.measure(home=Path(ctx["home"]) / "incremental")
    except Exception as exc:  # noqa: BLE001
        return {"measured": False, "reason": f"incremental build failed: {str(exc)[-600:]}"}
    return bench_incremental.flat_figures(res)


def step_end_to_end(home: Path, week: str) -> dict:
    """Land the whole national week (orders again + every other file), dbt seed + build, gate, publish."""
    from lensan.quality import gate
    from lensan.publish import service as publish
    from lensan.db import warehouse
    from lensan.transform.dbt import run_dbt
    from lensan.landing import land_pending

    conn = warehouse.connect()
    _reset_landed_orders(conn)
    conn.close()
    for platform in PLATFORMS:
        _link_into_landing(_order_files(home, platform), home, platform)
    rest = _bench_dir(home) / "rest"
    for folder in sorted(rest.iterdir()) if rest.exists() else []:
        _link_into_landing(sorted(folder.iterdir()), home, folder.name)
    timings: dict[str, Any] = {}
    t = time.perf_counter()
    summary = land_pending()
    timings["land_s"] = time.perf_counter() - t
    timings["land_rows"] = summary.rows
    timings["land_files"] = len(summary.landed)
    timings["quarantined"] = len(summary.quarantined)
    t = time.perf_counter()
    run_dbt(["seed"])
    timings["dbt_seed_s"] = time.perf_counter() - t
    t = time.perf_counter()
    run_dbt(["build"])
    timings["dbt_build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    gate_summary = None
    try:
        gate_summary = gate.run_checkpoint("marts", {"week_key": week})
        timings["gate_status"] = gate_summary.get("status")
    except gate.GateFailed as exc:
        gate_summary = exc.summary
        timings["gate_status"] = "failed"
    timings["gate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pub = publish.publish_weekly(week, gate_summary=gate_summary)
    timings["publish_s"] = time.perf_counter() - t
    timings["published_scopes"] = len(pub.published) + len(pub.unchanged)
    timings["blocked_scopes"] = len(pub.blocked)
    timings["total_s"] = sum(v for k, v in timings.items() if k.endswith("_s"))
    return timings | {"measured": True, "peak_rss_mb": peak_rss_mb()}


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
        return _child("end_to_end", ctx["home"], {"week": ctx["week"]}, timeout=ctx.get("e2e_timeout", 3600))
    except Exception as exc:  # noqa: BLE001
        return {"measured": False, "reason": f"end-to-end run failed: {str(exc)[-600:]}"}


# ================================================================================= orchestration

def run_child(cmd: list[str], env: dict, what: str, timeout: float | None = None,
              echo: Callable[[str], bool] = lambda line: False, say: Callable[[str], None] = print) -> dict:
    """Run a measurement in a fresh interpreter (its own ru_maxrss) and return the JSON it prints
    after RESULT_PREFIX; lines for which `echo` is true are passed to `say` as they come."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    result, tail = None, []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX):])
        else:
            tail = (tail + [line])[-40:]
            if echo(line):
                say(line.rstrip())
    rc = proc.wait(timeout=timeout)
    if rc != 0 or result is None:
        raise RuntimeError(f"{what} failed (exit {rc}):\n{''.join(tail)}")
    return result


def _child(step: str, home: Path, args: dict, timeout: float | None = None, echo: bool = True) -> dict:
    """One step of this benchmark in a fresh interpreter; return its JSON result."""
    env = dict(os.environ, LENSAN_HOME=str(home))
    cmd = [sys.executable, "-m", "lensan_dev.bench", "--step", step, "--home", str(home), "--step-args", json.dumps(args)]
    return run_child(cmd, env, f"bench step {step}", timeout,
                     echo=lambda line: echo and line.startswith("  generate: "))


def _prepare_home(home: Path) -> None:
    home = home.resolve()
    if home.exists() and any(home.iterdir()):
        if not (home / HOME_MARKER).exists():
            raise SystemExit(f"{home} is not empty and is not a bench home (no {HOME_MARKER}); refusing to wipe it")
        os.environ["LENSAN_HOME"] = str(home)
        _stop_warehouse()
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / HOME_MARKER).write_text("throw-away LENSAN_HOME of lensan_dev.bench; wiped by the next run\n")


def _stop_warehouse() -> None:
    if os.environ.get("LENSAN_WAREHOUSE_URL"):
        return
    try:
        from lensan.db import warehouse

        if (Path(os.environ["LENSAN_HOME"]) / "warehouse").exists():
            warehouse.stop_embedded(mode="fast")
    except Exception as exc:  # noqa: BLE001
        print(f"  (could not stop the embedded warehouse: {exc})", file=sys.stderr)


def _cpu_budget(copy: dict, land: dict, copy_seconds: float) -> dict:
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


def _checkpoint() -> bool:
    """CHECKPOINT, so that each method starts from the same server state: the checkpoint that the
    previous method's WAL (~0.5 GB per million orders) triggers does not run during the next one. False
    when the role may not (an external server)."""
    import psycopg2

    from lensan.db import warehouse

    conn = warehouse.connect()
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("checkpoint")
        return True
    except psycopg2.errors.InsufficientPrivilege:
        return False
    finally:
        conn.close()


def _method_row(name: str, rows: int, seconds: float, mb: float, rss: float, note: str = "") -> dict:
    return {"method": name, "rows": rows, "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds, 1) if seconds else None,
            "mb_per_s": round(mb / seconds, 2) if seconds else None, "peak_rss_mb": round(rss, 1), "note": note}


def run_benchmark(scale: float = 1.0, home: Path | None = None, out: Path | None = None, week: str | None = None,
                  seed: int = 1034, to_sql_sample: int = DEFAULT_TO_SQL_SAMPLE, profile: str = "auto",
                  skip_e2e: bool = False, keep: bool = False,
                  say: Callable[[str], None] = print, incremental: bool = False) -> dict:
    """Run the whole benchmark; return (and write to <out>/bench.json) the results."""
    previous_home = os.environ.get("LENSAN_HOME")
    try:
        return _run_benchmark(scale, home, out, week, seed, to_sql_sample, profile, skip_e2e, keep, say, incremental)
    finally:  # a library call must not leave the process pointed at the throw-away home
        if previous_home is None:
            os.environ.pop("LENSAN_HOME", None)
        else:
            os.environ["LENSAN_HOME"] = previous_home


def _run_benchmark(scale, home, out, week, seed, to_sql_sample, profile, skip_e2e, keep, say,
                   incremental=False) -> dict:
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
        gen = _child("generate", home, {"scale": scale, "week": week, "seed": seed})
        result["generate"] = gen
        say(f"      {gen['rows']:,} rows in {gen['files']:,} files ({gen['mb']:.1f} MB) in {gen['seconds']:.1f} s, "
            f"peak RSS {gen['peak_rss_mb']:.0f} MB")
        say("[2/6] decode the orders files once (input of COPY and to_sql)")
        decoded = _child("decode", home, {})
        result["decoded"] = decoded
        rows = {p: decoded[p]["rows"] for p in PLATFORMS}
        mb = {p: decoded[p]["input_mb"] for p in PLATFORMS}
        say("[3/6] (a) bare COPY FROM STDIN")
        checkpoints = [_checkpoint()]
        copy = _child("copy", home, {})
        say("[4/6] (b) lensan landing (land_pending)")
        checkpoints.append(_checkpoint())
        land = _child("land", home, {})
        say(f"[5/6] (c) pandas DataFrame.to_sql (sample ≤ {to_sql_sample:,} rows)")
        checkpoints.append(_checkpoint())
        to_sql = _child("to_sql", home, {"sample": to_sql_sample, "total_rows": rows})
        result["checkpoint_before_each_method"] = all(checkpoints)
        result["raw"] = {"copy": copy, "land": land, "to_sql": to_sql}

        total_rows, total_mb = sum(rows.values()), sum(mb.values())
        landed_rows = sum(land["platforms"][p]["rows"] for p in PLATFORMS)
        extrapolated = any(to_sql["platforms"][p]["extrapolated"] for p in PLATFORMS)
        loaded = sum(to_sql["platforms"][p]["rows_loaded"] for p in PLATFORMS)
        methods = [
            _method_row("COPY (bare)", sum(copy["platforms"][p]["rows"] for p in PLATFORMS),
                        sum(copy["platforms"][p]["seconds"] for p in PLATFORMS), total_mb, copy["peak_rss_mb"]),
            _method_row("lensan landing", landed_rows, sum(land["platforms"][p]["seconds"] for p in PLATFORMS),
                        total_mb, land["peak_rss_mb"]),
            _method_row("pandas to_sql", total_rows, sum(to_sql["platforms"][p]["seconds"] for p in PLATFORMS),
                        total_mb, to_sql["peak_rss_mb"],
                        note=(f"measured on {loaded:,} rows, time scaled linearly to {total_rows:,}" if extrapolated
                              else "")),
        ]
        per_platform = {}
        for p in PLATFORMS:
            per_platform[p] = [
                _method_row("COPY (bare)", copy["platforms"][p]["rows"], copy["platforms"][p]["seconds"], mb[p],
                            copy["peak_rss_mb"]),
                _method_row("lensan landing", land["platforms"][p]["rows"], land["platforms"][p]["seconds"], mb[p],
                            land["peak_rss_mb"]),
                _method_row("pandas to_sql", rows[p], to_sql["platforms"][p]["seconds"], mb[p], to_sql["peak_rss_mb"],
                            note="extrapolated" if to_sql["platforms"][p]["extrapolated"] else ""),
            ]
        rate = {m["method"]: m["rows_per_s"] or 0.0 for m in methods}
        ratios = {"lensan_vs_copy": round(rate["lensan landing"] / rate["COPY (bare)"], 3),
                  "lensan_vs_to_sql": round(rate["lensan landing"] / rate["pandas to_sql"], 3)}
        ratios["meets_copy_target"] = ratios["lensan_vs_copy"] >= TARGET_VS_COPY
        ratios["meets_to_sql_target"] = ratios["lensan_vs_to_sql"] >= TARGET_VS_TO_SQL
        result["cpu"] = _cpu_budget(copy, land, methods[0]["seconds"])
        result.update({"rows": total_rows, "input_mb": round(total_mb, 2), "methods": methods,
                       "per_platform": per_platform, "ratios": ratios,
                       "landing_row_check": {"expected": total_rows, "landed": landed_rows,
                                             "quarantined": sum(len(land["platforms"][p]["quarantined"])
                                                                for p in PLATFORMS)}})

        want_profile = profile == "always" or (profile == "auto" and not ratios["meets_copy_target"])
        if want_profile:
            say("[6/6] profile: one day of orders landed again under cProfile")
            result["landing_profile"] = _child("profile", home, {})
        else:
            result["landing_profile"] = {"measured": False, "reason": "lensan/COPY meets its target" if
                                         profile == "auto" else "disabled (--profile never)"}
        (out / "bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str),
                                        encoding="utf-8")
        say(render(result))
        ctx = {"home": home, "week": week, "skip_e2e": skip_e2e, "scale": scale, "incremental": incremental}
        say("hooks: incremental dbt build, end-to-end land+build+gate+publish")
        result["incremental_build"] = measure_incremental_build(ctx)
        result["end_to_end"] = measure_end_to_end(ctx)
    finally:
        result["total_seconds"] = round(time.perf_counter() - started, 1)
        (out / "bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str),
                                        encoding="utf-8")
        if not keep:
            _stop_warehouse()
    say(render(result, hooks_only=True))
    say(f"written: {out / 'bench.json'}")
    return result


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
                                if k != "measured")
            lines.append(f"{title}: {figures}")
        else:
            lines.append(f"{title}: not measured: {hook.get('reason')}")
    return lines


# ================================================================================= CLI

STEPS = {
    "generate": lambda home, a: step_generate(home, float(a["scale"]), a["week"], int(a["seed"])),
    "decode": lambda home, a: step_decode(home),
    "copy": lambda home, a: step_copy(home),
    "land": lambda home, a: step_land(home),
    "to_sql": lambda home, a: step_to_sql(home, int(a["sample"]), a["total_rows"]),
    "profile": lambda home, a: step_profile(home),
    "end_to_end": lambda home, a: step_end_to_end(home, a["week"]),
}


def main(argv: list[str] | None = None) -> int:
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
    parser.add_argument("--keep", action="store_true", help="leave the embedded warehouse running")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--step-args", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        home = Path(args.home).resolve()
        os.environ["LENSAN_HOME"] = str(home)
        value = STEPS[args.step](home, json.loads(args.step_args))
        print(RESULT_PREFIX + json.dumps(value, default=str, ensure_ascii=False), flush=True)
        return 0
    run_benchmark(args.scale, home=args.home, out=args.out, week=args.week, seed=args.seed,
                  to_sql_sample=args.to_sql_sample, profile=args.profile, skip_e2e=args.skip_e2e, keep=args.keep,
                  incremental=args.incremental)
    return 0


if __name__ == "__main__":
    sys.exit(main())

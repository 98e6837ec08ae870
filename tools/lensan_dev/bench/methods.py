"""The steps that generate the national week, decode its orders once, then load them three ways:
(a) bare COPY, (b) lensan landing, (c) pandas to_sql (see lensan_dev.bench.run)."""

from __future__ import annotations

import csv
import gzip
import json
import os
import resource
import time
from pathlib import Path

from lensan_dev.bench.common import ORDER_ENTITY, PLATFORMS, TABLE, bench_dir, bench_tables, checkpoint, \
    copy_columns, link_into_landing, order_files, reset_landed_orders
from lensan_dev.generate.scale import peak_rss_mb

TO_SQL_CHUNKSIZE = 10_000


def cpu_seconds() -> tuple[float, float | None]:
    """(this process's CPU seconds, all threads; the embedded server's, or None)."""
    from lensan.db import embedded

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, embedded.cpu_seconds()


def cpu_used(since: tuple[float, float | None]) -> dict:
    client, server = cpu_seconds()
    return {"client_cpu_s": round(client - since[0], 2),
            "server_cpu_s": None if server is None or since[1] is None else round(server - since[1], 2)}


def step_generate(home: Path, scale: float, week: str, seed: int) -> dict:
    from lensan_dev.generate.scale import generate_national

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
    bench = bench_dir(home)
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
        from lensan.landing.platforms.spec import VOSO

        fields = [f for f, _, _ in VOSO["orders"][1]]
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                yield [None if record[f] is None else str(record[f]) for f in fields]


_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def decoded_copy_lines(files: list[Path], platform: str):
    """COPY text lines of orders files' raw values, in `common.copy_columns` order: file_id (1, 2, … in
    the files' order), extract date, row number, the values."""
    for file_id, path in enumerate(files, start=1):
        extract_date = _extract_date(path.name, platform)
        for row_number, values in enumerate(_decoded_rows(path, platform), start=1):
            cells = ["\\N" if v is None else v.translate(_ESC) for v in values]
            yield f"{file_id}\t{extract_date}\t{row_number}\t" + "\t".join(cells) + "\n"


def step_decode(home: Path) -> dict:
    out = {}
    folder = bench_dir(home) / "decoded"
    folder.mkdir(parents=True, exist_ok=True)
    for platform in PLATFORMS:
        rows = 0
        with open(folder / f"{platform}.copy", "w", encoding="utf-8", newline="\n") as fh:
            for line in decoded_copy_lines(order_files(home, platform), platform):
                fh.write(line)
                rows += 1
        out[platform] = {"rows": rows, "input_mb": sum(p.stat().st_size for p in order_files(home, platform)) / 1e6,
                         "copy_text_mb": (folder / f"{platform}.copy").stat().st_size / 1e6}
    return out


def _extract_date(name: str, platform: str) -> str:
    stem = name.rsplit("_", 1)[-1].split(".")[0]
    if platform == "postmart":
        return f"{stem[:4]}-{stem[4:6]}-{stem[6:8]}"
    return stem


def step_copy(home: Path) -> dict:
    from lensan.db import warehouse

    conn = warehouse.connect()
    bench_tables(conn, "copy")
    out = {}
    cpu_before = cpu_seconds()
    try:
        for platform in PLATFORMS:
            path = bench_dir(home) / "decoded" / f"{platform}.copy"
            columns = ", ".join(copy_columns(platform))
            started = time.perf_counter()
            with conn.cursor() as cur, open(path, "rb") as fh:
                cur.copy_expert(f"copy bench.copy_{TABLE[platform]} ({columns}) from stdin", fh, size=1 << 18)
                conn.commit()
                cur.execute(f"select count(*) from bench.copy_{TABLE[platform]}")
                rows = cur.fetchone()[0]
            out[platform] = {"rows": rows, "seconds": time.perf_counter() - started}
    finally:
        conn.close()
    return {"platforms": out, "peak_rss_mb": peak_rss_mb(), **cpu_used(cpu_before)}


def step_land(home: Path) -> dict:
    from lensan.landing import land_pending

    out = {}
    for platform in PLATFORMS:
        link_into_landing(order_files(home, platform), home, platform)
    cpu_before = cpu_seconds()
    for platform in PLATFORMS:
        started = time.perf_counter()
        summary = land_pending([platform])
        seconds = time.perf_counter() - started
        out[platform] = {"rows": summary.rows, "seconds": seconds, "files": len(summary.landed),
                         "quarantined": [q.__dict__ for q in summary.quarantined],
                         "duplicates": len(summary.duplicates)}
    return {"platforms": out, "peak_rss_mb": peak_rss_mb(), **cpu_used(cpu_before)}


def _warm_worker(pause: float) -> None:
    import lensan.landing  # noqa: F401

    time.sleep(pause)   # so that every worker of the pool gets one


def _land_one_group(group: list[tuple[str, str]]) -> dict:
    """In a worker process: land one planned group (lensan.landing.groups), as a mapped ingest task does."""
    from lensan.landing.groups import land_group

    before = resource.getrusage(resource.RUSAGE_SELF)
    summary = land_group(group)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"rows": summary.rows, "files": len(summary.landed), "quarantined": len(summary.quarantined),
            "peak_rss_mb": peak_rss_mb(),
            "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}


def land_groups_in_workers(groups: list[list[tuple[str, str]]], workers: int) -> dict:
    """Land planned groups (lensan.landing.groups) in `workers` processes side by side, as the ingest
    DAG's mapped `land` tasks do; the workers are started and lensan imported before the clock starts,
    as Airflow's are. Rows, files, seconds and the CPU of the workers and the server."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_warm_worker, [0.5] * workers))
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        parts = list(pool.map(_land_one_group, groups))
        seconds = time.perf_counter() - started
        cpu = cpu_used(cpu_before)
    cpu["client_cpu_s"] = round(sum(part["cpu_s"] for part in parts), 2)   # the workers', not this process's
    rows = sum(part["rows"] for part in parts)
    return {"workers": workers, "groups": len(groups), "rows": rows, "seconds": seconds,
            "rows_per_s": rows / seconds if seconds else None,
            "files": sum(part["files"] for part in parts),
            "quarantined": sum(part["quarantined"] for part in parts),
            "peak_rss_mb": max((part["peak_rss_mb"] for part in parts), default=None), **cpu}


def step_land_workers(home: Path, workers: int) -> dict:
    """The same orders landed again as the ingest DAG's mapped `land` does it: planned into groups
    (whole entity-days) and landed by `workers` processes side by side (the per-core figure of
    "Scaling out"). The landed orders of the earlier methods are forgotten first."""
    from lensan.db import warehouse
    from lensan.landing.groups import plan_groups

    conn = warehouse.connect()
    reset_landed_orders(conn)
    conn.close()
    checkpoint()
    for platform in PLATFORMS:
        link_into_landing(order_files(home, platform), home, platform)
    return land_groups_in_workers(plan_groups(list(PLATFORMS)), workers)


def step_to_sql(home: Path, sample: int, total_rows: dict) -> dict:
    import pandas as pd
    import sqlalchemy

    from lensan.db import warehouse

    conn = warehouse.connect()
    bench_tables(conn, "tosql")
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
            columns = copy_columns(platform)
            records = []
            with open(bench_dir(home) / "decoded" / f"{platform}.copy", encoding="utf-8") as fh:
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

"""Where landing's time goes: its stages timed apart, the server's share alone, then cProfile."""

from __future__ import annotations

import os
import time
from pathlib import Path

from lensan_dev.bench.common import PLATFORMS, TABLE, bench_dir, bench_tables, link_into_landing, order_files, \
    reset_landed_orders
from lensan_dev.generate.scale import peak_rss_mb


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
    from lensan.landing.platforms import fast, spec
    from lensan.landing.pseudonymise import Pseudonymiser

    texts = {}
    for platform, path in files.items():
        extract = spec.describe(path.name, platform)
        texts[platform] = (extract, b"".join(data for _, data in fast.copy_chunks(
            path, extract, Pseudonymiser(key), f"1\t{extract.extract_date.isoformat()}")))
    conn = warehouse.connect()
    try:
        bench_tables(conn, "server")
        started = time.perf_counter()
        for platform, (extract, text) in texts.items():
            columns = ", ".join(fast.copy_columns(extract))
            with conn.cursor() as cur:
                cur.copy_expert(f"copy bench.server_{TABLE[platform]} ({columns}) from stdin with "
                                f"{fast.COPY_OPTIONS}", io.BytesIO(text), size=1 << 20)
            conn.commit()
        return time.perf_counter() - started
    finally:
        conn.close()


def step_profile(home: Path, top: int = 25, repeat: int = 2) -> dict:
    """Where landing's time goes, on the busiest day of orders of each platform.

    Stages are timed without a profiler, each as a full pass over the same files (best of `repeat`):
    archive (copy + SHA-256 + fsync), parse + validate + COPY text (`fast.copy_chunks` without
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
    from lensan.landing import land_pending
    from lensan.landing.platforms import fast, spec
    from lensan.landing.pseudonymise import Pseudonymiser

    conn = warehouse.connect()
    reset_landed_orders(conn)
    conn.close()
    files = {p: max(order_files(home, p), key=lambda f: f.stat().st_size) for p in PLATFORMS}
    key = settings.pseudonym_key()
    tmp_dir = bench_dir(home) / "tmp"
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
        extract = spec.describe(path.name, platform)
        prefix = f"1\t{extract.extract_date.isoformat()}"
        rows[platform] = fast.count_rows(path, extract)
        passes["archive"] += best(lambda: _archive_like(path, tmp_dir))
        # parse + validate + COPY text (the chunked column-wise path landing streams), without / with
        # the keyed hash of the personal columns
        passes["parse"] += best(lambda: sum(n for n, _ in fast.copy_chunks(path, extract, None, prefix)))
        passes["parse_hash"] += best(lambda: sum(n for n, _ in fast.copy_chunks(
            path, extract, Pseudonymiser(key), prefix)))

    def land_files() -> float:
        for platform, path in files.items():
            link_into_landing([path], home, platform)
        t = time.perf_counter()
        for platform in PLATFORMS:
            land_pending([platform])
        seconds = time.perf_counter() - t
        conn = warehouse.connect()
        reset_landed_orders(conn)
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
        link_into_landing([path], home, platform)
    started = time.perf_counter()
    profiler.enable()
    for platform in PLATFORMS:
        land_pending([platform])
    profiler.disable()
    profiled_seconds = time.perf_counter() - started
    conn = warehouse.connect()
    reset_landed_orders(conn)
    conn.close()
    stats = pstats.Stats(profiler)
    entries = []
    for (filename, line, func), (cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        entries.append({"function": f"{Path(filename).name}:{line}({func})", "calls": nc,
                        "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3)})
    by_tottime = sorted(entries, key=lambda e: -e["tottime_s"])[:top]
    wanted = ("copy_to_archive", "copy_expert", "copy_chunks", "_postmart_frames", "_voso_frames", "emit",
              "hash_phones", "_pm_checked", "_vs_checked", "_checked", "_pm_plain_frame", "_vs_plain_frame",
              "write_csv", "check_postmart_value", "check_voso_value",
              "records", "fsync", "insert_landed", "_land_one")
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

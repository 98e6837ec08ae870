"""The orders files every method loads and the tables they load into: where the files live in the
bench home, how they go back into landing/, the bench.* tables shaped like raw.*."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

PLATFORMS = ("postmart", "voso")
ORDER_ENTITY = {"postmart": "don_hang", "voso": "orders"}
TABLE = {"postmart": "postmart_orders", "voso": "voso_orders"}


def bench_dir(home: Path) -> Path:
    return home / "bench"


def order_files(home: Path, platform: str) -> list[Path]:
    return sorted((bench_dir(home) / "orders" / platform).iterdir())


def link_into_landing(files: list[Path], home: Path, source: str) -> None:
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


def copy_columns(platform: str) -> list[str]:
    from lensan.landing.platforms.spec import POSTMART, VOSO

    spec = (POSTMART if platform == "postmart" else VOSO)[ORDER_ENTITY[platform]][1]
    return ["file_id", "extract_date", "row_number"] + [c for _, c, _ in spec]


def bench_tables(conn, prefix: str) -> None:
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


def reset_landed_orders(conn) -> None:
    """Forget the landed orders files (throw-away warehouse) so the same bytes can land again. The
    deleted rows are vacuumed at once: left to autovacuum, a million dead rows were vacuumed while the
    next measurement ran, and every read of the raw orders table went over them."""
    with conn.cursor() as cur:
        for platform in PLATFORMS:
            cur.execute(f"""delete from raw.{TABLE[platform]} where file_id in
                            (select file_id from raw.landed_files where source = %s and entity = %s)""",
                        (platform, ORDER_ENTITY[platform]))
            cur.execute("delete from raw.landed_files where source = %s and entity = %s",
                        (platform, ORDER_ENTITY[platform]))
    conn.commit()
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for table in ["landed_files"] + [TABLE[platform] for platform in PLATFORMS]:
                cur.execute(f"vacuum raw.{table}")
    finally:
        conn.autocommit = autocommit


def checkpoint() -> bool:
    """CHECKPOINT, so that a measurement starts from the same server state: the checkpoint that earlier
    writes' WAL (~0.5 GB per million orders landed) triggers does not run during it. False when the
    role may not (an external server)."""
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


def checkpoints_run() -> int:
    """Checkpoints the server has run since its statistics were reset."""
    from lensan.db import warehouse

    conn = warehouse.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('pg_catalog.pg_stat_checkpointer') is not null")
            if cur.fetchone()[0]:   # PostgreSQL 17 and later
                cur.execute("select num_timed + num_requested from pg_stat_checkpointer")
            else:
                cur.execute("select checkpoints_timed + checkpoints_req from pg_stat_bgwriter")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def stop_embedded_warehouse() -> None:
    """Stop the embedded server of LENSAN_HOME, if there is one: a bench leaves no server behind."""
    from lensan import settings

    if settings.external_warehouse_url():
        return
    try:
        from lensan.db import embedded

        if (settings.load().home / "warehouse").exists():
            embedded.stop(mode="fast")
    except Exception as exc:  # noqa: BLE001
        print(f"  (could not stop the embedded warehouse: {exc})", file=sys.stderr)

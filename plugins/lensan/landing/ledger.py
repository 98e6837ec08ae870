"""raw.landed_files, the landing log: one row per file by SHA-256 (loaded or quarantined), and the
PostgreSQL advisory lock on a file's SHA-256 that makes concurrent runs land each file exactly once."""

from __future__ import annotations

import contextlib
import json
from typing import Iterator

from lensan.landing.errors import LandingError


def lock_key(sha: str) -> int:
    return int.from_bytes(bytes.fromhex(sha[:16]), "big", signed=True)


@contextlib.contextmanager
def sha_lock(conn, sha: str) -> Iterator[None]:
    """Hold the session advisory lock of `sha` for the block; on exit roll back whatever the block left
    open, then release it."""
    key = lock_key(sha)
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_lock(%s)", (key,))
    conn.commit()
    try:
        yield
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_unlock(%s)", (key,))
        conn.commit()


def find(conn, sha: str) -> tuple | None:
    """(status, reason_code, reason_vi, reason_en, reason_detail, original_name) of the file with this
    SHA-256, if it has landed or been quarantined before."""
    with conn.cursor() as cur:
        cur.execute("""select status, reason_code, reason_vi, reason_en, reason_detail, original_name
                       from raw.landed_files where sha256 = %s""", (sha,))
        existing = cur.fetchone()
    conn.rollback()
    return existing


def insert_landed(cur, *, sha, source, entity, name, archive_path, size, arrived_at, status,
                  error: LandingError | None = None, row_count=None, unit_code=None, period_key=None,
                  file_date=None, file_id=None) -> int:
    cur.execute(
        """insert into raw.landed_files (file_id, sha256, source, entity, original_name, archive_path, size_bytes,
               arrived_at, status, reason_code, reason_vi, reason_en, reason_detail, row_count, unit_code,
               period_key, file_date)
           values (coalesce(%s, nextval(pg_get_serial_sequence('raw.landed_files', 'file_id'))),
                   %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning file_id""",
        (file_id, sha, source, entity, name, str(archive_path), size, arrived_at, status,
         error.code if error else None, error.message_vi if error else None, error.message_en if error else None,
         json.dumps(error.detail, ensure_ascii=False) if error else None, row_count, unit_code, period_key,
         file_date))
    return cur.fetchone()[0]

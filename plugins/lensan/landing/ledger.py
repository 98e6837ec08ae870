"""raw.landed_files, the landing log: one row per file by SHA-256 (loaded or quarantined); raw.deliveries,
each later delivery of the same bytes under another name; withdrawal of a landed file (`withdraw`); and
the PostgreSQL advisory lock on a file's SHA-256 that makes concurrent runs land each file exactly once."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Existing:
    """The raw.landed_files row of a SHA-256 that has landed (or been quarantined) before."""
    file_id: int
    status: str
    reason_code: str | None
    reason_vi: str | None
    reason_en: str | None
    reason_detail: str | None
    original_name: str
    entity: str | None
    unit_code: str | None
    period_key: str | None
    file_date: dt.date | None


def find(conn, sha: str) -> Existing | None:
    """The file with this SHA-256, if it has landed or been quarantined before."""
    with conn.cursor() as cur:
        cur.execute("""select file_id, status, reason_code, reason_vi, reason_en, reason_detail, original_name,
                              entity, unit_code, period_key, file_date
                       from raw.landed_files where sha256 = %s""", (sha,))
        existing = cur.fetchone()
    conn.rollback()
    return Existing(*existing) if existing is not None else None


def delivered_names(conn, file_id: int) -> set[str]:
    """Every name the bytes of landed file `file_id` were delivered under."""
    with conn.cursor() as cur:
        cur.execute("""select original_name from raw.landed_files where file_id = %(id)s
                       union select original_name from raw.deliveries where file_id = %(id)s""", {"id": file_id})
        names = {name for (name,) in cur.fetchall()}
    conn.rollback()
    return names


def insert_delivery(cur, *, file_id: int, name: str, arrived_at: dt.datetime, entity=None, unit_code=None,
                    period_key=None, file_date=None) -> int:
    """One more delivery of a landed file's bytes, under another name (committed by the caller)."""
    cur.execute(
        """insert into raw.deliveries (delivery_id, file_id, original_name, arrived_at, entity, unit_code,
               period_key, file_date)
           values (nextval(pg_get_serial_sequence('raw.landed_files', 'file_id')), %s, %s, %s, %s, %s, %s, %s)
           on conflict (file_id, original_name) do nothing returning delivery_id""",
        (file_id, name, arrived_at, entity, unit_code, period_key, file_date))
    row = cur.fetchone()
    return row[0] if row else 0


def insert_landed(cur, *, sha, source, entity, name, archive_path, size, arrived_at, status,
                  error: LandingError | None = None, row_count=None, unit_code=None, period_key=None,
                  file_date=None, file_id=None, withdrawn_at=None, withdrawn_reason=None) -> int:
    cur.execute(
        """insert into raw.landed_files (file_id, sha256, source, entity, original_name, archive_path, size_bytes,
               arrived_at, status, reason_code, reason_vi, reason_en, reason_detail, row_count, unit_code,
               period_key, file_date, withdrawn_at, withdrawn_reason)
           values (coalesce(%s, nextval(pg_get_serial_sequence('raw.landed_files', 'file_id'))),
                   %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning file_id""",
        (file_id, sha, source, entity, name, str(archive_path), size, arrived_at, status,
         error.code if error else None, error.message_vi if error else None, error.message_en if error else None,
         json.dumps(error.detail, ensure_ascii=False) if error else None, row_count, unit_code, period_key,
         file_date, withdrawn_at, withdrawn_reason))
    return cur.fetchone()[0]


# ------------------------------------------------------------------------------------ withdrawal

class WithdrawalRefused(Exception):
    """`withdraw` cannot act: nothing matches, the match is ambiguous or was quarantined. Carries the
    Vietnamese and English messages and the exit code the command returns."""

    def __init__(self, message_vi: str, message_en: str, exit_code: int = 1):
        super().__init__(message_en)
        self.message_vi, self.message_en, self.exit_code = message_vi, message_en, exit_code


@dataclass(frozen=True)
class Withdrawn:
    file_id: int
    sha256: str
    source: str
    original_name: str
    archive_path: str
    withdrawn_at: dt.datetime
    withdrawn_reason: str
    already: bool            # it had been withdrawn before: nothing changed


def withdraw(conn, ref: str, reason: str) -> Withdrawn:
    """Mark the loaded file named `ref` (an original or later delivery name, a SHA-256, or a prefix of
    one of at least 12 hex digits) withdrawn with `reason`, and commit. Its archive copy, raw rows and
    deliveries stay (history); staging leaves it out. The build watermarks are reset so the next dbt
    build recomputes every period the file fed. Raises WithdrawalRefused."""
    ref, reason = ref.strip(), reason.strip()
    if not reason:
        raise WithdrawalRefused("Cần nêu lý do rút tệp (--reason \"…\").",
                                "A reason for the withdrawal is required (--reason \"…\").", 2)
    is_sha = len(ref) >= 12 and all(c in "0123456789abcdef" for c in ref.lower())
    with conn.cursor() as cur:
        cur.execute("""select f.file_id, f.sha256, f.source, f.original_name, f.archive_path, f.status,
                              f.withdrawn_at, f.withdrawn_reason
                       from raw.landed_files as f
                       where f.original_name = %(ref)s
                          or (%(is_sha)s and f.sha256 like %(prefix)s)
                          or f.file_id in (select d.file_id from raw.deliveries as d where d.original_name = %(ref)s)
                       order by f.file_id""", {"ref": ref, "is_sha": is_sha, "prefix": ref.lower() + "%"})
        matches = cur.fetchall()
        loaded = [m for m in matches if m[5] == "loaded"]
        if not loaded:
            conn.rollback()
            if matches:
                raise WithdrawalRefused(
                    f"Tệp '{ref}' đã bị cách ly, không được nạp: không có gì để rút.",
                    f"The file '{ref}' was quarantined, never loaded: there is nothing to withdraw.")
            raise WithdrawalRefused(f"Không tìm thấy tệp đã nhận nào có tên hoặc SHA-256 '{ref}'.",
                                    f"No landed file has the name or SHA-256 '{ref}'.")
        if len(loaded) > 1:
            conn.rollback()
            listing = "\n".join(f"    {m[1]}  {m[2]}/{m[3]}" for m in loaded)
            raise WithdrawalRefused(
                f"Tên '{ref}' khớp với {len(loaded)} tệp khác nhau; hãy chỉ rõ bằng SHA-256:\n{listing}",
                f"The name '{ref}' matches {len(loaded)} different files; name one by its SHA-256.", 2)
        file_id, sha, source, name, archive_path, _, withdrawn_at, withdrawn_reason = loaded[0]
        if withdrawn_at is not None:
            conn.rollback()
            return Withdrawn(file_id, sha, source, name, archive_path, withdrawn_at, withdrawn_reason, True)
        cur.execute("""update raw.landed_files set withdrawn_at = now(), withdrawn_reason = %s
                       where file_id = %s returning withdrawn_at""", (reason, file_id))
        withdrawn_at = cur.fetchone()[0]
        reset_build_watermarks(cur)
    conn.commit()
    return Withdrawn(file_id, sha, source, name, archive_path, withdrawn_at, reason, False)


def reset_build_watermarks(cur) -> None:
    """Make the next dbt build recompute everything: the incremental models (dbt_project/macros/
    incremental.sql) only see files landed after their watermark, and a withdrawn file, or a new
    delivery of old bytes, is not one. Without a watermark a model rebuilds from scratch."""
    cur.execute("select to_regclass('ops.build_watermarks') is not null")
    if cur.fetchone()[0]:
        cur.execute("delete from ops.build_watermarks")

"""raw.landed_files, the landing log: one row per file by SHA-256 (loaded or quarantined); raw.deliveries,
each later delivery of the same bytes under another name; withdrawal of a landed file (`withdraw`); and
the PostgreSQL advisory lock on a file's SHA-256 that makes concurrent runs land each file exactly once.

No name as delivered is stored (it may carry a person's name or phone; docs/security.md): a file is
named by its public name (`names.landed_public_name`), a delivery told from another by the keyed hash
of its name (`name_key`), and its copy found in its folder by SHA-256 (`archive.kept_copy`). Reasons
that quote the name quote the public name instead."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from lensan import settings
from lensan.landing import archive
from lensan.landing.errors import LandingError
from lensan.landing.names import landed_public_name, safe_name, scrub
from lensan.landing.pseudonymise import pseudonymise


def name_key(name: str, hasher=None) -> str:
    """The keyed hash (pseudonym key) of a delivered name, in the safe_name() form the archive keeps
    it under (so it can be recomputed from the archive after a key rotation): what tells two deliveries
    of the same bytes apart. Keyed, never a plain SHA-256, which a list of names and phones would reverse."""
    return hasher("file_name", name) if hasher is not None else pseudonymise("file_name", name)


def lock_key(sha: str) -> int:
    return int.from_bytes(bytes.fromhex(sha[:16]), "big", signed=True)


@contextlib.contextmanager
def _own_statements(conn) -> Iterator[None]:
    """Statements of the block each committed on its own (autocommit): a lock, a lookup, an unlock cost one
    round trip each instead of three (BEGIN, statement, COMMIT); landing takes ~7,000 files a week."""
    conn.rollback()     # nothing may be open when autocommit changes (no round trip when nothing is)
    was = conn.autocommit
    conn.autocommit = True
    try:
        yield
    finally:
        conn.autocommit = was


@contextlib.contextmanager
def sha_lock(conn, sha: str) -> Iterator[None]:
    """Hold the session advisory lock of `sha` for the block; on exit roll back whatever the block left
    open, then release it."""
    key = lock_key(sha)
    with _own_statements(conn), conn.cursor() as cur:
        cur.execute("select pg_advisory_lock(%s)", (key,))
    try:
        yield
    finally:
        with _own_statements(conn), conn.cursor() as cur:
            cur.execute("select pg_advisory_unlock(%s)", (key,))


@dataclass(frozen=True)
class Existing:
    """The raw.landed_files row of a SHA-256 that has landed (or been quarantined) before."""
    file_id: int
    status: str
    reason_code: str | None
    reason_vi: str | None
    reason_en: str | None
    reason_detail: str | None
    public_name: str
    archive_dir: str
    entity: str | None
    unit_code: str | None
    period_key: str | None
    file_date: dt.date | None


def find(conn, sha: str) -> Existing | None:
    """The file with this SHA-256, if it has landed or been quarantined before."""
    with _own_statements(conn), conn.cursor() as cur:
        cur.execute("""select file_id, status, reason_code, reason_vi, reason_en, reason_detail, public_name,
                              archive_dir, entity, unit_code, period_key, file_date
                       from raw.landed_files where sha256 = %s""", (sha,))
        existing = cur.fetchone()
    return Existing(*existing) if existing is not None else None


def delivered_under(conn, file_id: int, key: str) -> bool:
    """Whether the bytes of landed file `file_id` were delivered before under the name of `key` (name_key)."""
    with conn.cursor() as cur:
        cur.execute("""select exists (select 1 from raw.landed_files where file_id = %(id)s and name_hash = %(key)s)
                           or exists (select 1 from raw.deliveries where file_id = %(id)s and name_hash = %(key)s)""",
                    {"id": file_id, "key": key})
        found = cur.fetchone()[0]
    conn.rollback()
    return found


def insert_delivery(cur, *, file_id: int, sha: str, source: str, name: str, name_hash: str, arrived_at: dt.datetime,
                    entity=None, unit_code=None, period_key=None, file_date=None) -> int:
    """One more delivery of a landed file's bytes, under another name (committed by the caller)."""
    public = landed_public_name(source, sha, entity=entity, unit_code=unit_code, period_key=period_key,
                                file_date=file_date, original_name=name)
    cur.execute(
        """insert into raw.deliveries (delivery_id, file_id, public_name, name_hash, arrived_at, entity, unit_code,
               period_key, file_date)
           values (nextval(pg_get_serial_sequence('raw.landed_files', 'file_id')), %s, %s, %s, %s, %s, %s, %s, %s)
           on conflict (file_id, name_hash) do nothing returning delivery_id""",
        (file_id, public, name_hash, arrived_at, entity, unit_code, period_key, file_date))
    row = cur.fetchone()
    return row[0] if row else 0


def _scrubbed(value, name: str, label: str):
    """`value` (a reason's detail: dicts, lists, strings) with the delivered name replaced by `label`."""
    if isinstance(value, dict):
        return {k: _scrubbed(v, name, label) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrubbed(v, name, label) for v in value]
    return scrub(value, name, label) if isinstance(value, str) else value


def insert_landed(cur, *, sha, source, entity, name, archive_path, size, arrived_at, status,
                  error: LandingError | None = None, row_count=None, unit_code=None, period_key=None,
                  file_date=None, file_id=None, withdrawn_at=None, withdrawn_reason=None, name_hash=None) -> int:
    """The file's raw.landed_files row: named by its public name, its name as delivered kept only as its
    keyed hash (`name_hash`, computed when not given) and its copy by the folder holding it (`archive_path`
    is the copy itself, or the quarantine's reason file; only its folder is stored)."""
    public = landed_public_name(source, sha, entity=entity, unit_code=unit_code, period_key=period_key,
                                file_date=file_date, original_name=name)
    reason = [scrub(error.message_vi, name, public), scrub(error.message_en, name, public),
              json.dumps(_scrubbed(error.detail, name, public), ensure_ascii=False)] if error else [None] * 3
    cur.execute(
        """insert into raw.landed_files (file_id, sha256, source, entity, public_name, name_hash, archive_dir,
               size_bytes, arrived_at, status, reason_code, reason_vi, reason_en, reason_detail, row_count, unit_code,
               period_key, file_date, withdrawn_at, withdrawn_reason)
           values (coalesce(%s, nextval(pg_get_serial_sequence('raw.landed_files', 'file_id'))),
                   %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning file_id""",
        (file_id, sha, source, entity, public, name_hash or name_key(name), str(Path(archive_path).parent), size,
         arrived_at, status, error.code if error else None, *reason, row_count, unit_code, period_key, file_date,
         withdrawn_at, withdrawn_reason))
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
    public_name: str
    archived: str            # the archive copy (its name is the name as delivered: the operator's console only)
    withdrawn_at: dt.datetime
    withdrawn_reason: str
    already: bool            # it had been withdrawn before: nothing changed


def archived_shas(name: str) -> set[str]:
    """The SHA-256s of the files archived under the delivered name `name` (archive/<source>/<yyyy>/<mm>/
    <sha256>__<name>): the name as delivered is looked up in the archive, never in the warehouse."""
    root = settings.home_dir("archive")
    pattern = "*/*/*/*__" + safe_name(name)     # letters, digits, '.', '-', '_' only: no glob characters
    return {p.name.split("__", 1)[0] for p in root.glob(pattern) if not p.name.startswith(archive.TMP_PREFIX)}


def withdraw(conn, ref: str, reason: str) -> Withdrawn:
    """Mark the loaded file named `ref` (the name it was first delivered under, found in the archive; a
    later delivery's name, found by its keyed hash; a SHA-256, or a prefix of one of at least 12 hex
    digits) withdrawn with `reason`, and commit. Its archive copy, raw rows and deliveries stay
    (history); staging leaves it out. The build watermarks are reset so the next dbt build recomputes
    every period the file fed. Raises WithdrawalRefused."""
    ref, reason = ref.strip(), reason.strip()
    if not reason:
        raise WithdrawalRefused("Cần nêu lý do rút tệp (--reason \"…\").",
                                "A reason for the withdrawal is required (--reason \"…\").", 2)
    is_sha = len(ref) >= 12 and all(c in "0123456789abcdef" for c in ref.lower())
    with conn.cursor() as cur:
        cur.execute("""select f.file_id, f.sha256, f.source, f.public_name, f.archive_dir, f.status,
                              f.withdrawn_at, f.withdrawn_reason
                       from raw.landed_files as f
                       where f.sha256 = any(%(archived)s) or f.name_hash = %(key)s
                          or (%(is_sha)s and f.sha256 like %(prefix)s)
                          or f.file_id in (select d.file_id from raw.deliveries as d where d.name_hash = %(key)s)
                       order by f.file_id""", {"archived": sorted(archived_shas(ref)), "key": name_key(ref),
                                               "is_sha": is_sha, "prefix": ref.lower() + "%"})
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
        file_id, sha, source, public, folder, _, withdrawn_at, withdrawn_reason = loaded[0]
        archived = str(archive.kept_copy(Path(folder), sha) or folder)
        if withdrawn_at is not None:
            conn.rollback()
            return Withdrawn(file_id, sha, source, public, archived, withdrawn_at, withdrawn_reason, True)
        cur.execute("""update raw.landed_files set withdrawn_at = now(), withdrawn_reason = %s
                       where file_id = %s returning withdrawn_at""", (reason, file_id))
        withdrawn_at = cur.fetchone()[0]
        reset_build_watermarks(cur)
    conn.commit()
    return Withdrawn(file_id, sha, source, public, archived, withdrawn_at, reason, False)


def reset_build_watermarks(cur) -> None:
    """Make the next dbt build recompute everything: the incremental models (dbt_project/macros/
    incremental.sql) only see files landed after their watermark, and a withdrawn file, or a new
    delivery of old bytes, is not one. Without a watermark a model rebuilds from scratch."""
    cur.execute("select to_regclass('ops.build_watermarks') is not null")
    if cur.fetchone()[0]:
        cur.execute("delete from ops.build_watermarks")

"""Landing: archive byte for byte, parse, pseudonymise, load raw rows — or quarantine with a reason.

One transaction per file (landed_files row + its raw rows). A PostgreSQL session advisory lock on the
file's SHA-256 makes concurrent runs over the same folder land each file exactly once. SQL
identifiers come from the fixed catalogues of the parsers, never from file content.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import stat
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from psycopg2 import sql
from psycopg2.extras import execute_values

from lensan import settings
from lensan.settings import LOCAL_TZ, SOURCES
from lensan.landing import household_register, platforms, safety, weekly_form
from lensan.landing.errors import LandingError
from lensan.landing.pseudonymise import Pseudonymiser

log = logging.getLogger("lensan.landing")

SCHEMA_SQL = Path(__file__).resolve().parents[1] / "db" / "schema" / "raw.sql"
_SCHEMA_LOCK = 0x6C656E73616E  # 'lensan': serialises concurrent CREATE ... IF NOT EXISTS
_SKIP_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".reason.json")
PREFIXES = {"bao_cao_tuan_": "weekly_form", "danh_sach_ho_": "household_register",
            "postmart_": "postmart", "voso_": "voso"}
EXPECTED_NAMES = {
    "weekly_form": "bao_cao_tuan_<mã đơn vị>_<yyyy>-W<ww>.xlsx",
    "household_register": "danh_sach_ho_<mã đơn vị>_<yyyymmdd>.csv|.xlsx",
    "postmart": "postmart_<entity>_<yyyymmdd>.csv",
    "voso": "voso_<entity>_<yyyy-mm-dd>.jsonl.gz",
}


# ------------------------------------------------------------------------------------ results

@dataclass(frozen=True)
class Landed:
    source: str
    name: str
    rows: int


@dataclass(frozen=True)
class Skipped:
    """A duplicate: a file whose SHA-256 had already landed (or been quarantined); nothing changed."""
    source: str
    name: str


@dataclass(frozen=True)
class Quarantined:
    source: str
    name: str
    code: str


@dataclass
class LandingSummary:
    landed: list[Landed] = field(default_factory=list)
    duplicates: list[Skipped] = field(default_factory=list)     # SHA-256 already landed: no-op
    quarantined: list[Quarantined] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # infrastructure errors; file left in landing
    rows: int = 0                                               # raw rows loaded
    seconds: float = 0.0

    @property
    def skipped(self) -> list[Skipped]:
        return self.duplicates

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    ok: bool
    source: str | None
    name: str
    code: str | None = None
    message_vi: str | None = None
    message_en: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    entity: str | None = None
    unit_code: str | None = None
    map_version: str | None = None
    week_key: str | None = None
    file_date: str | None = None
    row_count: int | None = None
    row_counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------ helpers

def ensure_raw_schema(conn=None) -> None:
    """Create the raw schema and tables (idempotent, safe when several processes start at once).

    Without `conn`, on a connection of its own to the warehouse (closed afterwards)."""
    if conn is None:
        from lensan.db import warehouse

        conn = warehouse.connect()
        try:
            ensure_raw_schema(conn)
        finally:
            conn.close()
        return
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        cur.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
    conn.commit()


def detect_source(name: str) -> str | None:
    lower = name.lower()
    for prefix, source in PREFIXES.items():
        if lower.startswith(prefix):
            return source
    return None


def safe_name(name: str) -> str:
    """The base name with anything but letters, digits, '.', '-' and '_' replaced: no path tricks."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    return (cleaned or "file")[-180:]


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc)


def _make_hasher() -> Pseudonymiser:
    """The keyed hash of a landing run: callable (kind, value), cached, with a column-at-once form."""
    return Pseudonymiser(settings.pseudonym_key())


def _no_hash(kind: str, value: object) -> None:
    return None


def _source_of(path: Path, source: str | None) -> str:
    detected = detect_source(path.name)
    if source is None:
        if detected is None:
            raise LandingError("UNKNOWN_SOURCE", name=path.name, expected=" | ".join(EXPECTED_NAMES.values()))
        return detected
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    # A file named like another source is misplaced. A weekly form's name is only a hint (its header
    # is authoritative), so any name is accepted there; the other sources' names carry the unit/date
    # and are checked by their parsers.
    if detected is not None and detected != source:
        raise LandingError("UNKNOWN_SOURCE", name=path.name, expected=EXPECTED_NAMES[source])
    return source


def _check_extract_date(extract: platforms.Extract, arrived_at: dt.datetime) -> None:
    if extract.extract_date > arrived_at.astimezone(LOCAL_TZ).date():
        raise LandingError("FUTURE_PERIOD", period=extract.extract_date.isoformat(),
                           arrived_at=arrived_at.astimezone(LOCAL_TZ).isoformat(timespec="minutes"))


def _parse(path: Path, source: str, name: str, arrived_at: dt.datetime, hasher):
    """The parsed file: a WeeklyForm, a Register, or an Extract whose rows stream at load time."""
    safety.check_size(path)
    if source == "weekly_form":
        if not name.lower().endswith(".xlsx"):
            raise LandingError("UNREADABLE", expected="XLSX", reason="the weekly form must be an .xlsx workbook")
        return weekly_form.parse(path, arrived_at, hasher)
    if source == "household_register":
        return household_register.parse(path, arrived_at, hasher, name=name)
    extract = platforms.describe(name, source)
    _check_extract_date(extract, arrived_at)
    return extract


# ------------------------------------------------------------------------------------ check

def check_file(path: Path, source: str | None = None) -> CheckResult:
    """Validate a file exactly as landing would, without archiving or loading anything."""
    path = Path(path)
    result = CheckResult(ok=True, source=source, name=path.name)
    try:
        result.source = source = _source_of(path, source)
        parsed = _parse(path, source, path.name, _mtime(path), _no_hash)
        if isinstance(parsed, weekly_form.WeeklyForm):
            result.entity = "form"
            result.unit_code, result.map_version, result.week_key = parsed.unit_code, parsed.map_version, \
                parsed.week_key
            result.file_date = parsed.week_end.isoformat()
            result.row_count = len(parsed.rows)
            result.row_counts = {"weekly_form_rows": len(parsed.rows),
                                 "reported_values": sum(r.value_in_week is not None for r in parsed.rows)}
        elif isinstance(parsed, household_register.Register):
            result.entity = "register"
            result.unit_code, result.map_version = parsed.unit_code, parsed.map_version
            result.file_date = parsed.snapshot_date.isoformat()
            result.row_count = len(parsed.rows)
            result.row_counts = {"household_register": len(parsed.rows)}
        else:
            result.entity = parsed.entity
            result.file_date = parsed.extract_date.isoformat()
            result.row_count = platforms.count_rows(path, parsed)
            result.row_counts = {parsed.table: result.row_count}
    except LandingError as exc:
        result.ok = False
        result.code, result.message_vi, result.message_en, result.detail = (
            exc.code, exc.message_vi, exc.message_en, exc.detail)
    return result


# ------------------------------------------------------------------------------------ landing

def _copy_to_archive(path: Path, source: str) -> tuple[Path | None, str, int, dt.datetime]:
    """Copy to a temporary file under archive/<source>/ while hashing: (tmp path, sha256, size, mtime).

    A file over LENSAN_MAX_FILE_MB is only hashed (tmp None): it is refused, not archived.
    """
    # O_NOFOLLOW + fstat: a file swapped for a symlink (or a FIFO/device) after listing is refused,
    # never followed or blocked on.
    try:
        src_fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _NotARegularFile(path) from None
        raise
    src = os.fdopen(src_fd, "rb")
    info = os.fstat(src_fd)
    if not stat.S_ISREG(info.st_mode):
        src.close()
        raise _NotARegularFile(path)
    arrived_at = dt.datetime.fromtimestamp(info.st_mtime, tz=dt.timezone.utc)
    digest = hashlib.sha256()
    size = 0
    if info.st_size > safety.max_file_bytes():
        with src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        return None, digest.hexdigest(), size, arrived_at
    folder = settings.home_dir("archive") / source
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{_TMP_PREFIX}{_HOST}-{os.getpid()}-{time.monotonic_ns()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except BaseException:
        src.close()
        raise
    try:
        with src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, digest.hexdigest(), size, arrived_at


class _NotARegularFile(Exception):
    """The landing entry is a symbolic link, FIFO, device or socket: refused, never opened."""


_TMP_PREFIX = ".incoming-"
_HOST = re.sub(r"[^A-Za-z0-9_.]", "_", os.uname().nodename)[:60] or "host"
_STALE_TMP_SECONDS = 6 * 3600


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temp_files(sources=SOURCES) -> list[Path]:
    """Remove archive temp copies left by a killed landing (`.incoming-<host>-<pid>-<ns>`).

    A temp file is stale when its process (on this host) is gone, or, whatever the host, when it is
    older than 6 hours. Temp files are never loaded from: a leftover only wastes space, it cannot
    cause a double load; the file itself stays in landing until its transaction commits.
    """
    removed = []
    now = time.time()
    for source in sources:
        folder = settings.home_dir("archive") / source
        for tmp in folder.glob(_TMP_PREFIX + "*"):
            match = re.fullmatch(re.escape(_TMP_PREFIX) + r"(.*)-(\d+)-(\d+)", tmp.name)
            try:
                age = now - tmp.lstat().st_mtime
            except FileNotFoundError:
                continue
            stale = age > _STALE_TMP_SECONDS or (
                match is not None and match.group(1) == _HOST and not _pid_alive(int(match.group(2))))
            if stale:
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
                log.warning("removed stale archive temp file %s (age %.0fs)", tmp.name, age)
    return removed


def _check_home_layout() -> None:
    """landing/, archive/ and quarantine/ (and their source folders) must be real folders inside LENSAN_HOME:
    a symlink there would make landing read, move or write files outside the home."""
    home = settings.lensan_home()
    for top in ("landing", "archive", "quarantine"):
        for folder in [settings.home_dir(top)] + [settings.home_dir(top) / s for s in SOURCES]:
            if folder.is_symlink() or not folder.resolve().is_relative_to(home):
                raise RuntimeError(f"{folder} is a symbolic link or lies outside LENSAN_HOME={home}; "
                                   "landing refuses to follow it (mount storage at LENSAN_HOME instead)")


def _link_pseudo_sha(path: Path) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return hashlib.sha256(f"not-a-regular-file:{path.name}:{target}".encode("utf-8", "surrogateescape")).hexdigest()


def _refuse_special(conn, source: str, path: Path, summary: "LandingSummary") -> None:
    """A symlink / FIFO / device in landing: never opened or followed. Its target is recorded in a reason
    file under quarantine/<source>/, a quarantined row in raw.landed_files, and the entry is removed."""
    name = path.name
    try:
        target = os.readlink(path) if path.is_symlink() else None
    except FileNotFoundError:
        return   # gone meanwhile (a concurrent run refused it)
    except OSError:
        target = None
    kind = "symbolic link" if target is not None else "special file (FIFO/device/socket)"
    kind_vi = "liên kết tượng trưng (symlink)" if target is not None else "tệp đặc biệt (FIFO/thiết bị)"
    error = LandingError("UNSAFE_FILE", reason=f"{kind} is not followed", reason_vi=f"{kind_vi} không được mở",
                         link_target=target)
    sha = _link_pseudo_sha(path)
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (_lock_key(sha),))
        if not os.path.lexists(path):        # refused by a concurrent run while we waited
            conn.rollback()
            return
        folder = settings.home_dir("quarantine") / source
        folder.mkdir(parents=True, exist_ok=True)
        reason = folder / (f"{sha[:12]}__{safe_name(name)}" + ".reason.json")
        payload = error.as_dict() | {"file": name, "source": source, "sha256": None,
                                     "quarantined_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        fd = os.open(reason, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False, indent=2)
        cur.execute("select 1 from raw.landed_files where sha256 = %s", (sha,))
        if cur.fetchone() is None:
            now = dt.datetime.now(dt.timezone.utc)
            _insert_landed(cur, sha=sha, source=source, entity=None, name=name, archive_path=reason, size=0,
                           arrived_at=now, status="quarantined", error=error)
        path.unlink(missing_ok=True)   # removes the link itself, never its target
    conn.commit()
    summary.quarantined.append(Quarantined(source, name, error.code))
    log.warning("quarantine %s/%s: %s", source, name, error.message_en)


def _archive_path(source: str, sha: str, name: str, arrived_at: dt.datetime) -> Path:
    local = arrived_at.astimezone(LOCAL_TZ)
    folder = settings.home_dir("archive") / source / f"{local:%Y}" / f"{local:%m}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{sha}__{safe_name(name)}"


def _insert_landed(cur, *, sha, source, entity, name, archive_path, size, arrived_at, status,
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


def _load_form(cur, form: weekly_form.WeeklyForm, common: dict, arrived_at: dt.datetime) -> int:
    file_id = _insert_landed(cur, **common, entity="form", status="loaded", row_count=len(form.rows),
                             unit_code=form.unit_code, period_key=form.week_key, file_date=form.week_end)
    cur.execute(
        """insert into raw.weekly_forms (file_id, unit_code, unit_name, map_version, week_key, week_start,
               week_end, reporter_name_hash, reporter_phone_hash, received_at)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (file_id, form.unit_code, form.unit_name, form.map_version, form.week_key, form.week_start,
         form.week_end, form.reporter_name_hash, form.reporter_phone_hash, arrived_at))
    execute_values(cur, """insert into raw.weekly_form_rows (file_id, row_number, tt, section, indicator_code,
               label, unit_label, value_in_week, growth_pct, cumulative_value, completion_pct, notes) values %s""",
                   [(file_id, r.row_number, r.tt, r.section, r.indicator_code, r.label, r.unit_label,
                     r.value_in_week, r.growth_pct, r.cumulative_value, r.completion_pct, r.notes)
                    for r in form.rows])
    return len(form.rows)


def _load_register(cur, register: household_register.Register, common: dict) -> int:
    file_id = _insert_landed(cur, **common, entity="register", status="loaded", row_count=len(register.rows),
                             unit_code=register.unit_code, file_date=register.snapshot_date)
    statement = sql.SQL("insert into raw.household_register (file_id, unit_code, snapshot_date, row_number, {}) "
                        "values %s").format(sql.SQL(", ").join(sql.Identifier(c)
                                                               for c in household_register.RAW_COLUMNS))
    execute_values(cur, statement.as_string(cur),
                   [(file_id, register.unit_code, register.snapshot_date) + row for row in register.rows],
                   page_size=1000)
    return len(register.rows)


def _load_extract(cur, extract: platforms.Extract, path: Path, common: dict, hasher) -> int:
    file_id = _insert_landed(cur, **common, entity=extract.entity, status="loaded", file_date=extract.extract_date)
    stream = platforms.CopyStream(platforms.copy_chunks(path, extract, hasher,
                                                        prefix=f"{int(file_id)}\t{extract.extract_date.isoformat()}"))
    statement = sql.SQL("copy raw.{} ({}) from stdin with {}").format(
        sql.Identifier(extract.table), sql.SQL(", ").join(sql.Identifier(c) for c in platforms.copy_columns(extract)),
        sql.SQL(platforms.COPY_OPTIONS))
    try:
        cur.copy_expert(statement, stream, size=1 << 20)
    except Exception:
        if stream.error is not None:
            raise stream.error from None
        raise
    if stream.error is not None:
        raise stream.error
    cur.execute("update raw.landed_files set row_count = %s where file_id = %s", (stream.row_count, file_id))
    return stream.row_count


def _write_quarantine(path: Path, source: str, name: str, sha: str, error: LandingError) -> Path:
    folder = settings.home_dir("quarantine") / source
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_name(name)
    if target.exists() or (folder / (target.name + ".reason.json")).exists():
        target = folder / f"{sha[:12]}__{safe_name(name)}"
    reason = folder / (target.name + ".reason.json")
    payload = error.as_dict() | {"file": name, "source": source, "sha256": sha,
                                 "quarantined_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    fd = os.open(reason, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=2)
    try:
        os.replace(path, target)
    except FileNotFoundError:
        pass  # a concurrent run moved it
    except OSError:  # another file system: copy then remove
        import shutil

        shutil.copy2(path, target)
        path.unlink(missing_ok=True)
    try:
        if not target.is_symlink():
            os.chmod(target, 0o600)
    except FileNotFoundError:
        pass
    return target


def _lock_key(sha: str) -> int:
    return int.from_bytes(bytes.fromhex(sha[:16]), "big", signed=True)


def _land_one(conn, source: str, path: Path, summary: LandingSummary, hasher) -> None:
    name = path.name
    started = time.perf_counter()
    tmp, sha, size, arrived_at = _copy_to_archive(path, source)
    key = _lock_key(sha)
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_lock(%s)", (key,))
    conn.commit()
    try:
        with conn.cursor() as cur:
            cur.execute("""select status, reason_code, reason_vi, reason_en, reason_detail, original_name
                           from raw.landed_files where sha256 = %s""", (sha,))
            existing = cur.fetchone()
        conn.rollback()
        if existing and not os.path.lexists(path):
            # a concurrent run landed (or quarantined) this very file while we waited for the lock
            log.info("skip %s/%s: taken by a concurrent run", source, name)
            return
        if existing:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            summary.duplicates.append(Skipped(source, name))
            log.info("skip %s/%s: already landed (sha256 %s, %s)", source, name, sha[:12], existing[0])
            if existing[0] == "quarantined":
                # a bad file is never silently dropped: the copy joins the quarantine, same reason
                error = LandingError.from_row(existing[1], existing[2], existing[3], existing[4])
                error.detail["duplicate_of"] = existing[5]
                _write_quarantine(path, source, name, sha, error)
            else:
                path.unlink(missing_ok=True)
            return
        if tmp is None:  # over the size limit: refused without archiving (the quarantine keeps it)
            archive_path = settings.home_dir("quarantine") / source / safe_name(name)
        else:
            archive_path = _archive_path(source, sha, name, arrived_at)
            os.replace(tmp, archive_path)
            os.chmod(archive_path, 0o600)
            os.utime(archive_path, (arrived_at.timestamp(), arrived_at.timestamp()))
        common = dict(sha=sha, source=source, name=name, archive_path=archive_path, size=size,
                      arrived_at=arrived_at)
        try:
            try:
                _source_of(path, source)
                if tmp is None:
                    safety.check_size(path)     # raises FILE_TOO_LARGE
                parsed = _parse(archive_path, source, name, arrived_at, hasher)
                with conn.cursor() as cur:
                    if isinstance(parsed, weekly_form.WeeklyForm):
                        rows = _load_form(cur, parsed, common, arrived_at)
                    elif isinstance(parsed, household_register.Register):
                        rows = _load_register(cur, parsed, common)
                    else:
                        rows = _load_extract(cur, parsed, archive_path, common, hasher)
                conn.commit()
            except LandingError:
                raise
            except _DATA_ERRORS as exc:  # content the database refuses (e.g. NUL bytes)
                raise LandingError("UNREADABLE", expected=source, reason=f"{type(exc).__name__}: "
                                   f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}") from exc
            except _DB_ERRORS:
                raise  # infrastructure: the file stays in landing for the next run
            except Exception as exc:  # noqa: BLE001 - a reader choking on the content is a bad file
                log.exception("unexpected error parsing %s/%s", source, name)
                raise LandingError("UNREADABLE", expected=source,
                                   reason=f"{type(exc).__name__}: {exc}"[:500]) from exc
        except LandingError as error:
            conn.rollback()
            target = _write_quarantine(path, source, name, sha, error)
            if tmp is None:
                common["archive_path"] = target
            with conn.cursor() as cur:
                _insert_landed(cur, **common, entity=None, status="quarantined", error=error)
            conn.commit()
            summary.quarantined.append(Quarantined(source, name, error.code))
            log.warning("quarantine %s/%s: %s", source, name, error.message_en)
            return
        path.unlink(missing_ok=True)
        elapsed = time.perf_counter() - started
        summary.landed.append(Landed(source, name, rows))
        summary.rows += rows
        log.info("landed %s/%s: %d rows in %.2fs (%.0f rows/s)", source, name, rows, elapsed,
                 rows / elapsed if elapsed else 0)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_unlock(%s)", (key,))
        conn.commit()


def _db_errors():
    import psycopg2

    return (psycopg2.DataError,), (psycopg2.Error,)


_DATA_ERRORS, _DB_ERRORS = _db_errors()


class LandingIncomplete(RuntimeError):
    """Raised by land_pending after the whole batch when some files failed for infrastructure reasons
    (database unavailable, disk full...): those files stay in landing for the next run. `.summary`
    holds what did land."""

    def __init__(self, summary: "LandingSummary"):
        self.summary = summary
        names = ", ".join(f"{f['source']}/{f['name']}" for f in summary.failed[:5])
        super().__init__(f"{len(summary.failed)} file(s) could not be landed and stay in landing: {names}")


def pending_files(source: str) -> list[Path]:
    folder = settings.landing_dir(source)
    return sorted(p for p in folder.iterdir()
                  if not p.name.startswith(".") and not p.name.endswith(_SKIP_SUFFIXES)
                  and (p.is_symlink() or not p.is_dir()))


def land_pending(sources: list[str] | None = None, conn=None,
                 progress: Callable[[str], None] | None = None, progress_every_s: float = 2.0) -> LandingSummary:
    """Land every file waiting in LENSAN_HOME/landing/<source>/ (all four sources by default).

    Bad files are quarantined and the batch goes on. Files that fail for infrastructure reasons stay in
    landing; after the batch, LandingIncomplete (carrying the summary) is raised so a scheduler retries.
    `progress` receives a one-line report (files, rows, MB, MB/s, ETA) every `progress_every_s` seconds
    and at the end.
    """
    from lensan.db import warehouse

    started = time.perf_counter()
    wanted = list(sources) if sources else list(SOURCES)
    for source in wanted:
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    own = conn is None
    conn = conn or warehouse.connect()
    summary = LandingSummary()
    try:
        _check_home_layout()
        ensure_raw_schema(conn)
        sweep_stale_temp_files(wanted)
        hasher = _make_hasher()
        queue = [(source, path) for source in wanted for path in pending_files(source)]
        meter = _ProgressMeter(queue, progress, progress_every_s)
        for source, path in queue:
            meter.tick(path, summary)
            try:
                try:
                    mode = os.lstat(path).st_mode
                except FileNotFoundError:
                    continue  # taken by a concurrent run since the listing
                if not stat.S_ISREG(mode):
                    _refuse_special(conn, source, path, summary)
                else:
                    try:
                        _land_one(conn, source, path, summary, hasher)
                    except _NotARegularFile:   # swapped for a link/FIFO after listing
                        conn.rollback()
                        _refuse_special(conn, source, path, summary)
            except FileNotFoundError:
                if not os.path.lexists(path):
                    continue  # taken by a concurrent run between listing and reading
                log.exception("landing %s/%s failed; file left in landing", source, path.name)
                conn.rollback()
                summary.failed.append({"source": source, "name": path.name, "error": "FileNotFoundError"})
            except Exception as exc:  # noqa: BLE001 - one file never stops the batch
                log.exception("landing %s/%s failed; file left in landing", source, path.name)
                try:
                    conn.rollback()
                except Exception:  # noqa: BLE001
                    pass
                summary.failed.append({"source": source, "name": path.name,
                                       "error": f"{type(exc).__name__}: {exc}"})
        meter.finish(summary)
    finally:
        if own:
            conn.close()
    summary.seconds = time.perf_counter() - started
    log.info("landing: %d landed (%d rows), %d duplicates, %d quarantined, %d failed in %.1fs",
             len(summary.landed), summary.rows, len(summary.duplicates), len(summary.quarantined),
             len(summary.failed), summary.seconds)
    if summary.failed:
        raise LandingIncomplete(summary)
    return summary


class _ProgressMeter:
    """Progress of a landing batch by bytes of the files taken (sizes read once, when listed)."""

    def __init__(self, queue: list[tuple[str, Path]], progress: Callable[[str], None] | None, every_s: float):
        self.progress, self.every_s = progress, every_s
        self.files_total = len(queue)
        self.sizes = {path: _size_or_zero(path) for _, path in queue} if progress else {}
        self.bytes_total = sum(self.sizes.values())
        self.files_done, self.bytes_done = 0, 0
        self.started = self.last = time.perf_counter()

    def tick(self, path: Path, summary: LandingSummary) -> None:
        """Count the file about to be landed as done from the previous one on; report if due."""
        if self.progress is None:
            return
        now = time.perf_counter()
        if self.files_done and now - self.last >= self.every_s:
            self._report(summary, now)
        self.files_done += 1
        self.bytes_done += self.sizes.get(path, 0)

    def finish(self, summary: LandingSummary) -> None:
        if self.progress is not None and self.files_total:
            self._report(summary, time.perf_counter())

    def _report(self, summary: LandingSummary, now: float) -> None:
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        mb_per_s = self.bytes_done / 1e6 / elapsed
        left = self.bytes_total - self.bytes_done
        eta = f"{left / 1e6 / mb_per_s:,.0f} s" if mb_per_s > 0 else "?"
        self.progress(f"{self.files_done:,}/{self.files_total:,} files · {summary.rows:,} rows · "
                      f"{self.bytes_done / 1e6:,.1f}/{self.bytes_total / 1e6:,.1f} MB · {mb_per_s:,.1f} MB/s · "
                      f"{summary.rows / elapsed:,.0f} rows/s · ETA {eta}")


def _size_or_zero(path: Path) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


# ------------------------------------------------------------------------------------ key rotation

def reland_all(conn=None) -> LandingSummary:
    """Re-load every loaded file from its archive copy with the *current* pseudonym key.

    This is how the pseudonym key is rotated: a keyed hash cannot be re-keyed from the hashes alone,
    so the raw rows are rebuilt from the byte-identical archive. Set the new LENSAN_PSEUDONYM_KEY (or
    replace LENSAN_HOME/secrets/pseudonym.key), call this, then rebuild dbt (`dbt build --full-refresh`).
    One transaction: the raw layer is swapped whole or not at all (a missing or unreadable archive
    file aborts it). file_id, arrival times and quarantined rows are kept; landing is blocked meanwhile.
    """
    from lensan.db import warehouse

    started = time.perf_counter()
    own = conn is None
    conn = conn or warehouse.connect()
    summary = LandingSummary()
    try:
        ensure_raw_schema(conn)
        hasher = _make_hasher()
        with conn.cursor() as cur:
            cur.execute("lock table raw.landed_files in exclusive mode")
            cur.execute("""select file_id, sha256, source, original_name, archive_path, size_bytes, arrived_at
                           from raw.landed_files where status = 'loaded' order by file_id""")
            files = cur.fetchall()
            cur.execute("""select table_name from information_schema.columns
                           where table_schema = 'raw' and column_name = 'file_id' and table_name <> 'landed_files'""")
            tables = sorted((r[0] for r in cur.fetchall()), key=lambda t: (t != "weekly_form_rows", t))
            for table in tables:   # children first (weekly_form_rows -> weekly_forms)
                cur.execute(sql.SQL("delete from raw.{} where file_id in (select file_id from raw.landed_files "
                                    "where status = 'loaded')").format(sql.Identifier(table)))
            cur.execute("delete from raw.landed_files where status = 'loaded'")
            for file_id, sha, source, name, archive_path, size, arrived_at in files:
                path = Path(archive_path)
                if not path.resolve().is_relative_to(settings.home_dir("archive")) or path.is_symlink():
                    raise RuntimeError(f"archive path of file {file_id} lies outside LENSAN_HOME/archive: {path}")
                with open(path, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
                if digest != sha:
                    raise RuntimeError(f"archive copy of file {file_id} ({name}) no longer matches its SHA-256")
                common = dict(sha=sha, source=source, name=name, archive_path=path, size=size,
                              arrived_at=arrived_at, file_id=file_id)
                parsed = _parse(path, source, name, arrived_at, hasher)
                if isinstance(parsed, weekly_form.WeeklyForm):
                    rows = _load_form(cur, parsed, common, arrived_at)
                elif isinstance(parsed, household_register.Register):
                    rows = _load_register(cur, parsed, common)
                else:
                    rows = _load_extract(cur, parsed, path, common, hasher)
                summary.landed.append(Landed(source, name, rows))
                summary.rows += rows
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        if own:
            conn.close()
    summary.seconds = time.perf_counter() - started
    log.info("re-landed %d files (%d rows) with the current pseudonym key in %.1fs", len(summary.landed),
             summary.rows, summary.seconds)
    return summary

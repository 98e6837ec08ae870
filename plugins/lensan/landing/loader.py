"""Landing: archive byte for byte, parse, pseudonymise, load raw rows — or quarantine with a reason.

The orchestrator: `land_pending` takes every file waiting in landing/<source>/ through the steps of
`_land_one` (archive copy + SHA-256, duplicate check, parse, load — or quarantine); `check_file` runs
the same checks without archiving or loading; `ensure_raw_schema` creates the raw tables.

One transaction per file (landed_files row + its raw rows). A PostgreSQL session advisory lock on the
file's SHA-256 makes concurrent runs over the same folder land each file exactly once. SQL
identifiers come from the fixed catalogues of the parsers, never from file content.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
import time
import traceback
from pathlib import Path
from typing import Callable

from lensan import settings
from lensan.db import ddl
from lensan.landing import archive, ledger, load, migrations, names, quarantine, safety
from lensan.landing.errors import LandingError, warning
from lensan.landing.parsers import household_register, weekly_form
from lensan.landing.platforms import fast
from lensan.landing.results import (CheckResult, Landed, LandingIncomplete, LandingSummary, Redelivered,
                                    Skipped)
from lensan.settings import SOURCES

log = logging.getLogger("lensan.landing")

_SKIP_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", quarantine.REASON_SUFFIX)


def ensure_raw_schema(conn=None) -> None:
    """Create the raw schema and tables (idempotent, safe when several processes start at once).

    Without `conn`, on a connection of its own to the warehouse (closed afterwards). The DDL is
    lensan/db/schema/raw.sql, run by `lensan.db.ddl`; an older warehouse's names as delivered are then
    replaced (`migrations`)."""
    if conn is None:
        from lensan.db import warehouse

        conn = warehouse.connect()
        try:
            ensure_raw_schema(conn)
        finally:
            conn.close()
        return
    ddl.ensure(conn, "raw")
    migrations.forget_delivered_names(conn)


# ------------------------------------------------------------------------------------ check

def _no_hash(kind: str, value: object) -> None:
    return None


def check_file(path: Path, source: str | None = None) -> CheckResult:
    """Validate a file exactly as landing would, without archiving or loading anything."""
    path = Path(path)
    result = CheckResult(ok=True, source=source, name=path.name)
    try:
        result.source = source = names.source_of(path, source)
        arrived_at = archive.arrival_time(path.stat())
        parsed = load.parse(path, source, path.name, arrived_at, _no_hash)
        if isinstance(parsed, weekly_form.WeeklyForm):
            result.entity = "form"
            result.unit_code, result.map_version, result.week_key = parsed.unit_code, parsed.map_version, \
                parsed.week_key
            result.file_date = parsed.week_end.isoformat()
            result.row_count = len(parsed.rows)
            result.row_counts = {"weekly_form_rows": len(parsed.rows),
                                 "reported_values": sum(r.value_in_week is not None for r in parsed.rows)}
            result.warnings = list(parsed.warnings)
        elif isinstance(parsed, household_register.Register):
            result.entity = "register"
            result.unit_code, result.map_version = parsed.unit_code, parsed.map_version
            result.file_date = parsed.snapshot_date.isoformat()
            result.row_count = len(parsed.rows)
            result.row_counts = {"household_register": len(parsed.rows)}
        else:
            result.entity = parsed.entity
            result.file_date = parsed.extract_date.isoformat()
            result.row_count, repeats = fast.count_rows_and_repeats(path, parsed)
            result.row_counts = {parsed.table: result.row_count}
            if repeats:     # landing keeps each exact duplicate line once
                result.warnings = [warning("DUPLICATE_LINES", count=repeats)]
    except LandingError as exc:
        result.ok = False
        result.code, result.message_vi, result.message_en, result.detail = (
            exc.code, exc.message_vi, exc.message_en, exc.detail)
    return result


# ------------------------------------------------------------------------------------ one file

def _land_one(conn, source: str, path: Path, summary: LandingSummary, hasher) -> None:
    """Archive, parse and load one regular file in one transaction — or quarantine it, or skip it as a
    duplicate. Infrastructure errors propagate: the file stays in landing for the next run."""
    started = time.perf_counter()
    copy = archive.copy_to_archive(path, source)
    # on exit: the temp copy removed (unless stored), the transaction rolled back, the lock released
    with ledger.sha_lock(conn, copy.sha256), copy:
        existing = ledger.find(conn, copy.sha256)
        if existing is not None:
            _known_bytes(conn, source, path, copy, existing, summary, hasher)
            return
        if copy.tmp is None:   # over the size limit: refused without archiving (the quarantine keeps it)
            archive_path = settings.home_dir("quarantine") / source / names.safe_name(path.name)
        else:
            archive_path = archive.store(copy, source, path.name)
        record = dict(sha=copy.sha256, source=source, name=path.name, name_hash=ledger.name_key(path.name, hasher),
                      archive_path=archive_path, size=copy.size, arrived_at=copy.arrived_at)
        try:
            rows, warnings = _parse_and_load(conn, path, copy, record, hasher)
        except Exception as exc:
            error = load.content_error(exc, source, path.name)
            if error is None:
                raise          # infrastructure: the file stays in landing for the next run
            summary.quarantined.append(quarantine.refuse(conn, path, record, error, archived=copy.tmp is not None))
            return
        path.unlink(missing_ok=True)
        elapsed = time.perf_counter() - started
        summary.landed.append(Landed(source, path.name, rows, tuple(warnings)))
        for item in warnings:   # accepted, with what it lacks said (e.g. omitted form rows)
            log.warning("landed %s with a warning: %s", names.log_name(source, path.name, copy.sha256),
                        names.scrub(item["message_en"], path.name))
        summary.rows += rows
        log.info("landed %s: %d rows in %.2fs (%.0f rows/s)", names.log_name(source, path.name, copy.sha256),
                 rows, elapsed,
                 rows / elapsed if elapsed else 0)


def _known_bytes(conn, source: str, path: Path, copy: archive.ArchiveCopy, existing: ledger.Existing,
                 summary: LandingSummary, hasher) -> None:
    """A file whose SHA-256 has landed (or been quarantined) before: its rows are never loaded again.
    Under a name it was delivered under before, nothing changes. Under a new name it is one more
    delivery of the same archived bytes (raw.deliveries), with the date the new name gives; a name
    that cannot be read sends it to quarantine."""
    if not os.path.lexists(path):
        # a concurrent run landed (or quarantined) this very file while we waited for the lock
        log.info("skip %s: taken by a concurrent run", names.log_name(source, path.name, copy.sha256))
        return
    if existing.status == "quarantined":
        # a bad file is never silently dropped: the copy joins the quarantine, same reason
        summary.duplicates.append(Skipped(source, path.name))
        log.info("skip %s: already quarantined", names.log_name(source, path.name, copy.sha256))
        error = LandingError.from_row(existing.reason_code, existing.reason_vi, existing.reason_en,
                                      existing.reason_detail)
        error.detail["duplicate_of"] = existing.public_name
        quarantine.move(path, source, path.name, copy.sha256, error)
        return
    key = ledger.name_key(path.name, hasher)
    if ledger.delivered_under(conn, existing.file_id, key):
        summary.duplicates.append(Skipped(source, path.name))
        log.info("skip %s: already landed", names.log_name(source, path.name, copy.sha256))
        path.unlink(missing_ok=True)
        return
    try:
        meaning = load.delivery_meaning(source, path.name, copy.arrived_at, existing)
    except LandingError as error:
        error.detail["same_bytes_as_sha256"] = copy.sha256
        target = quarantine.move(path, source, path.name, copy.sha256, error)
        summary.quarantined.append(quarantine.quarantined(source, path.name, error, target))
        log.warning("quarantine %s: %s", names.log_name(source, path.name, copy.sha256),
                    names.scrub(error.message_en, path.name))
        return
    with conn.cursor() as cur:
        ledger.insert_delivery(cur, file_id=existing.file_id, sha=copy.sha256, source=source, name=path.name,
                               name_hash=key, arrived_at=copy.arrived_at, **meaning)
        if meaning["file_date"] != existing.file_date:
            ledger.reset_build_watermarks(cur)   # a register's new snapshot date changes past periods
    conn.commit()
    path.unlink(missing_ok=True)
    file_date = meaning["file_date"].isoformat() if meaning["file_date"] else None
    # the first name as the archive keeps it, for the operator's console (the warehouse keeps no name)
    first = archive.kept_copy(Path(existing.archive_dir), copy.sha256)
    first_name = archive.delivered_name(first, copy.sha256) if first is not None else existing.public_name
    summary.redelivered.append(Redelivered(source, path.name, first_name, file_date))
    log.info("redelivered %s: same bytes as file %s, date %s", names.log_name(source, path.name, copy.sha256),
             existing.file_id, file_date)


def _parse_and_load(conn, path: Path, copy: archive.ArchiveCopy, record: dict, hasher) -> tuple[int, list]:
    """The file's checks, then its rows loaded and committed: the number of rows and the file's warnings
    (as check_file reports them); raises what is wrong with it."""
    source = record["source"]
    names.source_of(path, source)
    if copy.tmp is None:
        safety.check_size(path)     # raises FILE_TOO_LARGE
    parsed = load.parse(record["archive_path"], source, path.name, copy.arrived_at, hasher)
    warnings = list(getattr(parsed, "warnings", []))
    with conn.cursor() as cur:
        rows = load.load_parsed(cur, parsed, record, hasher, warnings)
    conn.commit()
    return rows, warnings


def _land_entry(conn, source: str, path: Path, summary: LandingSummary, hasher) -> None:
    """One entry of a landing folder: a regular file lands; a link, FIFO or device is refused."""
    # FileNotFoundError: taken by a concurrent run since the listing (land_pending skips it)
    if stat.S_ISREG(os.lstat(path).st_mode):
        try:
            _land_one(conn, source, path, summary, hasher)
            return
        except archive.NotARegularFile:   # swapped for a link/FIFO after listing
            conn.rollback()
    refused = quarantine.refuse_special(conn, source, path)
    if refused is not None:
        summary.quarantined.append(refused)


# ------------------------------------------------------------------------------------ batch

def _check_home_layout() -> None:
    """landing/, archive/ and quarantine/ (and their source folders) must be real folders inside LENSAN_HOME:
    a symlink there would make landing read, move or write files outside the home."""
    home = settings.lensan_home()
    for top in ("landing", "archive", "quarantine"):
        # not created here: a quarantine that cannot be made fails its files, not the whole batch
        for folder in [home / top] + [home / top / s for s in SOURCES]:
            if folder.is_symlink() or not folder.resolve().is_relative_to(home):
                raise RuntimeError(f"{folder} is a symbolic link or lies outside LENSAN_HOME={home}; "
                                   "landing refuses to follow it (mount storage at LENSAN_HOME instead)")


def pending_files(source: str) -> list[Path]:
    folder = settings.landing_dir(source)
    return sorted(p for p in folder.iterdir()
                  if not p.name.startswith(".") and not p.name.endswith(_SKIP_SUFFIXES)
                  and (p.is_symlink() or not p.is_dir()))


def land_pending(sources: list[str] | None = None, conn=None,
                 progress: Callable[[str], None] | None = None, progress_every_s: float = 2.0,
                 files: list[tuple[str, Path]] | None = None) -> LandingSummary:
    """Land every file waiting in LENSAN_HOME/landing/<source>/ (all four sources by default).

    Bad files are quarantined and the batch goes on. Files that fail for infrastructure reasons stay in
    landing; after the batch, LandingIncomplete (carrying the summary) is raised so a scheduler retries.
    `progress` receives a one-line report (files, rows, MB, MB/s, ETA) every `progress_every_s` seconds
    and at the end. `files` ((source, path) in landing order, e.g. one group of lensan.landing.groups)
    lands those of the pending files instead of all of them.
    """
    from lensan.db import warehouse

    started = time.perf_counter()
    wanted = list(sources) if sources else list(SOURCES)
    for source in wanted:
        names.require_known(source)
    own = conn is None
    conn = conn or warehouse.connect()
    summary = LandingSummary()
    try:
        _check_home_layout()
        ensure_raw_schema(conn)
        archive.sweep_stale_temp_files(wanted)
        hasher = load.make_hasher()
        queue = ([(source, Path(path)) for source, path in files if source in wanted] if files is not None
                 else [(source, path) for source in wanted for path in pending_files(source)])
        meter = _ProgressMeter(queue, progress, progress_every_s)
        for source, path in queue:
            meter.tick(path, summary)
            try:
                _land_entry(conn, source, path, summary, hasher)
            except Exception as exc:  # noqa: BLE001 - one file never stops the batch
                if isinstance(exc, FileNotFoundError) and not os.path.lexists(path):
                    continue  # taken by a concurrent run between listing and reading
                _rollback_quietly(conn)
                summary.failed.append(_failure(source, path, exc))
        meter.finish(summary)
    finally:
        if own:
            conn.close()
    summary.seconds = time.perf_counter() - started
    log.info("landing: %d landed (%d rows), %d duplicates, %d redelivered, %d quarantined, %d failed in %.1fs",
             len(summary.landed), summary.rows, len(summary.duplicates), len(summary.redelivered),
             len(summary.quarantined), len(summary.failed), summary.seconds)
    if summary.failed:
        raise LandingIncomplete(summary)
    return summary


def _failure(source: str, path: Path, exc: Exception) -> dict[str, str]:
    """A file that could not be landed for a reason outside the file: what the summary says of it."""
    if isinstance(exc, quarantine.QuarantineUnwritable):
        log.error("landing %s: %s; file left in landing", names.log_name(source, path.name),
                  names.scrub(str(exc), path.name))
        return {"source": source, "name": path.name, "error": f"{type(exc).__name__}: {exc}",
                "message_vi": exc.message_vi, "message_en": exc.message_en}
    log.error("landing %s failed; file left in landing: %s", names.log_name(source, path.name),
              names.scrub("".join(traceback.format_exception(exc)), path.name))
    error = "FileNotFoundError" if isinstance(exc, FileNotFoundError) else f"{type(exc).__name__}: {exc}"
    return {"source": source, "name": path.name, "error": error,
            "message_vi": f"Lỗi hạ tầng, tệp được giữ lại trong thư mục landing để chạy lại: {error}",
            "message_en": f"Infrastructure failure, the file stays in landing for the next run: {error}"}


def _rollback_quietly(conn) -> None:
    try:
        conn.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone: the next file reports it
        pass


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

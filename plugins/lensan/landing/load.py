"""The load steps of one file: parse it (`parse`), then insert its raw.landed_files row and raw rows
in the caller's transaction (`load_parsed`): weekly forms and registers by INSERT, platform extracts
streamed by COPY. `content_error` tells a bad file (quarantined) from an infrastructure failure.

SQL identifiers come from the fixed catalogues of the parsers, never from file content.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import traceback
from pathlib import Path
from typing import Iterator

import psycopg2
from psycopg2 import sql
from psycopg2.extras import execute_values

from lensan import settings
from lensan.landing import names, safety
from lensan.landing.errors import LandingError, warning
from lensan.landing.ledger import insert_landed
from lensan.landing.parsers import household_register, weekly_form
from lensan.landing.platforms import duplicates, fast, spec
from lensan.landing.pseudonymise import Pseudonymiser
from lensan.settings import LOCAL_TZ

log = logging.getLogger("lensan.landing")


def make_hasher() -> Pseudonymiser:
    """The keyed hash of a landing run: callable (kind, value), cached, with a column-at-once form."""
    return Pseudonymiser(settings.pseudonym_key())


# ------------------------------------------------------------------------------------ parse

def _check_extract_date(extract: spec.Extract, arrived_at: dt.datetime) -> None:
    if extract.extract_date > arrived_at.astimezone(LOCAL_TZ).date():
        raise LandingError("FUTURE_PERIOD", period=extract.extract_date.isoformat(),
                           arrived_at=arrived_at.astimezone(LOCAL_TZ).isoformat(timespec="minutes"))


def parse(path: Path, source: str, name: str, arrived_at: dt.datetime, hasher):
    """The parsed file: a WeeklyForm, a Register, or an Extract whose rows stream at load time."""
    safety.check_size(path)
    if source == "weekly_form":     # .xlsx, .xls or .ods, told from the content (the name is only a hint)
        return weekly_form.parse(path, arrived_at, hasher)
    if source == "household_register":
        return household_register.parse(path, arrived_at, hasher, name=name)
    extract = spec.describe(name, source)
    _check_extract_date(extract, arrived_at)
    return extract


def delivery_meaning(source: str, name: str, arrived_at: dt.datetime, existing) -> dict:
    """What a new name says about bytes that landed before (`existing`, a ledger.Existing): the unit,
    period and date of this delivery. A weekly form's identity is its content, so only a register's
    snapshot date and an extract's date come from the name. Raises LandingError when the name cannot
    be read: such a delivery is quarantined, never dropped."""
    entity = existing.entity
    if source == "weekly_form":
        return dict(entity=entity, unit_code=existing.unit_code, period_key=existing.period_key,
                    file_date=existing.file_date)
    if source == "household_register":
        date = household_register.parse_name(name)[1]
    else:
        # an extract without rows has the same bytes whatever its entity and day
        extract = spec.describe(name, source)
        entity, date = extract.entity, extract.extract_date
    if date > arrived_at.astimezone(LOCAL_TZ).date():
        raise LandingError("FUTURE_PERIOD", period=date.isoformat(),
                           arrived_at=arrived_at.astimezone(LOCAL_TZ).isoformat(timespec="minutes"))
    return dict(entity=entity, unit_code=existing.unit_code, period_key=existing.period_key, file_date=date)


def content_error(exc: Exception, source: str, name: str) -> LandingError | None:
    """The reason to quarantine a file for an exception raised while parsing or loading it; None for an
    infrastructure failure (database errors other than refused data), which leaves the file in landing."""
    if isinstance(exc, LandingError):
        return exc
    if isinstance(exc, psycopg2.DataError):     # content the database refuses (e.g. NUL bytes)
        text = str(exc).strip()
        error = LandingError("UNREADABLE", expected=source,
                             reason=f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}")
    elif isinstance(exc, psycopg2.Error):
        return None
    else:                                       # a reader choking on the content is a bad file
        log.error("unexpected error parsing %s: %s", names.log_name(source, name),
                  names.scrub("".join(traceback.format_exception(exc)), name))
        error = LandingError("UNREADABLE", expected=source, reason=f"{type(exc).__name__}: {exc}"[:500])
    error.__cause__ = exc
    return error


# ------------------------------------------------------------------------------------ load

def load_parsed(cur, parsed, record: dict, hasher, warnings: list | None = None) -> int:
    """Insert the file's raw.landed_files row (`record`: sha, source, name, archive_path, size,
    arrived_at[, file_id]) and its raw rows; the number of raw rows. What loading finds to say about an
    accepted file (exact duplicate lines collapsed) is appended to `warnings`."""
    if isinstance(parsed, weekly_form.WeeklyForm):
        return load_form(cur, parsed, record)
    if isinstance(parsed, household_register.Register):
        return load_register(cur, parsed, record)
    return load_extract(cur, parsed, record, hasher, warnings)


def load_form(cur, form: weekly_form.WeeklyForm, record: dict) -> int:
    file_id = insert_landed(cur, **record, entity="form", status="loaded", row_count=len(form.rows),
                            unit_code=form.unit_code, period_key=form.week_key, file_date=form.week_end)
    cur.execute(
        """insert into raw.weekly_forms (file_id, unit_code, unit_name, map_version, week_key, week_start,
               week_end, reporter_name_hash, reporter_phone_hash, received_at)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (file_id, form.unit_code, form.unit_name, form.map_version, form.week_key, form.week_start,
         form.week_end, form.reporter_name_hash, form.reporter_phone_hash, record["arrived_at"]))
    execute_values(cur, """insert into raw.weekly_form_rows (file_id, row_number, tt, section, indicator_code,
               label, unit_label, value_in_week, growth_pct, cumulative_value, completion_pct, notes) values %s""",
                   [(file_id, r.row_number, r.tt, r.section, r.indicator_code, r.label, r.unit_label,
                     r.value_in_week, r.growth_pct, r.cumulative_value, r.completion_pct, r.notes)
                    for r in form.rows])
    return len(form.rows)


def load_register(cur, register: household_register.Register, record: dict) -> int:
    file_id = insert_landed(cur, **record, entity="register", status="loaded", row_count=len(register.rows),
                            unit_code=register.unit_code, file_date=register.snapshot_date)
    statement = sql.SQL("insert into raw.household_register (file_id, unit_code, snapshot_date, row_number, {}) "
                        "values %s").format(sql.SQL(", ").join(sql.Identifier(c)
                                                               for c in household_register.RAW_COLUMNS))
    execute_values(cur, statement.as_string(cur),
                   [(file_id, register.unit_code, register.snapshot_date) + row for row in register.rows],
                   page_size=1000)
    return len(register.rows)


def load_extract(cur, extract: spec.Extract, record: dict, hasher, warnings: list | None = None) -> int:
    """COPY the archived extract (`record["archive_path"]`) into its raw table, a chunk at a time; exact
    duplicate lines are then collapsed (`platforms.duplicates`)."""
    file_id = insert_landed(cur, **record, entity=extract.entity, status="loaded", file_date=extract.extract_date)
    report: dict = {}
    stream = CopyStream(fast.copy_chunks(record["archive_path"], extract, hasher,
                                         prefix=f"{int(file_id)}\t{extract.extract_date.isoformat()}", report=report))
    statement = sql.SQL("copy raw.{} ({}) from stdin with {}").format(
        sql.Identifier(extract.table), sql.SQL(", ").join(sql.Identifier(c) for c in fast.copy_columns(extract)),
        sql.SQL(fast.COPY_OPTIONS))
    try:
        cur.copy_expert(statement, stream, size=1 << 20)
    except Exception:
        if stream.error is not None:
            raise stream.error from None
        raise
    if stream.error is not None:
        raise stream.error
    rows = stream.row_count
    if report.get("may_repeat"):
        repeats = duplicates.collapse(cur, extract, file_id)
        rows -= repeats
        if repeats:
            log.info("%s: %d exact duplicate lines collapsed", record["name"], repeats)
            if warnings is not None:
                warnings.append(warning("DUPLICATE_LINES", count=repeats))
    cur.execute("update raw.landed_files set row_count = %s where file_id = %s", (rows, file_id))
    return rows


class CopyStream(io.RawIOBase):
    """A read()-able view of `fast.copy_chunks` for cursor.copy_expert.

    An exception from the chunk source is kept in `.error` (and the stream ends), so the caller can roll
    back and quarantine with the real reason rather than a COPY protocol error.
    """

    def __init__(self, chunks: Iterator[tuple[int, bytes]]):
        self._chunks = chunks
        self._chunk = memoryview(b"")
        self._offset = 0
        self.error: BaseException | None = None
        self.row_count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._offset >= len(self._chunk):
            if self.error is not None:
                return b""
            try:
                n, data = next(self._chunks)
            except StopIteration:
                return b""
            except Exception as exc:  # noqa: BLE001 - re-raised by the caller after the COPY
                self.error = exc
                return b""
            self.row_count += n
            self._chunk, self._offset = memoryview(data), 0
        if size is None or size < 0:
            size = len(self._chunk)
        piece = self._chunk[self._offset:self._offset + size]
        self._offset += len(piece)
        return bytes(piece)

"""The fast reader of platform extracts: the file as PostgreSQL COPY text, a block at a time.

Landing does not walk `records()` value by value. It reads a block of rows into a polars frame
(Rust CSV reader for plain postmart lines; for voso, polars' JSON reader when writing the frame back
gives the very same bytes, else msgspec, strict per line), checks and converts it column by column
with vectorised expressions, hashes the phone columns (canonical form by `landing.identity.phone_series`,
HMAC in Rust), and writes PostgreSQL COPY text with polars' CSV writer. What the vectorised checks cannot
vouch for (a blank or short row, a value to normalise such as `có` or `1.234`, an unusual JSON type)
goes through the exact per-value functions of `platforms.reference`. And as
soon as anything is wrong with the file, the reference path `records()` runs over it from the start
and raises the error exactly as before (same code, line and detail). A good file gives the same rows
as `records()`, in the same order (tests/test_parsers.py checks it). Memory holds one chunk and the
order ids' hashes, so national files of ~1M rows stream through.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import itertools
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Callable, Iterator

import msgspec
import polars as pl

from lensan.landing import pseudonymise, safety
from lensan.landing.errors import LandingError
from lensan.landing.platforms import duplicates, reference
from lensan.landing.platforms.copy_text import Columns as _Columns
from lensan.landing.platforms.copy_text import copy_value as _copy_value
from lensan.landing.platforms.copy_text import text_frame as _text_frame
from lensan.landing.platforms.spec import (BOOL, DATETIME, DATETIME_OPT, ID, NUM, PHONE, TEXT, VOSO, Extract,
                                           Hasher)

CHUNK_ROWS = 20_000                 # postmart rows per chunk (csv module)
PM_BLOCK_BYTES = 4 << 20            # postmart bytes per block (plain lines)
VOSO_BLOCK_BYTES = 4 << 20          # decompressed JSON Lines per chunk
COPY_OPTIONS = "(null '')"          # '' is NULL: an empty raw value is always NULL (as in records())

# Exactly the characters str.strip() removes (tests/test_parsers.py recomputes the set from str.isspace);
# polars' own whitespace set lacks U+001C..U+001F.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_PM_DT = (r"(?:0[1-9]|[12][0-9]|3[01])/(?:0[1-9]|1[0-2])/[0-9]{4} "
          r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]")
_VS_DT = (r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
          r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z")
_PM_NUM = r"^(?:[0-9]+(?:,[0-9]+)?)?$"          # '' (NULL), digits (as `\d+` in records()), '1,5' decimals
_NEEDS_ESCAPE = r"[\\\t\n\r]"
_PM_BOOLS = ["Có", "Không", ""]


def _whole(pattern: str, optional: bool) -> str:
    return f"^(?:{pattern})?$" if optional else f"^(?:{pattern})$"


class _Anomaly(Exception):
    """Internal: the fast checks cannot vouch for this block; the exact functions take it."""


def _valid_days(days: set, day_month_year: bool) -> bool:
    days.discard("")
    try:
        for d in days:
            if day_month_year:
                dt.date(int(d[6:10]), int(d[3:5]), int(d[0:2]))
            else:
                dt.date(int(d[0:4]), int(d[5:7]), int(d[8:10]))
    except ValueError:
        return False
    return True


def _escaped(column: pl.Expr) -> pl.Expr:
    """COPY text escaping of a string column (backslash first), as `_copy_value`."""
    return (column.str.replace_all("\\", "\\\\", literal=True).str.replace_all("\t", "\\t", literal=True)
            .str.replace_all("\n", "\\n", literal=True).str.replace_all("\r", "\\r", literal=True))


def _checked(frame: pl.DataFrame, kinds: list[str], dt_kinds: dict[str, str], bools: list[str] | None,
             day_month_year: bool, exact: Callable[[int], list[str]], escapes_possible: bool = True) -> pl.DataFrame:
    """The frame (string columns, '' for blank) as COPY text, checked a column at a time in one polars pass.
    A column the checks cannot vouch for is replaced by `exact(i)` (the per-value functions); phone
    columns are left raw for `Columns.emit` (platforms.copy_text) to hash. `escapes_possible=False`: the caller knows no
    value holds a backslash, tab or line break (nothing to escape)."""
    names = frame.columns
    checks, escapes = [], []
    for name, kind in zip(names, kinds):
        column = pl.col(name)
        if kind == ID:
            checks.append((column != "").all().alias(name))
        elif kind == DATETIME or kind == DATETIME_OPT:
            checks.append(column.str.contains(dt_kinds[kind]).all().alias(name))
        elif kind == BOOL and bools is not None:
            checks.append(column.is_in(bools).all().alias(name))
        elif kind == NUM and day_month_year:
            checks.append(column.str.contains(_PM_NUM).all().alias(name))
        elif kind == NUM:
            checks.append(column.str.starts_with("-").not_().all().alias(name))
        if (kind == ID or kind == TEXT) and escapes_possible:
            escapes.append(column.str.contains(_NEEDS_ESCAPE).any().alias(name))
    verdicts = frame.select(checks).row(0, named=True) if checks else {}
    for i, (name, kind) in enumerate(zip(names, kinds)):
        ok = verdicts.get(name, True)
        if ok and (kind == DATETIME or kind == DATETIME_OPT):
            ok = _valid_days(set(frame.get_column(name).str.slice(0, 10).unique().to_list()), day_month_year)
        if not ok:
            frame = frame.with_columns(pl.Series(name, exact(i), dtype=pl.String))
    to_escape = [name for name, flag in frame.select(escapes).row(0, named=True).items() if flag] if escapes else []
    if to_escape:
        frame = frame.with_columns(_escaped(pl.col(name)) for name in to_escape)
    return frame


# ---------------------------------------------------------------------------------- postmart (fast)

_PM_DT_KINDS = {DATETIME: _whole(_PM_DT, False), DATETIME_OPT: _whole(_PM_DT, True)}


def _pm_checked(frame: pl.DataFrame, line0: int, kinds: list[str], headings: list[str],
                escapes_possible: bool = True) -> pl.DataFrame:
    """Raw postmart values (stripped here, as records() does) as COPY text."""
    frame = frame.with_columns(pl.col(name).str.strip_chars(WHITESPACE)
                               for name, kind in zip(frame.columns, kinds) if kind != PHONE)

    def exact(i: int) -> list[str]:
        return [_copy_value(reference.check_postmart_value(kinds[i], v, line0 + j, headings[i]))
                for j, v in enumerate(frame.get_column(frame.columns[i]).to_list())]

    return _checked(frame, kinds, _PM_DT_KINDS, _PM_BOOLS, True, exact, escapes_possible)


def _pm_exact_chunk(rows: list[list[str]], line0: int, kinds: list[str], headings: list[str],
                    out: _Columns) -> pl.DataFrame:
    """Blank or short/long records: the exact record-by-record reader for this chunk."""
    return out.from_values([v for _, v in reference.postmart_exact_rows(rows, line0, kinds, headings)])


def _pm_plain_frame(raw: bytes, n: int, out: _Columns) -> pl.DataFrame | None:
    """The block's n plain lines as a frame of raw values, or None unless every line has exactly the
    spec's fields (polars refuses longer lines; with the total count of separators right, none is short)."""
    width = len(out.kinds)
    if raw.count(b";") != (width - 1) * n:
        return None
    try:
        frame = pl.read_csv(raw, has_header=False, separator=";", quote_char=None, new_columns=out.names,
                            schema={name: pl.String for name in out.names}, empty_string_is_null=False,
                            eol_char="\n", raise_if_empty=False)
    except pl.exceptions.PolarsError:   # a longer line, or not UTF-8: the exact reader says
        return None
    return frame if frame.height == n and frame.null_count().sum_horizontal().item() == 0 else None


def _postmart_frames(path: Path, extract: Extract, out: _Columns) -> Iterator[pl.DataFrame]:
    """Blocks of plain lines (no quote, CR or NUL: then a record is exactly `line.split(';')`, as the csv
    module would read it) are read by polars; from the first block that has any of those, the csv module
    reads the rest of the file."""
    headings = [h for h, _, _ in extract.spec]
    kinds = out.kinds
    with path.open("rb") as fh:
        first = fh.readline()
        try:
            first_text = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _Anomaly from None
        header = (next(csv.reader([first_text], delimiter=";", quotechar='"'), None)
                  if first_text.endswith("\n") else None)
        expected = [safety.fold_heading(h) for h in headings]
        if header is None or [safety.fold_heading(h) for h in header] != expected:
            raise _Anomaly                  # empty file, odd or trailing header cells: the reference decides
        line0 = 2
        rest = b""
        while True:
            block = fh.read(PM_BLOCK_BYTES)
            data = rest + block if rest else block
            if not data:
                return
            if block:
                cut = data.rfind(b"\n")
                if cut < 0:
                    rest = data
                    continue
                raw, rest = data[:cut], data[cut + 1:]
            else:                           # the last line, without a line end
                raw, rest = data, b""
                last = raw.decode("utf-8", "replace")
                if reference.ends_after_separator(last, last.split(";")):
                    raise reference.cut_after_separator(line0)
            # CRLF line ends (the csv module's default) are plain too: polars drops the CR of a line end
            # (counted, not replaced: no copy of the block); any other CR is not plain
            crs = raw.count(b"\r")
            if (crs and crs != raw.count(b"\r\n") + raw.endswith(b"\r")) or b'"' in raw or b"\x00" in raw:
                break
            n = raw.count(b"\n") + 1
            frame = _pm_plain_frame(raw, n, out)
            if frame is not None:
                try:
                    # plain lines: a value holds no line break; a tab or backslash would be in the block
                    frame = _pm_checked(frame, line0, kinds, headings, b"\\" in raw or b"\t" in raw)
                except LandingError:
                    frame = None        # e.g. a line of nothing but separators: the exact reader skips it
            if frame is None:
                text = raw.decode("utf-8").replace("\r\n", "\n").removesuffix("\r")
                frame = _pm_exact_chunk([line.split(";") for line in text.split("\n")],
                                        line0, kinds, headings, out)
            if frame.height:
                yield frame
            line0 += n
        # quoted fields (or CR line ends) from here on: the csv module, over the text not yet processed
        # (`rest`, the start of a line, is completed first: the csv module reads line by line)
        pending = (raw + b"\n" + rest + fh.readline() if block else raw).decode("utf-8")
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        reader = reference.PostmartRecords(itertools.chain(io.StringIO(pending, newline=""), text), line0)
        width = len(kinds)
        while rows := list(itertools.islice(reader, CHUNK_ROWS)):
            frame = None
            if set(map(len, rows)) == {width}:
                try:
                    frame = _pm_checked(_text_frame(out.names, zip(*rows)), line0, kinds, headings)
                except LandingError:
                    frame = None
            if frame is None:
                frame = _pm_exact_chunk(rows, line0, kinds, headings, out)
            if frame.height:
                yield frame
            line0 += len(rows)


# -------------------------------------------------------------------------------------- voso (fast)

_VOSO_TYPES = {ID: str, TEXT: str | None, PHONE: str | None, DATETIME: str, DATETIME_OPT: str | None,
               BOOL: bool, NUM: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] | None}
_VS_DT_KINDS = {DATETIME: _whole(_VS_DT, False), DATETIME_OPT: _whole(_VS_DT, True)}


@lru_cache(maxsize=None)
def _voso_decoder(entity: str):
    """A msgspec decoder of one line into a struct of the entity's fields (exactly those, JSON types as
    the fast path expects them), and the polars type of each field in spec order."""
    spec = VOSO[entity][1]
    struct = msgspec.defstruct(f"Voso_{entity}", [(f, _VOSO_TYPES[k]) for f, _, k in spec],
                               forbid_unknown_fields=True, gc=False)
    types = {f: pl.Boolean if k == BOOL else pl.Int64 if k == NUM else pl.String for f, _, k in spec}
    return msgspec.json.Decoder(struct).decode, types


def _no_line_longer(raw: bytes, limit: int) -> bool:
    """True only if no line of `raw` is longer than `limit` bytes (always, for lines under half of it):
    a few finds, not a split — a run of 2w bytes without a newline contains a whole w-aligned window
    without one."""
    w = (limit + 1) // 2
    return all(raw.find(b"\n", k, k + w) >= 0 for k in range(0, len(raw) - w + 1, w))


def _vs_plain_frame(raw: bytes, n: int, fields: list[str], types: dict) -> pl.DataFrame | None:
    """The block's n lines as a typed frame, when polars reads them exactly, else None.

    Exactly: written back as JSON Lines they are the same bytes. Then every line is one object with
    exactly the spec's fields (in the first line's order), each of the JSON type expected, no duplicate
    key, blank line or stray whitespace — what the reference reader sees, value for value. Files in
    other layouts (spaced separators, escaped non-ASCII) take msgspec."""
    try:
        first = json.loads(raw[:raw.find(b"\n")] if n > 1 else raw)
    except ValueError:
        return None
    if not isinstance(first, dict) or first.keys() != set(fields):
        return None
    try:
        frame = pl.read_ndjson(raw, schema={f: types[f] for f in first})
    except pl.exceptions.PolarsError:
        return None
    written = io.BytesIO()
    frame.write_ndjson(written)
    if frame.height != n or written.getvalue() != raw + b"\n":
        return None
    return frame.select(fields)


def _vs_checked(typed: pl.DataFrame, line0: int, extract: Extract, out: _Columns,
                escapes_possible: bool = True) -> pl.DataFrame:
    """Lines read as a typed frame (exact fields, JSON types as expected) as COPY text."""
    fields = [f for f, _, _ in extract.spec]
    kinds = out.kinds
    frame = typed.select(pl.col(f).cast(pl.String).fill_null("").alias(name)
                         for f, name in zip(fields, out.names))    # booleans -> 'true'/'false'

    def exact(i: int) -> list[str]:
        return [_copy_value(reference.check_voso_value(kinds[i], v, line0 + j, fields[i]))
                for j, v in enumerate(typed.get_column(fields[i]).to_list())]

    return _checked(frame, kinds, _VS_DT_KINDS, None, False, exact, escapes_possible)


def _vs_struct_frame(lines: list[str], extract: Extract) -> pl.DataFrame:
    """The lines decoded by msgspec (exact fields, JSON types as expected) as a typed frame; raises
    msgspec's errors for anything else."""
    decode, types = _voso_decoder(extract.entity)
    values = list(zip(*map(msgspec.structs.astuple, map(decode, lines))))
    return pl.DataFrame(dict(zip((f for f, _, _ in extract.spec), values)), schema=types)


def _voso_frames(path: Path, extract: Extract, out: _Columns) -> Iterator[pl.DataFrame]:
    spec = extract.spec
    fields = [f for f, _, _ in spec]
    field_set = set(fields)
    kinds = out.kinds
    _, types = _voso_decoder(extract.entity)
    limit = safety.max_gzip_uncompressed_bytes()
    max_line = safety.max_line_chars()
    total = 0
    line0 = 1
    rest = b""
    with gzip.open(path, "rb") as gz:
        while True:
            block = gz.read(VOSO_BLOCK_BYTES)
            if block:
                data = rest + block if rest else block
                cut = data.rfind(b"\n")
                if cut < 0:
                    rest = data
                    if len(rest) > max_line:
                        raise LandingError("UNSAFE_FILE", reason="line too long")  # the reference says which
                    continue
                raw, rest = data[:cut], data[cut + 1:]
                too_long = max_line - 1
            elif rest:
                raw, rest = rest, b""
                too_long = max_line
            else:
                break
            n = raw.count(b"\n") + 1
            if raw.isascii() and _no_line_longer(raw, too_long):
                lines = None                # as many characters as bytes, no line too long
                total += len(raw) + bool(block)
            else:
                text = raw.decode("utf-8")
                total += len(text) + bool(block)
                lines = text.split("\n")
                if max(map(len, lines)) > too_long:
                    raise LandingError("UNSAFE_FILE", reason="line too long")      # the reference says which
            if total > limit:
                raise LandingError("UNSAFE_FILE", reason="over the size limits")   # the reference says which
            typed = _vs_plain_frame(raw, n, fields, types)
            # read exactly by polars, a tab, line break or backslash in a value is a backslash escape
            escapes_possible = typed is None or b"\\" in raw
            try:
                if typed is None:
                    lines = lines or raw.decode("utf-8").split("\n")
                    typed = _vs_struct_frame(lines, extract)
                frame = _vs_checked(typed, line0, extract, out, escapes_possible)
            except (msgspec.DecodeError, msgspec.ValidationError):
                # blank lines, unusual types or bad JSON: the exact line-by-line reader for this chunk
                values = (reference.voso_line_values(t, line0 + j, fields, field_set, kinds)
                          for j, t in enumerate(lines))
                frame = out.from_values([v for v in values if v is not None])
            if frame.height:
                yield frame
            line0 += n


# ------------------------------------------------------------------------------------------ driver

def _reference_chunks(path: Path, extract: Extract, out: _Columns) -> Iterator[tuple[int, bytes]]:
    """`records()` itself, in chunks (for files whose header the fast path does not recognise)."""
    rows = reference.records(path, extract, out.hasher)
    while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
        yield out.emit(out.from_values(chunk), hashed=True)


def copy_chunks(path: Path, extract: Extract, hasher: Hasher | None = None,
                prefix: str = "", report: dict | None = None) -> Iterator[tuple[int, bytes]]:
    """The file as PostgreSQL COPY text, in chunks: (rows, bytes) with lines `prefix`, the raw columns
    of `extract.columns`, then row_number (1-based) — see `copy_columns` (COPY option `null ''`: '' is
    NULL).

    Same rows as `records(path, extract, hasher)`; a bad file raises the same LandingError. `hasher` may
    offer `.hex_digest_expr(kind, column)` (lensan.landing.pseudonymise.Pseudonymiser) to hash a column at
    once. `report`, if given, gets `may_repeat`: True when some rows may be exact repeats of others (then
    landing collapses them, `platforms.duplicates`); False means none is.
    """
    out = _Columns(extract, hasher, prefix)
    fast = _postmart_frames if extract.platform == "postmart" else _voso_frames
    try:
        try:
            for frame in fast(path, extract, out):
                yield out.emit(frame)
        except _Anomaly:                # raised before any chunk: an unusual header
            yield from _reference_chunks(path, extract, out)
            return
    except Exception:
        # Something is wrong with the file: the reference path names it exactly (code, line, detail).
        for _ in reference.records(path, extract, None):
            pass
        raise
    may_repeat = out.may_repeat()
    if may_repeat and out.order_col is not None:
        # harmless if the rows are identical, DUPLICATE_ORDER_ID if not: the reference path decides
        # (its error reaches the loader through the COPY stream, and the file's transaction rolls back)
        for _ in reference.records(path, extract, None):
            pass
    if report is not None:
        report["may_repeat"] = may_repeat


def copy_columns(extract: Extract) -> tuple[str, ...]:
    """The raw table's columns in the order of `copy_chunks` lines (with a prefix 'file_id<TAB>date')."""
    return ("file_id", "extract_date") + extract.columns + ("row_number",)


def _normalised(kind: str, value: object) -> str | None:
    return pseudonymise.normalise(kind, value) or None


def count_rows(path: Path, extract: Extract) -> int:
    """Data rows landing keeps of a valid file (raises the file's LandingError otherwise)."""
    return count_rows_and_repeats(path, extract)[0]


def count_rows_and_repeats(path: Path, extract: Extract) -> tuple[int, int]:
    """(rows landing keeps, exact duplicate rows it collapses) of a valid file (raises the file's
    LandingError otherwise)."""
    report: dict = {}
    rows = sum(n for n, _ in copy_chunks(path, extract, None, report=report))
    if not report["may_repeat"]:
        return rows, 0
    # phones compared as landing stores them: two spellings of one number are one pseudonym
    repeats = duplicates.count_repeats(reference.records(path, extract, _normalised))
    return rows - repeats, repeats



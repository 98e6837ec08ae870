"""The reference reader of platform extracts: `records(path, extract, hasher)`, row by row.

The source of truth for the rules: one tuple of raw text values per data row (personal columns already
hashed), validating headings/fields, dates, booleans, numbers, required ids and duplicate order ids,
and naming the first problem exactly (code, line, column). A row cut short (a file cut off mid-row or
inside a quoted field, a partial last JSON line) is refused, never padded; a line of nothing but
separators is skipped. Exact duplicate rows are read like any other: landing collapses them after the
COPY (`platforms.duplicates`). The fast COPY path (`platforms.fast`) gives
the same rows and, for any bad file, runs this reader to raise the same error; the per-value checks
here are public because the fast path falls back to them for the values it cannot vouch for.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import re
import zlib
from pathlib import Path
from typing import Iterable, Iterator

from lensan.landing import safety
from lensan.landing.errors import EXTRA_DATA, LandingError, where_line
from lensan.landing.numbers import NotANumber, parse_vn_number
from lensan.landing.platforms.spec import BOOL, DATETIME, DATETIME_OPT, ID, NUM, PHONE, TEXT, Extract, Hasher

_LOCAL_DT = re.compile(r"^(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})$")
_POSTMART_BOOL = {"Có", "Không"}
_PLAIN_NUMBER = re.compile(r"^\d+(?:,\d+)?$")
_FOLDED_BOOL = {"co": "Có", "khong": "Không"}
_PLAIN_KINDS = frozenset({TEXT, PHONE})   # kept as typed, no validation


def _check_typed_count(value: str, line: int, column: str) -> None:
    """A number as people type it ('1.234,5', '15%'): readable and not negative (both platforms)."""
    try:
        number = parse_vn_number(value)
    except NotANumber:
        raise LandingError("VALUE_NOT_NUMBER", where_line(line, column), value=value) from None
    if number is not None and number < 0:
        raise LandingError("NEGATIVE_COUNT", where_line(line, column), value=value)


# ---------------------------------------------------------------------------------------- postmart

def check_postmart_value(kind: str, value: str, line: int, heading: str) -> str | None:
    if value == "":
        if kind == ID or kind == DATETIME:
            raise LandingError("MISSING_VALUE", where_line(line, heading))
        return None
    if kind == DATETIME or kind == DATETIME_OPT:
        match = _LOCAL_DT.match(value)
        try:
            if not match:
                raise ValueError
            dt.datetime(int(match[3]), int(match[2]), int(match[1]), int(match[4]), int(match[5]), int(match[6]))
        except ValueError:
            raise LandingError("BAD_DATE", where_line(line, heading), value=value,
                               expected="dd/mm/yyyy HH:MM:SS") from None
    elif kind == BOOL:
        if value not in _POSTMART_BOOL:
            folded = _FOLDED_BOOL.get(safety.fold(value))
            if folded is None:
                raise LandingError("BAD_BOOLEAN", where_line(line, heading), value=value, expected="Có/Không")
            return folded
    elif kind == NUM:
        if not _PLAIN_NUMBER.match(value):  # the usual '150000' / '1,5' need no parsing
            _check_typed_count(value, line, heading)
    return value


def _postmart_rows(path: Path, extract: Extract) -> Iterator[tuple[int, list[str | None]]]:
    headings = [h for h, _, _ in extract.spec]
    expected = [safety.fold_heading(h) for h in headings]
    kinds = [k for _, _, k in extract.spec]
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = PostmartRecords(fh)
            header = next(reader, None)
            if header is None:
                raise LandingError("EMPTY_FILE")
            keys = [safety.fold_heading(h) for h in header]
            while keys and not keys[-1]:
                keys.pop()
            for i, key in enumerate(expected):
                if key not in keys:
                    raise LandingError("MISSING_COLUMN", where_line(1), column=headings[i])
            for i, key in enumerate(keys):
                if i >= len(expected) or key != expected[i]:
                    raise LandingError("UNEXPECTED_COLUMN", where_line(1, str(i + 1)), found=header[i],
                                       expected=headings[i] if i < len(headings) else "(không có / none)")
            yield from postmart_exact_rows(reader, 2, kinds, headings)
    except UnicodeDecodeError as exc:
        raise LandingError("UNREADABLE", expected="CSV UTF-8",
                           reason=f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:   # e.g. a quote left open that swallows the rest of a big file
        raise LandingError("UNREADABLE", where_line(reader.line + 1), expected="CSV UTF-8",
                           reason=f"{exc} (line {reader.line + 1})") from None


class PostmartRecords:
    """The CSV records (';', '"') of postmart lines, as the csv module reads them — except a file that
    ends inside a quoted field: it was cut off there (the csv module would return the partial field as if
    it were whole), TRUNCATED_ROW at that record, numbered from `first_line` as postmart_exact_rows
    numbers records. Keeps only the lines of the current record."""

    def __init__(self, lines: Iterable[str], first_line: int = 1):
        self._lines = iter(lines)
        self._current: list[str] = []          # physical lines of the record being read
        self.line = first_line - 1             # number of the last record returned
        self._reader = csv.reader(self._feed(), delimiter=";", quotechar='"')

    def _feed(self) -> Iterator[str]:
        for text in self._lines:
            self._current.append(text)
            yield text

    def __iter__(self):
        return self

    def __next__(self) -> list[str]:
        self._current = []
        values = next(self._reader)
        self.line += 1
        if self._current and not self._current[-1].endswith(("\n", "\r")) \
                and ends_after_separator(self._current[-1], values):
            raise cut_after_separator(self.line)
        # only the file's last line lacks a line end; strict parsing tells a quote left open there
        if self._current and not self._current[-1].endswith(("\n", "\r")) \
                and any('"' in text for text in self._current):
            try:
                for _ in csv.reader(self._current, delimiter=";", quotechar='"', strict=True):
                    pass
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    raise LandingError("TRUNCATED_ROW", where_line(self.line),
                                       reason="the file ends inside a quoted field",
                                       reason_vi="tệp kết thúc giữa một ô trong ngoặc kép") from None
        return values


def is_blank_record(values: list[str]) -> bool:
    """A record of nothing but separators (and spaces): not a row."""
    return all(not v.strip() for v in values)


def ends_after_separator(last_line: str, values: list[str]) -> bool:
    """The file's last line (it has no line end) stops right after a separator: the file was cut there,
    its last field lost (a writer ends the last line with a line break). A line of nothing but
    separators is no row, cut or not."""
    return last_line.endswith(";") and not is_blank_record(values)


def cut_after_separator(line: int) -> LandingError:
    return LandingError("TRUNCATED_ROW", where_line(line), reason="the file ends right after a separator",
                        reason_vi="tệp kết thúc ngay sau một dấu phân cách")


def postmart_exact_rows(rows, line0: int, kinds: list[str], headings: list[str]):
    """(line, validated values) of CSV records numbered from `line0`; blank records (nothing but
    separators) are skipped, a short record is refused (TRUNCATED_ROW), never padded."""
    width = len(kinds)
    for line, values in enumerate(rows, start=line0):
        if is_blank_record(values):
            continue
        if len(values) != width:
            if len(values) < width:
                raise LandingError("TRUNCATED_ROW", where_line(line),
                                   reason=f"{len(values)} of {width} columns",
                                   reason_vi=f"chỉ có {len(values)} trên {width} cột")
            if any(v.strip() for v in values[width:]):
                raise LandingError("UNEXPECTED_COLUMN", where_line(line, str(width + 1)),
                                   found=EXTRA_DATA, expected="(không có / none)")
            values = values[:width]
        yield line, [(values[i].strip() or None) if kinds[i] in _PLAIN_KINDS
                     else check_postmart_value(kinds[i], values[i].strip(), line, headings[i])
                     for i in range(width)]


# -------------------------------------------------------------------------------------------- voso

def check_voso_value(kind: str, value: object, line: int, field: str) -> str | None:
    if value is None or value == "":
        if kind == ID or kind == DATETIME:
            raise LandingError("MISSING_VALUE", where_line(line, field))
        return None
    if kind == BOOL:
        if value is True:
            return "true"
        if value is False:
            return "false"
        raise LandingError("BAD_BOOLEAN", where_line(line, field), value=json.dumps(value, ensure_ascii=False),
                           expected="true/false")
    if kind == DATETIME or kind == DATETIME_OPT:
        text = value if isinstance(value, str) else None
        try:
            if text is None or len(text) < 10:
                raise ValueError
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise LandingError("BAD_DATE", where_line(line, field), value=json.dumps(value, ensure_ascii=False),
                               expected="ISO-8601, e.g. 2026-11-16T03:15:00Z") from None
        if parsed.tzinfo is None:   # voso timestamps are UTC by contract: one without Z/offset is not guessed
            raise LandingError("MISSING_TIME_ZONE", where_line(line, field), value=text)
        return text
    if kind == NUM:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise LandingError("VALUE_NOT_NUMBER", where_line(line, field), value=json.dumps(value))
        if isinstance(value, str):
            _check_typed_count(value, line, field)
            return value
        if value < 0:
            raise LandingError("NEGATIVE_COUNT", where_line(line, field), value=str(value))
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def voso_line_values(text: str, line: int, fields: list[str], field_set: set[str],
                     kinds: list[str], last: bool = False) -> list[str | None] | None:
    """Validated values of one JSON Lines line (None for a blank line). `last`: the file's last line,
    without a line break — when it is not valid JSON, the file was cut off in it (TRUNCATED_ROW)."""
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        if last:
            raise LandingError("TRUNCATED_ROW", where_line(line), reason="the last line is cut off",
                               reason_vi="dòng cuối bị cắt dở") from None
        raise LandingError("UNREADABLE", where_line(line), expected="JSON Lines",
                           reason=f"line {line} is not valid JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise LandingError("UNREADABLE", where_line(line), expected="JSON Lines",
                           reason=f"line {line} is not a JSON object")
    if record.keys() != field_set:
        for f in fields:
            if f not in record:
                raise LandingError("MISSING_COLUMN", where_line(line), column=f)
        extra = sorted(set(record) - field_set)
        raise LandingError("UNEXPECTED_COLUMN", where_line(line), found=extra[0], expected="(không có / none)")
    return [check_voso_value(kinds[i], record[fields[i]], line, fields[i]) for i in range(len(fields))]


def _voso_rows(path: Path, extract: Extract) -> Iterator[tuple[int, list[str | None]]]:
    fields = [f for f, _, _ in extract.spec]
    kinds = [k for _, _, k in extract.spec]
    field_set = set(fields)
    limit = safety.max_gzip_uncompressed_bytes()
    total = 0
    line = 0
    rows = 0
    try:
        max_line = safety.max_line_chars()
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as fh:
            # readline(cap), never `for text in fh`: one endless line (a gzip bomb without newlines)
            # must not be held in memory whole.
            for line, text in enumerate(iter(lambda: fh.readline(max_line + 1), ""), start=1):
                total += len(text)
                if len(text) > max_line:
                    raise LandingError("UNSAFE_FILE", where_line(line),
                                       reason=f"line {line} is longer than {max_line} characters",
                                       reason_vi=f"dòng {line} dài hơn {max_line} ký tự")
                if total > limit:
                    raise LandingError("UNSAFE_FILE", reason=f"decompressed size exceeds {limit // safety.MB} MB "
                                       "(possible gzip bomb)",
                                       reason_vi=f"dung lượng giải nén vượt {limit // safety.MB} MB (nghi gzip bomb)")
                values = voso_line_values(text, line, fields, field_set, kinds, last=not text.endswith("\n"))
                if values is None:
                    continue
                rows += 1
                yield line, values
    except EOFError:
        raise LandingError("TRUNCATED", where_line(line + 1), rows=rows, line=line + 1) from None
    except UnicodeDecodeError as exc:
        raise LandingError("UNREADABLE", expected="gzip JSON Lines UTF-8",
                           reason=f"not UTF-8 text ({exc.reason})") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise LandingError("UNREADABLE", expected="gzip JSON Lines", reason=f"not a valid gzip stream ({exc})") \
            from None


# ----------------------------------------------------------------------------------------- common

def records(path: Path, extract: Extract, hasher: Hasher | None = None) -> Iterator[tuple[str | None, ...]]:
    """Validated raw values per data row, in the order of `extract.columns`, personal columns hashed."""
    hasher = hasher or (lambda kind, value: None)
    phone_cols = [i for i, (_, _, k) in enumerate(extract.spec) if k == PHONE]
    order_col = extract.columns.index("order_id") if "order_id" in extract.columns else None
    seen_orders: dict[str, tuple[int, int]] = {}
    rows = _postmart_rows(path, extract) if extract.platform == "postmart" else _voso_rows(path, extract)
    for line, values in rows:
        if order_col is not None:
            order_id = values[order_col]
            fingerprint = hash(tuple(values))
            previous = seen_orders.get(order_id)
            if previous is None:
                seen_orders[order_id] = (fingerprint, line)
            elif previous[0] != fingerprint:
                raise LandingError("DUPLICATE_ORDER_ID", order_id=order_id, first_line=previous[1], line=line)
        for i in phone_cols:
            values[i] = hasher("phone", values[i]) if values[i] is not None else None
        yield tuple(values)


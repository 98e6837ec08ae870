"""S1 — the weekly report form (template of Quảng Ninh plan 201/KH-UBND appendix 02), as units send it.

`parse(path, arrived_at, hasher)` returns a `WeeklyForm` or raises `LandingError`. The workbook may be
.xlsx, .xls or .ods (`parsers.workbook`); the report is the first sheet with the BÁO CÁO TUẦN title and
the TT / Chỉ tiêu table header. Header fields are found by their label (case/diacritic-insensitive) in
the first 15 rows; indicator rows are mapped by section + number to `reference.weekly_form_indicators()`;
labels and notes are kept as typed. Inside the table, blank rows and repeated header rows are skipped; a
row the form leaves out is "not reported" (no row: NULL downstream, never 0) and named in
`WeeklyForm.warnings`. A formula without a cached value is computed or refused naming the cell; a merged
range over number cells is read from its anchor when it covers one number cell, else refused naming it.
`row_number` of a form row is its worksheet row (so a reason or a row points at the real cell).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

from lensan import reference
from lensan.settings import LOCAL_TZ
from lensan.landing import safety
from lensan.landing.errors import LandingError, warning, where_cell, where_range
from lensan.landing.parsers import workbook
from lensan.landing.numbers import NotANumber, parse_vn_number
from lensan.landing.units import code_text, resolve_reporting_unit

HEADER_ROWS = 15
MAX_ROWS = 400
MAX_COLS = 30
SECTIONS = ("I", "II", "III", "IV")
NUMBER_COLUMNS = range(3, 7)      # D–G: value, growth %, cumulative, completion %
COLUMNS = (
    ("tt", "TT"),
    ("label", "Chỉ tiêu"),
    ("unit_label", "Đơn vị tính"),
    ("value_in_week", "Chỉ tiêu đạt được trong tuần (Số lượng)"),
    ("growth_pct", "Tăng trưởng so với tuần trước (%)"),
    ("cumulative_value", "Chỉ tiêu đạt được lũy kế đến hiện tại (Số lượng)"),
    ("completion_pct", "Tỉ lệ hoàn thành chỉ tiêu đến thời điểm hiện tại (%)"),
    ("notes", "Ghi chú thông tin bổ sung"),
)
# Allowed ranges of the percentage columns. A growth can be negative but not below -100 % (the
# quantities are non-negative); a completion rate cannot be negative but may exceed 100 % when a unit
# beats its target (that is a plausibility matter for the quality gates, not a file error).
PERCENT_RANGES = {"growth_pct": (Decimal(-100), None), "completion_pct": (Decimal(0), None)}

Hasher = Callable[[str, object], "str | None"]

_WEEK = re.compile(r"^tuan\s*(?:so\s*)?:?\s*(\d{1,2})\s*[/\-]\s*(\d{4})")
_DATE = r"(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4})"
_FROM = re.compile(r"tu\s*ngay\s*:?\s*" + _DATE)
_TO = re.compile(r"den\s*ngay\s*:?\s*" + _DATE)
_TT_NUMBER = re.compile(r"^(?:(I|II|III|IV)\s*[.\-]\s*)?(\d+)\s*\.?$")
_LABELS = {"unit_code": "ma don vi", "reporter_name": "nguoi bao cao", "reporter_phone": "so dien thoai"}


@dataclass
class FormRow:
    row_number: int
    tt: str
    section: str
    indicator_code: str
    label: str | None
    unit_label: str | None
    value_in_week: Decimal | None
    growth_pct: Decimal | None
    cumulative_value: Decimal | None
    completion_pct: Decimal | None
    notes: str | None


@dataclass
class WeeklyForm:
    unit_code: str
    unit_name: str | None
    map_version: str
    week_key: str
    week_start: dt.date
    week_end: dt.date
    reporter_name_hash: str | None
    reporter_phone_hash: str | None
    rows: list[FormRow] = field(default_factory=list)
    # what landing reports with an accepted form (code, message_vi, message_en, detail): the rows left out
    warnings: list[dict] = field(default_factory=list)


def _heading_key(text: object) -> str:
    words = safety.fold_heading(text).split()
    return " ".join("ti" if w == "ty" else w for w in words)  # "tỷ lệ" and "tỉ lệ" are both correct


EXPECTED_HEADINGS = [_heading_key(h) for _, h in COLUMNS]


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rows(sheet: workbook.Sheet) -> list[list[tuple[object, str]]]:
    return [[(cell.value, cell.number_format) for cell in row] for row in sheet.rows]


def _find_report(path: Path) -> tuple[workbook.Sheet, list, tuple]:
    """The sheet holding the report (first with the title and the table header), its rows of (value,
    number_format) and its header facts; the first titled sheet's error when none qualifies."""
    sheets = workbook.read(path, MAX_ROWS, MAX_COLS)
    if not sheets:
        raise LandingError("TEMPLATE_NOT_RECOGNISED", reason="the workbook has no worksheet",
                           reason_vi="tệp không có trang tính nào")
    first_error = None
    for sheet in sheets:
        rows = _rows(sheet)
        header = _header(rows)
        if header[0] is None:
            continue
        try:
            table_row = _table_header(rows, header[0] + 1)
        except LandingError as exc:
            first_error = first_error or exc
            continue
        return sheet, rows, header + (table_row,)
    if first_error is not None:
        raise first_error
    raise LandingError("TEMPLATE_NOT_RECOGNISED",
                       reason=f"no 'BÁO CÁO TUẦN' title in the first {HEADER_ROWS} rows",
                       reason_vi=f"không có tiêu đề 'BÁO CÁO TUẦN' trong {HEADER_ROWS} dòng đầu")


def is_weekly_form(path: Path) -> bool:
    """Whether the file is a workbook with a weekly report form on one of its sheets (content, not name)."""
    try:
        if not 0 < path.stat().st_size <= safety.max_file_bytes() or workbook.kind_of(path) is None:
            return False
        _find_report(path)
    except (LandingError, OSError):
        return False
    return True


def _labelled_value(row: list[tuple[object, str]], col: int) -> tuple[object, int]:
    """Value after the colon of the label cell, or else the next non-empty cell of the row."""
    text = str(row[col][0])
    if ":" in text:
        after = text.split(":", 1)[1].strip()
        if after:
            return after, col
    for other in range(col + 1, len(row)):
        if not _is_blank(row[other][0]):
            return row[other][0], other
    return None, col


def _parse_week(text: str, where: tuple[str, str]) -> tuple[str, dt.date, dt.date]:
    folded = safety.fold(text)
    match = _WEEK.match(folded)

    def bad(reason: str, reason_vi: str):
        return LandingError("BAD_WEEK", where, text=text, reason=reason, reason_vi=reason_vi)

    if not match:
        raise bad("expected 'Tuần ww/yyyy (từ ngày dd/mm/yyyy đến ngày dd/mm/yyyy)'",
                  "mong đợi 'Tuần ww/yyyy (từ ngày dd/mm/yyyy đến ngày dd/mm/yyyy)'")
    week, year = int(match[1]), int(match[2])
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise bad(f"ISO week {week} does not exist in {year}", f"năm {year} không có tuần ISO {week}") from None
    sunday = monday + dt.timedelta(days=6)
    dates = []
    for pattern, name_en, name_vi in ((_FROM, "from", "từ ngày"), (_TO, "to", "đến ngày")):
        found = pattern.search(folded)
        if not found:
            raise bad(f"the '{name_vi}' date is missing", f"thiếu '{name_vi}'")
        try:
            dates.append(dt.date(int(found[3]), int(found[2]), int(found[1])))
        except ValueError:
            raise bad(f"'{name_vi}' is not a valid date", f"'{name_vi}' không phải ngày hợp lệ") from None
    if dates[0] != monday or dates[1] != sunday:
        raise bad(f"week {week}/{year} runs from {monday:%d/%m/%Y} to {sunday:%d/%m/%Y}",
                  f"tuần {week}/{year} là từ {monday:%d/%m/%Y} đến {sunday:%d/%m/%Y}")
    return f"{year}-W{week:02d}", monday, sunday


def _header(rows):
    found: dict[str, tuple[object, int, int]] = {}
    title_row = None
    week = None
    unit_name = None
    for r, row in enumerate(rows[:HEADER_ROWS]):
        texts = [(c, v) for c, (v, _) in enumerate(row) if not _is_blank(v)]
        if not texts:
            continue
        joined = " ".join(str(v) for _, v in texts)
        folded_row = safety.fold(joined)
        is_label = False
        for c, value in texts:
            folded = safety.fold(value)
            for key, label in _LABELS.items():
                if folded.startswith(label) and key not in found:
                    val, vc = _labelled_value(row, c)
                    found[key] = (val, r, vc)
                    is_label = True
        if "bao cao tuan" in folded_row and title_row is None:
            title_row = r
            continue
        if folded_row.startswith("tuan") and week is None:
            week = (joined.strip(), r, texts[0][0])
            continue
        if not is_label and unit_name is None and title_row is None:
            unit_name = str(texts[0][1]).strip()
    return title_row, week, unit_name, found


def _table_header(rows, start: int) -> int:
    for r in range(start, min(len(rows), start + 40)):
        if _is_table_header(rows[r]):
            return r
    raise LandingError("TEMPLATE_NOT_RECOGNISED", reason="no table header row starting with 'TT' | 'Chỉ tiêu'",
                       reason_vi="không tìm thấy dòng tiêu đề bảng bắt đầu bằng 'TT' | 'Chỉ tiêu'")


def _check_columns(sheet: workbook.Sheet, row, r: int) -> None:
    found = [(c, _heading_key(v), v) for c, (v, _) in enumerate(row) if not _is_blank(v)]
    keys = [k for _, k, _ in found]
    for i, expected in enumerate(EXPECTED_HEADINGS):
        if expected not in keys:
            raise LandingError("MISSING_COLUMN", where_cell(sheet.ref(r, i)), column=COLUMNS[i][1])
    for c, key, value in found:
        expected = EXPECTED_HEADINGS[c] if c < len(EXPECTED_HEADINGS) else None
        if key != expected:
            raise LandingError("UNEXPECTED_COLUMN", where_cell(sheet.ref(r, c)), found=str(value).strip(),
                               expected=COLUMNS[c][1] if expected else "(không có / none)")


def _tt_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is None:
        return ""
    text = str(value).strip().upper()
    return text[:-1].strip() if text.endswith(".") and text[:-1].strip() in SECTIONS else text


def _number(sheet: workbook.Sheet, row, r: int, c: int, column: str, allow_negative: bool = False) -> Decimal | None:
    value, number_format = row[c] if c < len(row) else (None, "General")
    try:
        number = parse_vn_number(value)
    except NotANumber as exc:
        raise LandingError("VALUE_NOT_NUMBER", where_cell(sheet.ref(r, c)), value=exc.text, column=column) from None
    if number is None:
        return None
    if column in PERCENT_RANGES:
        if isinstance(value, (int, float)) and "%" in (number_format or ""):
            number = number * 100  # a numeric cell formatted as percent holds the fraction
        low, high = PERCENT_RANGES[column]
        if (low is not None and number < low) or (high is not None and number > high):
            rng = f"{low if low is not None else '-∞'}–{high if high is not None else '∞'}"
            raise LandingError("PERCENT_OUT_OF_RANGE", where_cell(sheet.ref(r, c)), value=str(value).strip(),
                               column=column, range=rng)
    elif number < 0 and not allow_negative:
        raise LandingError("NEGATIVE_COUNT", where_cell(sheet.ref(r, c)), value=str(value).strip(), column=column)
    return number


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return text if text.strip() else None


def _formula_values(sheet: workbook.Sheet, rows, r: int) -> None:
    """Number cells of row r holding a formula saved without its value: computed, or the form refused."""
    for c in NUMBER_COLUMNS:
        cell = sheet.rows[r][c] if c < len(sheet.rows[r]) else None
        if cell is None or cell.value is not None or not cell.formula:
            continue
        try:
            rows[r][c] = (workbook.evaluate(sheet, r, c), cell.number_format)
        except workbook.NotComputable as exc:
            raise LandingError("FORMULA_NOT_COMPUTED", where_cell(sheet.ref(r, c)), formula=cell.formula,
                               reason=str(exc), reason_vi=exc.vi) from None


def _check_merged(sheet: workbook.Sheet, rows, indicator_rows: set[int]) -> None:
    """A merged range covering number cells of indicator rows: its value (at the anchor) is clear when
    the anchor is the one number cell it covers; otherwise the form is refused naming the range."""
    for r0, c0, r1, c1 in sheet.merged:
        covered = [(r, c) for r in range(r0, r1 + 1) if r in indicator_rows
                   for c in NUMBER_COLUMNS if c0 <= c <= c1]
        anchor = rows[r0][c0][0] if r0 < len(rows) and c0 < len(rows[r0]) else None
        if covered and not _is_blank(anchor) and covered != [(r0, c0)]:
            raise LandingError("MERGED_NUMBER_CELLS", where_range(sheet.range_ref(r0, c0, r1, c1)),
                               range=sheet.range_ref(r0, c0, r1, c1), cells=len(covered))


def _merged_anchor_at(sheet: workbook.Sheet, r: int) -> tuple[int, int, int, int] | None:
    return next((m for m in sheet.merged if m[0] == r and any(m[1] <= c <= m[3] for c in NUMBER_COLUMNS)), None)


def _omitted_warning(missing) -> dict:
    def listed(label):
        return "; ".join(f"{_tt_of(i)} {label(i)}" for i in missing)
    return warning("FORM_ROWS_OMITTED", count=len(missing), rows_vi=listed(lambda i: i.label_vi),
                   rows_en=listed(lambda i: i.label_en),
                   rows=[{"tt": _tt_of(i), "indicator_code": i.code, "label_vi": i.label_vi, "label_en": i.label_en}
                         for i in missing])


def _tt_of(indicator) -> str:
    return f"{indicator.section}.{indicator.tt}" if indicator.section != "I" else "I"


def _is_table_header(row) -> bool:
    return len(row) >= 2 and safety.fold(row[0][0]) == "tt" and _heading_key(row[1][0]) == "chi tieu"


def parse(path: Path, arrived_at: dt.datetime | None = None, hasher: Hasher | None = None) -> WeeklyForm:
    """Parse and validate one weekly form; `arrived_at` enables the FUTURE_PERIOD check."""
    hasher = hasher or (lambda kind, value: None)
    sheet, rows, (title_row, week, unit_name, found, header_row) = _find_report(path)
    _check_columns(sheet, rows[header_row], header_row)

    code_value = found.get("unit_code")
    code = code_text(code_value[0]) if code_value else None
    if not code:
        where = where_cell(sheet.ref(code_value[1], code_value[2])) if code_value else (
            f"không có dòng 'Mã đơn vị' trong {HEADER_ROWS} dòng đầu",
            f"no 'Mã đơn vị' line in the first {HEADER_ROWS} rows")
        raise LandingError("MISSING_UNIT_CODE", where)
    if week is None:
        raise LandingError("BAD_WEEK", (f"trong {HEADER_ROWS} dòng đầu", f"the first {HEADER_ROWS} rows"),
                           text="", reason="no 'Tuần ww/yyyy (từ ngày … đến ngày …)' line",
                           reason_vi="không có dòng 'Tuần ww/yyyy (từ ngày … đến ngày …)'")
    week_text, week_r, week_c = week
    week_key, week_start, week_end = _parse_week(week_text, where_cell(sheet.ref(week_r, week_c)))
    maps = [reference.map_version_for(week_start)]
    if reference.map_version_for(week_end) not in maps:  # the week that straddles 1 July 2025
        maps.append(reference.map_version_for(week_end))
    unit_code, map_version = resolve_reporting_unit(
        code, maps, week_key, where_cell(sheet.ref(code_value[1], code_value[2])))
    if arrived_at is not None:
        week_closes = dt.datetime.combine(week_end + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL_TZ)
        if arrived_at < week_closes:
            raise LandingError("FUTURE_PERIOD", period=week_key,
                               arrived_at=arrived_at.astimezone(LOCAL_TZ).isoformat(timespec="minutes"),
                               period_closes=week_closes.isoformat(timespec="minutes"))

    by_key = {(i.section, i.tt): i for i in reference.weekly_form_indicators()}
    form_rows: list[FormRow] = []
    seen: dict[str, int] = {}
    section = None
    after_blank = False
    for r in range(header_row + 1, len(rows)):
        row = rows[r] + [(None, "General")] * max(0, 8 - len(rows[r]))
        values = [v for v, _ in row[:8]]
        if all(_is_blank(v) for v in values) and all(_is_blank(v) for v, _ in row[8:]):
            after_blank = True      # a blank row between sections; the table goes on if a table row follows
            continue
        if _is_table_header(row):   # the header repeated (a page break, a pasted block)
            after_blank = False
            continue
        tt = _tt_text(values[0])
        has_values = any(not _is_blank(v) for v in values[3:7])
        number = None
        if tt in SECTIONS:
            section = tt
            after_blank = False
            if tt != "I":
                continue
            key = ("I", "I")
        elif (match := _TT_NUMBER.match(tt)) and tt:
            if section is None or (match[1] and match[1] != section):
                raise LandingError("UNKNOWN_INDICATOR_ROW", where_cell(sheet.ref(r, 0)), value=tt,
                                   reason="(outside its section)", reason_vi="(nằm ngoài mục của nó)")
            number = str(int(match[2]))
            key = (section, number)
        elif not has_values or after_blank:
            break  # the signature block / footer
        elif (merged := _merged_anchor_at(sheet, r)) is not None:
            raise LandingError("MERGED_NUMBER_CELLS", where_range(sheet.range_ref(*merged)),
                               range=sheet.range_ref(*merged), cells=0)
        else:
            raise LandingError("UNKNOWN_INDICATOR_ROW", where_cell(sheet.ref(r, 0)), value=tt,
                               reason="(no TT number)", reason_vi="(không có số thứ tự)")
        after_blank = False
        indicator = by_key.get(key)
        if indicator is None:
            raise LandingError("UNKNOWN_INDICATOR_ROW", where_cell(sheet.ref(r, 0)), value=tt,
                               reason=f"(section {section} has no row {number})",
                               reason_vi=f"(mục {section} không có dòng {number})")
        if indicator.code in seen:
            raise LandingError("UNKNOWN_INDICATOR_ROW", where_cell(sheet.ref(r, 0)), value=tt,
                               reason=f"(repeats row {seen[indicator.code]})",
                               reason_vi=f"(lặp lại dòng {seen[indicator.code]})")
        seen[indicator.code] = r + 1
        _formula_values(sheet, rows, r)
        row = rows[r] + [(None, "General")] * max(0, 8 - len(rows[r]))
        form_rows.append(FormRow(
            row_number=r + 1,
            tt=indicator.tt if section != "I" else "I",
            section=indicator.section,
            indicator_code=indicator.code,
            label=_text(values[1]),
            unit_label=_text(values[2]),
            # for a stock, D is the change during the week and may be negative (a shop closed); a level
            # (F, or D of a flow / gauge) can never be
            value_in_week=_number(sheet, row, r, 3, "value_in_week", allow_negative=indicator.kind == "stock"),
            growth_pct=_number(sheet, row, r, 4, "growth_pct"),
            cumulative_value=_number(sheet, row, r, 5, "cumulative_value"),
            completion_pct=_number(sheet, row, r, 6, "completion_pct"),
            notes=_text(values[7]),
        ))
    _check_merged(sheet, rows, {f.row_number - 1 for f in form_rows})
    missing = [i for i in reference.weekly_form_indicators() if i.code not in seen]
    if not form_rows:
        raise LandingError("MISSING_INDICATOR_ROW", missing=", ".join(_tt_of(i) for i in missing))

    name_value = found.get("reporter_name")
    phone_value = found.get("reporter_phone")
    return WeeklyForm(
        unit_code=unit_code,
        unit_name=unit_name,
        map_version=map_version,
        week_key=week_key,
        week_start=week_start,
        week_end=week_end,
        reporter_name_hash=hasher("name", name_value[0]) if name_value and name_value[0] is not None else None,
        reporter_phone_hash=hasher("phone", phone_value[0])  # a number cell too: landing.identity
        if phone_value and phone_value[0] is not None else None,
        rows=form_rows,
        warnings=[_omitted_warning(missing)] if missing else [],
    )


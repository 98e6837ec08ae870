"""S2 — the household register (CSV or XLSX): a full snapshot of a reporting unit's households.

The file name `danh_sach_ho_<unit code>_<yyyymmdd>.csv|.xlsx` is authoritative for the unit and the
snapshot date. Names, phones and citizen IDs are replaced by their keyed hashes here (phones and IDs
in their canonical form, `lensan.landing.identity`, whether the cell is text or a number).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from lensan import reference
from lensan.landing import safety
from lensan.landing.errors import EXTRA_DATA, LandingError, where_line
from lensan.landing.units import code_text, resolve_reporting_unit

PREFIX = "danh_sach_ho_"
COLUMNS = (
    ("Mã hộ", "household_code"),
    ("Họ tên chủ hộ", "head_name_hash"),
    ("Số điện thoại", "phone_hash"),
    ("Số CCCD", "citizen_id_hash"),
    ("Mã xã", "commune_code"),
    ("Loại hộ", "household_type"),
    ("Sản phẩm chính", "main_product"),
    ("Ngày đào tạo kỹ năng số", "trained_digital_on"),
    ("Ngày đào tạo đóng gói - kết nối - giao nhận", "trained_logistics_on"),
    ("Mức độ đào tạo", "training_level"),
)
RAW_COLUMNS = tuple(c for _, c in COLUMNS)
EXPECTED = [safety.fold_heading(h) for h, _ in COLUMNS]
_NAME = re.compile(r"^danh_sach_ho_(?P<code>[^_]*)_?(?P<date>[^_.]*)\.(?P<ext>[A-Za-z0-9]+)$", re.IGNORECASE)
_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")

Hasher = Callable[[str, object], "str | None"]


@dataclass
class Register:
    unit_code: str
    map_version: str
    snapshot_date: dt.date
    rows: list[tuple] = field(default_factory=list)   # (row_number, *RAW_COLUMNS)


def parse_name(name: str) -> tuple[str, dt.date, str]:
    """(unit code as typed, snapshot date, extension) from the file name."""
    match = _NAME.match(name)
    if not name.lower().startswith(PREFIX) or not match:
        raise LandingError("UNKNOWN_SOURCE", name=name,
                           expected="danh_sach_ho_<mã đơn vị>_<yyyymmdd>.csv|.xlsx")
    code, date_text, ext = match["code"], match["date"], match["ext"].lower()
    if not code:
        raise LandingError("MISSING_UNIT_CODE", ("trong tên tệp", "in the file name"))
    try:
        snapshot = dt.datetime.strptime(date_text, "%Y%m%d").date()
    except ValueError:
        raise LandingError("BAD_DATE", ("trong tên tệp", "in the file name"), value=date_text,
                           expected="yyyymmdd") from None
    return code, snapshot, ext


def _date(value: object, line: int, column: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        if match := _DMY.match(text):
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
        if match := _YMD.match(text):
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        pass
    raise LandingError("BAD_DATE", where_line(line, column), value=text, expected="dd/mm/yyyy")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _read_csv(path: Path) -> Iterator[list[object]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            yield from csv.reader(fh)
    except UnicodeDecodeError as exc:
        raise LandingError("UNREADABLE", expected="CSV UTF-8", reason=f"not UTF-8 text ({exc.reason} at byte "
                           f"{exc.start})") from None
    except csv.Error as exc:
        raise LandingError("UNREADABLE", expected="CSV UTF-8", reason=str(exc)) from None


def _read_xlsx(path: Path) -> Iterator[list[object]]:
    from lensan.landing.parsers import workbook

    yield from workbook.first_worksheet_values(path)


def parse(path: Path, arrived_at: dt.datetime | None = None, hasher: Hasher | None = None,
          name: str | None = None) -> Register:
    hasher = hasher or (lambda kind, value: None)
    code, snapshot, ext = parse_name(name or path.name)
    if ext not in ("csv", "xlsx"):
        raise LandingError("UNREADABLE", expected="CSV/XLSX", reason=f"unsupported file type .{ext}")
    # The map of the snapshot date; in the ISO week that straddles the reform (2025-W27, Mon 30 June)
    # the week's map (that of its Monday, as for the weekly form) is accepted too.
    maps = [reference.map_version_for(snapshot)]
    week_map = reference.map_version_for(snapshot - dt.timedelta(days=snapshot.isoweekday() - 1))
    if week_map not in maps:
        maps.append(week_map)
    unit_code, map_version = resolve_reporting_unit(code, maps, snapshot.isoformat(),
                                                    ("trong tên tệp", "in the file name"))
    if arrived_at is not None:
        from lensan.settings import LOCAL_TZ

        if snapshot > arrived_at.astimezone(LOCAL_TZ).date():
            raise LandingError("FUTURE_PERIOD", period=snapshot.isoformat(),
                               arrived_at=arrived_at.astimezone(LOCAL_TZ).isoformat(timespec="minutes"))
    reader = _read_csv(path) if ext == "csv" else _read_xlsx(path)
    header = next(reader, None)
    if header is None:
        raise LandingError("TEMPLATE_NOT_RECOGNISED", reason="no header row", reason_vi="không có dòng tiêu đề")
    keys = [safety.fold_heading(h) for h in header]
    while keys and not keys[-1]:
        keys.pop()
    for i, expected in enumerate(EXPECTED):
        if expected not in keys:
            raise LandingError("MISSING_COLUMN", where_line(1), column=COLUMNS[i][0])
    for i, key in enumerate(keys):
        if i >= len(EXPECTED) or key != EXPECTED[i]:
            raise LandingError("UNEXPECTED_COLUMN", where_line(1, str(i + 1)), found=str(header[i]),
                               expected=COLUMNS[i][0] if i < len(COLUMNS) else "(không có / none)")
    register = Register(unit_code, map_version, snapshot)
    seen: dict[str, int] = {}
    row_number = 0
    for line, values in enumerate(reader, start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        if len(values) > len(COLUMNS) and any(_text(v) for v in values[len(COLUMNS):]):
            raise LandingError("UNEXPECTED_COLUMN", where_line(line, str(len(COLUMNS) + 1)),
                               found=EXTRA_DATA, expected="(không có / none)")
        values = list(values[:len(COLUMNS)]) + [None] * (len(COLUMNS) - len(values))
        household_code = _text(values[0])
        if not household_code:
            raise LandingError("MISSING_VALUE", where_line(line, COLUMNS[0][0]))
        if household_code in seen:
            raise LandingError("DUPLICATE_HOUSEHOLD_CODE", code=household_code, first_line=seen[household_code],
                               line=line)
        seen[household_code] = line
        commune = code_text(values[4])
        if commune and commune.isdigit() and len(commune) < 5:
            commune = commune.zfill(5)
        row_number += 1
        register.rows.append((
            row_number,
            household_code,
            hasher("name", _text(values[1])),
            hasher("phone", values[2]),             # text or number cell: lensan.landing.identity reads both
            hasher("citizen_id", values[3]),
            commune,
            _text(values[5]),
            _text(values[6]),
            _date(values[7], line, COLUMNS[7][0]),
            _date(values[8], line, COLUMNS[8][0]),
            _text(values[9]),
        ))
    return register

"""Spreadsheets as units send them: .xlsx, .xls and .ods read with python-calamine (cached values).

`read(path)` returns every sheet as a grid of `Cell`s (value, number format, formula text) plus its
merged ranges. The format is told from the bytes, never from the file name. For .xlsx, its XML parts
add what calamine does not give (xlsx_parts): number formats (a percent cell holds the fraction) and formula texts
(a formula saved without a cached value reads as empty in calamine; `evaluate` computes it with the
`formulas` library, or says why it cannot).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils import get_column_letter

from lensan.landing import safety
from lensan.landing.errors import LandingError

XLSX, XLS, ODS = "XLSX", "XLS", "ODS"
EXPECTED = "XLSX / XLS / ODS"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


@dataclass
class Cell:
    value: object = None
    number_format: str = "General"
    formula: str | None = None      # "=D12+D13" when the cell holds a formula (xlsx only)


@dataclass
class Sheet:
    name: str
    index: int
    rows: list[list[Cell]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)   # 0-based, inclusive

    def ref(self, row: int, col: int) -> str:
        """A1 reference of a cell; prefixed by the sheet name unless the report is on the first sheet."""
        cell = f"{get_column_letter(col + 1)}{row + 1}"
        return cell if self.index == 0 else f"'{self.name}'!{cell}"

    def range_ref(self, r0: int, c0: int, r1: int, c1: int) -> str:
        text = f"{get_column_letter(c0 + 1)}{r0 + 1}:{get_column_letter(c1 + 1)}{r1 + 1}"
        return text if self.index == 0 else f"'{self.name}'!{text}"


def kind_of(path: Path) -> str | None:
    """XLSX, XLS or ODS from the file's first bytes and (for zips) its parts; None otherwise."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head == _OLE2:
        return XLS
    if not head.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == _ODS_MIME:
                return ODS
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return XLSX      # check_xlsx names what is wrong with the zip
    return XLSX


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def read(path: Path, max_rows: int, max_cols: int) -> list[Sheet]:
    """Every sheet of the workbook, at most max_rows × max_cols cells each (rows start at A1)."""
    kind = kind_of(path)
    if kind is None:
        raise LandingError("UNREADABLE", expected=EXPECTED, reason="not a spreadsheet workbook "
                           "(không phải tệp bảng tính .xlsx / .xls / .ods)")
    if kind in (XLSX, ODS):
        safety.check_xlsx(path, kind)      # zip bombs, XML entity attacks — before any reader
    workbook = _calamine(path, kind)
    try:
        sheets = []
        for index, name in enumerate(workbook.sheet_names):
            sheet = workbook.get_sheet_by_name(name)
            grid = sheet.to_python(skip_empty_area=False, nrows=max_rows)
            rows = [[Cell(None if _blank(v) else v) for v in row[:max_cols]] for row in grid]
            merged = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])
                      if r0 < max_rows and c0 < max_cols]
            sheets.append(Sheet(name, index, rows, merged))
    except Exception as exc:
        raise LandingError("UNREADABLE", expected=kind, reason=f"{type(exc).__name__}: {exc}") from None
    finally:
        workbook.close()
    # calamine gives values only: a percent cell's format (it holds the fraction) comes from each format's own reader
    {XLSX: _add_xlsx_structure, XLS: _add_xls_formats, ODS: _add_ods_formats}[kind](path, sheets, max_rows, max_cols)
    return sheets


def _calamine(path: Path, kind: str):
    """The workbook opened by calamine; UNREADABLE when it cannot open it."""
    import python_calamine

    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own types (and others) for broken workbooks
        raise LandingError("UNREADABLE", expected=kind, reason=f"{type(exc).__name__}: {exc}") from None


def first_worksheet_values(path: Path) -> list[list[object]]:
    """The cached values of an .xlsx's first worksheet (charts and dialog sheets are not worksheets),
    None for a blank cell, rows from A1, a whole number as an int (calamine gives every number as a float):
    what a list such as the household register needs, without the number formats and formulas `read`
    adds (openpyxl gave the same values at ~4x the time)."""
    import python_calamine

    safety.check_xlsx(path)      # not an .xlsx, zip bombs, XML entity attacks — before any reader
    workbook = _calamine(path, XLSX)
    try:
        names = [m.name for m in workbook.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
        if not names:
            raise LandingError("UNREADABLE", expected=XLSX, reason="no worksheet (không có trang tính)")
        grid = workbook.get_sheet_by_name(names[0]).to_python(skip_empty_area=False)
        return [[None if _blank(v) else int(v) if isinstance(v, float) and v.is_integer() else v for v in row]
                for row in grid]
    except LandingError:
        raise
    except Exception as exc:
        raise LandingError("UNREADABLE", expected=XLSX, reason=f"{type(exc).__name__}: {exc}") from None
    finally:
        workbook.close()


def _add_xlsx_structure(path: Path, sheets: list[Sheet], max_rows: int, max_cols: int) -> None:
    """Number formats and formula texts of an .xlsx, which calamine does not give (xlsx_parts)."""
    from lensan.landing.parsers import xlsx_parts

    try:
        structure = xlsx_parts.read_structure(path, max_rows, max_cols)
    except Exception as exc:  # broken XML, a missing part, a formula openpyxl cannot translate
        raise LandingError("UNREADABLE", expected=XLSX, reason=f"{type(exc).__name__}: {exc}") from None
    for sheet in sheets:
        for r, c, number_format, formula in structure.get(sheet.name, ()):
            if r < len(sheet.rows) and c < len(sheet.rows[r]):
                sheet.rows[r][c].number_format = number_format or "General"
                sheet.rows[r][c].formula = formula


def _add_xls_formats(path: Path, sheets: list[Sheet], max_rows: int, max_cols: int) -> None:
    """Number formats of an .xls (BIFF) workbook, read with xlrd."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
    except Exception as exc:  # xlrd raises its own types for broken workbooks
        raise LandingError("UNREADABLE", expected=XLS, reason=f"{type(exc).__name__}: {exc}") from None
    try:
        for sheet in sheets:
            ws = book.sheet_by_name(sheet.name)
            for r, cells in enumerate(sheet.rows[:min(max_rows, ws.nrows)]):
                for c, cell in enumerate(cells[:min(max_cols, ws.ncols)]):
                    fmt = book.format_map.get(book.xf_list[ws.cell_xf_index(r, c)].format_key)
                    if fmt is not None and fmt.format_str:
                        cell.number_format = fmt.format_str
    except Exception as exc:  # noqa: BLE001 - a workbook xlrd cannot follow is refused, never half-read
        raise LandingError("UNREADABLE", expected=XLS, reason=f"{type(exc).__name__}: {exc}") from None
    finally:
        book.release_resources()


_ODF_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODF_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _add_ods_formats(path: Path, sheets: list[Sheet], max_rows: int, max_cols: int) -> None:
    """Percent cells of an .ods (office:value-type="percentage" in content.xml), as a percent number format."""
    from defusedxml import ElementTree

    by_name = {s.name: s for s in sheets}
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as fh:
            root = ElementTree.parse(fh).getroot()
    except Exception as exc:  # noqa: BLE001 - broken XML or zip: the workbook is refused
        raise LandingError("UNREADABLE", expected=ODS, reason=f"{type(exc).__name__}: {exc}") from None
    for table in root.iter(f"{_ODF_TABLE}table"):
        sheet = by_name.get(table.get(f"{_ODF_TABLE}name"))
        if sheet is None:
            continue
        r = 0
        for row in table.iter(f"{_ODF_TABLE}table-row"):
            repeat_rows = int(row.get(f"{_ODF_TABLE}number-rows-repeated", "1"))
            c = 0
            for cell in row:
                repeat_cols = int(cell.get(f"{_ODF_TABLE}number-columns-repeated", "1"))
                if cell.get(f"{_ODF_OFFICE}value-type") == "percentage":
                    for rr in range(r, min(r + repeat_rows, len(sheet.rows))):
                        for cc in range(c, min(c + repeat_cols, len(sheet.rows[rr]))):
                            sheet.rows[rr][cc].number_format = "0%"
                c += repeat_cols
                if c >= max_cols:
                    break
            r += repeat_rows
            if r >= max_rows:
                break


class NotComputable(ValueError):
    """A formula `evaluate` cannot compute; the message says why (English, Vietnamese in `.vi`)."""

    def __init__(self, en: str, vi: str):
        self.vi = vi
        super().__init__(en)


def evaluate(sheet: Sheet, row: int, col: int, _depth: int = 0) -> object:
    """The value of a formula cell saved without a cached value, computed from the sheet's cells
    (arithmetic, SUM and the other Excel functions the `formulas` library knows). References to
    other sheets or workbooks, errors and non-numeric results raise NotComputable."""
    import numpy as np
    import formulas
    from openpyxl.utils.cell import range_boundaries

    text = sheet.rows[row][col].formula
    if _depth > 20:
        raise NotComputable("formulas refer to each other too deeply",
                            "công thức tham chiếu lồng nhau quá sâu")
    try:
        function = formulas.Parser().ast(text)[1].compile()
    except Exception as exc:  # the parser raises many types for what it cannot read
        raise NotComputable(f"{type(exc).__name__}: {exc}", "không phân tích được công thức") from None
    inputs = []
    for name in function.inputs:
        if "!" in name or "[" in name:
            raise NotComputable("it refers to another sheet or workbook",
                                "công thức tham chiếu trang tính / tệp khác")
        try:
            c0, r0, c1, r1 = range_boundaries(name)
        except ValueError:
            raise NotComputable(f"unsupported reference {name}", f"tham chiếu không hỗ trợ {name}") from None
        values = [[_input(sheet, r - 1, c - 1, _depth) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]
        inputs.append(values[0][0] if ":" not in name else np.array(values, dtype=object))
    try:
        result = function(*inputs)
    except Exception as exc:  # noqa: BLE001 - any failure of the evaluation refuses the cell
        raise NotComputable(f"{type(exc).__name__}: {exc}", "lỗi khi tính công thức") from None
    value = result.tolist() if hasattr(result, "tolist") else result
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NotComputable(f"the result is {value!r}, not a number", f"kết quả là {value!r}, không phải số")
    return value


def _input(sheet: Sheet, row: int, col: int, depth: int) -> object:
    cell = sheet.rows[row][col] if row < len(sheet.rows) and col < len(sheet.rows[row]) else Cell()
    if cell.value is None and cell.formula:
        return evaluate(sheet, row, col, depth + 1)
    if isinstance(cell.value, str):
        from lensan.landing.numbers import NotANumber, parse_vn_number

        try:   # a number typed as text ("1.234") counts as its number, as the form's readers take it
            number = parse_vn_number(cell.value)
        except NotANumber:
            return cell.value
        return 0 if number is None else float(number)
    return 0 if cell.value is None else cell.value

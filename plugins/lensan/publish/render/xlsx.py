"""The XLSX workbook of a report, for people: sheet 1 the appendix-02 layout on one A4 landscape page
(header lines, the 8 columns, a header row per section, footer, the completeness annex), sheet 2
`Biểu đồ` (lensan.publish.render.charts) and, for a monthly report, the product-type sheet.

Every text cell is written as a string, never a formula (formula-injection guard). The package is
deterministic given generated_at: workbook dates and zip entry times are set from it."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from copy import copy
from typing import Callable

from lensan import settings
from lensan.publish.render.formatting import FORMULA_PREFIXES, display_tt, notes_text, vn_number
from lensan.publish.rows import is_own_row, section_blocks
from lensan.publish.template import (ATTAINMENT_FLAGS, ATTAINMENT_LEGEND, GATE_NOT_RUN_VI, GATE_VI, PLATFORM_NOTE,
                                     PLATFORM_SHEET, PLATFORM_SPLIT_NOTE, PLATFORM_VI, PRODUCT_GROUP_VI,
                                     PRODUCT_HEADINGS, SCOPE_LEVEL_VI, SECTION_NUMERALS, SECTION_TITLES, SYSTEM_LINE,
                                     Period, coverage_line, coverage_short, issuing_body)

PRODUCT_SHEET = "Thống kê theo loại sản phẩm"
COLUMN_WIDTHS = (6, 50, 12, 14, 13, 14, 14, 44)   # A–H of the report sheet (fits A4 landscape)
COMPLETENESS_FIELDS = ("expected", "received", "on_time", "late", "missing", "received_pct")
COMPLETENESS_HEADINGS = ("Số đơn vị phải báo cáo", "Số đơn vị đã báo cáo", "Đúng hạn", "Muộn",
                         "Chưa báo cáo", "Tỉ lệ đã báo cáo (%)", "Dòng chỉ tiêu đã báo cáo / phải báo cáo")
UNITS_SHEET = "Tình hình báo cáo"
UNIT_STATUS_VI = {"on_time": "Đúng hạn", "late": "Muộn", "missing": "Chưa báo cáo"}
# the attainment % of a flagged row: its fill and the marker after the number (the cell stays a number)
FLAG_FILLS = {"above_target": "FFE699", "implausibly_low": "F8CBAD"}


class _Styles:
    """Cell styles of one workbook, each set once by its attributes and then copied by name. openpyxl
    hashes a font, border or alignment on every assignment: half of a national publication's time went
    there. What is copied is openpyxl's own array of the cell's style ids (as its worksheet copier does),
    so the workbook written is the same. Set a cell's text after its style (a quote prefix is part of it)."""

    def __init__(self):
        self._arrays: dict[str, object] = {}

    def apply(self, cell, name: str, attributes: Callable[[], dict]) -> None:
        array = self._arrays.get(name)
        if array is None:
            for key, value in attributes().items():
                setattr(cell, key, value)
            self._arrays[name] = copy(cell._style)
        else:
            cell._style = copy(array)


def _set_text(cell, text: str | None) -> None:
    cell.value = text
    cell.data_type = "s"  # never a formula
    if text and text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True  # Excel keeps it literal text, also when edited


def render_xlsx(week_key: str, week_start: dt.date, week_end: dt.date, level: str, code: str, name: str,
                rows: list[dict], revision: int, generated_at: dt.datetime, gate_summary: dict | None,
                completeness: dict | None = None, *, period: Period | None = None,
                provinces: list | None = None, product_types: list[dict] | None = None,
                coverage: dict | None = None) -> bytes:
    """The report workbook: sheet 1 the appendix-02 layout, sheet 2 `Biểu đồ` (charts).

    `week_key` is the period key (a week unless `period` says otherwise); `provinces`
    (lensan.publish.render.charts.ProvinceValues) adds the per-province chart (national and region workbooks);
    `coverage` (a national / region report: lensan.publish.rows.coverage) the provinces its figures come from."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    from lensan.publish.render import charts

    if period is None:
        period = Period("week", week_key, week_start, week_end)
    wb = Workbook()
    ws = wb.active
    ws.title = period.sheet_title
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    top_left = Alignment(horizontal="left", vertical="top", wrap_text=True)
    font = "Times New Roman"

    styles = _Styles()

    def text_cell(row, col, value, **style):
        cell = ws.cell(row=row, column=col)
        if value is not None:
            _set_text(cell, str(value))
        for key, val in style.items():
            setattr(cell, key, val)
        return cell

    def styled_text(row, col, value, name, **style):
        """text_cell of a style used on every row (`name`: its attributes never differ)."""
        cell = ws.cell(row=row, column=col)
        styles.apply(cell, name, lambda: style)
        if value is not None:
            _set_text(cell, str(value))
        return cell

    def banner(row, value, size=12, bold=False, italic=False):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=8)
        text_cell(row, 1, value, font=Font(name=font, size=size, bold=bold, italic=italic), alignment=center)

    body = issuing_body(level, code, generated_at.astimezone(settings.LOCAL_TZ).date(), period.map_version)
    banner(1, body, bold=True)
    ws.row_dimensions[1].height = 16.0 * (body.count("\n") + 1)
    banner(2, f"{SYSTEM_LINE} — {SCOPE_LEVEL_VI.get(level, level)}: {name} (mã {code})")
    banner(3, period.title, size=14, bold=True)
    banner(4, period.label, bold=True)
    banner(5, f"Phạm vi báo cáo: {name}" + (f" — {period.map_line}" if period.as_reported else "")
           + (f" — {coverage_short(coverage)} (xem ghi chú)" if coverage_line(coverage, level) else ""))
    banner(6, period.template_line, size=10, italic=True)
    ws.row_dimensions[3].height = 22

    header_row = 8
    fill = PatternFill("solid", fgColor="D9E1F2")
    for col, heading in enumerate(period.headings, start=1):
        text_cell(header_row, col, heading, font=Font(name=font, size=11, bold=True), alignment=center,
                  border=border, fill=fill)
    ws.row_dimensions[header_row].height = max(60.0, 4 + 14.0 * max(
        _wrapped_lines(h, w * 1.05) for h, w in zip(period.headings, COLUMN_WIDTHS)))

    r = header_row + 1
    body_font = Font(name=font, size=11)
    bold_font = Font(name=font, size=11, bold=True)
    for section, section_rows in section_blocks(rows):
        if not is_own_row(section, section_rows):
            text_cell(r, 1, SECTION_NUMERALS.get(section, section), font=bold_font, alignment=center,
                      border=border)
            text_cell(r, 2, SECTION_TITLES.get(section, section), font=bold_font, alignment=left, border=border)
            for col in range(3, 9):
                ws.cell(row=r, column=col).border = border
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=8)
            r += 1
        for row in section_rows:
            own = row.get("tt") == section
            fnt, weight = (bold_font, "bold") if own else (body_font, "body")
            styled_text(r, 1, display_tt(row), f"tt_{weight}", font=fnt, alignment=center, border=border)
            styled_text(r, 2, row["indicator_label_vi"], f"label_{weight}", font=fnt, alignment=left, border=border)
            styled_text(r, 3, row["unit_vi"], "unit", font=body_font, alignment=center, border=border)
            for col, fld in zip((4, 5, 6, 7), period.value_fields):
                cell = ws.cell(row=r, column=col)
                value = row[fld]
                cell.value = value
                styles.apply(cell, "value", lambda: dict(font=body_font, border=border,
                                                         alignment=Alignment(horizontal="right", vertical="center")))
                if value is not None:
                    pct = fld in ("growth_pct", "target_attainment_pct")
                    cell.number_format = "#,##0.0" if pct else ("#,##0" if float(value).is_integer() else "#,##0.00")
                flag = row.get("attainment_flag") if fld == "target_attainment_pct" else None
                if flag in ATTAINMENT_FLAGS:   # never silent: coloured, marked, and named in column H
                    cell.fill = PatternFill("solid", fgColor=FLAG_FILLS[flag])
                    cell.font = Font(name=font, size=11, bold=True)
                    cell.number_format = f'#,##0.0" {ATTAINMENT_FLAGS[flag][0]}"'
            notes = notes_text(row)
            styled_text(r, 8, notes, "notes", font=Font(name=font, size=10), alignment=top_left, border=border)
            # LibreOffice/Excel do not grow rows for wrapped text written by openpyxl: size them here
            height = max(13.5 * _wrapped_lines(row["indicator_label_vi"], COLUMN_WIDTHS[1] * 1.12),
                         13.5 * _wrapped_lines(row["unit_vi"], COLUMN_WIDTHS[2] * 1.12),
                         12.5 * _wrapped_lines(notes, COLUMN_WIDTHS[7] * 1.4))
            ws.row_dimensions[r].height = max(16.0, height + 3)
            r += 1

    r += 1
    gate_status = (gate_summary or {}).get("status")
    gate_vi = GATE_VI.get(gate_status or "", GATE_NOT_RUN_VI)
    footer = [line for line in (coverage_line(coverage, level),) if line] + [
        f"Ghi chú: {PLATFORM_NOTE} Số liệu theo từng sàn: trang \"{PLATFORM_SHEET}\".",
        ATTAINMENT_LEGEND,
        f"Kiểm tra chất lượng dữ liệu (cổng GX): {gate_vi}.",
        f"Lần công bố (revision): {revision}. Lập tự động bởi lensan lúc "
        f"{generated_at.astimezone(settings.LOCAL_TZ):%H:%M ngày %d/%m/%Y} (giờ Việt Nam).",
    ]
    for line in footer:
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=8)
        text_cell(r, 1, line, font=Font(name=font, size=10, italic=True), alignment=left)
        ws.row_dimensions[r].height = max(15.0, 13.0 * _wrapped_lines(line, sum(COLUMN_WIDTHS) * 1.15) + 3)
        r += 1

    if completeness:
        r += 1
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=8)
        text_cell(r, 1, "PHỤ LỤC: TÌNH HÌNH GỬI BÁO CÁO TUẦN CỦA CÁC ĐƠN VỊ", font=bold_font, alignment=left)
        r += 1
        per_cell = completeness.get("expected_rows") is not None
        for col, heading in enumerate(COMPLETENESS_HEADINGS[:len(COMPLETENESS_FIELDS) + per_cell], start=2):
            text_cell(r, col, heading, font=bold_font, alignment=center, border=border, fill=fill)
        ws.row_dimensions[r].height = 45
        r += 1
        for col, key in enumerate(COMPLETENESS_FIELDS, start=2):
            cell = ws.cell(row=r, column=col, value=completeness.get(key))
            cell.font, cell.border = body_font, border
            cell.alignment = Alignment(horizontal="center", vertical="center")
            cell.number_format = "#,##0.0" if key == "received_pct" else "#,##0"
        if per_cell:   # the form rows filled of those owed
            cell = ws.cell(row=r, column=8)
            _set_text(cell, f"{vn_number(completeness['reported_rows'])} / {vn_number(completeness['expected_rows'])}"
                            f" ({vn_number(completeness['reported_rows_pct'], 1)}%)"
                      if completeness.get("reported_rows_pct") is not None else "")
            cell.font, cell.border = body_font, border
            cell.alignment = Alignment(horizontal="center", vertical="center")
        r += 1
        for label, text in _completeness_unit_lines(completeness):
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=8)
            text_cell(r, 1, label, font=bold_font, alignment=left)
            text_cell(r, 2, text, font=body_font, alignment=left)
            ws.row_dimensions[r].height = max(15, 15 * _wrapped_lines(text, sum(COLUMN_WIDTHS[1:])))
            r += 1

    for col, width in zip("ABCDEFGH", COLUMN_WIDTHS):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    _print_setup(ws, header_row, pages_tall=1)   # the whole report on one A4 landscape page, as the template

    stamp = generated_at.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    wb.properties.creator = "lensan"
    wb.properties.lastModifiedBy = "lensan"
    charts.add_chart_sheet(wb, rows=rows, scope_name=name, period_label=f"{period.title} — {period.label}",
                           provinces=provinces, font_name=font)
    if completeness and completeness.get("units"):
        _add_units_sheet(wb, styles, completeness["units"], f"{period.title} — {period.label}", name, font)
    _add_platform_sheet(wb, styles, rows, period, f"{period.title} — {period.label}", name, font)
    if product_types is not None:
        _add_product_sheet(wb, styles, product_types, f"{period.title} — {period.label}", name, font)
    wb.properties.title = f"{period.title} {period.key} — {name}"
    wb.properties.created = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    return _deterministic_zip(buffer.getvalue(), stamp)


def _add_units_sheet(wb, styles: _Styles, units: list[dict], period_label: str, scope_name: str, font: str) -> None:
    """Sheet `Tình hình báo cáo` of a province: every expected unit, its status and the form rows it filled
    out of those it owes."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    ws = wb.create_sheet(UNITS_SHEET)
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    headings = ("Mã đơn vị", "Tên đơn vị", "Tình trạng báo cáo", "Số dòng chỉ tiêu đã báo cáo",
                "Số dòng chỉ tiêu phải báo cáo")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headings))
    title = ws.cell(row=1, column=1)
    _set_text(title, f"TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ — {period_label} — {scope_name}")
    title.font, title.alignment = Font(name=font, size=12, bold=True), Alignment(horizontal="center", wrap_text=True)
    ws.row_dimensions[1].height = 32
    fill = PatternFill("solid", fgColor="D9E1F2")
    for col, heading in enumerate(headings, start=1):
        cell = ws.cell(row=3, column=col)
        _set_text(cell, heading)
        cell.font, cell.fill, cell.border = Font(name=font, bold=True), fill, border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    def unit_cell():
        return dict(border=border, font=Font(name=font, size=10))

    for r, unit in enumerate(units, start=4):
        texts = (unit["unit_code"], unit["unit_name"], UNIT_STATUS_VI.get(unit["status"], unit["status"]))
        for col, text in enumerate(texts, start=1):
            cell = ws.cell(row=r, column=col)
            styles.apply(cell, "unit_cell", unit_cell)
            _set_text(cell, text)
        for col, key in ((4, "reported_rows"), (5, "expected_rows")):
            cell = ws.cell(row=r, column=col, value=unit[key])
            styles.apply(cell, "unit_cell", unit_cell)
    for col, width in zip("ABCDE", (11, 34, 16, 16, 16)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(row=4, column=1)
    _print_setup(ws, 3, landscape=False)


def _add_platform_sheet(wb, styles: _Styles, rows: list[dict], period: Period, period_label: str, scope_name: str,
                        font: str) -> None:
    """Sheet `Theo sàn`: every indicator for both platforms together, postmart.vn and voso.vn (in the
    period, cumulative), with the note on households counted on both platforms."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    ws = wb.create_sheet(PLATFORM_SHEET)
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    value_fields = (period.value_field, "cumulative_value") + period.platform_fields
    headings = ("TT", "Chỉ tiêu", "Đơn vị tính") + period.split_headings(("all",)) + period.platform_headings
    width = len(headings)
    for r, (text, size, bold) in enumerate((("SỐ LIỆU THEO TỪNG SÀN TMĐT", 13, True),
                                            (f"{period_label} — {scope_name}", 11, False)), start=1):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        cell = ws.cell(row=r, column=1)
        _set_text(cell, text)
        cell.font, cell.alignment = Font(name=font, size=size, bold=bold), Alignment(horizontal="center")
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=width)
    note = ws.cell(row=3, column=1)
    _set_text(note, PLATFORM_SPLIT_NOTE)
    note.font = Font(name=font, size=10, italic=True)
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[3].height = 42
    header = 5
    fill = PatternFill("solid", fgColor="D9E1F2")
    for col, heading in enumerate(headings, start=1):
        cell = ws.cell(row=header, column=col)
        _set_text(cell, heading)
        cell.font, cell.fill, cell.border = Font(name=font, bold=True), fill, border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[header].height = 48
    for r, row in enumerate(rows, start=header + 1):
        for col, text in enumerate((display_tt(row), row["indicator_label_vi"], row["unit_vi"]), start=1):
            cell = ws.cell(row=r, column=col)
            styles.apply(cell, "platform_text", lambda: dict(border=border, font=Font(name=font, size=10),
                                                             alignment=Alignment(wrap_text=True, vertical="center")))
            _set_text(cell, text)
        for col, fld in enumerate(value_fields, start=4):
            value = row.get(fld)
            cell = ws.cell(row=r, column=col, value=value)
            styles.apply(cell, "platform_value", lambda: dict(border=border, font=Font(name=font, size=10),
                                                              alignment=Alignment(vertical="center")))
            if value is not None:
                cell.number_format = "#,##0" if float(value).is_integer() else "#,##0.00"
        ws.row_dimensions[r].height = max(15.0, 13.5 * _wrapped_lines(row["indicator_label_vi"], 44))
    for col, w in zip("ABCDEFGHI", (6, 44, 11, 14, 14, 14, 14, 14, 14)):
        ws.column_dimensions[col].width = w
    ws.freeze_panes = ws.cell(row=header + 1, column=4)
    _print_setup(ws, header)


def _add_product_sheet(wb, styles: _Styles, product_types: list[dict], period_label: str, scope_name: str,
                       font: str) -> None:
    """Sheet `Thống kê theo loại sản phẩm`: orders, tonnes and revenue per platform and product type."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    ws = wb.create_sheet(PRODUCT_SHEET)
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    title = ws.cell(row=1, column=1, value="THỐNG KÊ THEO LOẠI SẢN PHẨM TRÊN SÀN TMĐT")
    title.font = Font(name=font, size=13, bold=True)
    title.alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=6)
    ws.cell(row=2, column=1, value=f"{period_label} — {scope_name}").alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=6)
    ws.cell(row=3, column=1, value="Đơn hàng thành công theo trạng thái mới nhất (đơn hoàn/hủy không tính).").font = \
        Font(name=font, size=10, italic=True)
    header = 5
    fill = PatternFill("solid", fgColor="D9E1F2")
    for col, heading in enumerate(PRODUCT_HEADINGS, start=1):
        cell = ws.cell(row=header, column=col, value=heading)
        cell.font, cell.fill, cell.border = Font(name=font, bold=True), fill, border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(product_types, start=header + 1):
        texts = (PLATFORM_VI.get(row["platform"], row["platform"]),
                 PRODUCT_GROUP_VI.get(row["product_group"], row["product_group"]), row["product_type"])
        for col, text in enumerate(texts, start=1):
            cell = ws.cell(row=r, column=col)
            styles.apply(cell, "product_text", lambda: dict(border=border))
            _set_text(cell, str(text) if text is not None else None)
        for col, fld, fmt in ((4, "orders", "#,##0"), (5, "volume_t", "#,##0.000"), (6, "revenue_vnd", "#,##0")):
            cell = ws.cell(row=r, column=col, value=row[fld])
            styles.apply(cell, f"product_{fmt}", lambda: dict(number_format=fmt, border=border))
    if not product_types:
        ws.cell(row=header + 1, column=1, value="Không có đơn hàng thành công trong tháng.")
    for col, width in zip("ABCDEF", (14, 14, 24, 16, 16, 20)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    _print_setup(ws, header)


def _print_setup(ws, header_row: int, *, landscape: bool = True, pages_tall: int = 0) -> None:
    """A4, one page wide (`pages_tall` 0: as many pages down as needed), the heading row repeated on
    every printed page."""
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = pages_tall
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5


def _completeness_unit_lines(completeness: dict) -> list[tuple[str, str]]:
    """Rows of the completeness annex naming the late and missing units ("code name")."""
    lines = []
    late = completeness.get("late_units") or []
    if late:
        lines.append(("Báo cáo muộn", "; ".join(
            f"{u['unit_code']} {u['unit_name']}" + (f" (muộn {vn_number(u['hours_late'], 1)} giờ)"
                                                     if u.get("hours_late") is not None else "")
            for u in late)))
    missing = completeness.get("missing_units") or []
    if missing:
        lines.append(("Chưa báo cáo", "; ".join(f"{u['unit_code']} {u['unit_name']}" for u in missing)))
    incomplete = completeness.get("incomplete_units") or []
    if incomplete and completeness.get("units"):   # a province's own units (regions, nation: the counts)
        lines.append(("Báo cáo thiếu chỉ tiêu", "; ".join(
            f"{u['unit_code']} {u['unit_name']} ({u['reported_rows']}/{u['expected_rows']} dòng)" for u in incomplete)))
    silent = completeness.get("silent_provinces") or []
    if silent:
        lines.append(("Tỉnh chưa có đơn vị báo cáo", "; ".join(
            f"{p['province_name']} ({p['expected']} đơn vị)" for p in silent)))
    return lines


def _wrapped_lines(text: str | None, width_chars: float) -> int:
    """Lines a wrapped cell needs (greedy word wrap; a column width unit ≈ one character)."""
    if not text:
        return 1
    capacity = max(4, int(width_chars * 0.95))
    lines = 0
    for paragraph in str(text).split("\n"):
        used, count = 0, 1
        for word in paragraph.split():
            need = len(word) + (1 if used else 0)
            if used and used + need > capacity:
                count += 1
                used = len(word)
            else:
                used += need
        lines += count
    return lines


def _deterministic_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Rewrite the XLSX package with fixed entry times and core-property dates (= generated_at)."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + iso.encode() + rb"\2", content)
                content = re.sub(rb"(<dcterms:created[^>]*>)[^<]*(<)", rb"\g<1>" + iso.encode() + rb"\2", content)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, content)
    return out.getvalue()

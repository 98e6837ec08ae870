"""The weekly form's layout (appendix 02) and the blank form a unit downloads, pre-filled with its
name, code and the week line. The headings are the parser's own (`landing.parsers.weekly_form.COLUMNS`),
so a downloaded form always parses; the sample generator (lensan_dev.generate.forms) writes its forms
with the same lines from here.
"""

from __future__ import annotations

import io
from decimal import Decimal

from lensan import reference
from lensan.calendar import periods
from lensan.landing.parsers.weekly_form import COLUMNS
from lensan.publish.template import SECTION_TITLES as REPORT_SECTION_TITLES

TITLE = "BÁO CÁO TUẦN"
DEADLINE_NOTE = "(trước 14h00 thứ 5 hằng tuần)"
FORM_HEADINGS = tuple(heading for _, heading in COLUMNS)
# the form's sections carry the titles the published report gives them
SECTION_TITLES = {key: title for key, title in REPORT_SECTION_TITLES.items() if key in ("II", "III", "IV")}
CODE_LABEL = "Mã đơn vị:"
REPORTER_LABEL = "Người báo cáo:"
PHONE_LABEL = "Số điện thoại:"
_WIDTHS = (6, 60, 12, 16, 14, 16, 16, 40)


def authority_line(unit_name: str) -> str:
    return f"UBND {unit_name.upper()}"


def week_line(week_key: str) -> str:
    """'Tuần 47/2026 (từ ngày 16/11/2026 đến ngày 22/11/2026)' — the line the parser reads the week from."""
    monday, sunday = periods.week_bounds(week_key)
    year, week = week_key.split("-W")
    return f"Tuần {int(week)}/{year} (từ ngày {monday:%d/%m/%Y} đến ngày {sunday:%d/%m/%Y})"


def file_name(unit_code: str, week_key: str) -> str:
    return f"bao_cao_tuan_{unit_code}_{week_key}.xlsx"


def blank_form(unit_code: str, unit_name: str, week_key: str,
               values: dict[str, tuple[object, object]] | None = None) -> bytes:
    """The weekly form as XLSX bytes: header lines, table headings and the 17 indicator rows with their
    TT, label and unit; number cells empty, or (value in week, cumulative) from `values` by indicator code
    (tests, the demo and the rush benchmark fill it in like a unit would)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    values = values or {}
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Báo cáo tuần"
    for i, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    bold = Font(bold=True)
    lines = [(authority_line(unit_name), bold), (f"{CODE_LABEL} {unit_code}", None), (TITLE, Font(bold=True, size=14)),
             (DEADLINE_NOTE, None), (week_line(week_key), None), (REPORTER_LABEL, None), (PHONE_LABEL, None)]
    for r, (text, font) in enumerate(lines, start=1):
        sheet.cell(r, 1, text).font = font or Font()
        sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=8)
    r = len(lines) + 2
    for c, heading in enumerate(FORM_HEADINGS, start=1):
        cell = sheet.cell(r, c, heading)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    section = None
    for indicator in reference.weekly_form_indicators():
        r += 1
        if indicator.section != section and indicator.section != "I":
            sheet.cell(r, 1, indicator.section).font = bold
            sheet.cell(r, 2, SECTION_TITLES[indicator.section]).font = bold
            r += 1
        section = indicator.section
        sheet.cell(r, 1, "I" if indicator.section == "I" else int(indicator.tt))
        sheet.cell(r, 2, indicator.label_vi)
        sheet.cell(r, 3, indicator.unit_vi)
        week_value, cumulative = values.get(indicator.code, (None, None))
        for c, value in ((4, week_value), (6, cumulative)):
            if value is not None:
                sheet.cell(r, c, float(value) if isinstance(value, Decimal) else value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

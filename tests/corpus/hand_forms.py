"""Weekly forms as a commune reporting officer sends them, made by hand-like means (openpyxl with odd
layouts, xlwt for .xls, odfpy for .ods — not the project's generator): a cover sheet first, blank rows
between sections, a repeated header, rows or a whole section left out, formulas with and without a
saved value, merged number cells, odd file names.

`build(put)` writes each into tests/corpus/weekly_form/ through build_corpus's `put(source, name, data,
outcome)` and returns `EXPECTED_DETAILS`: per file, the warnings (omitted TTs), the landed values of some
rows, or the cell/range a refusal names — checked by tests/test_corpus.py. xlwt and odfpy are test-only
dependencies (only this builder writes those formats; landing reads them with python-calamine).
"""

from __future__ import annotations

import io
import re
import zipfile

UNIT = "03388"
WEEK_LINE = "Tuần 39/2026 (từ ngày 21/09/2026 đến ngày 27/09/2026)"
HEADINGS = ("TT", "Chỉ tiêu", "Đơn vị tính", "Chỉ tiêu đạt được trong tuần (Số lượng)",
            "Tăng trưởng so với tuần trước (%)", "Chỉ tiêu đạt được lũy kế đến hiện tại (Số lượng)",
            "Tỉ lệ hoàn thành chỉ tiêu đến thời điểm hiện tại (%)", "Ghi chú thông tin bổ sung")
TITLES = {"II": "Chỉ tiêu hỗ trợ đưa hộ SXNN lên sàn TMĐT",
          "III": "Chỉ tiêu hỗ trợ đẩy mạnh tiêu thụ sản phẩm nông nghiệp",
          "IV": "Chỉ tiêu hỗ trợ cung cấp thông tin, nguyên liệu đầu vào phục vụ sản xuất, kinh doanh"}
ODD_NAME = "Bao cao tuan 39 - xa Doan Ket.xlsx"


class Pct(float):
    """A number cell formatted as percent: it holds the fraction (0.6 shows as 60%)."""


def _rows(omit=(), values=None, completion=None):
    """(section, tt, label, unit, D, E, F, G, notes) of the form, in template order."""
    from lensan import reference

    values, completion = values or {}, completion or {}
    out = []
    for i, ind in enumerate(reference.weekly_form_indicators()):
        tt = "I" if ind.section == "I" else f"{ind.section}.{ind.tt}"
        if tt in omit or ind.section in omit:
            continue
        d, f = values.get(tt, (i + 2, 10 * (i + 2)))
        out.append((ind.section, "I" if ind.section == "I" else int(ind.tt), ind.label_vi, ind.unit_vi,
                    d, "", f, completion.get(tt, ""), ""))
    return out


def _layout(rows, blank_between=False, repeat_header_before=None):
    """The report as a list of sheet lines (lists of cell values); also each TT's line index."""
    lines = [["UBND XÃ ĐOÀN KẾT"], [f"Mã đơn vị: {UNIT}"], ["BÁO CÁO TUẦN"], [WEEK_LINE],
             ["Người báo cáo: Lò Văn Minh"], ["Số điện thoại: 0912 345 678"], [], list(HEADINGS)]
    where, section = {}, None
    for sec, tt, label, unit, d, e, f, g, notes in rows:
        if sec != section and sec != "I":
            if blank_between:
                lines.append([])
            if sec == repeat_header_before:
                lines.append(list(HEADINGS))
            lines.append([sec, TITLES[sec]])
        section = sec
        where["I" if sec == "I" else f"{sec}.{tt}"] = len(lines)
        lines.append([tt, label, unit, d, e, f, g, notes])
    lines += [[], ["", "", "", "", "", "Ngày 28 tháng 9 năm 2026"], ["", "", "", "", "", "NGƯỜI BÁO CÁO"]]
    return lines, where


def _xlsx(lines, cover=False, edit=None) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    if cover:
        ws.title = "Bìa"
        ws["B3"] = "BÁO CÁO TUẦN 39 NĂM 2026"
        ws["B5"] = "Xã Đoàn Kết — gửi Sở Công Thương"
        ws = wb.create_sheet("Báo cáo")
    else:
        ws.title = "Báo cáo tuần"
    for r, line in enumerate(lines, start=1):
        for c, value in enumerate(line, start=1):
            if value not in (None, ""):
                ws.cell(row=r, column=c, value=value)
                if isinstance(value, Pct):
                    ws.cell(row=r, column=c).number_format = "0%"
    if edit:
        edit(ws)
    return _stable(wb)


def _stable(wb) -> bytes:
    import datetime as dt

    wb.properties.created = wb.properties.modified = dt.datetime(2026, 9, 28, 8, 0, 0)
    out = io.BytesIO()
    wb.save(out)
    return _fixed_zip(out.getvalue())


def _fixed_zip(data: bytes, patch=None) -> bytes:
    """The zip with fixed entry times (byte-stable rebuilds); `patch(name, payload)` may rewrite a part."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 9, 28, 8, 0, 0))
            entry.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-09-28T08:00:00Z", payload)
            dst.writestr(entry, patch(info.filename, payload) if patch else payload)
    return out.getvalue()


def _cache(data: bytes, cell: str, value) -> bytes:
    """Give a formula cell written by openpyxl (which saves no value) a saved value, as Excel would."""
    def patch(name, payload):
        if not name.startswith("xl/worksheets/"):
            return payload
        pattern = rb'(<c r="' + cell.encode() + rb'"[^>]*>)(<f>[^<]*</f>)<v\s*/?>(?:</v>)?'
        patched, n = re.subn(pattern, rb"\g<1>\g<2><v>" + str(value).encode() + rb"</v>", payload)
        return patched if n else payload
    return _fixed_zip(data, patch)


def _xls(lines) -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Bao cao")
    percent = xlwt.easyxf(num_format_str="0%")
    for r, line in enumerate(lines):
        for c, value in enumerate(line):
            if isinstance(value, Pct):
                sheet.write(r, c, value, percent)
            elif value not in (None, ""):
                sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _ods(lines) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Báo cáo tuần")
    for line in lines:
        row = TableRow()
        for value in line:
            if value in (None, ""):
                row.addElement(TableCell())
            elif isinstance(value, Pct):
                cell = TableCell(valuetype="percentage", value=value)
                cell.addElement(P(text=f"{value:.0%}"))
                row.addElement(cell)
            elif isinstance(value, (int, float)):
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
                row.addElement(cell)
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
                row.addElement(cell)
        table.addElement(row)
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return _fixed_zip(out.getvalue(), lambda name, p: re.sub(rb"<meta:creation-date>[^<]*", b"<meta:creation-date>"
                                                            b"2026-09-28T08:00:00", p))


def build(put) -> dict[str, dict]:
    details: dict[str, dict] = {}

    # the form of the issue: odd name, cover sheet, blank rows, a repeated header, IV.2 and IV.5 left out
    lines, where = _layout(_rows(omit=("IV.2", "IV.5"), completion={"II.1": Pct(0.45)}), blank_between=True,
                           repeat_header_before="III")
    put("weekly_form", ODD_NAME, _xlsx(lines, cover=True), "accepted")
    details[ODD_NAME] = {"warnings": ["IV.2", "IV.5"], "values": {"II.1": ["3", "30"], "IV.4": ["17", "170"]},
                         "completion_pct": {"II.1": "45"}}

    name = "Bao cao tuan 39 (khong co muc IV).xlsx"
    lines, _ = _layout(_rows(omit=("IV",)), blank_between=True)
    put("weekly_form", name, _xlsx(lines), "accepted")
    details[name] = {"warnings": ["IV.1", "IV.2", "IV.3", "IV.4", "IV.5"], "values": {"III.7": ["13", "130"]}}

    # formulas: one with a saved value (as Excel saves it), two without (openpyxl saves none): computed
    lines, where = _layout(_rows())
    d = {tt: f"D{i + 1}" for tt, i in where.items()}
    f = {tt: f"F{i + 1}" for tt, i in where.items()}

    def formulas(ws):
        ws[d["II.3"]] = f"={d['II.1']}+{d['II.2']}"                  # 3 + 4, saved below as 7
        ws[d["III.1"]] = f"={d['II.1']}+{d['II.2']}"                 # 3 + 4, no saved value
        ws[f["III.1"]] = f"=SUM({f['II.1']}:{f['II.4']})*2"          # (30+40+50+60)*2, no saved value
    name = "bao_cao_tuan_03388_2026-W39_cong_thuc.xlsx"
    put("weekly_form", name, _cache(_xlsx(lines, edit=formulas), d["II.3"], 7), "accepted")
    details[name] = {"warnings": [], "values": {"II.3": ["7", "50"], "III.1": ["7", "360"]}}

    def foreign(ws):
        ws[d["II.2"]] = "='Trang khác'!B2+1"
    name = "bao_cao_tuan_03388_2026-W39_cong_thuc_khong_tinh_duoc.xlsx"
    put("weekly_form", name, _xlsx(lines, edit=foreign), "FORMULA_NOT_COMPUTED")
    details[name] = {"where": f"cell {d['II.2']}"}

    # merged number cells: into a blank row below (clear: read from the anchor) / over two rows (refused)
    lines, where = _layout(_rows(), blank_between=True)
    r = where["II.4"] + 1                                            # the blank row after II.4

    def merge_clear(ws):
        ws.merge_cells(f"D{r}:D{r + 1}")
    name = "bao_cao_tuan_03388_2026-W39_o_gop_ro_nghia.xlsx"
    put("weekly_form", name, _xlsx(lines, edit=merge_clear), "accepted")
    details[name] = {"warnings": [], "values": {"II.4": ["6", "60"]}}

    a, b = where["III.2"] + 1, where["III.3"] + 1

    def merge_ambiguous(ws):
        ws.merge_cells(f"D{a}:D{b}")
    name = "bao_cao_tuan_03388_2026-W39_o_gop_nhieu_dong.xlsx"
    put("weekly_form", name, _xlsx(lines, edit=merge_ambiguous), "MERGED_NUMBER_CELLS")
    details[name] = {"where": f"range D{a}:D{b}"}

    # other formats, the report read with python-calamine like any workbook
    lines, _ = _layout(_rows(omit=("IV.5",), values={"II.1": (12, 34)}, completion={"II.1": Pct(0.6)}),
                       blank_between=True)
    put("weekly_form", "Bao cao tuan 39 - xa Doan Ket.xls", _xls(lines), "accepted")
    details["Bao cao tuan 39 - xa Doan Ket.xls"] = {"warnings": ["IV.5"], "values": {"II.1": ["12", "34"]},
                                                    "completion_pct": {"II.1": "60"}}
    lines, _ = _layout(_rows(values={"III.2": (2.5, 7.25)}, completion={"III.2": Pct(0.25), "III.3": 12.5}))
    put("weekly_form", "bao_cao_tuan_03388_2026-W39.ods", _ods(lines), "accepted")
    details["bao_cao_tuan_03388_2026-W39.ods"] = {"warnings": [], "values": {"III.2": ["2.5", "7.25"]},
                                                  "completion_pct": {"III.2": "25", "III.3": "12.5"}}
    return details

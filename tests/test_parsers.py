"""Parsers without a database: numbers as typed, the weekly form, the register, platform files."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from fixtures.landing_builders import (EXPECTED_FORM, FORM_ROWS, HEADINGS, PM_ORDER_HEADINGS, LOCAL_TZ,
                                       build_form, build_postmart_csv, build_register_csv, build_register_xlsx,
                                       build_voso_gz, default_header, pm_order, register_rows, vs_order, week_line)
from lensan.landing import check_file, safe_name
from lensan.landing.parsers import household_register, weekly_form
from lensan.landing.platforms import fast, reference, spec
from lensan.landing.errors import CODES, MESSAGES, LandingError
from lensan.landing.numbers import NotANumber, parse_vn_number

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------------------------- numbers

@pytest.mark.parametrize("typed, expected", [
    (1234, Decimal(1234)),
    (12.5, Decimal("12.5")),
    (0.1, Decimal("0.1")),
    (3.0, Decimal(3)),
    (Decimal("7.25"), Decimal("7.25")),
    ("1.234", Decimal(1234)),
    ("1.234.567", Decimal(1234567)),
    ("12,5", Decimal("12.5")),
    ("1.234,5", Decimal("1234.5")),
    ("15%", Decimal(15)),
    ("-15,5%", Decimal("-15.5")),
    ("0,023", Decimal("0.023")),
    ("  42 ", Decimal(42)),
    ("1 234", Decimal(1234)),
    ("12.5", Decimal("12.5")),
    ("0", Decimal(0)),
    ("", None),
    ("   ", None),
    ("-", None),
    ("–", None),
    (None, None),
])
def test_parse_vn_number(typed, expected):
    result = parse_vn_number(typed)
    assert result == expected
    if expected is not None:
        assert isinstance(result, Decimal)


def test_not_reported_is_never_zero():
    assert parse_vn_number("-") is None and parse_vn_number("") is None and parse_vn_number(None) is None
    assert parse_vn_number("0") == 0


@pytest.mark.parametrize("typed", ["khoảng 20", "n/a", "1,234.5", "12a", "%", "1.23.4", "--5", True,
                                   float("nan")])
def test_parse_vn_number_rejects_text(typed):
    with pytest.raises(NotANumber) as info:
        parse_vn_number(typed)
    assert isinstance(info.value, ValueError)
    assert info.value.text == str(typed).strip()


def test_every_code_has_both_messages():
    for code in CODES:
        vi, en = MESSAGES[code]
        assert vi and en and vi != en
    error = LandingError("VALUE_NOT_NUMBER", ("tại ô D12", "cell D12"), value="khoảng 20")
    assert "D12" in error.message_vi and "khoảng 20" in error.message_vi
    assert "D12" in error.message_en and "khoảng 20" in error.message_en


# ------------------------------------------------------------------------------------- weekly form

def test_good_form_parses_to_17_rows(tmp_path):
    form = weekly_form.parse(build_form(tmp_path / "bao_cao_tuan_205_2024-W47.xlsx"))
    assert (form.unit_code, form.map_version, form.week_key) == ("205", "pre2025", "2024-W47")
    assert (form.week_start, form.week_end) == (dt.date(2024, 11, 18), dt.date(2024, 11, 24))
    assert form.unit_name == "UBND THÀNH PHỐ ĐÔNG TRIỀU"
    got = [(r.indicator_code, None if r.value_in_week is None else str(r.value_in_week.normalize()),
            None if r.cumulative_value is None else str(r.cumulative_value.normalize())) for r in form.rows]
    expected = [(c, None if d is None else str(Decimal(d).normalize()), None if f is None else
                 str(Decimal(f).normalize())) for c, d, f in EXPECTED_FORM]
    assert got == expected
    rows = {r.indicator_code: r for r in form.rows}
    assert rows["ocop_listed"].section == "I" and rows["ocop_listed"].tt == "I"
    assert rows["ocop_listed"].growth_pct == 15 and rows["ocop_listed"].completion_pct == 60
    assert rows["hh_trained_digital"].growth_pct == Decimal("12.5")
    assert rows["volume_sold_t"].growth_pct == Decimal("-15.5")
    # '-' and blank are "not reported": NULL, never 0
    for code in ("hh_trained_logistics", "hh_with_shop"):
        r = rows[code]
        assert (r.value_in_week, r.growth_pct, r.cumulative_value, r.completion_pct) == (None, None, None, None)
    assert rows["hh_branded"].growth_pct == 0
    # labels kept as typed, notes verbatim
    assert rows["hh_trained_digital"].label == "Số hộ được đào tạo..."
    assert rows["products_branded"].label.endswith("gần mark thương hiệu trên sàn")
    assert rows["foreign_markets"].notes == "Danh sách các quốc gia:\nBỉ, Đức, Séc"
    assert rows["domestic_markets"].notes.startswith("Miền Bắc: Hà Nội, Hải Phòng;")
    assert rows["info_update_days"].section == "IV" and rows["info_update_days"].tt == "2"
    assert rows["ocop_listed"].row_number == 9   # the worksheet row


def test_form_hashes_reporter_with_given_hasher(tmp_path):
    seen = []
    weekly_form.parse(build_form(tmp_path / "f.xlsx"), hasher=lambda k, v: seen.append((k, v)) or f"h-{k}")
    assert ("name", "Nguyễn Văn An") in seen and ("phone", "0912 345 678") in seen


@pytest.mark.parametrize("label, code, week, expected", [
    ("MÃ ĐƠN VỊ: 205", None, (2024, 47), ("205", "pre2025")),
    ("Mã đơn vị: 205 (Đông Triều)", None, (2024, 47), ("205", "pre2025")),
    ("Mã đơn vị", "07090 - Phường An Sinh", (2026, 47), ("07090", "post2025")),
    ("Ma don vi:", 205, (2024, 47), ("205", "pre2025")),
    ("mã đơn vị", "7", (2024, 47), ("007", "pre2025")),       # Quận Hà Đông? no: 007 is a Hà Nội district
    ("Mã đơn vị:", 7090, (2026, 47), ("07090", "post2025")),   # typed as a number, zero-padded to 5
])
def test_unit_code_label_variants(tmp_path, label, code, week, expected):
    header = default_header(year=week[0], week=week[1])
    header[1] = [label] if code is None else [label, code]
    form = weekly_form.parse(build_form(tmp_path / "f.xlsx", header=header))
    assert (form.unit_code, form.map_version) == expected


def _error(path, **kwargs) -> LandingError:
    with pytest.raises(LandingError) as info:
        weekly_form.parse(path, **kwargs)
    return info.value


def test_garbage_header_is_template_not_recognised(tmp_path):
    header = [["Bảng kê chi tiêu gia đình"], ["Tháng 11"], []]
    error = _error(build_form(tmp_path / "f.xlsx", header=header))
    assert error.code == "TEMPLATE_NOT_RECOGNISED"
    assert "BÁO CÁO TUẦN" in error.message_vi and "BÁO CÁO TUẦN" in error.message_en


def test_no_table_header_is_template_not_recognised(tmp_path):
    error = _error(build_form(tmp_path / "f.xlsx", headings=["STT", "Nội dung"]))
    assert error.code == "TEMPLATE_NOT_RECOGNISED" and "TT" in error.message_en


def test_missing_and_unexpected_columns(tmp_path):
    headings = HEADINGS[:4] + HEADINGS[5:]
    assert _error(build_form(tmp_path / "a.xlsx", headings=headings)).code == "MISSING_COLUMN"
    error = _error(build_form(tmp_path / "b.xlsx", headings=HEADINGS + ["Người nhập"]))
    assert error.code == "UNEXPECTED_COLUMN" and "I8" in error.message_en and "Người nhập" in error.message_vi
    swapped = HEADINGS[:3] + [HEADINGS[5], HEADINGS[4], HEADINGS[3]] + HEADINGS[6:]
    assert _error(build_form(tmp_path / "c.xlsx", headings=swapped)).code == "UNEXPECTED_COLUMN"
    # spacing, case, diacritics and "tỷ"/"tỉ" do not matter
    relaxed = [h.upper() for h in HEADINGS]
    relaxed[6] = "Tỷ lệ hoàn thành chỉ tiêu đến thời điểm  hiện tại(%)"
    assert len(weekly_form.parse(build_form(tmp_path / "d.xlsx", headings=relaxed)).rows) == 17


def test_missing_unit_code(tmp_path):
    header = default_header()
    header[1] = ["Mã đơn vị:"]
    assert _error(build_form(tmp_path / "a.xlsx", header=header)).code == "MISSING_UNIT_CODE"
    del header[1]
    assert _error(build_form(tmp_path / "b.xlsx", header=header)).code == "MISSING_UNIT_CODE"


def test_wrong_map_and_unknown_units(tmp_path):
    # 07090 is a post-reform ward: wrong for a 2024 week (pre-reform districts)
    error = _error(build_form(tmp_path / "a.xlsx", header=default_header("07090", 2024, 47)))
    assert error.code == "WRONG_MAP_UNIT" and "07090" in error.message_en and "pre2025" in error.message_en
    # district 205 no longer reports after the reform
    error = _error(build_form(tmp_path / "b.xlsx", header=default_header("205", 2026, 47)))
    assert error.code in ("WRONG_MAP_UNIT", "UNKNOWN_UNIT")
    error = _error(build_form(tmp_path / "c.xlsx", header=default_header("99999", 2026, 47)))
    assert error.code == "UNKNOWN_UNIT"
    assert _error(build_form(tmp_path / "d.xlsx", header=default_header("ĐT-01", 2024, 47))).code == "UNKNOWN_UNIT"


@pytest.mark.parametrize("line", [
    "Tuần 47/2024 (từ ngày 19/11/2024 đến ngày 25/11/2024)",    # dates do not match the ISO week
    "Tuần 54/2024 (từ ngày 18/11/2024 đến ngày 24/11/2024)",    # no such week
    "Tuần 47/2024 (từ ngày 31/11/2024 đến ngày 24/11/2024)",    # no such date
    "Tuần bốn mươi bảy",
])
def test_bad_week(tmp_path, line):
    header = default_header()
    header[3] = [line]
    error = _error(build_form(tmp_path / "f.xlsx", header=header))
    assert error.code == "BAD_WEEK" and line in error.message_vi


def test_future_week(tmp_path):
    path = build_form(tmp_path / "f.xlsx")
    during = dt.datetime(2024, 11, 24, 23, 0, tzinfo=LOCAL_TZ)   # Sunday evening of the reported week
    error = _error(path, arrived_at=during)
    assert error.code == "FUTURE_PERIOD" and "2024-W47" in error.message_en
    assert len(weekly_form.parse(path, arrived_at=dt.datetime(2024, 11, 25, 0, 0, tzinfo=LOCAL_TZ)).rows) == 17


def _rows_with(tt_section: str, tt: int | str, column: int, value) -> list[list]:
    rows = [list(r) for r in FORM_ROWS]
    section = None
    for row in rows:
        if row[0] in ("I", "II", "III", "IV"):
            section = row[0]
        if section == tt_section and row[0] == tt:
            row[column] = value
            return rows
    raise AssertionError("row not found")


def test_text_in_number_cell(tmp_path):
    error = _error(build_form(tmp_path / "f.xlsx", rows=_rows_with("II", 1, 3, "khoảng 20")))
    assert error.code == "VALUE_NOT_NUMBER"
    assert error.detail["value"] == "khoảng 20"
    assert "D11" in error.message_vi and "khoảng 20" in error.message_vi and "D11" in error.message_en


def test_negative_counts(tmp_path):
    error = _error(build_form(tmp_path / "a.xlsx", rows=_rows_with("II", 3, 5, -4)))   # a level (F)
    assert error.code == "NEGATIVE_COUNT" and "F13" in error.message_en
    error = _error(build_form(tmp_path / "b.xlsx", rows=_rows_with("III", 2, 3, "-1,5")))  # a flow (tonnes)
    assert error.code == "NEGATIVE_COUNT" and "D17" in error.message_en


def test_percent_out_of_range(tmp_path):
    error = _error(build_form(tmp_path / "a.xlsx", rows=_rows_with("II", 1, 6, "-5%")))
    assert error.code == "PERCENT_OUT_OF_RANGE" and "G11" in error.message_en
    error = _error(build_form(tmp_path / "b.xlsx", rows=_rows_with("II", 1, 4, "-150%")))
    assert error.code == "PERCENT_OUT_OF_RANGE"


def test_percent_formatted_cell_is_scaled(tmp_path):
    form = weekly_form.parse(build_form(tmp_path / "f.xlsx", percent_cells={"G11": 0.455}))
    assert form.rows[1].completion_pct == Decimal("45.5")


def test_section_numbers_with_dots_and_prefixes(tmp_path):
    rows = [list(r) for r in FORM_ROWS]
    rows[0][0] = "I."
    rows[2][0] = "1."
    rows[3][0] = "II.2"
    rows[4][0] = 3.0
    form = weekly_form.parse(build_form(tmp_path / "f.xlsx", rows=rows))
    assert [r.indicator_code for r in form.rows][:4] == ["ocop_listed", "hh_trained_digital",
                                                         "hh_trained_logistics", "hh_with_shop"]
    rows[3][0] = "III.2"                                  # a III number inside section II
    assert _error(build_form(tmp_path / "g.xlsx", rows=rows)).code == "UNKNOWN_INDICATOR_ROW"


def test_unknown_indicator_rows(tmp_path):
    rows = [list(r) for r in FORM_ROWS]
    rows.insert(6, [5, "Số hộ có chữ ký số", "Hộ", 1, None, 2, None, None])      # II.5 does not exist
    error = _error(build_form(tmp_path / "a.xlsx", rows=rows))
    assert error.code == "UNKNOWN_INDICATOR_ROW" and "A15" in error.message_en
    rows = [list(r) for r in FORM_ROWS] + [["V", "Chỉ tiêu khác", "Hộ", 1, None, 1, None, None]]
    assert _error(build_form(tmp_path / "b.xlsx", rows=rows)).code == "UNKNOWN_INDICATOR_ROW"
    rows = [row for row in FORM_ROWS if row[0] in ("II", "III", "IV")]   # section headers only: nothing reported
    assert _error(build_form(tmp_path / "c.xlsx", rows=rows)).code == "MISSING_INDICATOR_ROW"


# ------------------------------------------------------------------------------------- forms as people send them

def _tts(form) -> list[str]:
    return [f"{r.section}.{r.tt}" if r.section != "I" else "I" for r in form.rows]


def test_omitted_rows_are_not_reported_and_named_in_a_warning(tmp_path):
    rows = [list(r) for r in FORM_ROWS]
    del rows[3]                                           # II.2
    rows = [r for r in rows if r[0] != 5 or r[1].startswith("Số sản phẩm nông sản")]   # IV.5 (III.5 stays)
    form = weekly_form.parse(build_form(tmp_path / "f.xlsx", rows=rows))
    assert "II.2" not in _tts(form) and "IV.5" not in _tts(form) and len(form.rows) == 15
    [warning] = form.warnings
    assert warning["code"] == "FORM_ROWS_OMITTED" and warning["detail"]["count"] == 2
    assert [r["tt"] for r in warning["detail"]["rows"]] == ["II.2", "IV.5"]
    assert "II.2" in warning["message_vi"] and "IV.5" in warning["message_en"] and "không báo cáo" in warning["message_vi"]
    whole = weekly_form.parse(build_form(tmp_path / "g.xlsx", rows=[r for r in FORM_ROWS if r[0] != "IV"][:14]))
    assert [r["tt"] for r in whole.warnings[0]["detail"]["rows"]] == ["IV.1", "IV.2", "IV.3", "IV.4", "IV.5"]
    assert weekly_form.parse(build_form(tmp_path / "h.xlsx")).warnings == []


def test_blank_rows_and_repeated_headers_inside_the_table_are_skipped(tmp_path):
    rows = [list(r) for r in FORM_ROWS]
    rows.insert(6, [])                                    # before III
    rows.insert(7, list(HEADINGS))                        # the header again (a page break)
    rows.insert(16, [None] * 8)                           # before IV
    form = weekly_form.parse(build_form(tmp_path / "f.xlsx", rows=rows))
    plain = weekly_form.parse(build_form(tmp_path / "g.xlsx"))
    assert [(r.indicator_code, r.value_in_week, r.cumulative_value) for r in form.rows] == \
        [(r.indicator_code, r.value_in_week, r.cumulative_value) for r in plain.rows]
    assert len(form.rows) == len(EXPECTED_FORM) and form.warnings == []


def test_report_on_the_second_sheet_after_a_cover(tmp_path):
    from openpyxl import load_workbook

    path = build_form(tmp_path / "Bao cao tuan 47.xlsx")
    wb = load_workbook(path)
    cover = wb.create_sheet("Bìa", 0)
    cover["B2"] = "BÁO CÁO TUẦN 47/2024"
    wb.save(path)
    form = weekly_form.parse(path)
    assert (form.unit_code, form.week_key, len(form.rows)) == ("205", "2024-W47", 17)
    result = check_file(path)                             # no --source, no usual name: told from the content
    assert result.ok and result.source == "weekly_form"


def test_formulas_without_saved_value_are_computed_or_refused_naming_the_cell(tmp_path):
    from openpyxl import load_workbook

    path = build_form(tmp_path / "f.xlsx")
    wb = load_workbook(path)
    ws = wb.active
    ws["D18"] = "=D17+D19"                                # III.3 := III.2 (typed '1.234,5') + III.4 (0)
    ws["F18"] = "=SUM(F19:F20)"                           # III.4 + III.5: 4 + 7
    wb.save(path)
    form = weekly_form.parse(path)
    row = next(r for r in form.rows if r.row_number == 18)
    assert row.indicator_code == "products_branded"
    assert row.value_in_week == Decimal("1234.5") and row.cumulative_value == 11
    ws["D18"] = "=NOSUCHFUNCTION(D19)"
    wb.save(path)
    error = _error(path)
    assert error.code == "FORMULA_NOT_COMPUTED" and error.detail["where"] == "cell D18"
    assert "D18" in error.message_vi and "NOSUCHFUNCTION" in error.message_en


def _rewrite_sheet(path: Path, edit) -> None:
    """Rewrite the first worksheet's XML of an .xlsx with `edit(text) -> text`, as other writers save it."""
    parts = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            parts[name] = archive.read(name)
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = edit(parts[sheet].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_xlsx_formats_and_formulas_read_from_the_parts_as_openpyxl_reads_them(tmp_path):
    """xlsx_parts gives the number formats and formula texts openpyxl gives, for what Excel and
    LibreOffice write and openpyxl does not: a shared formula (anchor + followers), an array formula,
    cells and rows without their reference."""
    from openpyxl import Workbook, load_workbook
    from lensan.landing.parsers import xlsx_parts

    path = tmp_path / "w.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    ws["A1"], ws["B1"], ws["C1"] = 0.455, 1234.5, 7
    ws["A1"].number_format, ws["B1"].number_format = "0.0%", '#,##0.0" tấn"'
    ws["C1"].number_format = "dd/mm/yyyy"
    for r in range(2, 6):
        ws[f"A{r}"], ws[f"B{r}"] = r, r * 10
        ws[f"C{r}"] = f"=A{r}+B{r}"
    ws["D2"] = "=SUM(A2:A5)"
    wb.create_sheet("Phụ lục")["B3"] = "=1+1"
    wb.save(path)

    def shared_and_array(text: str) -> str:
        text = re.sub(r"<f>A2\+B2</f>", '<f t="shared" ref="C2:C5" si="0">A2+B2</f>', text)
        for r in (3, 4, 5):
            text = text.replace(f"<f>A{r}+B{r}</f>", '<f t="shared" si="0"/>')
        text = text.replace("<f>SUM(A2:A5)</f>", '<f t="array" ref="D2">SUM(A2:A5)</f>')
        # row 5 and its cells without their references: the next row, the next cells
        return re.sub(r'<row r="5"([^>]*)>(.*?)</row>',
                      lambda m: "<row" + m.group(1) + ">" + re.sub(r' r="[A-Z]+5"', "", m.group(2)) + "</row>",
                      text, flags=re.S)

    _rewrite_sheet(path, shared_and_array)
    ours = {name: {(r, c): (fmt, formula) for r, c, fmt, formula in cells if fmt != "General" or formula}
            for name, cells in xlsx_parts.read_structure(path, 100, 20).items()}
    theirs = {}
    book = load_workbook(path, read_only=True, data_only=False)
    for sheet in book.worksheets:
        cells = {(r, c): (getattr(cell, "number_format", None) or "General",
                          cell.value if isinstance(cell.value, str) and cell.value.startswith("=") else None)
                 for r, row in enumerate(sheet.iter_rows(max_row=100, max_col=20)) for c, cell in enumerate(row)}
        theirs[sheet.title] = {k: v for k, v in cells.items() if v != ("General", None)}
    book.close()
    # C5 follows the shared formula in a cell without its reference: openpyxl repeats the anchor's
    # text there (=A2+B2); the cell's place gives =A5+B5, what Excel computes
    assert theirs["Báo cáo"].pop((4, 2)) == ("General", "=A2+B2")
    assert ours["Báo cáo"].pop((4, 2)) == ("General", "=A5+B5")
    assert ours == theirs
    assert ours["Báo cáo"][(0, 0)] == ("0.0%", None) and ours["Báo cáo"][(0, 1)] == ('#,##0.0" tấn"', None)
    assert [ours["Báo cáo"][(r, 2)][1] for r in (1, 2, 3)] == ["=A2+B2", "=A3+B3", "=A4+B4"]
    assert (1, 3) not in ours["Báo cáo"]          # an array formula: no formula text, as openpyxl
    assert ours["Phụ lục"] == {(2, 1): ("General", "=1+1")}


def test_merged_number_cells_anchor_when_clear_else_refused_naming_the_range(tmp_path):
    from openpyxl import load_workbook

    path = build_form(tmp_path / "f.xlsx")
    wb = load_workbook(path)
    ws = wb.active
    ws.merge_cells("H18:H19")                             # notes merged: no number cell covered
    ws.merge_cells("D22:D22")
    wb.save(path)
    assert weekly_form.parse(path).rows[-1].cumulative_value == 1
    ws.merge_cells("D19:E19")                             # III.2's value over its growth cell: ambiguous
    wb.save(path)
    error = _error(path)
    assert error.code == "MERGED_NUMBER_CELLS" and error.detail["where"] == "range D19:E19"
    assert "D19:E19" in error.message_vi and "D19:E19" in error.message_en


def test_unreadable_and_unsafe_xlsx(tmp_path):
    bogus = tmp_path / "bao_cao_tuan_205_2024-W47.xlsx"
    bogus.write_text("TT;Chỉ tiêu\n", encoding="utf-8")
    assert _error(bogus).code == "UNREADABLE"
    # XML entity attack: a DOCTYPE in a workbook part
    good = build_form(tmp_path / "good.xlsx")
    evil = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(evil, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + data
            dst.writestr(item, data)
    error = _error(evil)
    assert error.code == "UNSAFE_FILE" and "DOCTYPE" in error.message_en
    # zip bomb: a huge, highly compressible entry
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/media/padding.bin", b"\0" * (20 * 1024 * 1024))
    assert _error(bomb).code == "UNSAFE_FILE"


def test_uncompressed_limit_is_configurable(tmp_path, monkeypatch):
    path = build_form(tmp_path / "f.xlsx")
    monkeypatch.setenv("LENSAN_MAX_XLSX_UNCOMPRESSED_MB", "0.001")
    assert _error(path).code == "UNSAFE_FILE"


def test_check_file_size_limits(tmp_path, monkeypatch):
    empty = tmp_path / "bao_cao_tuan_205_2024-W47.xlsx"
    empty.write_bytes(b"")
    assert check_file(empty).code == "EMPTY_FILE"
    path = build_form(tmp_path / "bao_cao_tuan_205_2024-W48.xlsx")
    monkeypatch.setenv("LENSAN_MAX_FILE_MB", "0.001")
    result = check_file(path)
    assert result.code == "FILE_TOO_LARGE" and not result.ok


def test_check_file_detects_source_and_reports(tmp_path):
    path = build_form(tmp_path / "bao_cao_tuan_205_2024-W47.xlsx")
    result = check_file(path)
    assert result.ok and result.source == "weekly_form" and result.code is None
    assert (result.unit_code, result.week_key, result.row_count) == ("205", "2024-W47", 17)
    odd = tmp_path / "report.xlsx"
    odd.write_bytes(path.read_bytes())
    result = check_file(odd)                           # told from the content: the name is only a hint
    assert result.ok and result.source == "weekly_form" and result.unit_code == "205"
    unknown = tmp_path / "report.txt"
    unknown.write_text("TT;Chỉ tiêu\n", encoding="utf-8")
    result = check_file(unknown)
    assert not result.ok and result.code == "UNKNOWN_SOURCE" and "report.txt" in result.message_vi
    given = check_file(odd, source="weekly_form")
    assert given.ok and given.unit_code == "205"
    assert check_file(odd, source="postmart").code == "UNKNOWN_SOURCE"
    misplaced = tmp_path / "danh_sach_ho_205_20241124.xlsx"
    misplaced.write_bytes(path.read_bytes())
    assert check_file(misplaced, source="weekly_form").code == "UNKNOWN_SOURCE"


# ------------------------------------------------------------------------------------- register

def test_register_csv_and_xlsx(tmp_path):
    hashes = lambda kind, value: f"{kind}:{value}" if value else None  # noqa: E731
    csv_reg = household_register.parse(build_register_csv(tmp_path / "danh_sach_ho_205_20241124.csv"),
                                       hasher=hashes)
    xlsx_reg = household_register.parse(build_register_xlsx(tmp_path / "danh_sach_ho_205_20241124.xlsx"),
                                        hasher=hashes)
    for reg in (csv_reg, xlsx_reg):
        assert (reg.unit_code, reg.map_version, reg.snapshot_date) == ("205", "pre2025", dt.date(2024, 11, 24))
        assert len(reg.rows) == 2
        first = dict(zip(("row_number",) + household_register.RAW_COLUMNS, reg.rows[0]))
        assert first["household_code"] == "HH205-00001" and first["commune_code"] == "07090"
        assert first["trained_digital_on"] == dt.date(2024, 11, 5) and first["trained_logistics_on"] is None
        assert first["head_name_hash"].startswith("name:") and first["phone_hash"].startswith("phone:")


def test_register_xlsx_cells_as_excel_stores_them(tmp_path):
    """Numbers typed into cells (phone, CCCD, commune code) read as the whole numbers they are, dates as
    dates, a blank row skipped, the first worksheet read even behind a chart sheet: the same register as
    the text cells give."""
    import openpyxl
    from openpyxl.chart import BarChart

    hashes = lambda kind, value: f"{kind}:{value}" if value else None  # noqa: E731
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([h for h, _ in household_register.COLUMNS])
    ws.append(["HH205-00001", "Nguyễn Văn A", 912345678, 1203004567, 7090, "Hộ SXNN", "Lúa",
               dt.datetime(2024, 11, 5), None, "Cơ bản"])
    ws.append([None] * 10)
    ws.append(["HH205-00002", "Trần Thị B", "0912 345 679", "001203004568", "07090", "HTX", "Chè",
               "05/11/2024", dt.date(2024, 11, 6), "Nâng cao"])
    chart = wb.create_chartsheet("Biểu đồ", 0)
    chart.add_chart(BarChart())
    path = tmp_path / "danh_sach_ho_205_20241124.xlsx"
    wb.save(path)
    reg = household_register.parse(path, hasher=hashes)
    rows = [dict(zip(("row_number",) + household_register.RAW_COLUMNS, row)) for row in reg.rows]
    assert [r["household_code"] for r in rows] == ["HH205-00001", "HH205-00002"]
    assert rows[0]["phone_hash"] == "phone:912345678" and rows[0]["citizen_id_hash"] == "citizen_id:1203004567"
    assert rows[0]["commune_code"] == rows[1]["commune_code"] == "07090"
    assert rows[0]["trained_digital_on"] == rows[1]["trained_digital_on"] == dt.date(2024, 11, 5)
    assert rows[1]["trained_logistics_on"] == dt.date(2024, 11, 6)


@pytest.mark.parametrize("mutate, code", [
    (lambda rows: rows[1].__setitem__(7, "31/02/2024"), "BAD_DATE"),
    (lambda rows: rows[1].__setitem__(0, "HH205-00001"), "DUPLICATE_HOUSEHOLD_CODE"),
    (lambda rows: rows[0].__setitem__(0, ""), "MISSING_VALUE"),
])
def test_register_errors(tmp_path, mutate, code):
    rows = register_rows()
    mutate(rows)
    path = build_register_csv(tmp_path / "danh_sach_ho_205_20241124.csv", rows=rows)
    with pytest.raises(LandingError) as info:
        household_register.parse(path)
    assert info.value.code == code


def test_register_name_is_authoritative(tmp_path):
    cases = {"danh_sach_ho_07090_20241124.csv": "WRONG_MAP_UNIT", "danh_sach_ho_205_20241332.csv": "BAD_DATE",
             "danh_sach_ho__20241124.csv": "MISSING_UNIT_CODE"}
    for name, code in cases.items():
        result = check_file(build_register_csv(tmp_path / name))
        assert result.code == code, (name, result)


# ------------------------------------------------------------------------------------- platforms

def test_describe_platform_names():
    extract = spec.describe("postmart_don_hang_20241118.csv")
    assert (extract.platform, extract.entity, extract.table) == ("postmart", "don_hang", "postmart_orders")
    assert extract.extract_date == dt.date(2024, 11, 18)
    extract = spec.describe("voso_info_posts_2024-11-18.jsonl.gz")
    assert (extract.entity, extract.table) == ("info_posts", "voso_info_posts")
    for bad in ("postmart_khach_hang_20241118.csv", "voso_orders_20241118.jsonl.gz", "postmart.csv",
                "voso_orders_2024-11-18.json"):
        with pytest.raises(LandingError) as info:
            spec.describe(bad)
        assert info.value.code in ("UNKNOWN_SOURCE", "BAD_DATE"), bad


def test_postmart_rows_and_validation(tmp_path):
    path = build_postmart_csv(tmp_path / "postmart_don_hang_20241118.csv", PM_ORDER_HEADINGS,
                              [pm_order(i) for i in range(5)])
    rows = list(reference.records(path, spec.describe(path.name), lambda k, v: "h"))
    assert len(rows) == 5 and rows[0][0] == "PMDH00000000" and rows[0][4] == "h" and rows[0][7] == "1,5"
    assert check_file(path).row_count == 5

    def code_for(row_change: dict[int, str], name="postmart_don_hang_20241118.csv") -> str | None:
        rows = [pm_order(i) for i in range(3)]
        for col, value in row_change.items():
            rows[2][col] = value
        return check_file(build_postmart_csv(tmp_path / name, PM_ORDER_HEADINGS, rows)).code

    assert code_for({1: "2024-11-18 10:00"}) == "BAD_DATE"
    assert code_for({7: "nặng"}) == "VALUE_NOT_NUMBER"
    assert code_for({6: "-2"}) == "NEGATIVE_COUNT"
    assert code_for({0: ""}) == "MISSING_VALUE"
    shop_headings = ["Mã gian hàng", "SĐT chủ gian hàng", "Mã hộ SXNN", "Mã xã", "Ngày tạo", "Ví VNPostPay",
                     "Trạng thái"]
    shop = ["PMGH205001", "0355 444 555", "", "07090", "18/11/2024 08:00:00", "Có", "Hoạt động"]
    assert check_file(build_postmart_csv(tmp_path / "postmart_gian_hang_20241118.csv", shop_headings,
                                         [shop])).ok
    shop[5] = "Yes"
    result = check_file(build_postmart_csv(tmp_path / "postmart_gian_hang_20241118.csv", shop_headings, [shop]))
    assert result.code == "BAD_BOOLEAN" and "Yes" in result.message_vi and "Ví VNPostPay" in result.message_en
    result = check_file(build_postmart_csv(tmp_path / "postmart_gian_hang_20241118.csv", shop_headings[:-1],
                                           [shop[:-1]]))
    assert result.code == "MISSING_COLUMN" and "Trạng thái" in result.message_en


def test_duplicate_order_ids_within_a_file(tmp_path):
    same = [pm_order(1), pm_order(1)]                      # exact repeat: harmless
    assert check_file(build_postmart_csv(tmp_path / "postmart_don_hang_20241118.csv", PM_ORDER_HEADINGS,
                                         same)).ok
    changed = [pm_order(1), pm_order(2), pm_order(1, status="Hoàn")]
    result = check_file(build_postmart_csv(tmp_path / "postmart_don_hang_20241118.csv", PM_ORDER_HEADINGS,
                                           changed))
    assert result.code == "DUPLICATE_ORDER_ID" and "PMDH00000001" in result.message_en
    assert result.detail["first_line"] == 2 and result.detail["line"] == 4
    records = [vs_order(1), vs_order(1, status="returned")]
    assert check_file(build_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", records)).code \
        == "DUPLICATE_ORDER_ID"


def test_voso_validation(tmp_path):
    def code_for(change: dict) -> str | None:
        record = vs_order(1) | change
        return check_file(build_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", [vs_order(2), record])).code

    assert code_for({}) is None
    assert code_for({"ordered_at": "18/11/2024"}) == "BAD_DATE"
    assert code_for({"weight_g": "nặng"}) == "VALUE_NOT_NUMBER"
    assert code_for({"amount_vnd": -5}) == "NEGATIVE_COUNT"
    assert code_for({"extra": 1}) == "UNEXPECTED_COLUMN"
    record = vs_order(1)
    del record["status"]
    assert check_file(build_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", [record])).code \
        == "MISSING_COLUMN"
    shop = {"shop_id": "VSSH1", "owner_phone": "0355444555", "household_code": None, "ward_code": "07090",
            "created_at": "2024-11-18T01:00:00Z", "has_ewallet": "yes", "status": "active"}
    assert check_file(build_voso_gz(tmp_path / "voso_shops_2024-11-18.jsonl.gz", [shop])).code == "BAD_BOOLEAN"


def test_gzip_problems(tmp_path):
    records = [vs_order(i) for i in range(300)]
    result = check_file(build_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", records, truncate=True))
    assert result.code == "TRUNCATED" and not result.ok
    plain = tmp_path / "voso_orders_2024-11-19.jsonl.gz"
    plain.write_text('{"order_id": "x"}\n')
    assert check_file(plain).code == "UNREADABLE"
    latin = tmp_path / "voso_orders_2024-11-20.jsonl.gz"
    latin.write_bytes(gzip.compress('{"order_id": "Hà"}\n'.encode("latin-1")))
    assert check_file(latin).code == "UNREADABLE"
    broken = tmp_path / "voso_orders_2024-11-21.jsonl.gz"
    broken.write_bytes(gzip.compress(b'{"order_id": \n'))
    assert check_file(broken).code == "UNREADABLE"


def _postmart_text(path, lines: list[str], end: str = "\r\n") -> Path:
    path.write_bytes(("\ufeff" + ";".join(PM_ORDER_HEADINGS) + end + end.join(lines)).encode("utf-8"))
    return path


def test_postmart_cut_off_rows_are_refused_with_their_line(tmp_path, small_chunks):
    good = [";".join(pm_order(i)) for i in range(20)]
    cut_mid_row = good[:15] + [good[15][:good[15].index("150000") + 3]]           # '...;150' then EOF
    path = _postmart_text(tmp_path / "postmart_don_hang_20241118.csv", cut_mid_row)
    code, detail = _same_as_reference(path)
    assert code == "TRUNCATED_ROW" and detail["where"] == "line 17"
    # cut inside a quoted field (a product name with ';' in it): the quote never closes
    quoted = [line.replace("PMSP20500101", '"SP; túi 5kg"') for line in good]
    path = _postmart_text(tmp_path / "postmart_don_hang_20241119.csv", quoted[:9] + [quoted[9][:quoted[9].index("túi")]])
    code, detail = _same_as_reference(path)
    assert code == "TRUNCATED_ROW" and detail["where"] == "line 11"
    # the quote opens in the last column: the record has every column, and still ends inside the quote
    last = good[:5] + [good[5].rsplit(";", 1)[0] + ';"18/11/2024 11:']
    code, detail = _same_as_reference(_postmart_text(tmp_path / "postmart_don_hang_20241120.csv", last))
    assert code == "TRUNCATED_ROW" and detail["where"] == "line 7"
    # the same rows with their line ends and no cut: accepted (a last line without its line end is whole)
    assert _same_as_reference(_postmart_text(tmp_path / "postmart_don_hang_20241121.csv", quoted))[0] == "ok"


def test_fast_copy_path_postmart_crlf_line_ends(tmp_path, small_chunks, monkeypatch):
    """Excel writes CSV with CRLF line ends: such lines are read as plain lines (polars drops the CR of a
    line end); a CR anywhere else, a blank CRLF line or a last line ending in a bare CR give the
    reference's rows or error."""
    lines = [";".join(pm_order(i)) for i in range(40)]
    path = tmp_path / "postmart_don_hang_20241118.csv"
    plain_blocks = []
    read_plain = fast._pm_plain_frame
    monkeypatch.setattr(fast, "_pm_plain_frame", lambda *a: plain_blocks.append(read_plain(*a)) or plain_blocks[-1])
    _postmart_text(path, lines)
    code, rows = _same_as_reference(path)
    assert code == "ok" and len(rows) == 40
    assert len(plain_blocks) > 1 and all(block is not None for block in plain_blocks)
    plain_count = len(plain_blocks)
    for variant in (lines[:9] + [""] + lines[9:],                                       # a blank line
                    lines[:12] + [lines[12].rsplit(";", 1)[0] + ";"] + lines[13:],       # last column blank
                    lines[:20] + [lines[20].replace(";VN;", ";V\rN;")] + lines[21:],    # a CR inside a value
                    lines[:20] + [lines[20] + "\r"] + lines[21:]):                      # CR CR LF
        _postmart_text(path, variant)
        _same_as_reference(path)
    _postmart_text(path, lines)
    path.write_bytes(path.read_bytes() + b"\r")                                         # a bare CR at the end
    plain_blocks.clear()
    assert _same_as_reference(path)[0] == "ok"
    assert len(plain_blocks) == plain_count and all(block is not None for block in plain_blocks)


def test_postmart_lines_of_separators_only_are_skipped(tmp_path, small_chunks):
    lines = [";".join(pm_order(i)) for i in range(30)]
    lines[3] = ";" * 12
    lines[11] = ";;;;;"
    lines[20] = " ; ;" + ";" * 10
    path = _postmart_text(tmp_path / "postmart_don_hang_20241118.csv", lines + [""])
    code, rows = _same_as_reference(path)
    assert code == "ok" and len(rows) == 27
    assert check_file(path).row_count == 27


def test_voso_timestamps_without_time_zone_are_refused(tmp_path, small_chunks):
    records = [vs_order(i) for i in range(40)]
    records[25] = records[25] | {"updated_at": "2024-11-18T04:00:00"}
    code, detail = _same_as_reference(build_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", records))
    assert code == "MISSING_TIME_ZONE" and detail["where"] == "line 26, column 'updated_at'"
    records[25] = vs_order(25) | {"ordered_at": "2024-11-18"}      # a date alone has no time zone either
    assert _same_as_reference(build_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", records))[0] \
        == "MISSING_TIME_ZONE"
    records[25] = vs_order(25) | {"ordered_at": "2024-11-18T10:15:00+07:00"}   # an offset fixes it
    assert _same_as_reference(build_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", records))[0] == "ok"


def test_voso_partial_last_line_is_refused_with_its_line(tmp_path, small_chunks):
    text = "".join(json.dumps(vs_order(i)) + "\n" for i in range(30))
    path = tmp_path / "voso_orders_2024-11-18.jsonl.gz"
    path.write_bytes(gzip.compress((text + json.dumps(vs_order(30))[:57]).encode("utf-8")))
    code, detail = _same_as_reference(path)
    assert code == "TRUNCATED_ROW" and detail["where"] == "line 31"
    path.write_bytes(gzip.compress((text + json.dumps(vs_order(30))).encode("utf-8")))   # whole, no line end
    assert _same_as_reference(path)[0] == "ok"
    result = check_file(build_voso_gz(path, [vs_order(i) for i in range(300)], truncate=True))
    assert result.code == "TRUNCATED" and result.detail["where"].startswith("line ")


def test_exact_duplicate_lines_are_counted_once(tmp_path, small_chunks):
    rows = [pm_order(i) for i in range(30)] + [pm_order(4), pm_order(17), pm_order(4)]
    path = build_postmart_csv(tmp_path / "postmart_don_hang_20241118.csv", PM_ORDER_HEADINGS, rows)
    assert _same_as_reference(path)[0] == "ok"              # both readers read every line ...
    extract = spec.describe(path.name)
    assert fast.count_rows_and_repeats(path, extract) == (30, 3)   # ... landing keeps each once
    result = check_file(path)
    assert result.ok and result.row_count == 30
    assert [w["code"] for w in result.warnings] == ["DUPLICATE_LINES"] and result.warnings[0]["detail"]["count"] == 3
    shops = tmp_path / "postmart_gian_hang_20241118.csv"
    shop_headings = [h for h, _, _ in spec.POSTMART["gian_hang"][1]]
    shop = ["PMGH1", "0355 444 555", "", "07090", "18/11/2024 08:00:00", "Có", "Hoạt động"]
    build_postmart_csv(shops, shop_headings, [shop, shop[:1] + ["0355 444 556"] + shop[2:], shop])
    assert fast.count_rows_and_repeats(shops, spec.describe(shops.name)) == (2, 1)


def test_future_extract(tmp_path):
    path = build_postmart_csv(tmp_path / "postmart_don_hang_20241118.csv", PM_ORDER_HEADINGS, [pm_order(1)],
                              mtime=dt.datetime(2024, 11, 17, 23, 0, tzinfo=LOCAL_TZ))
    assert check_file(path).code == "FUTURE_PERIOD"


@pytest.mark.parametrize("name, expected", [
    ("bao_cao_tuan_205_2024-W47.xlsx", "bao_cao_tuan_205_2024-W47.xlsx"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\win.ini", "win.ini"),
    ("Báo cáo tuần 47.xlsx", "B_o_c_o_tu_n_47.xlsx"),
    ("...hidden", "hidden"),
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_week_line_helper_is_consistent():
    assert week_line(2024, 47) == "Tuần 47/2024 (từ ngày 18/11/2024 đến ngày 24/11/2024)"


def test_check_file_changes_nothing(tmp_path, lensan_home):
    path = build_form(tmp_path / "bao_cao_tuan_205_2024-W47.xlsx")
    before = sorted(p for p in lensan_home.rglob("*") if "warehouse" not in p.parts)
    data = path.read_bytes()
    assert check_file(path).ok
    assert check_file(build_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", [vs_order(1)])).ok
    after = sorted(p for p in lensan_home.rglob("*") if "warehouse" not in p.parts)
    assert before == after and path.read_bytes() == data


# ------------------------------------------------------------------- fast COPY path == reference path

def _copy_rows(path, extract, hasher):
    """Rows of fast.copy_chunks, decoded from COPY text (null ''), in the order of records()."""
    unescape = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
    rows = []
    for n, data in fast.copy_chunks(path, extract, hasher, prefix="9\t2024-11-18"):
        lines = data.decode("utf-8").split("\n")
        assert lines.pop() == "" and len(lines) == n
        for line in lines:
            fields = line.split("\t")
            assert fields[:2] == ["9", "2024-11-18"] and len(fields) == len(extract.columns) + 3
            values = tuple(None if f == "" else re.sub(r"\\[\\tnr]", lambda m: unescape[m[0]], f)
                           for f in fields[2:-1])
            rows.append((int(fields[-1]), values))
    return rows


def _outcome(fn):
    try:
        return "ok", fn()
    except LandingError as exc:
        return exc.code, exc.detail


def _same_as_reference(path):
    from lensan.landing.pseudonymise import Pseudonymiser

    extract = spec.describe(path.name)
    expected = _outcome(lambda: list(enumerate(reference.records(path, extract, Pseudonymiser(b"k")), start=1)))
    got = _outcome(lambda: _copy_rows(path, extract, Pseudonymiser(b"k")))
    assert got == expected
    return expected


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(fast, "CHUNK_ROWS", 7)
    monkeypatch.setattr(fast, "PM_BLOCK_BYTES", 900)
    monkeypatch.setattr(fast, "VOSO_BLOCK_BYTES", 700)


def test_fast_copy_path_gives_the_reference_rows(tmp_path, small_chunks):
    rows = [pm_order(i, phone=["0912 345 678", "+84912345678", "", "  ", "84 9"][i % 5]) for i in range(60)]
    rows[3][11] = "  Hủy "                      # spaces to strip
    rows[5][7] = "1.234,5"                      # numbers people type
    rows[8][8] = "15%"
    rows[9][12] = ""                            # optional date left blank
    rows[12][10] = "V\\N\tx"                    # characters COPY must escape (quoted by the csv writer)
    rows[20][5] = 'SP "nhãn" đỏ'
    rows[30][3] = "a\nb"                        # a newline inside a quoted value
    plain = build_postmart_csv(tmp_path / "postmart_don_hang_20241118.csv", PM_ORDER_HEADINGS, rows)
    result = _same_as_reference(plain)
    assert result[0] == "ok" and len(result[1]) == 60
    # plain lines only (no quotes), LF line ends, blank and short lines, an odd value per column kind
    lines = [";".join(pm_order(i)) for i in range(50)]
    lines[4] = ""
    lines[10] = ";" * (len(PM_ORDER_HEADINGS) - 1)   # nothing but separators: skipped
    lines[17] = lines[17].replace("2;1,5", "2;0,5")
    lines[25] = "   "
    lines[30] = lines[30].replace("0912", "\x1c0912")            # whitespace only str.strip() knows
    lines[31] = "\u3000" + lines[31].replace(";VN;", ";V\\N\t;")  # a wide space, COPY escapes
    lines[32] = lines[32].replace("0912", "\u0660912")           # a non-ASCII digit in a phone
    text = "\ufeff" + ";".join(PM_ORDER_HEADINGS) + "\n" + "\n".join(lines) + "\n"
    lf = tmp_path / "postmart_don_hang_20241117.csv"
    lf.write_text(text, encoding="utf-8")
    assert _same_as_reference(lf)[0] == "ok"
    # a line cut short (even by only its optional last column) is refused, never padded
    lines[10] = ";".join(pm_order(10)[:-1])
    lf.write_text("\ufeff" + ";".join(PM_ORDER_HEADINGS) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert _same_as_reference(lf)[0] == "TRUNCATED_ROW"
    assert check_file(lf).detail["where"] == "line 12"
    shops = tmp_path / "postmart_gian_hang_20241118.csv"
    shop_headings = ["Mã gian hàng", "SĐT chủ gian hàng", "Mã hộ SXNN", "Mã xã", "Ngày tạo", "Ví VNPostPay",
                     "Trạng thái"]
    build_postmart_csv(shops, shop_headings, [[f"PMGH{i}", "0355 444 555", "", "07090", "18/11/2024 08:00:00",
                                               ["Có", "Không", "có", "KHÔNG"][i % 4], "Hoạt động"]
                                              for i in range(30)])
    assert _same_as_reference(shops)[0] == "ok"


def test_hex_digests_are_the_pseudonyms():
    from lensan.landing.pseudonymise import Pseudonymiser, normalise, pseudonymise

    phones = ["0912 345 678", "+84912345678", "0977000111"]
    assert Pseudonymiser(b"k").hex_digests("phone", [normalise("phone", p) for p in phones]) == \
        [pseudonymise("phone", p, key=b"k") for p in phones]


def test_whitespace_is_what_str_strip_removes():
    assert set(fast.WHITESPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}


def test_fast_copy_path_gives_the_reference_errors(tmp_path, small_chunks):
    for change, code in [({1: "31/02/2024 10:00:00"}, "BAD_DATE"), ({1: "18/11/2024 24:00:00"}, "BAD_DATE"),
                         ({6: "khoảng 2"}, "VALUE_NOT_NUMBER"), ({8: "-5"}, "NEGATIVE_COUNT"),
                         ({0: " "}, "MISSING_VALUE"), ({0: "PMDH00000003"}, "DUPLICATE_ORDER_ID")]:
        rows = [pm_order(i) for i in range(40)]
        for col, value in change.items():
            rows[33][col] = value
        path = build_postmart_csv(tmp_path / "postmart_don_hang_20241118.csv", PM_ORDER_HEADINGS, rows)
        assert _same_as_reference(path)[0] == code, change
    same = [pm_order(i) for i in range(30)] + [pm_order(2)]      # an identical repeat is harmless
    assert _same_as_reference(build_postmart_csv(tmp_path / "postmart_don_hang_20241118.csv", PM_ORDER_HEADINGS,
                                                 same))[0] == "ok"
    records = [vs_order(i) for i in range(40)]
    for change, code in [({"ordered_at": "2024-02-30T03:15:00Z"}, "BAD_DATE"), ({"quantity": -1}, "NEGATIVE_COUNT"),
                         ({"weight_g": "nặng"}, "VALUE_NOT_NUMBER"), ({"extra": 1}, "UNEXPECTED_COLUMN"),
                         ({"order_id": "VSDH00000002"}, "DUPLICATE_ORDER_ID"), ({"shop_id": ""}, "MISSING_VALUE")]:
        path = build_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", records[:30] + [records[30] | change]
                             + records[31:])
        assert _same_as_reference(path)[0] == code, change
    path = build_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", records, truncate=True)
    assert _same_as_reference(path)[0] == "TRUNCATED"


def test_order_ids_checked_once_at_the_end_of_the_file(tmp_path, small_chunks, monkeypatch):
    rows = [pm_order(i) for i in range(30)]
    path = build_postmart_csv(tmp_path / "postmart_don_hang_20241118.csv", PM_ORDER_HEADINGS, rows)
    extract = spec.describe(path.name)
    out = fast._Columns(extract, None, "")
    for frame in fast._postmart_frames(path, extract, out):
        out.emit(frame)
    assert len(out.key_hashes) > 1 and not out.may_repeat()
    out.emit(next(fast._postmart_frames(path, extract, out)))         # the first rows once more
    assert out.may_repeat()
    # two distinct ids with the same hash only make the reference path look at the file: same rows
    monkeypatch.setattr(fast._Columns, "may_repeat", lambda self: True)
    assert _same_as_reference(path)[0] == "ok"


def test_fast_copy_path_voso_unusual_values(tmp_path, small_chunks):
    records = [vs_order(i, phone=["0912 345 678", None, "", "+84 912 345 678"][i % 4]) for i in range(60)]
    records[3]["quantity"] = "1.234"             # numbers as text
    records[4]["weight_g"] = 1.5                 # a float
    records[5]["buyer_province_code"] = 1        # a number where text is expected
    records[6]["updated_at"] = None
    records[7]["updated_at"] = "2024-11-18T04:00:00+07:00"
    records[8]["product_id"] = "a\tb\\c\nd"
    records[9]["buyer_country"] = {"code": "VN"}
    records[10]["amount_vnd"] = None
    path = tmp_path / "voso_orders_2024-11-18.jsonl.gz"
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines.insert(20, "")
    lines.insert(40, "   ")
    path.write_bytes(gzip.compress(("\n".join(lines)).encode("utf-8")))   # no final newline
    result = _same_as_reference(path)
    assert result[0] == "ok" and len(result[1]) == 60
    shops = tmp_path / "voso_shops_2024-11-18.jsonl.gz"
    build_voso_gz(shops, [{"shop_id": f"VSSH{i}", "owner_phone": "0355444555", "household_code": None,
                           "ward_code": "07090", "created_at": "2024-11-18T01:00:00Z", "has_ewallet": i % 2 == 0,
                           "status": "active"} for i in range(25)])
    assert _same_as_reference(shops)[0] == "ok"


def _compact_voso_gz(path, lines: list[str]):
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    return path


def _compact(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def test_fast_copy_path_voso_compact_lines(tmp_path, small_chunks, monkeypatch):
    """Compact JSON Lines (as the platforms write them) are read by polars when it reads them exactly;
    every block it cannot vouch for goes to msgspec or the exact reader, with the reference's rows."""
    plain = []
    real_plain_frame = fast._vs_plain_frame
    monkeypatch.setattr(fast, "_vs_plain_frame",
                        lambda *a: plain.append(real_plain_frame(*a) is not None) or real_plain_frame(*a))
    records = [vs_order(i, phone=["0912 345 678", None, "", "+84 912 345 678"][i % 4]) for i in range(80)]
    lines = [_compact(r) for r in records]
    lines[3] = lines[3].replace('"status":"delivered"', '"status":"đã giao \\u00e9 \\/ \\"x\\""')  # escapes
    lines[9] = lines[9].replace('"VN"', '"V\\\\N\\tx"')                                          # COPY escapes
    lines[15] = lines[15][:-1] + ',"status":"returned"}'                 # a duplicate key: the last counts
    lines[22] = lines[22].replace('"quantity":1', '"quantity":"1.234"')  # a number as text
    lines[30] = lines[30].replace('"weight_g":1500', '"weight_g":9223372036854775808')  # beyond int64
    lines[38] = lines[38].replace('"amount_vnd":120000', '"amount_vnd":null')
    lines[46] = lines[46] + " "                                          # trailing space
    lines[54] = _compact({k: records[54][k] for k in reversed(records[54])})  # another key order
    lines[60] = lines[60] + "\r"                                         # a CRLF line end
    lines[70] = lines[70].replace(",", ", ")                             # spaced separators
    result = _same_as_reference(_compact_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", lines))
    assert result[0] == "ok" and len(result[1]) == 80
    assert True in plain and False in plain, plain
    # a file whose key order is not the spec's but is the same on every line still goes through polars
    plain.clear()
    reordered = [_compact({k: r[k] for k in sorted(r)}) for r in records]
    assert _same_as_reference(_compact_voso_gz(tmp_path / "voso_orders_2024-11-19.jsonl.gz", reordered))[0] == "ok"
    assert all(plain), plain
    shops = [{"shop_id": f"VSSH{i}", "owner_phone": "0355444555", "household_code": None, "ward_code": "07090",
              "created_at": "2024-11-18T01:00:00Z", "has_ewallet": [True, False, None][i % 3], "status": "active"}
             for i in range(25)]
    assert _same_as_reference(_compact_voso_gz(tmp_path / "voso_shops_2024-11-18.jsonl.gz",
                                               [_compact(s) for s in shops]))[0] == "ok"


@pytest.mark.parametrize("change, code", [
    (lambda line: line.replace('"quantity":1', '"quantity":-3'), "NEGATIVE_COUNT"),
    (lambda line: line.replace('"shop_id":"VSSH205001"', '"shop_id":null'), "MISSING_VALUE"),
    (lambda line: line.replace('"ordered_at":"2024-11-18T03:15:00Z"', '"ordered_at":null'), "MISSING_VALUE"),
    (lambda line: line.replace('"status":"delivered"', '"status":"de\x01livered"'), "UNREADABLE"),
    (lambda line: line.replace('"ordered_at":"2024-11-18', '"ordered_at":"2024-13-18'), "BAD_DATE"),
    (lambda line: line.replace(',"updated_at":"2024-11-18T04:00:00Z"', ""), "MISSING_COLUMN"),
])
def test_fast_copy_path_voso_compact_errors(tmp_path, small_chunks, change, code):
    lines = [_compact(vs_order(i)) for i in range(40)]
    lines[33] = change(lines[33])
    assert _same_as_reference(_compact_voso_gz(tmp_path / "voso_orders_2024-11-18.jsonl.gz", lines))[0] == code


def test_no_line_longer_is_the_longest_line():
    import random

    rng = random.Random(7)
    for _ in range(500):
        raw = b"\n".join(b"x" * rng.choice([0, 1, 3, 9, 10, 11, 20, 40]) for _ in range(rng.randint(1, 12)))
        limit = rng.randint(1, 25)
        longest = max(map(len, raw.split(b"\n")))
        if fast._no_line_longer(raw, limit):     # never wrong when it says so
            assert longest <= limit
        elif longest * 2 < limit:                     # and it says so for lines under half the limit
            raise AssertionError((raw, limit))
    assert fast._no_line_longer(b"a" * 4 + b"\n" + b"b" * 4, 10)
    assert not fast._no_line_longer(b"a" * 11, 10)


@pytest.mark.parametrize("key", [b"k", b"0" * 64, b"1" * 65, "khoá bí mật".encode("utf-8"), b"\xff\xfe"])
def test_hex_digest_expr_is_the_pseudonym(key):
    import polars as pl

    from lensan.landing.pseudonymise import Pseudonymiser, normalise, pseudonymise

    phones = ["0912 345 678", "+84912345678", "0977000111", "1"]
    hasher = Pseudonymiser(key)
    expr = hasher.hex_digest_expr("phone", pl.col("d"))
    if key == b"\xff\xfe":     # not text: no expression, the per-value path hashes
        assert expr is None
        return
    frame = pl.DataFrame({"d": [normalise("phone", p) for p in phones]})
    assert frame.select(expr).to_series().to_list() == [pseudonymise("phone", p, key=key) for p in phones]

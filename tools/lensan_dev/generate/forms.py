"""S1: the appendix-02 weekly form, its 17 indicator rows as a person types them, written as XLSX."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import zipfile
from functools import lru_cache
from xml.sax.saxutils import escape as xml_escape

from lensan import reference

from lensan.calendar import periods
from lensan.portal.form_template import (DEADLINE_NOTE, FORM_HEADINGS, SECTION_TITLES, TITLE,
                                         authority_line, week_line)
from lensan_dev.generate.encoding import FixedZip, xlsx_bytes
from lensan_dev.generate.lookups import countries, indicator_base_codes, targets, unit_bases
from lensan_dev.generate.planted import form_noise_pct
from lensan_dev.generate.population import Unit

# Labels as people actually type them (the Quảng Ninh appendix itself says "gần mark", "trên sán").
LABEL_VARIANTS = {
    "ocop_listed": ("Chỉ tiêu đưa sản phẩm OCOP tỉnh lên sàn TMĐT", "SP OCOP (từ 3 sao) đưa lên sàn TMĐT"),
    "hh_trained_digital": ("Số hộ được đào tạo, tập huấn về kỹ năng số và kỹ năng hoạt động trên không gian mạng",
                           "Số hộ được đào tạo…", "So ho SXNN duoc dao tao ky nang so"),
    "hh_trained_logistics": ("Số hộ SXNN được đào tạo đóng gói - kết nối - giao nhận",),
    "hh_with_shop": ("Số hộ SXNN có TK bán hàng/gian hàng trên sàn", "Hộ có gian hàng trên sàn"),
    "hh_with_epay": ("Số hộ có tài khoản thanh toán điện tử", "Số hộ SXNN có TK thanh toán điện tử"),
    "products_promoted": ("Số/loại SP được quảng bá, giới thiệu trên sàn",),
    "volume_sold_t": ("Sản lượng nông sản tiêu thụ qua sàn (tấn)", "Sản lượng tiêu thụ qua sàn"),
    "products_branded": ("Số sản phẩm nông nghiệp được gần mark thương hiệu trên sàn", "Số SP được gắn nhãn thương hiệu"),
    "hh_branded": ("Số hộ SXNN được gần mark thương hiệu trên sàn",),
    "traceable": ("Số sản phẩm nông sản và/hoặc hộ SXNN có công cụ truy xuất nguồn gốc trên sán",
                  "Số SP/hộ có truy xuất nguồn gốc"),
    "domestic_markets": ("Số thị trường trong nước đã tiêu thụ",),
    "foreign_markets": ("Số thị trường nước ngoài đã tiêu thụ",),
    "info_items": ("Số hạng mục thông tin được cung cấp qua sàn",),
    "info_update_days": ("Tần suất cập nhật thông tin",),
    "inputs_listed": ("Số hàng hóa, sản phẩm đầu vào được giới thiệu trên sàn",),
    "hh_bought_inputs": ("Số hộ SXNN đã đặt mua hàng hóa đầu vào qua sàn TMĐT",),
    "inputs_discounted": ("Số loại hàng hóa đầu vào có ưu đãi cho hộ SXNN",),
}
UNIT_VARIANTS = {"Tỉnh/TP": "tỉnh/thành phố", "Hộ": "hộ", "Tấn": "tấn", "Sản phẩm": "SP"}
CODE_LABELS = ("Mã đơn vị:", "Mã đơn vị:", "Mã đơn vị:", "MÃ ĐƠN VỊ:", "Ma don vi:")


def _vn_text(value: float | int, decimals: int) -> str:
    """A number as typed in Vietnamese: thousands dot, decimal comma (1.234 · 12,5 · 1.234,5)."""
    if isinstance(value, int) or decimals == 0:
        return f"{int(round(value)):,}".replace(",", ".")
    text = f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return text.rstrip("0").rstrip(",")


def _typed_number(rng: random.Random, value: float | int | None, decimals: int = 0):
    """A value as a person types it in Excel: mostly a number cell, sometimes text."""
    if value is None:
        return rng.choice(("-", None, "–")) if rng.random() < 0.8 else None
    value = int(round(value)) if decimals == 0 else round(float(value), decimals)
    return value if rng.random() < 0.78 else _vn_text(value, decimals)


def _typed_pct(rng: random.Random, value: float | None):
    if value is None:
        return None if rng.random() < 0.7 else "-"
    value = round(value, 1)
    r = rng.random()
    if r < 0.6:
        return int(value) if value == int(value) else value
    text = _vn_text(value, 1)
    return text + "%" if r < 0.9 else text


def _regions_note(rng: random.Random, map_version: str, codes: list[str]) -> str:
    provs = reference.provinces()
    by_region: dict[str, list[str]] = {"Miền Bắc": [], "Miền Trung": [], "Miền Nam": []}
    for code in codes:
        row = provs.get((map_version, code))
        if row:
            by_region.setdefault(row["region_name"], []).append(row["province_short_name"])
    if not codes:
        return ""
    if rng.random() < 0.6:
        return "; ".join(f"{region}: {', '.join(names)}" for region, names in by_region.items() if names)
    lines = ["Danh sách các tỉnh thành:"] + [f"- {region}: {', '.join(names)}" for region, names in by_region.items()]
    return "\n".join(lines)


def _countries_note(rng: random.Random, codes: list[str]) -> str:
    names = dict(countries())
    if not codes:
        return ""
    text = ", ".join(names[c] for c in codes)
    return f"Danh sách các quốc gia:\n{text}" if rng.random() < 0.3 else text


def form_rows(rng: random.Random, u: Unit, week: str, truth: dict, prev: dict | None, noise: float,
              exact: frozenset[str] = frozenset()) -> list[list]:
    """The 17 indicator rows (values + notes) as the unit types them.

    A share `noise` of the cells carries a typing error, never larger than `planted.form_noise_pct()`
    of the value (so it stays inside the reconciliation tolerance); the indicators in `exact` (planted
    divergences, already in `truth`) are typed as they are and always reported.
    """
    ws, we = periods.week_bounds(week)
    spread_pct = form_noise_pct() / 100
    ind = truth["indicators"]
    prev_ind = prev["indicators"] if prev else None
    rows = []
    for spec in reference.weekly_form_indicators():
        code = spec.code
        level = ind[code]
        typo = rng.random() < noise and code not in ("info_items", "info_update_days") and code not in exact
        if code == "volume_sold_t":
            week_val, cum = ind[code], ind["volume_sold_t_ytd"]
            if typo:
                factor = rng.uniform(1 - spread_pct, 1 + spread_pct)
                week_val, cum = round(week_val * factor, 6), round(cum * factor, 6)
            prev_week = prev_ind[code] if prev_ind else None
            growth = (week_val - prev_week) / prev_week * 100 if prev_week else None
            decimals = 6   # tonnes to the gram: a few kilograms sold must not round away
        elif code == "info_update_days":
            week_val, cum, growth, decimals = level, level, None, 0
        else:
            before = prev_ind[code] if prev_ind else None
            spread = int(level * spread_pct)   # small counts are typed right: one off would exceed it
            cum = level + rng.choice([d for d in range(-spread, spread + 1) if d]) if typo and spread else level
            if code.startswith("hh_"):   # a typo never claims more households than the unit has (its base)
                cum = min(cum, truth["households"])
            week_val = max(0, cum - before) if before is not None else None
            growth = (week_val / before * 100) if before and week_val is not None else None
            decimals = 0
        not_reported = rng.random() < noise * 0.4 and code not in exact
        completion = None
        basis, base_code = indicator_base_codes()[code]
        target = targets().get((u.map_version, u.province, code, we.year))
        if target and cum is not None:
            ttype, tval = target
            if ttype == "absolute" and tval:
                completion = cum / tval * 100
            elif ttype == "pct_of_base" and base_code == "agri_households":
                base = unit_bases().get((u.map_version, u.code, we.year, base_code))
                if base:
                    completion = cum / (tval / 100 * base) * 100
        notes = ""
        if code == "domestic_markets":
            notes = _regions_note(rng, u.map_version, truth["domestic_provinces"])
        elif code == "foreign_markets":
            notes = _countries_note(rng, truth["foreign_countries"])
        elif rng.random() < 0.02:
            notes = rng.choice(("Số liệu tạm tính", "Đang rà soát", "Theo thực tế"))
        label = spec.label_vi
        if rng.random() < 0.25:
            variants = LABEL_VARIANTS.get(code, ())
            label = rng.choice(variants) if variants and rng.random() < 0.8 else label[:45].rstrip(" ,") + "..."
        unit_label = UNIT_VARIANTS.get(spec.unit_vi, spec.unit_vi) if rng.random() < 0.15 else spec.unit_vi
        tt = spec.tt if spec.tt == "I" else int(spec.tt)
        if not_reported:
            d_cell, e_cell, f_cell, g_cell = rng.choice((("-", None, "-", None), (None, None, None, None)))
        else:
            d_cell = _typed_number(rng, week_val, decimals)
            e_cell = _typed_pct(rng, growth)
            f_cell = _typed_number(rng, cum, decimals)
            g_cell = _typed_pct(rng, completion)
        rows.append([spec.section, tt, label, unit_label, d_cell, e_cell, f_cell, g_cell, notes or None])
    return rows


@lru_cache
def _form_package() -> tuple[tuple[tuple[str, bytes], ...], dict[str, int]]:
    """The fixed parts of a weekly-form workbook and its style ids, made once with openpyxl.

    Writing hundreds of small workbooks through openpyxl costs ~10 ms each; only the worksheet
    differs between forms, so it is serialised directly (same XML openpyxl writes: inline strings).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    sh = wb.active
    sh.title = "Báo cáo tuần"
    styles = {"bold": Font(bold=True), "title": Font(bold=True, size=14)}
    sh["A1"], sh["A2"], sh["A3"], sh["A4"] = "bold", "title", "heading", "wrap"
    sh["A1"].font = styles["bold"]
    sh["A2"].font = styles["title"]
    sh["A3"].font = styles["bold"]
    sh["A3"].alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    sh["A4"].alignment = Alignment(wrap_text=True)
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(wb))) as zf:
        parts = tuple((name, zf.read(name)) for name in zf.namelist())
    sheet = dict(parts)["xl/worksheets/sheet1.xml"].decode("utf-8")
    ids = {}
    for row, name in ((1, "bold"), (2, "title"), (3, "heading"), (4, "wrap")):
        match = re.search(rf'<c r="A{row}" s="(\d+)"', sheet)
        ids[name] = int(match[1]) if match else 0
    return parts, ids


_COLS = " ABCDEFGH"
_COL_WIDTHS = (6, 60, 12, 16, 14, 16, 16, 40)


def _sheet_xml(cells: dict[tuple[int, int], tuple[object, str | None]], merges: list[str]) -> bytes:
    _, style_ids = _form_package()
    last_row = max(r for r, _ in cells)
    out = ['<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetPr>'
           '<outlinePr summaryBelow="1" summaryRight="1" /><pageSetUpPr /></sheetPr>',
           f'<dimension ref="A1:H{last_row}" />',
           '<sheetViews><sheetView workbookViewId="0"><selection activeCell="A1" sqref="A1" /></sheetView>'
           '</sheetViews><sheetFormatPr baseColWidth="8" defaultRowHeight="15" /><cols>']
    out += [f'<col width="{w}" customWidth="1" min="{i}" max="{i}" />' for i, w in enumerate(_COL_WIDTHS, start=1)]
    out.append("</cols><sheetData>")
    for r in sorted({r for r, _ in cells}):
        out.append(f'<row r="{r}">')
        for c in sorted(c for rr, c in cells if rr == r):
            value, style = cells[(r, c)]
            ref = f"{_COLS[c]}{r}"
            s_attr = f' s="{style_ids[style]}"' if style else ""
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                text = xml_escape(str(value))
                space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
                out.append(f'<c r="{ref}"{s_attr} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            else:
                out.append(f'<c r="{ref}"{s_attr} t="n"><v>{value!r}</v></c>')
        out.append("</row>")
    out.append("</sheetData>")
    if merges:
        out.append(f'<mergeCells count="{len(merges)}">')
        out += [f'<mergeCell ref="{m}" />' for m in merges]
        out.append("</mergeCells>")
    out.append('<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5" /></worksheet>')
    return "".join(out).encode("utf-8")


def form_workbook(rng: random.Random, u: Unit, week: str, reporter: tuple[str, str], rows: list[list]) -> bytes:
    ws_start, ws_end = periods.week_bounds(week)
    year, wk = week.split("-W")
    cells: dict[tuple[int, int], tuple[object, str | None]] = {}
    merges: list[str] = []
    r = 1

    def header(text: str, style: str | None = None):
        nonlocal r
        cells[(r, 1)] = (text, style)
        merges.append(f"A{r}:H{r}")
        r += 1

    header(authority_line(u.name), "bold")
    label = rng.choice(CODE_LABELS)
    style = rng.random()
    if style < 0.6:
        header(f"{label} {u.code}")
    else:   # label in A, code in B — sometimes typed as a number, losing its leading zeros
        cells[(r, 1)] = (label, None)
        cells[(r, 2)] = (int(u.code) if style < 0.8 else u.code, None)
        r += 1
    header(TITLE, "title")
    if rng.random() < 0.2:
        header(DEADLINE_NOTE)
    header(week_line(week))
    header(f"Người báo cáo: {reporter[0]}")
    header(f"Số điện thoại: {reporter[1]}")
    r += 1
    for c, heading in enumerate(FORM_HEADINGS, start=1):
        cells[(r, c)] = (heading, "heading")
    r += 1
    current_section = None
    for section, tt, label, unit_label, d, e, f, g, notes in rows:
        if section != current_section and section != "I":
            cells[(r, 1)] = (section, None)
            cells[(r, 2)] = (SECTION_TITLES[section], "bold")
            merges.append(f"B{r}:H{r}")
            r += 1
        current_section = section
        for c, value in enumerate((tt, label, unit_label, d, e, f, g, notes), start=1):
            if value is not None and value != "":
                cells[(r, c)] = (value, "wrap" if c == 8 else None)
        r += 1
    r += 1
    cells[(r, 6)] = (f"Ngày {ws_end + dt.timedelta(days=3):%d} tháng {ws_end.month} năm {ws_end.year}", None)
    cells[(r + 1, 6)] = ("NGƯỜI BÁO CÁO", "bold")
    parts, _ = _form_package()
    buf = io.BytesIO()
    with FixedZip(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            zf.writestr(name, _sheet_xml(cells, merges) if name == "xl/worksheets/sheet1.xml" else data)
    return buf.getvalue()

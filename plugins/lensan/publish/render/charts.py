"""Charts for the published reports: the `Biểu đồ` worksheet (native openpyxl bar charts) and inline SVG
bar charts for the one-page HTML summary.

Both read the already cleaned report rows (lensan.publish.rows.clean_row: dicts with indicator_code, section, tt,
target_value, target_attainment_pct …) and, for national/region workbooks, the attainment of the
headline indicators per province (`ProvinceValues`). Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from lensan.publish.render.formatting import fixed_number, optional_float
from lensan.publish.template import SECTION_NUMERALS

SHEET_TITLE = "Biểu đồ"
# indicators shown per province (national and region workbooks, HTML summary)
HEADLINE_INDICATORS = ("hh_trained_digital", "hh_with_shop", "volume_sold_t")

# short Vietnamese labels for chart axes (the full template wording stays in the report sheet)
SHORT_LABELS = {
    "ocop_listed": "Sản phẩm OCOP lên sàn",
    "hh_trained_digital": "Hộ được tập huấn kỹ năng số",
    "hh_trained_logistics": "Hộ được tập huấn đóng gói - giao nhận",
    "hh_with_shop": "Hộ có gian hàng trên sàn",
    "hh_with_epay": "Hộ có tài khoản thanh toán điện tử",
    "products_promoted": "Sản phẩm được quảng bá",
    "volume_sold_t": "Sản lượng tiêu thụ qua sàn",
    "products_branded": "Sản phẩm gắn thương hiệu",
    "hh_branded": "Hộ gắn thương hiệu",
    "traceable": "Có truy xuất nguồn gốc",
    "domestic_markets": "Thị trường trong nước",
    "foreign_markets": "Thị trường nước ngoài",
    "info_items": "Hạng mục thông tin",
    "info_update_days": "Tần suất cập nhật thông tin",
    "inputs_listed": "Hàng hoá đầu vào trên sàn",
    "hh_bought_inputs": "Hộ mua đầu vào qua sàn",
    "inputs_discounted": "Đầu vào có ưu đãi",
    "active_accounts": "Tài khoản hoạt động",
    "hh_digitized": "Hộ được số hoá thông tin",
    "hh_conversion_rate": "Tỷ lệ chuyển đổi hộ",
    "orders": "Số đơn hàng",
    "gmv_vnd": "Doanh số giao dịch",
    "orders_per_hh_month": "Đơn hàng/hộ/tháng",
    "trained_to_order_rate": "Tỷ lệ hộ đào tạo có đơn",
}
ATTAINMENT_AXIS = "Tỉ lệ hoàn thành chỉ tiêu năm (%)"


@dataclass
class ProvinceValues:
    """Attainment (%) of the headline indicators of one province, for the per-province charts."""
    code: str
    name: str
    region_code: str | None
    attainment: dict[str, float | None] = field(default_factory=dict)   # indicator_code → %


def row_tt(row: dict) -> str:
    """'II.3', 'I', 'V.2' — the template numbering of a row, for chart categories."""
    section, tt = row.get("section"), row.get("tt")
    numeral = SECTION_NUMERALS.get(section or "", section or "")
    if not tt or tt == section:
        return numeral
    return f"{numeral}.{tt}"


def short_label(row: dict) -> str:
    code = row.get("indicator_code") or ""
    return SHORT_LABELS.get(code) or (row.get("indicator_label_vi") or code)


def attainment_items(rows: list[dict]) -> list[tuple[str, str, float | None]]:
    """(indicator_code, category label, attainment %) for every row that has a target."""
    return [(r["indicator_code"], f"{row_tt(r)} {short_label(r)}", optional_float(r.get("target_attainment_pct")))
            for r in rows if r.get("target_value") is not None]


def _cache(ws, chart) -> None:
    """Text categories as strRef, and cached labels/values in every series, so viewers that do not
    recalculate (mail previews, some mobile apps) still draw the chart."""
    from openpyxl.chart.data_source import (AxDataSource, NumData, NumRef, NumVal, StrData, StrRef, StrVal)
    from openpyxl.utils.cell import range_boundaries

    def cells(ref: str):
        sheet, _, area = ref.rpartition("!")
        min_col, min_row, max_col, max_row = range_boundaries(area.replace("$", ""))
        return [ws.cell(row=r, column=c).value for r in range(min_row, max_row + 1)
                for c in range(min_col, max_col + 1)]

    for series in chart.series:
        if series.cat is not None:
            ref = series.cat.numRef.f if series.cat.numRef is not None else series.cat.strRef.f
            labels = cells(ref)
            series.cat = AxDataSource(strRef=StrRef(f=ref, strCache=StrData(
                ptCount=len(labels), pt=[StrVal(idx=i, v=str(v)) for i, v in enumerate(labels) if v is not None])))
        values = cells(series.val.numRef.f)
        series.val.numRef = NumRef(f=series.val.numRef.f, numCache=NumData(
            formatCode="General", ptCount=len(values),
            pt=[NumVal(idx=i, v=float(v)) for i, v in enumerate(values) if v is not None]))
        if series.tx is not None and series.tx.strRef is not None:
            name = cells(series.tx.strRef.f)
            series.tx.strRef.strCache = StrData(ptCount=1, pt=[StrVal(idx=0, v=str(name[0]))])


def _title(text: str, size_pt: int = 12):
    """A chart title in a readable size (the default is 18 pt and wraps)."""
    from openpyxl.chart.text import RichText, Text
    from openpyxl.chart.title import Title
    from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun

    props = CharacterProperties(sz=size_pt * 100, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=props), r=[RegularTextRun(rPr=props, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


# ------------------------------------------------------------------------------------------------
# XLSX


def add_chart_sheet(wb, *, rows: list[dict], scope_name: str, period_label: str,
                    provinces: list[ProvinceValues] | None = None, hidden_provinces: list[str] | None = None,
                    font_name: str = "Times New Roman"):
    """Append the `Biểu đồ` worksheet: attainment per indicator of the scope, and — when `provinces`
    is given (national / region workbooks) — attainment of the headline indicators per province.

    Every chart reads a data table on the same sheet (so the numbers stay visible and the chart
    survives any spreadsheet program). Returns the worksheet."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.label import DataLabelList
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.pagebreak import Break
    from openpyxl.worksheet.properties import PageSetupProperties

    ws = wb.create_sheet(SHEET_TITLE)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="D9E1F2")
    bold = Font(name=font_name, size=11, bold=True)
    body = Font(name=font_name, size=10)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def text(row, col, value, font=body, align=None, fill=None, boxed=True):
        cell = ws.cell(row=row, column=col, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        cell.font = font
        cell.alignment = align or Alignment(vertical="center", wrap_text=True)
        if boxed:
            cell.border = border
        if fill:
            cell.fill = fill
        return cell

    # columns: A–C the data table of chart 1 (chart 1 floats to its right, from E), A–E the province table
    # widths in characters (≈ 0.2 cm in Excel): A–C the table of chart 1 (≈ 9.5 cm) with chart 1 to its
    # right from D (16.5 cm); A–E the province table under the province chart; A–L ≈ one A4 landscape line
    for col, width in zip("ABCDEFGHIJKL", (7, 30, 11, 11, 11) + (10,) * 7):
        ws.column_dimensions[col].width = width
    ws.merge_cells("A1:L1")
    text(1, 1, f"BIỂU ĐỒ TỈ LỆ HOÀN THÀNH CHỈ TIÊU — {scope_name}", Font(name=font_name, size=14, bold=True),
         center, boxed=False)
    ws.merge_cells("A2:L2")
    text(2, 1, period_label, Font(name=font_name, size=11, italic=True), center, boxed=False)
    ws.row_dimensions[1].height = 22

    def axes(chart, title):
        chart.title = _title(title)
        chart.style = 10
        chart.y_axis.title = ATTAINMENT_AXIS
        chart.y_axis.scaling.min = 0
        chart.y_axis.number_format = "General"
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        return chart

    def labels_values_only():
        labels = DataLabelList()
        labels.showVal = True
        labels.showCatName = labels.showSerName = labels.showLegendKey = labels.showPercent = False
        labels.numFmt = "#,##0.0"
        return labels

    # 1. attainment per indicator of this scope: horizontal bars, table on the left ------------
    items = attainment_items(rows)
    head = 4
    text(head, 1, "TT", bold, center, head_fill)
    text(head, 2, "Chỉ tiêu", bold, center, head_fill)
    text(head, 3, "Tỉ lệ hoàn thành (%)", bold, center, head_fill)
    ws.row_dimensions[head].height = 30
    for i, (code, label, value) in enumerate(items, start=1):
        tt, _, short = label.partition(" ")
        text(head + i, 1, tt, body, center)
        text(head + i, 2, short)
        cell = text(head + i, 3, value, body, Alignment(horizontal="right", vertical="center"))
        cell.number_format = "#,##0.0"
        ws.row_dimensions[head + i].height = 18
    if items:
        chart = axes(BarChart(), f"Tỉ lệ hoàn thành chỉ tiêu năm (%) — {scope_name}")
        chart.type = "bar"                                # horizontal: long Vietnamese labels stay readable
        chart.grouping = "clustered"
        chart.x_axis.scaling.orientation = "maxMin"       # first indicator of the table at the top …
        chart.y_axis.crosses = "max"                      # … and the % axis still at the bottom
        chart.width = 16.5
        chart.height = max(8.0, 3.0 + 0.62 * len(items))
        chart.gapWidth = 50
        data = Reference(ws, min_col=3, min_row=head, max_row=head + len(items))
        cats = Reference(ws, min_col=2, min_row=head + 1, max_row=head + len(items))
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        _cache(ws, chart)
        chart.legend = None
        chart.dataLabels = labels_values_only()
        ws.add_chart(chart, f"D{head}")
        chart_rows = int(chart.height / 0.64) + 1   # rows of 18 pt ≈ 0.64 cm
    else:
        text(head + 1, 1, "Không có chỉ tiêu nào có mục tiêu năm cho phạm vi này.", body, boxed=False)
        chart_rows = 2
    r = head + max(len(items) + 1, chart_rows) + 1

    # 2. headline indicators per province: clustered columns, one series per indicator ----------
    if provinces is not None:
        ws.row_breaks.append(Break(id=r - 1))
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=12)
        text(r, 1, "TỈ LỆ HOÀN THÀNH CHỈ TIÊU NĂM THEO TỈNH/THÀNH PHỐ (CÁC CHỈ TIÊU CHÍNH)",
             Font(name=font_name, size=12, bold=True), center, boxed=False)
        r += 1
        anchor = r
        chart_rows = 0
        if provinces:
            chart_rows = 30                                   # 15 cm at the default 15 pt rows
            r = anchor + chart_rows + 1
        table_row = r
        text(table_row, 1, "Mã", bold, center, head_fill)
        text(table_row, 2, "Tỉnh/thành phố", bold, center, head_fill)
        for j, code in enumerate(HEADLINE_INDICATORS):
            text(table_row, 3 + j, SHORT_LABELS[code] + " (%)", bold, center, head_fill)
        ws.row_dimensions[table_row].height = 45
        for i, prov in enumerate(provinces, start=1):
            text(table_row + i, 1, prov.code, body, center)
            text(table_row + i, 2, prov.name)
            for j, code in enumerate(HEADLINE_INDICATORS):
                cell = text(table_row + i, 3 + j, optional_float(prov.attainment.get(code)), body,
                            Alignment(horizontal="right", vertical="center"))
                cell.number_format = "#,##0.0"
        if provinces:
            chart2 = axes(BarChart(), "Tỉ lệ hoàn thành chỉ tiêu năm theo tỉnh/thành phố (%)")
            chart2.type = "col"
            chart2.grouping = "clustered"
            chart2.width = 30.0
            chart2.height = 15.0
            chart2.gapWidth = 60
            data = Reference(ws, min_col=3, max_col=2 + len(HEADLINE_INDICATORS), min_row=table_row,
                             max_row=table_row + len(provinces))
            cats = Reference(ws, min_col=2, min_row=table_row + 1, max_row=table_row + len(provinces))
            chart2.add_data(data, titles_from_data=True)
            chart2.set_categories(cats)
            _cache(ws, chart2)
            chart2.x_axis.title = "Tỉnh/thành phố"
            chart2.legend.position = "b"
            if len(provinces) <= 8:
                chart2.dataLabels = labels_values_only()
            ws.add_chart(chart2, f"A{anchor}")
        else:
            text(anchor, 1, "Không có số liệu tỉnh/thành phố để hiển thị.", body, boxed=False)
        r = table_row + len(provinces) + 2
        if hidden_provinces:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=12)
            text(r, 1, "Không hiển thị (báo cáo bị chặn do lỗi chất lượng dữ liệu): " + ", ".join(hidden_provinces),
                 Font(name=font_name, size=10, italic=True), boxed=False)
            r += 1

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    return ws


# ------------------------------------------------------------------------------------------------
# SVG (HTML summary)


def _tick_step(scale_max: float) -> int:
    for step in (25, 50, 100, 250, 500, 1000, 2500, 5000, 10000):
        if scale_max / step <= 8:
            return step
    return int(scale_max // 8) or 1


def svg_bar_chart(items: list[tuple[str, float | None]], *, title: str, width: int = 720,
                  bar_height: int = 18, label_width: int = 280, color: str = "#2f6fb0") -> str:
    """A horizontal bar chart of percentages as inline SVG (no script, no external resource).

    `items` are (label, value %); None is drawn as "chưa có số liệu". A dashed red line marks 100 %;
    bars at or above 100 % are green. Styling is in presentation attributes, so the chart looks the
    same without the page's CSS (mail clients strip <style>).
    """
    gap = 6
    top = 28
    plot_w = width - label_width - 70
    values = [v for _, v in items if v is not None]
    step = _tick_step(max([100.0] + values))
    scale_max = float(step * -(-max([100.0] + values) // step))   # round up to a whole step
    height = top + len(items) * (bar_height + gap) + 26
    font = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"'
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" {font} font-size="11" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>',
           f'<text x="0" y="16" font-size="12" font-weight="bold" class="ct">{escape(title)}</text>']
    x0 = label_width

    def x_of(value: float) -> float:
        return x0 + plot_w * value / scale_max

    for tick in range(0, int(scale_max) + 1, step):
        x = x_of(tick)
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 22}" stroke="#dddddd" class="grid"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="10" fill="#555555" '
                   f'class="tick">{fixed_number(tick, 0)}%</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_height + gap)
        out.append(f'<text x="{x0 - 6}" y="{y + bar_height - 5}" text-anchor="end" class="lbl">{escape(label)}</text>')
        if value is None:
            out.append(f'<text x="{x0 + 4}" y="{y + bar_height - 5}" fill="#888888" font-style="italic" '
                       f'class="na">chưa có số liệu</text>')
            continue
        w = max(0.0, x_of(max(value, 0.0)) - x0)
        fill = color if value < 100 else "#2e8b57"
        out.append(f'<rect x="{x0}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{fill}"/>')
        out.append(f'<text x="{x0 + w + 4:.1f}" y="{y + bar_height - 5}" class="val">{fixed_number(value, 1)}%</text>')
    x100 = x_of(100)
    out.append(f'<line x1="{x100:.1f}" y1="{top - 6}" x2="{x100:.1f}" y2="{height - 22}" stroke="#cc0000" '
               f'stroke-dasharray="4 3" class="target"/>')
    out.append("</svg>")
    return "\n".join(out)

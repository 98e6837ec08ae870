"""The one-page HTML summary of a published period (exports/<type>/<key>/tom_tat_<key>.html).

Self-contained: inline CSS and inline SVG charts (lensan.publish.render.charts.svg_bar_chart), no script, no external
resource, so it opens offline and can be attached to an e-mail. Written by lensan.publish.service on every
run (render_period_summary); it always describes the latest revision of every scope and links to its files.
"""

from __future__ import annotations

import datetime as dt
import os
from html import escape
from pathlib import Path

from lensan import settings
from lensan.publish.render import charts
from lensan.publish.render.formatting import fixed_number, optional_float
from lensan.publish.rows import clean_rows
from lensan.publish.template import (ATTAINMENT_FLAGS, ATTAINMENT_LEGEND, GATE_NOT_RUN_VI, GATE_VI, PLATFORM_NOTE,
                                     SCOPE_LEVEL_VI, Period, issuing_body, scope_sort_key)
from lensan.settings import NATION_CODE

# rows of the national table (in template order, when present)
TABLE_INDICATORS = ("ocop_listed", "hh_trained_digital", "hh_trained_logistics", "hh_with_shop", "hh_with_epay",
                    "volume_sold_t", "domestic_markets", "foreign_markets", "orders", "gmv_vnd",
                    "active_accounts", "hh_digitized")

CSS = """
@page { size: A4 landscape; margin: 10mm; }
body { font-family: "Times New Roman", "DejaVu Serif", serif; font-size: 12px; color: #111; margin: 16px; }
h1 { font-size: 18px; text-align: center; margin: 2px 0; }
h2 { font-size: 14px; margin: 14px 0 4px; border-bottom: 1px solid #999; }
.org { text-align: center; font-weight: bold; font-size: 13px; }
.sub { text-align: center; font-style: italic; margin-bottom: 6px; }
table { border-collapse: collapse; width: 100%; margin: 4px 0; }
th, td { border: 1px solid #666; padding: 2px 5px; vertical-align: top; }
th { background: #d9e1f2; }
td.n { text-align: right; white-space: nowrap; }
td.c { text-align: center; }
.blocked { color: #a00; }
.grid-2 { display: flex; flex-wrap: wrap; gap: 12px; }
svg.chart { display: block; margin: 4px 0; }
.note { font-size: 11px; font-style: italic; color: #333; }
"""


def render_summary(*, title: str, period_label: str, value_heading: str, generated_at: dt.datetime,
                   gate_status: str | None, nation_rows: list[dict] | None, value_field: str,
                   provinces: list[charts.ProvinceValues], completeness: dict[str, dict],
                   scope_names: dict[str, str], links: list[dict], blocked: dict[str, str], note: str) -> str:
    local = generated_at.astimezone(settings.LOCAL_TZ)
    out = ['<!DOCTYPE html>', '<html lang="vi">', '<head>', '<meta charset="utf-8">',
           f'<title>Tóm tắt {escape(title.lower())} — {escape(period_label)}</title>',
           f'<style>{CSS}</style>', '</head>', '<body>',
           f'<div class="org">{escape(issuing_body("nation", NATION_CODE, local.date())).replace(chr(10), "<br>")}</div>',
           f'<h1>TÓM TẮT {escape(title)}</h1>',
           f'<div class="sub">{escape(period_label)} — Chương trình 1034 (hộ SXNN trên sàn postmart.vn, voso.vn)</div>',
           f'<div class="sub">Lập tự động lúc {local:%H:%M ngày %d/%m/%Y} (giờ Việt Nam); kiểm tra chất lượng '
           f'dữ liệu: {escape(GATE_VI.get(gate_status or "", GATE_NOT_RUN_VI))}.</div>']

    # 1. national headline table ---------------------------------------------------------------
    out.append('<h2>1. Các chỉ tiêu chính — Toàn quốc</h2>')
    if nation_rows is None:
        reason = blocked.get(f"nation-{NATION_CODE}")
        out.append('<p class="blocked">Báo cáo toàn quốc chưa được công bố'
                   + (f' (bị chặn: {escape(reason)})' if reason else '') + '.</p>')
    else:
        out.append('<table><thead><tr><th>TT</th><th>Chỉ tiêu</th><th>Đơn vị tính</th>'
                   f'<th>{escape(value_heading)}</th><th>Tăng trưởng so với kỳ trước (%)</th>'
                   '<th>Lũy kế (Số lượng)</th><th>Chỉ tiêu năm</th><th>Tỉ lệ hoàn thành (%)</th></tr></thead><tbody>')
        for row in nation_rows:   # template order
            if row.get("indicator_code") not in TABLE_INDICATORS:
                continue
            out.append(
                f'<tr><td class="c">{escape(charts.row_tt(row))}</td>'
                f'<td>{escape(row.get("indicator_label_vi") or "")}</td>'
                f'<td class="c">{escape(row.get("unit_vi") or "")}</td>'
                f'<td class="n">{fixed_number(row.get(value_field))}</td>'
                f'<td class="n">{fixed_number(row.get("growth_pct"), 1)}</td>'
                f'<td class="n">{fixed_number(row.get("cumulative_value"))}</td>'
                f'<td class="n">{fixed_number(row.get("target_value"))}</td>'
                f'<td class="n">{fixed_number(row.get("target_attainment_pct"), 1)}{_flag_marker(row)}</td></tr>')
        out.append('</tbody></table>')
        out.append('<p class="note">Ô trống: đơn vị không báo cáo ô này của biểu mẫu; '
                   f'0: không phát sinh (không có gì xảy ra trong kỳ). {escape(ATTAINMENT_LEGEND)}</p>')

    # 2. attainment per indicator (nation) -------------------------------------------------------
    out.append('<h2>2. Tỉ lệ hoàn thành chỉ tiêu năm theo chỉ tiêu — Toàn quốc</h2>')
    items = charts.attainment_items(nation_rows or [])
    if items:
        out.append(charts.svg_bar_chart([(label, value) for _, label, value in items],
                                        title="Tỉ lệ hoàn thành chỉ tiêu năm (%) — Toàn quốc", width=900,
                                        label_width=330))
    else:
        out.append('<p>Không có chỉ tiêu nào có mục tiêu năm.</p>')

    # 3. headline indicators per province --------------------------------------------------------
    out.append('<h2>3. Tỉ lệ hoàn thành chỉ tiêu năm theo tỉnh/thành phố</h2>')
    if provinces:
        out.append('<div class="grid-2">')
        for code in charts.HEADLINE_INDICATORS:
            out.append(charts.svg_bar_chart([(p.name, optional_float(p.attainment.get(code))) for p in provinces],
                                            title=f"{charts.SHORT_LABELS[code]} (%)", width=440,
                                            label_width=130, bar_height=14))
        out.append('</div>')
    else:
        out.append('<p>Không có số liệu tỉnh/thành phố đã công bố.</p>')
    hidden = sorted(k for k in blocked if k.startswith("province-"))
    if hidden:
        out.append('<p class="blocked">Không hiển thị (bị chặn do lỗi chất lượng dữ liệu): '
                   + escape(", ".join(scope_names.get(k, k) for k in hidden)) + '.</p>')

    # 4. completeness --------------------------------------------------------------------------
    if completeness:
        out.append('<h2>4. Tình hình gửi báo cáo của các đơn vị</h2>')
        out.append('<table><thead><tr><th>Phạm vi</th><th>Số đơn vị phải báo cáo</th><th>Đã báo cáo</th>'
                   '<th>Đúng hạn</th><th>Muộn</th><th>Chưa báo cáo</th><th>Tỉ lệ đã báo cáo (%)</th>'
                   '</tr></thead><tbody>')
        for key in sorted(completeness, key=lambda k: scope_sort_key(k.partition("-")[0], k)):
            c = completeness[key]
            out.append(f'<tr><td>{escape(scope_names.get(key, key))}</td>'
                       + "".join(f'<td class="n">{fixed_number(c.get(f))}</td>'
                                 for f in ("expected", "received", "on_time", "late", "missing"))
                       + f'<td class="n">{fixed_number(c.get("received_pct"), 1)}</td></tr>')
        out.append('</tbody></table>')

    # 5. files ---------------------------------------------------------------------------------
    out.append(f'<h2>{5 if completeness else 4}. Tệp đã công bố (bản mới nhất)</h2>')
    out.append('<table><thead><tr><th>Cấp</th><th>Phạm vi</th><th>Lần công bố</th><th>Tệp</th></tr></thead><tbody>')
    for link in links:
        files = " · ".join(f'<a href="{escape(path)}">{ext.upper()}</a>' for ext, path in link["files"].items())
        out.append(f'<tr><td>{escape(SCOPE_LEVEL_VI.get(link["scope_level"], link["scope_level"]))}</td>'
                   f'<td>{escape(link["scope_name"] or link["scope_key"])}</td>'
                   f'<td class="c">rev-{link["revision"]}</td><td>{files}</td></tr>')
    for key, reason in sorted(blocked.items()):
        out.append(f'<tr class="blocked"><td>{escape(SCOPE_LEVEL_VI.get(key.partition("-")[0], ""))}</td>'
                   f'<td>{escape(scope_names.get(key, key))}</td><td class="c">—</td>'
                   f'<td>Bị chặn: {escape(reason)}</td></tr>')
    out.append('</tbody></table>')
    out.append(f'<p class="note">Ghi chú: {escape(note)}</p>')
    out.append('</body></html>')
    return "\n".join(out) + "\n"


def render_period_summary(period: Period, period_dir: Path, *, generated_at: str, gate_status: str | None,
                          scopes: dict[str, list[dict]], published: list[dict], blocked: dict[str, str],
                          completeness: dict[str, dict], provinces: list[charts.ProvinceValues]) -> str:
    """The summary page of a publication run: `scopes` are the mart rows by scope key, `published` the
    new and unchanged revisions (dicts of lensan.publish.service.ScopePublication), linked relative to
    `period_dir` (exports/<type>/<key>/, where the page is written)."""
    nation_key = f"nation-{NATION_CODE}"
    nation_rows = None
    if nation_key in scopes and nation_key not in blocked:
        nation_rows = clean_rows(scopes[nation_key], nation_key, None, period.value_field)
    links = []
    for item in sorted(published, key=lambda e: scope_sort_key(e["scope_level"], e["scope_key"])):
        rev_dir = Path(item["path"])
        files = {}
        for ext in ("xlsx", "csv", "json"):
            name = f"{period.file_base(item['scope_key'])}.{ext}"
            if (rev_dir / name).exists():
                files[ext] = os.path.relpath(rev_dir / name, period_dir)
        links.append({"scope_key": item["scope_key"], "scope_level": item["scope_level"],
                      "scope_name": item["scope_name"], "revision": item["revision"], "status": item["status"],
                      "files": files})
    return render_summary(
        title=period.title, period_label=period.label + (f" — {period.map_line}" if period.as_reported else ""),
        value_heading=period.headings[3],
        generated_at=dt.datetime.fromisoformat(generated_at.replace("Z", "+00:00")),
        gate_status=gate_status, nation_rows=nation_rows, value_field=period.value_field,
        provinces=provinces, completeness=completeness, scope_names={
            k: (v[0].get("scope_name") or k) for k, v in scopes.items()},
        links=links, blocked=blocked, note=PLATFORM_NOTE)


def _flag_marker(row: dict) -> str:
    """The attainment flag beside the %: its marker, the note as a tooltip."""
    flag = ATTAINMENT_FLAGS.get(row.get("attainment_flag") or "")
    return f' <span class="flag" title="{escape(flag[1])}">{flag[0]}</span>' if flag else ""

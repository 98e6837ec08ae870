"""S2: the household register snapshot of a unit (CSV, sometimes XLSX)."""

from __future__ import annotations

import random

from lensan_dev.generate.encoding import xlsx_bytes
from lensan_dev.generate.people import format_phone
from lensan_dev.generate.population import Unit

# Share of units whose register snapshot comes as XLSX instead of CSV.
REGISTER_XLSX_SHARE = 0.12


REGISTER_HEADINGS = ("Mã hộ", "Họ tên chủ hộ", "Số điện thoại", "Số CCCD", "Mã xã", "Loại hộ", "Sản phẩm chính",
                     "Ngày đào tạo kỹ năng số", "Ngày đào tạo đóng gói - kết nối - giao nhận", "Mức độ đào tạo")


def register_rows(rng: random.Random, u: Unit) -> list[list[str]]:
    rows = []
    for hh in u.households:
        rows.append([hh.code, hh.name, format_phone(rng, hh.phone), hh.citizen_id, hh.commune, hh.type,
                     hh.main_product, f"{hh.trained_digital:%d/%m/%Y}" if hh.trained_digital else "",
                     f"{hh.trained_logistics:%d/%m/%Y}" if hh.trained_logistics else "", hh.level])
    return rows


def register_xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    sh = wb.active
    sh.title = "Danh sách hộ SXNN"
    sh.append(list(REGISTER_HEADINGS))
    for c in range(1, len(REGISTER_HEADINGS) + 1):
        sh.cell(1, c).font = Font(bold=True)
    for row in rows:
        sh.append([v if v != "" else None for v in row])
    # text cells so phone / CCCD / codes keep their leading zeros
    for row in sh.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"
    return xlsx_bytes(wb)

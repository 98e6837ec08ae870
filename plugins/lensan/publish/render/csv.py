"""The CSV files of a report, for a Vietnamese Excel: UTF-8 with BOM, ';' separator, decimal comma, CRLF.

`render_csv` is the report itself (the 8 template headings, a header row per section, then the
per-platform columns postmart.vn / voso.vn: in the period, cumulative, and the attainment flag); `render_product_csv`
the per-product-type statistics of a monthly report (`<base>_loai_san_pham.csv`)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from lensan.publish.render.formatting import display_tt, neutralise, notes_text
from lensan.publish.rows import is_own_row, section_blocks
from lensan.publish.template import (ATTAINMENT_FLAG_HEADING, PLATFORM_VI, PRODUCT_GROUP_VI, PRODUCT_HEADINGS,
                                     SECTION_NUMERALS, SECTION_TITLES, Period)

BOM = b"\xef\xbb\xbf"


def _writer(buffer: io.StringIO):
    return csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def _csv_number(value: int | float | None) -> str:
    """CSV numbers for a Vietnamese Excel: decimal comma, no thousands separator."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value)).replace(".", ",")


def render_csv(rows: list[dict], period: Period | None = None) -> bytes:
    """UTF-8 with BOM, ';' separator (Vietnamese Excel), the 8 template headings, CRLF."""
    buffer = io.StringIO()
    writer = _writer(buffer)
    period = period or Period("week", "", dt.date.min, dt.date.min)
    # the 8 template columns, then the per-platform ones and the attainment flag (added at the end:
    # earlier readers keep working)
    writer.writerow(period.headings + period.platform_headings + (ATTAINMENT_FLAG_HEADING,))
    for section, section_rows in section_blocks(rows):
        if not is_own_row(section, section_rows):
            writer.writerow([SECTION_NUMERALS.get(section, section), SECTION_TITLES.get(section, section)]
                            + [""] * (6 + len(period.platform_fields) + 1))
        for row in section_rows:
            writer.writerow(_csv_cells(row, period.value_field)
                            + [_csv_number(row.get(f)) for f in period.platform_fields]
                            + [row.get("attainment_flag") or ""])
    return BOM + buffer.getvalue().encode("utf-8")


def _csv_cells(row: dict, value_field: str = "value_in_week") -> list[str]:
    return [
        neutralise(display_tt(row)),
        neutralise(row["indicator_label_vi"]),
        neutralise(row["unit_vi"]),
        _csv_number(row[value_field]),
        _csv_number(row["growth_pct"]),
        _csv_number(row["cumulative_value"]),
        _csv_number(row["target_attainment_pct"]),
        neutralise(notes_text(row)) or "",
    ]


def csv_data_rows(csv_bytes: bytes) -> int:
    """Lines of a rendered CSV below its heading row."""
    return len(list(csv.reader(io.StringIO(csv_bytes[len(BOM):].decode("utf-8")), delimiter=";"))) - 1


def render_product_csv(product_rows: list[dict]) -> bytes:
    """The per-product-type statistics of a monthly report: UTF-8 with BOM, ';', decimal comma."""
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow(PRODUCT_HEADINGS)
    for row in product_rows:
        writer.writerow([PLATFORM_VI.get(row["platform"], row["platform"]),
                         PRODUCT_GROUP_VI.get(row["product_group"], row["product_group"]),
                         neutralise(row["product_type"]), _csv_number(row["orders"]),
                         _csv_number(row["volume_t"]), _csv_number(row["revenue_vnd"])])
    return BOM + buffer.getvalue().encode("utf-8")

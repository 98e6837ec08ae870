"""Text forms shared by the output formats: Vietnamese numbers (thousands '.', decimal ','), the
formula-injection guard for spreadsheet text, the TT and notes cells of a report row, UTC timestamps."""

from __future__ import annotations

import datetime as dt

from lensan.publish.template import ATTAINMENT_FLAGS, SECTION_NUMERALS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str | None) -> str | None:
    """Formula-injection guard for spreadsheet text: a leading = + - @ (tab, CR) gets an apostrophe."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _vietnamese_separators(text: str) -> str:
    """'1,234.5' → '1.234,5'."""
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def vn_number(value: int | float | None, decimals: int | None = None) -> str:
    """1234.5 → '1.234,5' (Vietnamese: thousands '.', decimal ','); trailing decimal zeros dropped."""
    if value is None:
        return ""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return _vietnamese_separators(text)


def fixed_number(value, decimals: int | None = None) -> str:
    """Vietnamese number text with a fixed number of decimals (default 0 for whole numbers, else 1):
    1.234.567 / 61,7; '' for not reported. The HTML summary and its charts."""
    if value is None:
        return ""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 1
    return _vietnamese_separators(f"{float(value):,.{decimals}f}")


def optional_float(value) -> float | None:
    return None if value is None else float(value)


def display_tt(row: dict) -> str:
    """Column A (TT): the section numeral on a section's own row, else the row's number."""
    return SECTION_NUMERALS.get(row["tt"], row["tt"]) if row.get("section") == row.get("tt") else (row.get("tt") or "")


def notes_text(row: dict) -> str | None:
    """Column H: the attainment flag (beside the % of column G), the row's notes, its year target and its
    quality warnings, one per line."""
    parts = []
    if row.get("attainment_flag") in ATTAINMENT_FLAGS:
        marker, text = ATTAINMENT_FLAGS[row["attainment_flag"]]
        parts.append(f"{marker} Tỉ lệ hoàn thành: {text[0].lower()}{text[1:]}")
    if row.get("notes"):
        parts.append(row["notes"])
    if row.get("target_value") is not None:
        sample = " (số liệu mẫu)" if row.get("is_sample_target") else ""
        parts.append(f"Chỉ tiêu năm{sample}: {vn_number(row['target_value'])} {row.get('unit_vi') or ''}".rstrip())
    if row.get("quality_flags"):
        parts.append("Cảnh báo chất lượng: " + "; ".join(row["quality_flags"]))
    return "\n".join(parts) if parts else None


def iso_utc(value: dt.datetime | None) -> str | None:
    """'2026-11-26T03:00:00Z' (naive values are UTC); None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")

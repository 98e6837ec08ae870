"""Number formats and formula texts of an .xlsx read straight from its XML parts (the workbook, its
relationships, the styles and each worksheet), what calamine does not give. openpyxl's object model
gave the same at ~13 ms a weekly form: most of a national week's landing of forms.

Call only after `safety.check_xlsx` (zip bombs, DOCTYPE / ENTITY declarations are refused there).
Namespaces are ignored, so transitional and strict OOXML read alike. A shared formula is translated
from its anchor cell as openpyxl does; array and data-table formulas give no formula text (openpyxl
gives them as objects, not text).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from openpyxl.utils.cell import column_index_from_string, get_column_letter

_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(element, name: str) -> str | None:
    """An attribute by its local name (r:id and plain id alike)."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def _sheet_parts(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part path in the zip) in workbook order."""
    targets = {}
    rels_name = "xl/_rels/workbook.xml.rels"
    if rels_name in archive.namelist():
        for rel in ElementTree.fromstring(archive.read(rels_name)):
            target = rel.get("Target") or ""
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            targets[rel.get("Id")] = path
    parts = []
    for element in ElementTree.fromstring(archive.read("xl/workbook.xml")).iter():
        if _local(element.tag) == "sheet":
            path = targets.get(_attr(element, "id"))
            if path:
                parts.append((element.get("name"), path))
    return parts


def _number_formats(archive: zipfile.ZipFile) -> list[str]:
    """The number format of each cell style (cellXfs), by the style index a cell's `s` names."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS

    if "xl/styles.xml" not in archive.namelist():
        return []
    root = ElementTree.fromstring(archive.read("xl/styles.xml"))
    custom = {}
    styles = []
    for section in root:
        name = _local(section.tag)
        if name == "numFmts":
            for fmt in section:
                custom[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode") or "General"
        elif name == "cellXfs":
            styles = [int(xf.get("numFmtId", "0") or 0) for xf in section]
    return [custom.get(i) or BUILTIN_FORMATS.get(i, "General") for i in styles]


def _cells(data: bytes, formats: list[str], max_rows: int, max_cols: int):
    """(row, col, number format, formula text or None) of the cells of one worksheet part."""
    from openpyxl.formula.translate import Translator

    shared: dict[str, Translator] = {}
    row, next_col = -1, 0
    for event, element in ElementTree.iterparse(io.BytesIO(data), events=("start", "end")):
        tag = _local(element.tag)
        if event == "start":
            if tag == "row":   # a row without its number follows the one before
                number = element.get("r") or ""
                row, next_col = (int(number) - 1 if number.isdigit() else row + 1), 0
                if row >= max_rows:
                    break
            continue
        if tag == "row":
            element.clear()
        if tag != "c":
            continue
        ref = _CELL_REF.match(element.get("r") or "")
        col = column_index_from_string(ref.group(1)) - 1 if ref else next_col   # no reference: the next cell of the row
        next_col = col + 1
        style = int(element.get("s", "0") or 0)
        formula = None
        for child in element:
            if _local(child.tag) == "f":
                formula = _formula(child, f"{get_column_letter(col + 1)}{row + 1}", shared, Translator)
        if col < max_cols:
            yield row, col, formats[style] if style < len(formats) else "General", formula


def _formula(element, coordinate: str, shared: dict, translator) -> str | None:
    text = "=" + (element.text or "")
    kind = element.get("t")
    if kind in ("array", "dataTable"):
        return None
    if kind == "shared":
        index = element.get("si")
        if index in shared:
            text = shared[index].translate_formula(coordinate)
        elif text != "=":
            shared[index] = translator(text, coordinate)
    return text if len(text) > 1 else None


def read_structure(path: Path, max_rows: int, max_cols: int) -> dict[str, list[tuple[int, int, str, str | None]]]:
    """Per sheet name, (row, col, number format, formula text or None) of its cells (0-based)
    within max_rows × max_cols."""
    with zipfile.ZipFile(path) as archive:
        formats = _number_formats(archive)
        return {name: list(_cells(archive.read(part), formats, max_rows, max_cols))
                for name, part in _sheet_parts(archive)}

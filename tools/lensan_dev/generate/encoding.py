"""Byte-identical file encodings: XLSX with fixed zip times, CSV (S2/S3), gzip JSON Lines (S4)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
import zipfile

FIXED_XLSX_TIME = dt.datetime(2020, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class FixedZip(zipfile.ZipFile):
    """ZipFile whose entries all carry one fixed timestamp (byte-identical XLSX)."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=ZIP_TIME)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # openpyxl streams worksheets through a temporary file: copy its bytes, not its mtime
        with open(filename, "rb") as fh:
            self.writestr(arcname or os.path.basename(filename), fh.read())


def xlsx_bytes(wb) -> bytes:
    from openpyxl.writer.excel import ExcelWriter

    wb.properties.created = FIXED_XLSX_TIME
    wb.properties.modified = FIXED_XLSX_TIME
    wb.properties.creator = "lensan generate"
    buf = io.BytesIO()
    archive = FixedZip(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return buf.getvalue()


BOM = b"\xef\xbb\xbf"


def csv_writer(fh, delimiter: str):
    """The CSV dialect of S2/S3: `"` quoting when needed, CRLF line ends (fh: a text stream)."""
    return csv.writer(fh, delimiter=delimiter, quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def jsonl_line(row: dict) -> str:
    """One S4 JSON Lines record (UTF-8 kept as is, compact separators, LF)."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def csv_bytes(headers, rows, delimiter: str, bom: bool) -> bytes:
    buf = io.StringIO()
    writer = csv_writer(buf, delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return (BOM if bom else b"") + buf.getvalue().encode("utf-8")


def jsonl_gz_bytes(rows: list[dict]) -> bytes:
    raw = "".join(jsonl_line(r) for r in rows).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        gz.write(raw)
    return buf.getvalue()

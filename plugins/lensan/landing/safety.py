"""Checks done before a file is opened by a parser: size limits, zip bombs, XML entity attacks.

Limits come from the environment:
LENSAN_MAX_FILE_MB               largest file accepted at all (default 200)
LENSAN_MAX_XLSX_UNCOMPRESSED_MB  largest total uncompressed size of an XLSX's zip entries (default 100)
LENSAN_MAX_XLSX_RATIO            largest compression ratio of a big zip entry (default 200)
LENSAN_MAX_GZIP_UNCOMPRESSED_MB  largest decompressed size of a .jsonl.gz extract (default 4096)
LENSAN_MAX_LINE_KB               longest single JSON line of a .jsonl.gz extract (default 1024)

Landing never follows symbolic links and never writes outside LENSAN_HOME (see archive, quarantine, loader).
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zipfile
from pathlib import Path

from lensan import settings
from lensan.landing.errors import LandingError

MB = 1024 * 1024
_XML_DANGER = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def max_file_bytes() -> int:
    return int(settings.value("max_file_mb") * MB)


def max_gzip_uncompressed_bytes() -> int:
    return int(settings.value("max_gzip_uncompressed_mb") * MB)


def max_line_chars() -> int:
    return int(settings.value("max_line_kb") * 1024)


def check_size(path: Path) -> int:
    """Size of the file; EMPTY_FILE / FILE_TOO_LARGE before anything reads it."""
    size = path.stat().st_size
    if size == 0:
        raise LandingError("EMPTY_FILE")
    limit = max_file_bytes()
    if size > limit:
        raise LandingError("FILE_TOO_LARGE", size_mb=round(size / MB, 1), limit_mb=round(limit / MB, 1))
    return size


def check_xlsx(path: Path, kind: str = "XLSX") -> None:
    """Refuse what is not a zip, zip bombs and XML with DOCTYPE/ENTITY declarations — before any reader.

    `kind` "ODS": an OpenDocument spreadsheet (its parts differ; the same limits apply)."""
    max_total = int(settings.value("max_xlsx_uncompressed_mb") * MB)
    max_ratio = settings.value("max_xlsx_ratio")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            names = {e.filename for e in entries}
            if kind == "ODS":
                if "content.xml" not in names:
                    raise LandingError("UNREADABLE", expected="ODS", reason="zip without content.xml "
                                       "(không phải tệp .ods)")
            elif "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                raise LandingError("UNREADABLE", expected="XLSX", reason="zip without an Excel workbook inside "
                                   "(không phải tệp Excel .xlsx)")
            total = sum(e.file_size for e in entries)
            if total > max_total:
                raise LandingError("UNSAFE_FILE", reason=f"uncompressed size {total / MB:.1f} MB exceeds "
                                   f"{max_total / MB:.0f} MB (possible zip bomb)",
                                   reason_vi=f"dung lượng giải nén {total / MB:.1f} MB vượt {max_total / MB:.0f} MB "
                                   "(nghi zip bomb)")
            for entry in entries:
                if entry.file_size > MB and entry.file_size > max_ratio * max(entry.compress_size, 1):
                    raise LandingError("UNSAFE_FILE", reason=f"entry {entry.filename} has compression ratio "
                                       f"{entry.file_size / max(entry.compress_size, 1):.0f}:1 (possible zip bomb)",
                                       reason_vi=f"mục {entry.filename} có tỉ lệ nén "
                                       f"{entry.file_size / max(entry.compress_size, 1):.0f}:1 (nghi zip bomb)")
            for entry in entries:
                if entry.filename.endswith((".xml", ".rels", ".vml")):
                    if _declares_entities(archive, entry):
                        raise LandingError("UNSAFE_FILE", reason=f"{entry.filename} declares a DOCTYPE/ENTITY "
                                           "(XML entity attack)",
                                           reason_vi=f"{entry.filename} khai báo DOCTYPE/ENTITY (tấn công thực "
                                           "thể XML)")
    except zipfile.BadZipFile as exc:
        raise LandingError("UNREADABLE", expected="XLSX", reason=f"not a valid xlsx/zip file ({exc})") from None
    except (OSError, EOFError, NotImplementedError, RuntimeError) as exc:  # e.g. encrypted or broken entries
        raise LandingError("UNREADABLE", expected="XLSX", reason=str(exc)) from None


def _declares_entities(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bool:
    """Whether an XML part declares a DOCTYPE/ENTITY, scanned in chunks (never the whole part in memory).

    UTF-16/UTF-32 parts (a BOM or NUL bytes up front) are decoded first, so the declaration cannot hide
    behind another encoding.
    """
    import codecs

    with archive.open(entry) as fh:
        head = fh.read(4)
        encoding = None
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or head[:4] in (b"\0\0\0<", b"<\0\0\0"):
            encoding = "utf-32"
            if head[:4] == b"\0\0\0<":
                encoding = "utf-32-be"
            elif head[:4] == b"<\0\0\0":
                encoding = "utf-32-le"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\0" in head:
            encoding = "utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else (
                "utf-16-be" if head[:1] == b"\0" else "utf-16-le")
        decoder = codecs.getincrementaldecoder(encoding)("replace") if encoding else None
        tail = b""
        chunk = head
        while chunk:
            data = decoder.decode(chunk).encode("utf-8", "replace") if decoder else chunk
            if _XML_DANGER.search(tail + data):
                return True
            tail = (tail + data)[-64:]
            chunk = fh.read(1 << 16)
    return False


def fold(text: object) -> str:
    """Case-, diacritic- and spacing-insensitive form of a label: 'Mã ĐƠN  vị:' -> 'ma don vi:'."""
    return "" if text is None else _fold_text(str(text))


@functools.lru_cache(maxsize=4096)
def _fold_text(text: str) -> str:
    # memoised: a form's labels and headings repeat on every form (~100 folds a form)
    value = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Mn")
    return " ".join(value.casefold().split())


def fold_heading(text: object) -> str:
    """Like fold, punctuation dropped too, for column headings."""
    return " ".join(re.sub(r"[^0-9a-z%]+", " ", fold(text)).split())

"""What a landing file's name says: its source (by prefix), the name each source expects, the safe
base name under which archive/ and quarantine/ keep it (the name as delivered, path-safe: it may hold
personal data, so only those two folders keep it), and the public name (no personal data) under which
the warehouse, manifests and logs name a landed file."""

from __future__ import annotations

import re
from pathlib import Path

from lensan.landing.errors import LandingError
from lensan.settings import SOURCES

PREFIXES = {"bao_cao_tuan_": "weekly_form", "danh_sach_ho_": "household_register",
            "postmart_": "postmart", "voso_": "voso"}
EXPECTED_NAMES = {
    "weekly_form": "bao_cao_tuan_<mã đơn vị>_<yyyy>-W<ww>.xlsx",
    "household_register": "danh_sach_ho_<mã đơn vị>_<yyyymmdd>.csv|.xlsx",
    "postmart": "postmart_<entity>_<yyyymmdd>.csv",
    "voso": "voso_<entity>_<yyyy-mm-dd>.jsonl.gz",
}


def detect_source(name: str) -> str | None:
    lower = name.lower()
    for prefix, source in PREFIXES.items():
        if lower.startswith(prefix):
            return source
    return None


def safe_name(name: str) -> str:
    """The base name with anything but letters, digits, '.', '-' and '_' replaced: no path tricks."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    return (cleaned or "file")[-180:]


def require_known(source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")


def sniff_source(path: Path) -> str | None:
    """The source the file's content says, when it says one: a workbook holding a weekly report form
    (the BÁO CÁO TUẦN title and the TT / Chỉ tiêu table, on any sheet) is a weekly form, whatever its
    name; a gzip file is a voso extract (the only gzipped source). None: the name decides."""
    from lensan.landing.parsers import weekly_form

    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
    except OSError:
        return None
    if head == b"\x1f\x8b":
        return "voso"
    return "weekly_form" if weekly_form.is_weekly_form(path) else None


def source_of(path: Path, source: str | None) -> str:
    """The file's source: `source` if given (checked against the name), else the one its content says
    (`sniff_source`), else the one its name says."""
    detected = detect_source(path.name)
    if source is None:
        sniffed = sniff_source(path)
        if sniffed == "weekly_form" or (sniffed is not None and detected is None):
            return sniffed
        if detected is None:
            raise LandingError("UNKNOWN_SOURCE", name=path.name, expected=" | ".join(EXPECTED_NAMES.values()))
        return detected
    require_known(source)
    # A file named like another source is misplaced. A weekly form's name is only a hint (its header
    # is authoritative), so any name is accepted there; the other sources' names carry the unit/date
    # and are checked by their parsers.
    if detected is not None and detected != source:
        raise LandingError("UNKNOWN_SOURCE", name=path.name, expected=EXPECTED_NAMES[source])
    return source


# Extensions a delivered file may carry (longest first); anything else is published as "bin".
_PUBLIC_EXTENSIONS = ("jsonl.gz", "csv.gz", "xlsx", "xls", "ods", "csv", "jsonl", "json", "gz")


def public_name(source: str, sha256: str, *, subject: str | None = None, when: str | None = None,
                original_name: str | None = None) -> str:
    """A landed file's name for anything that leaves the archive (manifests, logs):
    `<source>_<subject>_<when>_<sha256[:12]>.<ext>`, built from identified fields only (`subject`: the
    unit code or the extract's entity; `when`: the week key or the file's date), never from the name
    as delivered, which may carry a person's name or phone. Only a known extension is taken from
    `original_name`; missing parts are left out."""
    parts = [source, subject, when, sha256[:12]]
    stem = "_".join(re.sub(r"[^A-Za-z0-9_-]", "-", str(p)) for p in parts if p)
    lower = (original_name or "").lower()
    ext = next((e for e in _PUBLIC_EXTENSIONS if lower.endswith("." + e)), "bin")
    return f"{stem}.{ext}"


def landed_public_name(source: str, sha256: str, *, entity: str | None = None, unit_code: str | None = None,
                       period_key: str | None = None, file_date=None, original_name: str | None = None) -> str:
    """`public_name` of a landed file (or delivery) from what landing identified: the unit code (forms,
    registers) or entity (extracts), and the week key (forms) or file date (registers, extracts).
    Stored in raw.landed_files.public_name / raw.deliveries.public_name at landing, and what manifests
    list; a quarantined file, identified by nothing, is `<source>_<sha256[:12]>.<ext>`."""
    platform = source in ("postmart", "voso")
    subject = entity if platform else unit_code
    when = period_key if source == "weekly_form" else (file_date.isoformat() if file_date is not None else None)
    return public_name(source, sha256, subject=subject, when=when, original_name=original_name)


def log_name(source: str, name: str, sha256: str | None = None) -> str:
    """How a log line names a landing file: its public name (by SHA-256 once hashed), never the name as
    delivered — logs reach Airflow's task logs, which more people read than the archive."""
    return public_name(source, sha256 or "", original_name=name)


def scrub(text: str, name: str, label: str = "<tệp / file>") -> str:
    """`text` (an error message, a traceback) with the delivered name — as delivered, or as safe_name()
    writes it into archive and quarantine paths — replaced by `label`."""
    for variant in sorted({name, safe_name(name)}, key=len, reverse=True):
        if variant:
            text = text.replace(variant, label)
    return text

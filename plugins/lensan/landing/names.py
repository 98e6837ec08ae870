"""What a landing file's name says: its source (by prefix), the name each source expects, and the safe
base name under which archive/ and quarantine/ keep it."""

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


def source_of(path: Path, source: str | None) -> str:
    """The file's source: `source` if given (checked against the name), else the one its name says."""
    detected = detect_source(path.name)
    if source is None:
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

"""Immutable numbered revisions of a scope's report: exports/<type>/<key>/<scope>/rev-<n>/.

A revision's content is the CSV + JSON bytes (+ the product-type CSV of a monthly report), hashed into
`content_hash`; a run whose content equals the latest revision's writes nothing. Otherwise rev n+1 is
written atomically next to the older ones (read-only files), and its manifest lists the rows that
changed against the previous revision.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from lensan.publish.template import Period

# besides the period's values (columns D–G), a change in these makes a row "changed"
DESCRIPTIVE_FIELDS = ("target_value", "is_sample_target", "notes", "quality_flags", "indicator_label_vi", "unit_vi")


def compared_fields(period: Period) -> tuple[str, ...]:
    return period.value_fields + DESCRIPTIVE_FIELDS


def content_hash(csv_bytes: bytes, json_bytes: bytes, product_csv: bytes | None = None) -> str:
    """SHA-256 of what a revision publishes (the XLSX is left out: it carries generated_at)."""
    return hashlib.sha256(b"csv\0" + csv_bytes + b"\0json\0" + json_bytes
                          + (b"\0products\0" + product_csv if product_csv else b"")).hexdigest()


def latest_revision(scope_dir: Path) -> int | None:
    """The highest complete rev-<n> of a scope folder (one with its manifest), None when there is none."""
    revisions = [int(m[1]) for p in scope_dir.iterdir()
                 if p.is_dir() and (m := re.fullmatch(r"rev-(\d+)", p.name)) and (p / "manifest.json").exists()]
    return max(revisions) if revisions else None


def read_manifest(scope_dir: Path, revision: int) -> dict:
    return json.loads((scope_dir / f"rev-{revision}" / "manifest.json").read_text(encoding="utf-8"))


def changes(previous_json: Path, rows: list[dict], compared: tuple[str, ...]) -> list[dict]:
    """Rows that differ from the previous revision: indicator_code + old/new of each changed field."""
    try:
        old_rows = json.loads(previous_json.read_text(encoding="utf-8"))["rows"]
    except (OSError, ValueError, KeyError):
        return []
    old = {r["indicator_code"]: r for r in old_rows}
    new = {r["indicator_code"]: r for r in rows}
    out = []
    for code in list(new) + [c for c in old if c not in new]:
        before, after = old.get(code), new.get(code)
        if before is None or after is None:
            out.append({"indicator_code": code, "change": "added" if before is None else "removed",
                        "old": before, "new": after})
            continue
        fields = {f: {"old": before.get(f), "new": after.get(f)}
                  for f in compared if before.get(f) != after.get(f)}
        if fields:
            out.append({"indicator_code": code, "change": "changed",
                        "label": after.get("indicator_label_vi"), "fields": fields})
    return out


def file_entry(name: str, fmt: str, data: bytes, **extra) -> dict:
    """A manifest's description of one published file."""
    return {"name": name, "format": fmt, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()} | extra


def write_revision(scope_dir: Path, revision: int, files: dict[str, bytes], manifest: dict) -> Path:
    """Write rev-<revision> (the files, then manifest.json), read-only, and return its path. Built in a
    temporary folder renamed at the end: a revision directory is either complete or absent."""
    tmp = Path(tempfile.mkdtemp(prefix=f".rev-{revision}-", dir=scope_dir))
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
        for path in tmp.iterdir():
            os.chmod(path, 0o444)
        final = scope_dir / f"rev-{revision}"
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final

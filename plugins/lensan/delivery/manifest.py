"""A published revision and its manifest.json: reading, validating and verifying the files against it.

A published revision is an immutable directory written by `lensan.publish.service`::

    LENSAN_HOME/exports/<period_type>/<period_key>/<scope>/rev-<n>/
        *.xlsx  *.csv  *.json  manifest.json

manifest.json has one shape, the one lensan.publish.service writes (a JSON object, UTF-8)::

    {
      "period_type": "week",                 (not read here: the directory names the period type)
      "period_key": "2026-W47",              must equal the directory's <period_key>
      "revision": 1,                         must equal the directory's rev-<n>
      "scope_name": "Tỉnh Quảng Ninh",       e-mail subject and body (else the directory's <scope>)
      "files": [                             the contract: every file of the revision but manifest.json
        {"name": "bao_cao_tuan_….xlsx",      relative POSIX path inside the revision, no "..";
         "format": "xlsx",                   (not read here)
         "bytes": 8123,                      size, checked before the hash
         "sha256": "<64 lowercase hex>"},
        …
      ],
      "generated_at": "…", "row_counts": {"indicator_rows": 24, …}, "gate": {"status": "passed", …} | null,
      "quality_flags": […], "source_file_count": 1,
                                             summarised in the e-mail (lensan.delivery.channels.email)
      "source_files": [                      the raw files that fed this scope and period (not read here):
        {"sha256": "<64 hex>", "source": "weekly_form", "period_key": "2026-W47" | null,
         "file_date": "2026-11-22", "arrived_at": "…Z",
         "safe_name": "weekly_form_20501_2026-W47_3f2a9c0d1e2b.xlsx"},   never a name as delivered
        …                                    (it may hold personal data: docs/security.md)
      ],
      …                                      other keys (period_start, scope_level, content_hash, changes,
                                             …) are carried along, not read
    }

`load_revision(dir)` reads it, checks it against the directory and every file against it (size, then
SHA-256) and returns a `Revision`; anything that does not hold raises `ManifestError`. Every channel
delivers `Revision.all_names()` (the listed files, then manifest.json itself) under `Revision.rel`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lensan.delivery.results import DeliveryError

MANIFEST_NAME = "manifest.json"

_REV_RE = re.compile(r"^rev-(\d+)$")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


class ManifestError(DeliveryError):
    """manifest.json is missing, unreadable, or does not match the files."""


@dataclass(frozen=True)
class ManifestFile:
    name: str  # relative POSIX path inside the revision
    sha256: str
    size: int


@dataclass(frozen=True)
class Revision:
    """A verified published revision."""

    path: Path
    period_type: str
    period_key: str
    scope: str
    number: int
    manifest: dict[str, Any]
    manifest_sha256: str
    files: tuple[ManifestFile, ...]

    @property
    def rel(self) -> PurePosixPath:
        """<period_type>/<period_key>/<scope>/rev-<n>, the layout every channel mirrors."""
        return PurePosixPath(self.period_type, self.period_key, self.scope, f"rev-{self.number}")

    @property
    def key(self) -> str:
        return str(self.rel)

    def all_names(self) -> list[str]:
        """Files to deliver: the manifest's files, then manifest.json itself (last)."""
        return [f.name for f in self.files] + [MANIFEST_NAME]

    def size_of(self, name: str) -> int:
        return (self.path / name).stat().st_size

    @property
    def scope_name(self) -> str:
        name = self.manifest.get("scope_name")
        return name if isinstance(name, str) and name else self.scope


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def safe_name(name: Any) -> str:
    """`name` as a relative POSIX path that stays inside the revision directory, else ManifestError."""
    if not isinstance(name, str) or not name:
        raise ManifestError(f"manifest: invalid file name {name!r}")
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or str(p) == ".":
        raise ManifestError(f"manifest: file name {name!r} escapes the revision directory")
    return str(p)


def _file_entry(item: Any) -> ManifestFile:
    if not isinstance(item, dict):
        raise ManifestError(f"manifest: unexpected file entry {item!r}")
    name = safe_name(item.get("name"))
    digest = item.get("sha256")
    if not isinstance(digest, str) or not _SHA256_RE.fullmatch(digest):
        raise ManifestError(f"manifest: invalid SHA-256 {digest!r} for {name}")
    size = item.get("bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"manifest: invalid size {size!r} for {name}")
    return ManifestFile(name=name, sha256=digest, size=size)


def manifest_files(manifest: dict[str, Any]) -> tuple[ManifestFile, ...]:
    """The files a manifest lists, with their SHA-256 and size."""
    files = manifest.get("files")
    if not isinstance(files, list) or not files:
        raise ManifestError("manifest: lists no files with their SHA-256")
    entries = tuple(_file_entry(item) for item in files)
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise ManifestError("manifest: a file is listed twice")
    return entries


def _read_manifest(path: Path) -> tuple[dict[str, Any], str]:
    manifest_path = path / MANIFEST_NAME
    if not manifest_path.is_file():
        raise ManifestError(f"{manifest_path}: missing; not a published revision")
    raw = manifest_path.read_bytes()
    try:
        manifest = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{manifest_path}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise ManifestError(f"{manifest_path}: not a JSON object")
    return manifest, hashlib.sha256(raw).hexdigest()


def verify_files(directory: Path, files: tuple[ManifestFile, ...] | list[ManifestFile]) -> None:
    """Raise ManifestError naming every file of `directory` missing or not matching its SHA-256."""
    problems = []
    for f in files:
        p = directory / f.name
        if not p.is_file():
            problems.append(f"{f.name}: missing")
            continue
        if p.stat().st_size != f.size:
            problems.append(f"{f.name}: size {p.stat().st_size} != {f.size} in manifest")
            continue
        actual = sha256_file(p)
        if actual != f.sha256:
            problems.append(f"{f.name}: SHA-256 {actual} != {f.sha256} in manifest")
    if problems:
        raise ManifestError(f"{directory}: checksum verification failed: " + "; ".join(problems))


def load_revision(revision_dir: Path | str) -> Revision:
    """Read and verify a published revision (every file against manifest.json)."""
    path = Path(revision_dir).resolve()
    if not path.is_dir():
        raise ManifestError(f"{path}: revision directory does not exist")
    m = _REV_RE.match(path.name)
    if not m or len(path.parts) < 5:
        raise ManifestError(
            f"{path}: not a revision directory (expected .../<period_type>/<period_key>/<scope>/rev-<n>)"
        )
    number = int(m.group(1))
    scope, period_key, period_type = path.parent.name, path.parent.parent.name, path.parents[2].name
    manifest, manifest_sha = _read_manifest(path)
    declared = manifest.get("revision")
    if declared != number:
        raise ManifestError(f"{path}: manifest says revision {declared!r}, directory says rev-{number}")
    declared = manifest.get("period_key")
    if declared != period_key:
        raise ManifestError(f"{path}: manifest says period {declared!r}, directory says {period_key!r}")
    files = manifest_files(manifest)
    verify_files(path, files)
    return Revision(
        path=path,
        period_type=period_type,
        period_key=period_key,
        scope=scope,
        number=number,
        manifest=manifest,
        manifest_sha256=manifest_sha,
        files=files,
    )

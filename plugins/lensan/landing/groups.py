"""Landing split into groups that separate workers can land side by side (the ingest DAG maps one
task per group).

A group holds whole keys, so the files of one key land in one task, in delivery order (their time in
the landing folder, then the name), as one `land_pending` run would land them:
  * a platform extract: its entity-day (platform, entity, extract date from the name);
  * a household register: its unit (from the name);
  * weekly forms: a form's unit and week are read from its content, and the latest version of a unit's
    week is the one that arrived last (its mtime); only forms that arrived at the very same time are told
    apart by their landing order. So the forms that share an arrival time land together, in name
    order, and so do identical bytes under several names (the first to land is the form, the
    others its deliveries); any other two forms may land side by side;
  * a file whose name does not say its key: one group per source (landing then quarantines it or
    finds its source from the content, as always).
Keys are packed into at most `max_groups` groups, largest first onto the lightest group, so the
workers get about the same work: a key weighs its bytes plus `FILE_WEIGHT` a file (a national week's
3,500 forms are 28 MB but take longer to land than 180 MB of extracts).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lensan import settings
from lensan.landing import archive, loader, safety
from lensan.landing.errors import LandingError
from lensan.landing.parsers import household_register
from lensan.landing.platforms import spec
from lensan.landing.results import LandingSummary

MAX_GROUPS = 16   # mapped task instances per ingest run; more only adds scheduling overhead
# What landing a file costs beyond its bytes (archive, ledger, transaction, opening a workbook): a small
# file lands in ~5 ms, in which ~100 KB of an extract land.
FILE_WEIGHT = 128 * 1024


def group_key(source: str, name: str) -> tuple[str, ...]:
    """The key whose files must land in one task, in order (see the module doc)."""
    try:
        if source in ("postmart", "voso"):
            extract = spec.describe(name, source)
            return (source, extract.entity, extract.extract_date.isoformat())
        if source == "household_register":
            return (source, household_register.parse_name(name)[0])
    except (LandingError, ValueError):
        pass
    return (source,)


def _delivery_order(path: Path) -> tuple[float, str]:
    try:
        return (path.lstat().st_mtime, path.name)
    except FileNotFoundError:
        return (0.0, path.name)


def plan_groups(sources: list[str] | None = None, max_groups: int = MAX_GROUPS) -> list[list[tuple[str, str]]]:
    """The pending files as at most `max_groups` groups of (source, path), each in landing order; no
    empty group (no group at all when nothing is pending)."""
    keyed: dict[tuple[str, ...], list[Path]] = {}
    for source in sources or settings.SOURCES:
        pending = loader.pending_files(source)
        keys = _form_keys(pending) if source == "weekly_form" else {p: group_key(source, p.name) for p in pending}
        for path in pending:
            keyed.setdefault(keys[path], []).append(path)
    sized = sorted(((sum(_size(p) + FILE_WEIGHT for p in paths), key) for key, paths in keyed.items()), reverse=True)
    bins: list[tuple[int, list[tuple[str, ...]]]] = []
    for size, key in sized:
        if len(bins) < max(1, max_groups):
            bins.append((size, [key]))
        else:
            i = min(range(len(bins)), key=lambda j: bins[j][0])
            bins[i] = (bins[i][0] + size, bins[i][1] + [key])
    return [[(key[0], str(path)) for key in sorted(keys) for path in sorted(keyed[key], key=_delivery_order)]
            for _, keys in bins]


def _form_keys(paths: list[Path]) -> dict[Path, tuple[str, ...]]:
    """The key of each pending form: forms linked by an arrival time or by their bytes share one (see the
    module doc), whatever their names. Links, FIFOs and the like have no bytes to read here."""
    owner: dict[object, int] = {}          # arrival time or SHA-256 -> the first form that had it
    parent = list(range(len(paths)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, path in enumerate(paths):
        for mark in _form_marks(path):
            j = owner.setdefault(mark, i)
            parent[root(i)] = root(j)
    return {path: ("weekly_form", str(root(i))) for i, path in enumerate(paths)}


def _form_marks(path: Path) -> list[object]:
    """The arrival time (as landing records it) and the SHA-256 of a regular file (not of one over the
    size limit, which is refused unread); nothing for anything else or what cannot be opened now
    (landing decides about it)."""
    try:
        fh, info = archive.open_regular(path)
    except (OSError, archive.NotARegularFile):
        return []
    with fh:
        arrived = ("arrived_at", archive.arrival_time(info))
        if info.st_size > safety.max_file_bytes():
            return [arrived]
        return [arrived, ("sha256", hashlib.file_digest(fh, "sha256").digest())]


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except FileNotFoundError:
        return 0


def land_group(group: list[tuple[str, str]], conn=None) -> LandingSummary:
    """Land the files of one planned group, in its order (`land_pending` on those files: bad files are
    quarantined, LandingIncomplete after the group if a file failed for infrastructure reasons). A file
    no longer pending (landed by an earlier try) is passed over. Only files in their source's landing
    folder are accepted."""
    files = []
    for source, name in group:
        path = Path(name)
        if path.parent != settings.landing_dir(source):
            raise ValueError(f"{path} is not in the landing folder of {source}")
        files.append((source, path))
    return loader.land_pending(sources=sorted({s for s, _ in files}) or None, conn=conn, files=files)

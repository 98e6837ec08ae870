"""The archive: every landed file kept byte for byte under archive/<source>/<yyyy>/<mm>/<sha256>__<name>.

A file is copied to a temporary name under archive/<source>/ while its SHA-256 is computed (one read),
then moved into place once it is known not to be a duplicate. Temp copies of killed runs are swept.
The archive copy is what `reland_all` rebuilds raw rows from (key rotation), checked against its hash.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import logging
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from lensan import settings
from lensan.landing import safety
from lensan.landing.names import safe_name
from lensan.settings import LOCAL_TZ, SOURCES

log = logging.getLogger("lensan.landing")

TMP_PREFIX = ".incoming-"
HOST = re.sub(r"[^A-Za-z0-9_.]", "_", os.uname().nodename)[:60] or "host"
_STALE_TMP_SECONDS = 6 * 3600


class NotARegularFile(Exception):
    """The landing entry is a symbolic link, FIFO, device or socket: refused, never opened."""


@dataclass(frozen=True)
class ArchiveCopy:
    """A landing file copied under a temp name while hashed. `tmp` is None for a file over
    LENSAN_MAX_FILE_MB: only hashed, it is refused, not archived. Used as a context manager, the temp
    copy is removed on exit unless `store` moved it into place."""
    tmp: Path | None
    sha256: str
    size: int
    arrived_at: dt.datetime     # the landing file's mtime

    def __enter__(self) -> "ArchiveCopy":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


_PRIVATE: set[Path] = set()     # folders private_dir walked in this process


def private_dir(folder: Path) -> Path:
    """`folder` (inside LENSAN_HOME) and every folder between, created owner-only (0700); one made before
    with group/other access loses it (never gains any): the archive and the quarantine hold clear
    personal data (docs/security.md)."""
    try:    # walked before by this process, and still there owner-only: one stat, not one per level
        if folder in _PRIVATE and stat.S_IMODE(os.stat(folder, follow_symlinks=False).st_mode) & 0o077 == 0:
            return folder
    except FileNotFoundError:
        pass
    current = settings.lensan_home()
    for part in folder.relative_to(current).parts:
        current = current / part
        current.mkdir(mode=0o700, exist_ok=True)
        mode = stat.S_IMODE(current.stat().st_mode)
        if mode & 0o077:
            os.chmod(current, mode & 0o700)
    _PRIVATE.add(folder)
    return folder


def arrival_time(info: os.stat_result) -> dt.datetime:
    """When a file arrived: its mtime in the landing folder, as raw.landed_files.arrived_at keeps it."""
    return dt.datetime.fromtimestamp(info.st_mtime, tz=dt.timezone.utc)


def open_regular(path: Path) -> tuple[io.BufferedReader, os.stat_result]:
    """The landing entry opened for reading, with its stat; NotARegularFile for a link, FIFO or device.
    O_NOFOLLOW + fstat: a file swapped for a symlink (or a FIFO/device) after listing is refused, never
    followed or blocked on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotARegularFile(path) from None
        raise
    src = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        src.close()
        raise NotARegularFile(path)
    return src, info


def copy_to_archive(path: Path, source: str) -> ArchiveCopy:
    """Copy to a temporary file under archive/<source>/ while hashing (fsync'd before it counts)."""
    src, info = open_regular(path)
    arrived_at = arrival_time(info)
    digest = hashlib.sha256()
    size = 0
    if info.st_size > safety.max_file_bytes():
        with src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        return ArchiveCopy(None, digest.hexdigest(), size, arrived_at)
    folder = private_dir(settings.home_dir("archive") / source)
    tmp = folder / f"{TMP_PREFIX}{HOST}-{os.getpid()}-{time.monotonic_ns()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except BaseException:
        src.close()
        raise
    try:
        with src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ArchiveCopy(tmp, digest.hexdigest(), size, arrived_at)


def archive_path(source: str, sha: str, name: str, arrived_at: dt.datetime) -> Path:
    local = arrived_at.astimezone(LOCAL_TZ)
    folder = private_dir(settings.home_dir("archive") / source / f"{local:%Y}" / f"{local:%m}")
    return folder / f"{sha}__{safe_name(name)}"


def store(copy: ArchiveCopy, source: str, name: str) -> Path:
    """Move the temp copy into its place in the archive (owner-only, mtime = arrival time)."""
    target = archive_path(source, copy.sha256, name, copy.arrived_at)
    os.replace(copy.tmp, target)
    os.chmod(target, 0o600)
    os.utime(target, (copy.arrived_at.timestamp(), copy.arrived_at.timestamp()))
    return target


def kept_copy(folder: Path, sha: str) -> Path | None:
    """The copy of the file with SHA-256 `sha` kept in `folder` (raw.landed_files.archive_dir): the
    archive's `<sha256>__<name>`, or, for a file refused before archiving, the quarantined file (or
    the reason file of a link or special file) whose reason names that SHA-256. None if gone."""
    # sorted: the same bytes may be kept under several names (see lensan.landing.reland), pick one
    # deterministically
    found = next((p for p in sorted(folder.glob(f"{sha}__*")) if not p.name.endswith(".reason.json")), None)
    if found is not None or not folder.is_dir():
        return found
    import json

    for reason in folder.glob("*.reason.json"):
        try:
            if json.loads(reason.read_text(encoding="utf-8")).get("sha256") == sha:
                kept = reason.with_name(reason.name[:-len(".reason.json")])
                return kept if kept.exists() else reason
        except (OSError, ValueError):
            continue
    return None


def delivered_name(copy: Path, sha: str) -> str:
    """The name a kept copy was delivered under, as the archive keeps it (safe_name form): for the
    operator's console only (`lensan land`, `status`, `withdraw`), never for the warehouse or a log."""
    return copy.name[len(sha) + 2:] if copy.name.startswith(f"{sha}__") else copy.name


def verified(folder: Path, sha: str, file_id: int, path: Path | None = None) -> Path:
    """The archive copy of a loaded file (`path`, or found in its folder by SHA-256), refused unless it
    lies in LENSAN_HOME/archive and still has its SHA-256. Messages name the file by id and SHA-256 only."""
    path = path or kept_copy(folder, sha)
    if path is None:
        raise FileNotFoundError(f"no archive copy of file {file_id} (SHA-256 {sha}) in {folder}")
    if not path.resolve().is_relative_to(settings.home_dir("archive")) or path.is_symlink():
        raise RuntimeError(f"the archive copy of file {file_id} (SHA-256 {sha}) lies outside LENSAN_HOME/archive")
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if digest != sha:
        raise RuntimeError(f"the archive copy of file {file_id} (SHA-256 {sha}) no longer matches its SHA-256")
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temp_files(sources=SOURCES) -> list[Path]:
    """Remove archive temp copies left by a killed landing (`.incoming-<host>-<pid>-<ns>`).

    A temp file is stale when its process (on this host) is gone, or, whatever the host, when it is
    older than 6 hours. Temp files are never loaded from: a leftover only wastes space, it cannot
    cause a double load; the file itself stays in landing until its transaction commits.
    """
    removed = []
    now = time.time()
    for source in sources:
        folder = settings.home_dir("archive") / source
        for tmp in folder.glob(TMP_PREFIX + "*"):
            match = re.fullmatch(re.escape(TMP_PREFIX) + r"(.*)-(\d+)-(\d+)", tmp.name)
            try:
                age = now - tmp.lstat().st_mtime
            except FileNotFoundError:
                continue
            stale = age > _STALE_TMP_SECONDS or (
                match is not None and match.group(1) == HOST and not _pid_alive(int(match.group(2))))
            if stale:
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
                log.warning("removed stale archive temp file %s (age %.0fs)", tmp.name, age)
    return removed

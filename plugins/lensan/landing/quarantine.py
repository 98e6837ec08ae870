"""The quarantine: a bad file is moved to quarantine/<source>/ beside `<name>.reason.json` (its reason
code and Vietnamese/English messages), and recorded as a quarantined row in raw.landed_files. A bad file
is never silently dropped; symbolic links and special files are refused without being opened."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

from lensan import settings
from lensan.landing.archive import private_dir
from lensan.landing.errors import LandingError
from lensan.landing.ledger import insert_landed, lock_key
from lensan.landing.names import log_name, safe_name, scrub
from lensan.landing.results import Quarantined

log = logging.getLogger("lensan.landing")

REASON_SUFFIX = ".reason.json"


class QuarantineUnwritable(OSError):
    """The quarantine folder cannot be written (missing rights, read-only, not a folder): the bad file
    stays in landing, the batch goes on, and the run fails at the end with this message."""

    def __init__(self, folder: Path, cause: OSError):
        why = cause.strerror or str(cause)
        super().__init__(cause.errno, f"cannot write to the quarantine folder {folder}: {why}")
        self.folder = folder
        self.message_vi = (f"Không ghi được vào thư mục cách ly {folder} ({why}); tệp lỗi được giữ lại trong "
                           "thư mục landing. Hãy sửa quyền ghi hoặc dung lượng rồi chạy lại.")
        self.message_en = (f"Cannot write to the quarantine folder {folder} ({why}); the bad file stays in "
                           "landing. Fix the folder's permissions or space and run again.")


def _folder(source: str) -> Path:
    """quarantine/<source>/, created if needed; QuarantineUnwritable when it cannot be."""
    folder = settings.lensan_home() / "quarantine" / source
    try:
        private_dir(settings.home_dir("quarantine") / source)
        if not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    except OSError as exc:
        raise QuarantineUnwritable(folder, exc) from exc
    return folder


def quarantined(source: str, name: str, error: LandingError, target: Path | None) -> Quarantined:
    """What the batch summary says of a quarantined file."""
    return Quarantined(source, name, error.code, error.message_vi, error.message_en,
                       str(target) if target is not None else "")


def _write_reason(reason: Path, error: LandingError, name: str, source: str, sha: str | None) -> None:
    payload = error.as_dict() | {"file": name, "source": source, "sha256": sha,
                                 "quarantined_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    fd = os.open(reason, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=2)


def move(path: Path, source: str, name: str, sha: str, error: LandingError) -> Path:
    """Move the file to quarantine/<source>/ (under `<sha12>__<name>` if the name is taken) with its
    reason file; the quarantined file's path."""
    folder = _folder(source)
    target = folder / safe_name(name)
    if target.exists() or (folder / (target.name + REASON_SUFFIX)).exists():
        target = folder / f"{sha[:12]}__{safe_name(name)}"
    try:
        _write_reason(folder / (target.name + REASON_SUFFIX), error, name, source, sha)
        try:
            os.replace(path, target)
        except FileNotFoundError:
            pass  # a concurrent run moved it
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.copy2(path, target)  # another file system: copy then remove
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise QuarantineUnwritable(folder, exc) from exc
    try:
        if not target.is_symlink():
            os.chmod(target, 0o600)
    except FileNotFoundError:
        pass
    return target


def refuse(conn, path: Path, record: dict, error: LandingError, archived: bool) -> Quarantined:
    """A bad file: roll back its load, move it to quarantine and commit its quarantined row, which points
    at the archive copy — or at the quarantined file when it was refused without archiving (too large)."""
    source, name = record["source"], record["name"]
    conn.rollback()
    target = move(path, source, name, record["sha"], error)
    if not archived:
        record = record | {"archive_path": target}
    with conn.cursor() as cur:
        insert_landed(cur, **record, entity=None, status="quarantined", error=error)
    conn.commit()
    log.warning("quarantine %s: %s", log_name(source, name, record["sha"]), scrub(error.message_en, name))
    return quarantined(source, name, error, target)


def _link_pseudo_sha(path: Path) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return hashlib.sha256(f"not-a-regular-file:{path.name}:{target}".encode("utf-8", "surrogateescape")).hexdigest()


def refuse_special(conn, source: str, path: Path) -> Quarantined | None:
    """A symlink / FIFO / device in landing: never opened or followed. Its target is recorded in a reason
    file under quarantine/<source>/, a quarantined row in raw.landed_files, and the entry is removed.
    None if a concurrent run refused it first."""
    name = path.name
    try:
        target = os.readlink(path) if path.is_symlink() else None
    except FileNotFoundError:
        return None   # gone meanwhile (a concurrent run refused it)
    except OSError:
        target = None
    kind = "symbolic link" if target is not None else "special file (FIFO/device/socket)"
    kind_vi = "liên kết tượng trưng (symlink)" if target is not None else "tệp đặc biệt (FIFO/thiết bị)"
    error = LandingError("UNSAFE_FILE", reason=f"{kind} is not followed", reason_vi=f"{kind_vi} không được mở",
                         link_target=target)
    sha = _link_pseudo_sha(path)
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (lock_key(sha),))
        if not os.path.lexists(path):        # refused by a concurrent run while we waited
            conn.rollback()
            return None
        folder = _folder(source)
        reason = folder / (f"{sha[:12]}__{safe_name(name)}" + REASON_SUFFIX)
        try:
            _write_reason(reason, error, name, source, None)
        except OSError as exc:
            raise QuarantineUnwritable(folder, exc) from exc
        cur.execute("select 1 from raw.landed_files where sha256 = %s", (sha,))
        if cur.fetchone() is None:
            now = dt.datetime.now(dt.timezone.utc)
            insert_landed(cur, sha=sha, source=source, entity=None, name=name, archive_path=reason, size=0,
                          arrived_at=now, status="quarantined", error=error)
        path.unlink(missing_ok=True)   # removes the link itself, never its target
    conn.commit()
    log.warning("quarantine %s: %s", log_name(source, name, sha), scrub(error.message_en, name))
    return quarantined(source, name, error, None)

"""Delivery of a published revision: outbox folder (default), SFTP and e-mail.

A published revision is an immutable directory written by `lensan.publish.service`::

    LENSAN_HOME/exports/<period_type>/<period_key>/<scope>/rev-<n>/
        *.xlsx  *.csv  *.json  manifest.json      (manifest: SHA-256 of every file)

`deliver(revision_dir, channels)` sends it over each channel and returns one `DeliveryResult` per
channel. Every channel first verifies every file against manifest.json; a mismatch is a failure and
nothing is delivered over that channel.

Channels
  outbox  copy to LENSAN_HOME/outbox/<period_type>/<period_key>/<scope>/rev-<n>/: the files are
          written to a hidden temporary sibling directory, verified again there, then the directory
          is renamed into place (atomic; a reader never sees half a revision).
  sftp    Airflow connection `lensan_sftp` (env LENSAN_SFTP_CONN_ID), used through the SFTP
          provider's SFTPHook: host/port/login/password, extras `key_file`, `private_key`,
          `host_key`, `no_host_key_check`, ... as the provider documents them, plus lensan's extras
          `remote_base` (default `lensan`, relative to the login directory), `conn_retry_attempts`
          (default 3) and `rename_dir` (default true). The files are uploaded as `<name>.part` into
          `<remote_base>/<period_type>/<period_key>/<scope>/.rev-<n>.tmp-*`, each size checked and
          renamed, then the directory is renamed to `rev-<n>` and its listing (names and sizes)
          checked again. With `rename_dir: false` (servers that cannot rename directories) the
          files go straight into `rev-<n>/`, manifest.json last, so a `rev-<n>/` without
          manifest.json is an interrupted upload (it is removed and redone on the next attempt).
  email   Airflow connection `lensan_smtp` (env LENSAN_SMTP_CONN_ID), through the SMTP provider's
          SmtpHook; one message with the XLSX and CSV files attached, Vietnamese subject, short
          Vietnamese + English body with the manifest summary. Recipients: env
          LENSAN_REPORT_RECIPIENTS (comma/semicolon separated) if set, else the connection extra
          `recipients` (list or string). Sender: extra `from_email`, else env LENSAN_REPORT_SENDER,
          else `lensan@localhost`. The Message-ID is derived from the revision, so a message sent
          twice (a crash between sending and recording it) is recognisably the same message.

Connections are read with Airflow's normal lookup (secrets backends, then `AIRFLOW_CONN_<ID>`
environment variables in URI or JSON form), so no metadata database is needed.

Idempotency: every attempt is appended to LENSAN_HOME/delivery/ledger.jsonl (one JSON object per
line: time, channel, revision, manifest SHA-256, target, status, detail). A revision already
delivered to the same channel and target (with the same manifest) is skipped. Deliveries of the
same revision over the same channel are serialised with a file lock. If any channel fails, the
others are still attempted and `DeliveryError` is raised at the end (the Airflow task then retries;
channels that succeeded are skipped on the retry).

Manifest shapes accepted (the file list is the contract; other keys are reported in the e-mail):
  {"files": [{"name"|"path"|"file"|"filename": "x.xlsx", "sha256": "...", "bytes"|"size": 123}]}
  {"files": {"x.xlsx": "<sha256>"}}  or  {"files": {"x.xlsx": {"sha256": "...", "bytes": 123}}}
  {"sha256": {"x.xlsx": "<sha256>"}} (also key "checksums")
Optional keys used: period_type, period_key, revision (cross-checked with the path), scope_name or
scope.name (for the subject), generated_at, row_counts, gate (its status), quality_flags,
source_files / source_file_count. This is the shape lensan.publish.service writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import logging
import os
import posixpath
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from lensan import settings
from lensan.settings import home_dir
from lensan.db.locks import file_lock

log = logging.getLogger(__name__)

CHANNELS = ("outbox", "sftp", "email")
DEFAULT_SFTP_CONN_ID = "lensan_sftp"
DEFAULT_SMTP_CONN_ID = "lensan_smtp"
DEFAULT_REMOTE_BASE = "lensan"
MANIFEST_NAME = "manifest.json"

_REV_RE = re.compile(r"^rev-(\d+)$")

# period_type (directory name) -> (Vietnamese, English) label of the report
_PERIOD_LABELS = {
    "week": ("tuần", "weekly"),
    "weekly": ("tuần", "weekly"),
    "month": ("tháng", "monthly"),
    "monthly": ("tháng", "monthly"),
    "half_year": ("6 tháng", "half-year"),
    "half-year": ("6 tháng", "half-year"),
    "halfyear": ("6 tháng", "half-year"),
    "year": ("năm", "year-end"),
    "year_end": ("năm", "year-end"),
    "annual": ("năm", "year-end"),
}


class DeliveryError(RuntimeError):
    """A delivery failed; `results` holds the outcome of every channel attempted."""

    def __init__(self, message: str, results: list[DeliveryResult] | None = None):
        super().__init__(message)
        self.results = results or []


class ManifestError(DeliveryError):
    """manifest.json is missing, unreadable, or does not match the files."""


@dataclass(frozen=True)
class DeliveryResult:
    channel: str
    revision_dir: Path
    status: str  # delivered | skipped | failed
    detail: str


@dataclass(frozen=True)
class ManifestFile:
    name: str  # relative POSIX path inside the revision
    sha256: str
    size: int | None


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
        m = self.manifest
        if isinstance(m.get("scope_name"), str) and m["scope_name"]:
            return m["scope_name"]
        scope = m.get("scope")
        if isinstance(scope, dict):
            for key in ("name", "scope_name", "name_vi"):
                if isinstance(scope.get(key), str) and scope[key]:
                    return scope[key]
        return self.scope


# --------------------------------------------------------------------------------------------
# manifest and checksums


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _clean_hex(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ManifestError(f"manifest: no SHA-256 for {where}")
    value = value.strip().lower()
    if value.startswith("sha256:"):
        value = value[len("sha256:") :]
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ManifestError(f"manifest: invalid SHA-256 {value!r} for {where}")
    return value


def _safe_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise ManifestError(f"manifest: invalid file name {name!r}")
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or str(p) in ("", "."):
        raise ManifestError(f"manifest: file name {name!r} escapes the revision directory")
    return str(p)


def _entry(name: Any, info: Any) -> ManifestFile:
    name = _safe_name(name)
    size = None
    if isinstance(info, dict):
        digest = next((info[k] for k in ("sha256", "sha_256", "checksum", "hash") if k in info), None)
        raw_size = next((info[k] for k in ("bytes", "size", "size_bytes") if k in info), None)
        if raw_size is not None:
            try:
                size = int(raw_size)
            except (TypeError, ValueError) as exc:
                raise ManifestError(f"manifest: invalid size {raw_size!r} for {name}") from exc
    else:
        digest = info
    return ManifestFile(name=name, sha256=_clean_hex(digest, name), size=size)


def manifest_files(manifest: dict[str, Any]) -> tuple[ManifestFile, ...]:
    """The files a manifest lists, with their SHA-256 (and size when given)."""
    entries: list[ManifestFile] = []
    files = manifest.get("files")
    if isinstance(files, list):
        for item in files:
            if not isinstance(item, dict):
                raise ManifestError(f"manifest: unexpected file entry {item!r}")
            name = next((item[k] for k in ("name", "path", "file", "filename") if k in item), None)
            entries.append(_entry(name, item))
    elif isinstance(files, dict):
        entries = [_entry(name, info) for name, info in files.items()]
    else:
        for key in ("sha256", "checksums"):
            if isinstance(manifest.get(key), dict):
                entries = [_entry(name, digest) for name, digest in manifest[key].items()]
                break
    entries = [e for e in entries if e.name != MANIFEST_NAME]
    if not entries:
        raise ManifestError("manifest: lists no files with their SHA-256")
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise ManifestError("manifest: a file is listed twice")
    return tuple(entries)


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
        if f.size is not None and p.stat().st_size != f.size:
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
    if isinstance(declared, dict):
        declared = declared.get("number")
    if declared is not None and str(declared) != str(number):
        raise ManifestError(f"{path}: manifest says revision {declared!r}, directory says rev-{number}")
    declared = manifest.get("period_key")
    if isinstance(declared, str) and declared != period_key:
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


# --------------------------------------------------------------------------------------------
# ledger


def ledger_path() -> Path:
    return home_dir("delivery") / "ledger.jsonl"


def ledger_entries() -> list[dict[str, Any]]:
    path = ledger_path()
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a torn line never hides the others
    return entries


def _record(rev: Revision, channel: str, target: str, status: str, detail: str) -> None:
    entry = {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "channel": channel,
        "revision": rev.key,
        "revision_dir": str(rev.path),
        "manifest_sha256": rev.manifest_sha256,
        "target": target,
        "status": status,
        "detail": detail,
    }
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    with file_lock(ledger_path(), "ab") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def _already_delivered(rev: Revision, channel: str, target: str) -> dict[str, Any] | None:
    for entry in reversed(ledger_entries()):
        if (
            entry.get("channel") == channel
            and entry.get("revision") == rev.key
            and entry.get("target") == target
            and entry.get("manifest_sha256") == rev.manifest_sha256
            and entry.get("status") == "delivered"
        ):
            return entry
    return None


@contextlib.contextmanager
def _channel_lock(rev: Revision, channel: str) -> Iterator[None]:
    name = hashlib.sha256(f"{channel}|{rev.key}".encode()).hexdigest()[:32]
    with file_lock(home_dir("delivery") / "locks" / f"{name}.lock", "w", make_parents=True):
        yield


# --------------------------------------------------------------------------------------------
# channels: each returns (target, detail) or raises; `plan` gives the target without side effects


class _Channel:
    name = ""

    def target(self, rev: Revision) -> str:
        raise NotImplementedError

    def already_there(self, rev: Revision) -> str | None:
        """Detail if the revision is verifiably at the target already (ledger lost), else None."""
        return None

    def send(self, rev: Revision) -> tuple[str, str]:
        """Deliver; returns (status, detail) with status "delivered" or "skipped" (already there)."""
        raise NotImplementedError


class _Outbox(_Channel):
    name = "outbox"

    def final_dir(self, rev: Revision) -> Path:
        return home_dir("outbox").joinpath(*rev.rel.parts)

    def target(self, rev: Revision) -> str:
        return str(self.final_dir(rev))

    def _matches(self, rev: Revision, final: Path) -> bool:
        expected = set(rev.all_names())
        present = {str(p.relative_to(final).as_posix()) for p in final.rglob("*") if p.is_file()}
        if present != expected:
            return False
        try:
            verify_files(final, rev.files)
        except ManifestError:
            return False
        return sha256_file(final / MANIFEST_NAME) == rev.manifest_sha256

    def already_there(self, rev: Revision) -> str | None:
        final = self.final_dir(rev)
        if not final.exists():
            return None
        if self._matches(rev, final):
            return f"already in outbox {final}"
        raise DeliveryError(
            f"outbox {final} already exists with different content; a delivered revision is never "
            "overwritten (remove it by hand if it is known to be damaged)"
        )

    def send(self, rev: Revision) -> tuple[str, str]:
        final = self.final_dir(rev)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        try:
            for name in rev.all_names():
                dst = tmp / name
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(rev.path / name, dst)
                with open(dst, "rb") as fh:
                    os.fsync(fh.fileno())
                os.chmod(dst, 0o444)  # delivered revisions are read-only, like the exports
            # after copying: the copy must match the manifest, and be the manifest we verified
            verify_files(tmp, rev.files)
            if sha256_file(tmp / MANIFEST_NAME) != rev.manifest_sha256:
                raise ManifestError(f"{tmp}: manifest.json changed while copying")
            os.chmod(tmp, 0o755)
            try:
                os.rename(tmp, final)  # atomic; fails if a concurrent delivery got there first
            except OSError:
                if final.exists() and self._matches(rev, final):
                    return "skipped", f"already in outbox {final}"
                raise
            _fsync_dir(final.parent)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return "delivered", f"copied {len(rev.all_names())} files to {final}, SHA-256 verified"


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _get_connection(conn_id: str, env_hint: str):
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException and friends
        raise DeliveryError(
            f"Airflow connection {conn_id!r} is not available ({exc}); define it (e.g. env "
            f"AIRFLOW_CONN_{conn_id.upper()}) or set {env_hint}"
        ) from exc


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class _Sftp(_Channel):
    name = "sftp"

    def __init__(self, conn_id: str):
        self.conn_id = conn_id
        self._conn = None

    @property
    def conn(self):
        if self._conn is None:
            self._conn = _get_connection(self.conn_id, "LENSAN_SFTP_CONN_ID")
        return self._conn

    def remote_dir(self, rev: Revision) -> str:
        base = str(self.conn.extra_dejson.get("remote_base") or DEFAULT_REMOTE_BASE).rstrip("/") or "/"
        return posixpath.join(base, *rev.rel.parts)

    def target(self, rev: Revision) -> str:
        c = self.conn
        return f"sftp://{c.login or ''}@{c.host}:{c.port or 22}/{self.remote_dir(rev).lstrip('/')}"

    def _hook(self):
        from airflow.providers.sftp.hooks.sftp import SFTPHook

        extra = self.conn.extra_dejson
        kwargs: dict[str, Any] = {}
        if "conn_retry_attempts" in extra:
            kwargs["conn_retry_attempts"] = int(extra["conn_retry_attempts"])
        try:
            return SFTPHook(ssh_conn_id=self.conn_id, **kwargs)
        except Exception as exc:
            raise DeliveryError(f"SFTP connection {self.conn_id!r} is misconfigured: {exc}") from exc

    @staticmethod
    def _listing(sftp, path: str) -> dict[str, int] | None:
        """{relative name: size} of the files under `path`, or None if it does not exist."""
        import stat as stat_mod

        try:
            sftp.stat(path)
        except OSError:
            return None
        out: dict[str, int] = {}
        stack = [""]
        while stack:
            rel = stack.pop()
            for attr in sftp.listdir_attr(posixpath.join(path, rel) if rel else path):
                name = posixpath.join(rel, attr.filename) if rel else attr.filename
                if stat_mod.S_ISDIR(attr.st_mode or 0):
                    stack.append(name)
                else:
                    out[name] = attr.st_size
        return out

    def _expected(self, rev: Revision) -> dict[str, int]:
        return {name: rev.size_of(name) for name in rev.all_names()}

    def _makedirs(self, sftp, path: str) -> None:
        parts = PurePosixPath(path).parts
        current = ""
        for part in parts:
            current = posixpath.join(current, part) if current else part
            if current in ("/", "."):
                continue
            try:
                sftp.stat(current)
            except OSError:
                with contextlib.suppress(OSError):
                    sftp.mkdir(current)
                sftp.stat(current)  # raises if it still does not exist

    def _rmtree(self, sftp, path: str) -> None:
        import stat as stat_mod

        with contextlib.suppress(OSError):
            for attr in sftp.listdir_attr(path):
                child = posixpath.join(path, attr.filename)
                if stat_mod.S_ISDIR(attr.st_mode or 0):
                    self._rmtree(sftp, child)
                else:
                    sftp.remove(child)
            sftp.rmdir(path)

    def _check_existing(self, rev: Revision, sftp, final: str, atomic: bool) -> str | None:
        listing = self._listing(sftp, final)
        if listing is None:
            return None
        if listing == self._expected(rev):
            return f"already on SFTP server at {final} (sizes verified)"
        if not atomic and MANIFEST_NAME not in listing:
            # an interrupted upload of ours (manifest.json goes last): start it again
            self._rmtree(sftp, final)
            return None
        raise DeliveryError(
            f"SFTP {final} already exists with different content ({sorted(listing)}); "
            "a delivered revision is never overwritten"
        )

    def send(self, rev: Revision) -> tuple[str, str]:
        hook = self._hook()
        final = self.remote_dir(rev)
        parent = posixpath.dirname(final)
        expected = self._expected(rev)
        # rename_dir=false: for servers that cannot rename directories (object-store backed);
        # files then go straight into rev-<n>/, each via <name>.part, manifest.json last.
        atomic = str(self.conn.extra_dejson.get("rename_dir", "true")).strip().lower() != "false"
        try:
            with hook.get_managed_conn() as sftp:
                existing = self._check_existing(rev, sftp, final, atomic)
                if existing:
                    return "skipped", existing
                self._makedirs(sftp, parent)
                if atomic:
                    work = posixpath.join(parent, f".{posixpath.basename(final)}.tmp-{uuid.uuid4().hex[:12]}")
                else:
                    work = final
                sftp.mkdir(work)
                done = False
                try:
                    for name in rev.all_names():  # manifest.json last
                        remote = posixpath.join(work, name)
                        if posixpath.dirname(name):
                            self._makedirs(sftp, posixpath.dirname(remote))
                        part = remote + ".part"
                        sftp.put(str(rev.path / name), part, confirm=True)
                        size = sftp.stat(part).st_size
                        if size != expected[name]:
                            raise DeliveryError(
                                f"SFTP upload of {name}: remote size {size} != local {expected[name]}"
                            )
                        sftp.rename(part, remote)
                    if atomic:
                        try:
                            sftp.rename(work, final)
                        except OSError:
                            # a concurrent delivery may have won the race
                            existing = self._check_existing(rev, sftp, final, atomic)
                            if existing:
                                return "skipped", existing
                            raise
                    done = True
                finally:
                    if not done:  # failed, or lost the race: leave nothing half-uploaded
                        self._rmtree(sftp, work)
                listing = self._listing(sftp, final)
                if listing != expected:
                    raise DeliveryError(
                        f"SFTP {final}: remote listing {listing} does not match the revision {expected}"
                    )
        except DeliveryError:
            raise
        except Exception as exc:
            raise DeliveryError(
                f"SFTP delivery to {self.target(rev)} via connection {self.conn_id!r} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        host = f"{self.conn.host}:{self.conn.port or 22}"
        return "delivered", f"uploaded {len(expected)} files to {final} on {host}, sizes verified"


def _split_addresses(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = re.split(r"[,;\s]+", value)
    elif isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        raise DeliveryError(f"invalid recipients {value!r}")
    return [i.strip() for i in items if i and i.strip()]


class _Email(_Channel):
    name = "email"

    def __init__(self, conn_id: str):
        self.conn_id = conn_id
        self._conn = None

    @property
    def conn(self):
        if self._conn is None:
            self._conn = _get_connection(self.conn_id, "LENSAN_SMTP_CONN_ID")
        return self._conn

    def recipients(self) -> list[str]:
        env = settings.load().report_recipients
        recipients = _split_addresses(env) if env else _split_addresses(
            self.conn.extra_dejson.get("recipients") or self.conn.extra_dejson.get("to")
        )
        if not recipients:
            raise DeliveryError(
                f"no e-mail recipients: set LENSAN_REPORT_RECIPIENTS or the extra 'recipients' of "
                f"connection {self.conn_id!r}"
            )
        return recipients

    def sender(self) -> str:
        return (
            self.conn.extra_dejson.get("from_email")
            or settings.load().report_sender
            or "lensan@localhost"
        )

    def target(self, rev: Revision) -> str:
        return f"smtp://{self.conn.host}:{self.conn.port} to " + ",".join(sorted(self.recipients()))

    def send(self, rev: Revision) -> tuple[str, str]:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        recipients = self.recipients()
        attachments = [
            str(rev.path / f.name) for f in rev.files if f.name.lower().endswith((".xlsx", ".csv"))
        ]
        if not attachments:
            raise DeliveryError(f"{rev.path}: no XLSX or CSV file to attach")
        message_id = (
            f"<lensan.{'.'.join(rev.rel.parts)}.{rev.manifest_sha256[:16]}@lensan.local>"
        )
        try:
            with SmtpHook(smtp_conn_id=self.conn_id) as hook:
                hook.send_email_smtp(
                    to=recipients,
                    subject=email_subject(rev),
                    html_content=email_body(rev),
                    from_email=self.sender(),
                    files=attachments,
                    custom_headers={
                        "Message-ID": message_id,
                        "X-Lensan-Revision": rev.key,
                        "X-Lensan-Manifest-SHA256": rev.manifest_sha256,
                    },
                )
        except DeliveryError:
            raise
        except Exception as exc:
            raise DeliveryError(
                f"e-mail delivery via connection {self.conn_id!r} "
                f"({self.conn.host}:{self.conn.port}) failed: {type(exc).__name__}: {exc}"
            ) from exc
        names = ", ".join(Path(a).name for a in attachments)
        return "delivered", f"sent to {', '.join(recipients)} with {names}"


# --------------------------------------------------------------------------------------------
# e-mail content


def period_label(period_type: str) -> tuple[str, str]:
    return _PERIOD_LABELS.get(period_type, (period_type, period_type))


def email_subject(rev: Revision) -> str:
    vi, _ = period_label(rev.period_type)
    return f"[lensan] Báo cáo {vi} {rev.period_key} — {rev.scope_name} (lần {rev.number})"


def _summary_items(rev: Revision) -> list[tuple[str, str]]:
    m = rev.manifest
    items = [
        ("Kỳ báo cáo / Period", f"{rev.period_type} {rev.period_key}"),
        ("Phạm vi / Scope", f"{rev.scope_name} ({rev.scope})"),
        ("Lần phát hành / Revision", str(rev.number)),
    ]
    if m.get("generated_at"):
        items.append(("Thời điểm tạo / Generated at", str(m["generated_at"])))
    gate = m.get("gate", m.get("quality_gate", m.get("gate_result")))
    if gate is not None:
        if isinstance(gate, dict):
            gate = gate.get("status") or gate.get("result") or json.dumps(gate, ensure_ascii=False)
        items.append(("Kiểm tra chất lượng / Quality gate", str(gate)))
    rows = m.get("row_counts")
    if isinstance(rows, dict):
        items.append(("Số dòng / Rows", ", ".join(f"{k}: {v}" for k, v in rows.items())))
    elif rows is not None:
        items.append(("Số dòng / Rows", str(rows)))
    flags = m.get("quality_flags")
    if isinstance(flags, list) and flags:
        items.append(("Cảnh báo chất lượng / Quality flags", ", ".join(map(str, flags))))
    landed = m.get("source_files", m.get("landed_files"))
    count = m.get("source_file_count", len(landed) if isinstance(landed, list) else None)
    if count is not None:
        items.append(("Tệp nguồn / Source files", str(count)))
    items.append(("SHA-256 manifest.json", rev.manifest_sha256))
    return items


def email_body(rev: Revision) -> str:
    vi, en = period_label(rev.period_type)
    e = html.escape
    rows = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in _summary_items(rev))
    files = "".join(
        f"<tr><td>{e(f.name)}</td><td>{rev.size_of(f.name)}</td><td><code>{f.sha256}</code></td></tr>"
        for f in rev.files
    )
    return (
        "<html><body>"
        "<p>Kính gửi Quý cơ quan,</p>"
        f"<p>Hệ thống lensan gửi kèm báo cáo {e(vi)} {e(rev.period_key)} "
        f"— {e(rev.scope_name)}, lần phát hành {rev.number} (tệp XLSX và CSV đính kèm). "
        "Mã SHA-256 dưới đây dùng để kiểm tra tính toàn vẹn của tệp.</p>"
        f"<p>Dear colleagues, attached is the lensan {e(en)} report {e(rev.period_key)} for "
        f"{e(rev.scope_name)}, revision {rev.number} (XLSX and CSV). The SHA-256 checksums below "
        "let you verify the files.</p>"
        f"<table border='1' cellpadding='3'>{rows}</table>"
        "<p>Tệp / Files:</p>"
        "<table border='1' cellpadding='3'>"
        f"<tr><th>Tệp / File</th><th>Bytes</th><th>SHA-256</th></tr>{files}</table>"
        "<p>Thư này được gửi tự động. / This message was sent automatically.</p>"
        "</body></html>"
    )


# --------------------------------------------------------------------------------------------
# entry point


def _channels_from_env() -> list[str]:
    return list(settings.load().delivery_channels)


def _make_channel(name: str, sftp_conn_id: str | None, smtp_conn_id: str | None) -> _Channel:
    if name == "outbox":
        return _Outbox()
    if name == "sftp":
        return _Sftp(sftp_conn_id or settings.load().sftp_conn_id)
    if name == "email":
        return _Email(smtp_conn_id or settings.load().smtp_conn_id)
    raise ValueError(f"unknown delivery channel {name!r}; expected one of {', '.join(CHANNELS)}")


def _deliver_one(rev: Revision, channel: _Channel) -> DeliveryResult:
    target = "?"
    try:
        target = channel.target(rev)
        with _channel_lock(rev, channel.name):
            done = _already_delivered(rev, channel.name, target)
            if done:
                return DeliveryResult(
                    channel.name, rev.path, "skipped", f"already delivered at {done.get('at')} to {target}"
                )
            verify_files(rev.path, rev.files)  # again, right before sending
            there = channel.already_there(rev)
            if there:
                _record(rev, channel.name, target, "delivered", there)
                return DeliveryResult(channel.name, rev.path, "skipped", there)
            status, detail = channel.send(rev)
            _record(rev, channel.name, target, "delivered", detail)
            return DeliveryResult(channel.name, rev.path, status, detail)
    except Exception as exc:
        detail = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(Exception):
            _record(rev, channel.name, target, "failed", detail)
        return DeliveryResult(channel.name, rev.path, "failed", detail)


def deliver(
    revision_dir: Path | str,
    channels: list[str] | None = None,
    *,
    sftp_conn_id: str | None = None,
    smtp_conn_id: str | None = None,
) -> list[DeliveryResult]:
    """Deliver a published revision over `channels` (default: env LENSAN_DELIVERY_CHANNELS, else
    ["outbox"]). Returns one result per channel (delivered or skipped); raises DeliveryError
    (with `.results`) if the revision does not verify or any channel failed, after trying all."""
    names = list(dict.fromkeys(channels if channels is not None else _channels_from_env()))
    if not names:
        raise ValueError("no delivery channel given")
    handlers = [_make_channel(n, sftp_conn_id, smtp_conn_id) for n in names]
    try:
        rev = load_revision(revision_dir)
    except DeliveryError as exc:
        path = Path(revision_dir)
        results = [DeliveryResult(n, path, "failed", str(exc)) for n in names]
        _record_unloadable(path, names, str(exc))
        raise type(exc)(f"delivery of {path} refused: {exc}", results) from exc
    results = [_deliver_one(rev, h) for h in handlers]
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise DeliveryError(
            f"delivery of {rev.key} failed on {', '.join(r.channel for r in failed)}: "
            + " | ".join(f"{r.channel}: {r.detail}" for r in failed),
            results,
        )
    return results


def _record_unloadable(path: Path, channels: list[str], detail: str) -> None:
    """Record a refused delivery (the revision did not verify) in the ledger."""
    with contextlib.suppress(Exception):
        p = path.resolve()
        key = "/".join(p.parts[-4:])
        line = {
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "revision": key,
            "revision_dir": str(p),
            "manifest_sha256": None,
            "target": None,
            "status": "failed",
            "detail": detail,
        }
        with file_lock(ledger_path(), "ab") as fh:
            for channel in channels:
                fh.write((json.dumps({**line, "channel": channel}, ensure_ascii=False) + "\n").encode())
            fh.flush()


def result_dicts(results: list[DeliveryResult]) -> list[dict[str, str]]:
    """JSON-friendly results (for XCom)."""
    return [{**asdict(r), "revision_dir": str(r.revision_dir)} for r in results]


def deliver_published(summary: dict) -> list[dict[str, str]]:
    """Deliver the current revision of every scope of a publish summary (`published`: new revisions,
    `unchanged`: the latest one, equal to what would be published now).

    The ledger skips revisions already delivered, so an unchanged revision goes out only if it never
    did — e.g. a publish task that wrote a revision and then crashed, whose retry finds it unchanged.
    Every revision is tried; then, if any channel failed, raise so the Airflow task retries (channels
    already delivered are skipped on the retry). Returns JSON-friendly results.
    """
    results: list[dict[str, str]] = []
    errors = []
    for pub in (summary.get("published") or []) + (summary.get("unchanged") or []):
        try:
            results += result_dicts(deliver(pub["path"]))
        except DeliveryError as exc:
            results += result_dicts(exc.results)
            errors.append(str(exc))
    for r in results:
        log.info("Gửi / delivery %s %s: %s", r["channel"], r["status"], r["revision_dir"])
    if errors:
        raise DeliveryError("Gửi báo cáo thất bại / delivery failed:\n" + "\n".join(errors))
    return results

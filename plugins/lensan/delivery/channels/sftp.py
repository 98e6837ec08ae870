"""The sftp channel: an upload to the ministry's SFTP server through the SFTP provider's SFTPHook.

Airflow connection `lensan_sftp` (LENSAN_SFTP_CONN_ID): host/port/login/password, extras `key_file`,
`private_key`, `host_key`, `no_host_key_check`, ... as the provider documents them, plus lensan's extras
`remote_base` (default `lensan`, relative to the login directory), `conn_retry_attempts` (default 3) and
`rename_dir` (default true).

The files are uploaded as `<name>.part` into `<remote_base>/<period_type>/<period_key>/<scope>/.rev-<n>.tmp-*`,
each size checked and renamed, then the directory is renamed to `rev-<n>` and its listing (names and sizes)
checked again. With `rename_dir: false` (servers that cannot rename directories) the files go straight
into `rev-<n>/`, manifest.json last, so a `rev-<n>/` without manifest.json is an interrupted upload (it is
removed and redone on the next attempt). An existing different `rev-<n>/` is never overwritten.
"""

from __future__ import annotations

import contextlib
import posixpath
import stat as stat_mod
import uuid
from pathlib import PurePosixPath
from typing import Any

from lensan.delivery.channels.base import ConnectionChannel
from lensan.delivery.manifest import MANIFEST_NAME, Revision
from lensan.delivery.results import DeliveryError

DEFAULT_REMOTE_BASE = "lensan"


class Sftp(ConnectionChannel):
    name = "sftp"
    conn_env = "LENSAN_SFTP_CONN_ID"

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

"""The outbox channel (the default): a copy of the revision under LENSAN_HOME/outbox/.

Target: LENSAN_HOME/outbox/<period_type>/<period_key>/<scope>/rev-<n>/. The files are written to a hidden
temporary sibling directory, verified again there, then the directory is renamed into place (atomic; a
reader never sees half a revision). The copies are read-only; an existing different copy is never
overwritten.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from lensan.delivery.channels.base import Channel
from lensan.delivery.manifest import MANIFEST_NAME, ManifestError, Revision, sha256_file, verify_files
from lensan.delivery.results import DeliveryError
from lensan.settings import home_dir


class Outbox(Channel):
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
    """Make the rename durable (best effort: not every filesystem lets a directory be fsynced)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

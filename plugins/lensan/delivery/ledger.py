"""The delivery ledger, LENSAN_HOME/delivery/ledger.jsonl: every delivery attempt, one JSON object a line.

An entry::

    {"at": "2026-11-26T02:05:00+00:00", "channel": "outbox", "revision": "week/2026-W47/province-22/rev-1",
     "revision_dir": "/…/exports/week/2026-W47/province-22/rev-1", "manifest_sha256": "…",
     "target": "/…/outbox/week/2026-W47/province-22/rev-1", "status": "delivered", "detail": "…"}

status is "delivered" or "failed"; a revision refused before any channel was tried (its manifest did not
verify) has manifest_sha256 and target null. The ledger makes delivery idempotent: a revision already
delivered to the same channel and target, with the same manifest, is not sent again
(`already_delivered`). Deliveries of one revision over one channel are serialised by `channel_lock`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lensan.db.locks import file_lock
from lensan.delivery.manifest import Revision
from lensan.settings import home_dir


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


def entry(
    *,
    channel: str,
    revision: str,
    revision_dir: str,
    manifest_sha256: str | None,
    target: str | None,
    status: str,
    detail: str,
) -> dict[str, Any]:
    """One ledger line, stamped now (UTC)."""
    return {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "channel": channel,
        "revision": revision,
        "revision_dir": revision_dir,
        "manifest_sha256": manifest_sha256,
        "target": target,
        "status": status,
        "detail": detail,
    }


def append(entries: list[dict[str, Any]]) -> None:
    """Append entries under the ledger's lock, durably (a crash right after must not lose them)."""
    data = b"".join((json.dumps(e, ensure_ascii=False) + "\n").encode("utf-8") for e in entries)
    with file_lock(ledger_path(), "ab") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def record(rev: Revision, channel: str, target: str, status: str, detail: str) -> None:
    """Record one attempt to deliver `rev` over `channel`."""
    append([
        entry(channel=channel, revision=rev.key, revision_dir=str(rev.path), manifest_sha256=rev.manifest_sha256,
              target=target, status=status, detail=detail)
    ])


def already_delivered(rev: Revision, channel: str, target: str) -> dict[str, Any] | None:
    """The latest "delivered" entry of this revision (same manifest) over this channel to this target."""
    for e in reversed(ledger_entries()):
        if (
            e.get("channel") == channel
            and e.get("revision") == rev.key
            and e.get("target") == target
            and e.get("manifest_sha256") == rev.manifest_sha256
            and e.get("status") == "delivered"
        ):
            return e
    return None


@contextlib.contextmanager
def channel_lock(rev: Revision, channel: str) -> Iterator[None]:
    """Serialise deliveries of one revision over one channel (across processes)."""
    name = hashlib.sha256(f"{channel}|{rev.key}".encode()).hexdigest()[:32]
    with file_lock(home_dir("delivery") / "locks" / f"{name}.lock", "w", make_parents=True):
        yield

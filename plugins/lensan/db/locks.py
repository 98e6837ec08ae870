"""Exclusive advisory file locks.

Several processes (Airflow workers, the CLI, tests) share one LENSAN_HOME: the embedded warehouse,
publication periods and the delivery ledger live there. An fcntl lock on a file next to the
shared state serialises them; it is released when the block ends or the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def file_lock(path: Path, mode: str = "a+", *, make_parents: bool = False) -> Iterator[IO[Any]]:
    """Hold an exclusive lock on `path` (opened with `mode`) for the block; yield the open file.

    `make_parents` creates missing parent directories first. Callers that append to the locked
    file itself (a ledger) open it in "ab" and write through the yielded handle.
    """
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode) as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)

"""The raw and ops schemas: `schema/<name>.sql` is the only copy of their DDL.

`ensure(conn, "raw", "ops")` runs the files. They are idempotent (`create ... if not exists`) and each
takes one advisory lock first, so processes starting at once do not race on the same CREATE. dbt
runs `schema/ops.sql` too: the file is also the macro `lensan_ops_schema()` of its on-run-start
hook, through the link dbt_project/macros/ops.sql (a link to the file, not to this directory: dbt
does not descend into linked directories, and Cosmos runs dbt from a copy of the project made of
links, where a "../" macro path would not resolve).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from lensan.db import warehouse

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
NAMES = ("raw", "ops")


def path(name: str) -> Path:
    """The DDL file of schema `name` ("raw" or "ops")."""
    if name not in NAMES:
        raise ValueError(f"unknown schema {name!r}; expected one of {NAMES}")
    return SCHEMA_DIR / f"{name}.sql"


def ensure(conn, *names: str) -> None:
    """Create the schemas `names` (all of them when none is given) and commit.

    Without `conn` (None), on a connection of its own to the warehouse, closed afterwards."""
    if conn is None:
        conn = warehouse.connect()
        try:
            ensure(conn, *names)
        finally:
            conn.close()
        return
    with conn.cursor() as cur:
        for name in names or NAMES:
            cur.execute(path(name).read_text(encoding="utf-8"))
    conn.commit()


@contextlib.contextmanager
def ops_cursor(retries: int = 5):
    """A cursor on its own warehouse connection with the ops schema in place: the small writes and
    reads of the run log, alerts and gate results. Commits when the block succeeds; always closes."""
    conn = warehouse.connect(retries=retries)
    try:
        ensure(conn, "ops")
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    finally:
        conn.close()

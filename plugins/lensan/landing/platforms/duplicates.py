"""Exact duplicate rows of a platform extract: the same line delivered twice in one file (every raw
value equal) lands once.

The readers (`platforms.reference`, `platforms.fast`) read every row; `fast.copy_chunks` says when rows
may repeat (their 64-bit hashes do), and only then does landing run `collapse` on the file's freshly
copied rows: SQL compares the real values, so a hash collision never drops a row. The first line
(lowest row_number) is kept. `count_repeats` gives the same count without a database (`lensan check`).
"""

from __future__ import annotations

from typing import Iterable

from psycopg2 import sql

from lensan.landing.platforms.spec import Extract


def collapse(cur, extract: Extract, file_id: int) -> int:
    """Delete the exact repeats among the raw rows of one landed file (NULLs equal), keeping the first;
    the number of rows deleted."""
    # Two statements, not one DELETE ... USING: the file's rows were just copied, the table has no
    # statistics for them yet, and the planner then joined the repeats to the whole table by nested
    # loops (minutes per file as history grows). A list of row numbers is a primary-key lookup.
    table = sql.Identifier(extract.table)
    cur.execute(sql.SQL(
        """select r.row_number
           from (select "row_number", row_number() over (partition by {columns} order by "row_number") as k
                 from raw.{table} where file_id = %(file_id)s) as r
           where r.k > 1""").format(
        table=table, columns=sql.SQL(", ").join(sql.Identifier(c) for c in extract.columns)),
        {"file_id": file_id})
    repeats = [row_number for (row_number,) in cur.fetchall()]
    if not repeats:
        return 0
    cur.execute(sql.SQL("delete from raw.{table} where file_id = %(file_id)s and row_number = any(%(rows)s)").format(
        table=table), {"file_id": file_id, "rows": repeats})
    return cur.rowcount


def count_repeats(rows: Iterable[tuple]) -> int:
    """How many rows repeat an earlier one exactly."""
    seen: set[tuple] = set()
    repeats = 0
    for row in rows:
        if row in seen:
            repeats += 1
        else:
            seen.add(row)
    return repeats

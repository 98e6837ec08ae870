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
    cur.execute(sql.SQL(
        """delete from raw.{table} as t
           using (select r.row_number
                  from (select "row_number", row_number() over (partition by {columns} order by "row_number") as k
                        from raw.{table} where file_id = %(file_id)s) as r
                  where r.k > 1) as d
           where t.file_id = %(file_id)s and t.row_number = d.row_number""").format(
        table=sql.Identifier(extract.table), columns=sql.SQL(", ").join(sql.Identifier(c) for c in extract.columns)),
        {"file_id": file_id})
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

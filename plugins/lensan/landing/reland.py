"""Key rotation: rebuild every loaded file's raw rows from its archive copy with the current pseudonym key
(see docs/security.md)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from psycopg2 import sql

from lensan.landing import archive, ledger, load
from lensan.landing.errors import LandingError
from lensan.landing.parsers import household_register
from lensan.landing.platforms import spec
from lensan.landing.loader import ensure_raw_schema
from lensan.landing.results import Landed, LandingSummary

log = logging.getLogger("lensan.landing")


def reland_all(conn=None) -> LandingSummary:
    """Re-load every loaded file from its archive copy with the *current* pseudonym key.

    This is how the pseudonym key is rotated: a keyed hash cannot be re-keyed from the hashes alone,
    so the raw rows are rebuilt from the byte-identical archive. Set the new LENSAN_PSEUDONYM_KEY (or
    replace LENSAN_HOME/secrets/pseudonym.key), call this, then rebuild dbt (`dbt build --full-refresh`).
    One transaction: the raw layer is swapped whole or not at all (a missing or unreadable archive
    file aborts it). file_id, arrival times and quarantined rows are kept; landing is blocked meanwhile.
    The keyed hash of each file's first name is recomputed from its archive name; those of later
    deliveries (raw.deliveries), whose names no file keeps, stay under the old key: such a name
    delivered again counts as one more delivery (same meaning, so nothing changes downstream).
    """
    from lensan.db import warehouse

    started = time.perf_counter()
    own = conn is None
    conn = conn or warehouse.connect()
    summary = LandingSummary()
    try:
        ensure_raw_schema(conn)
        hasher = load.make_hasher()
        with conn.cursor() as cur:
            cur.execute("lock table raw.landed_files in exclusive mode")
            cur.execute("""select file_id, sha256, source, archive_dir, size_bytes, arrived_at, withdrawn_at,
                                  withdrawn_reason, file_date
                           from raw.landed_files where status = 'loaded' order by file_id""")
            files = cur.fetchall()
            # the tables of rows (not views; raw.deliveries is kept: it points at file_ids that stay)
            cur.execute("""select c.table_name from information_schema.columns as c
                           join information_schema.tables as t using (table_schema, table_name)
                           where c.table_schema = 'raw' and c.column_name = 'file_id' and t.table_type = 'BASE TABLE'
                             and c.table_name not in ('landed_files', 'deliveries')""")
            tables = sorted((r[0] for r in cur.fetchall()), key=lambda t: (t != "weekly_form_rows", t))
            for table in tables:   # children first (weekly_form_rows -> weekly_forms)
                cur.execute(sql.SQL("delete from raw.{} where file_id in (select file_id from raw.landed_files "
                                    "where status = 'loaded')").format(sql.Identifier(table)))
            cur.execute("delete from raw.landed_files where status = 'loaded'")
            for file_id, sha, source, folder, size, arrived_at, withdrawn_at, withdrawn_reason, file_date in files:
                path = _landed_copy(Path(folder), sha, file_id, source, file_date)
                # the name the archive keeps (safe_name form: what the parsers read unit and date from,
                # and what the name's keyed hash is recomputed from under the new key)
                name = archive.delivered_name(path, sha)
                record = dict(sha=sha, source=source, name=name, name_hash=ledger.name_key(name, hasher),
                              archive_path=path, size=size, arrived_at=arrived_at, file_id=file_id, withdrawn_at=withdrawn_at,
                              withdrawn_reason=withdrawn_reason)
                parsed = load.parse(path, source, name, arrived_at, hasher)
                rows = load.load_parsed(cur, parsed, record, hasher)
                summary.landed.append(Landed(source, name, rows))
                summary.rows += rows
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        if own:
            conn.close()
    summary.seconds = time.perf_counter() - started
    log.info("re-landed %d files (%d rows) with the current pseudonym key in %.1fs", len(summary.landed),
             summary.rows, summary.seconds)
    return summary


def _landed_copy(folder: Path, sha: str, file_id: int, source: str, file_date) -> Path:
    """The archive copy a landed row was read from. The same bytes may be kept under several names (an
    extract without rows delivered for several days, a register re-sent under a new snapshot date; the
    later names are raw.deliveries rows): the row's own copy is the one whose name gives the row's date."""
    candidates = sorted(p for p in folder.glob(f"{sha}__*") if not p.name.endswith(".reason.json"))
    if len(candidates) > 1 and file_date is not None:
        for path in candidates:
            if _date_in_name(source, archive.delivered_name(path, sha)) == file_date:
                return archive.verified(folder, sha, file_id, path)
    return archive.verified(folder, sha, file_id)


def _date_in_name(source: str, name: str):
    """The extract or snapshot date a delivered name gives (None for a form: its identity is its content)."""
    try:
        if source == "household_register":
            return household_register.parse_name(name)[1]
        if source in ("postmart", "voso"):
            return spec.describe(name, source).extract_date
    except LandingError:
        return None
    return None

"""Warehouses from before issue 18 kept each file's name as delivered (raw.landed_files.original_name and
archive_path, raw.deliveries.original_name), and a name may carry a person's name or phone. This
replaces them, once, by what raw.sql now declares: the public name, the keyed hash of the name and the
folder of the kept copy. In Python, not in raw.sql: the backfill needs the pseudonym key and the one
public-name rule (lensan.landing.names.landed_public_name). One transaction; a normal run only looks
the old column up."""

from __future__ import annotations

import logging
from pathlib import Path

from psycopg2.extras import execute_values

from lensan.landing.ledger import name_key
from lensan.landing.names import landed_public_name, scrub

log = logging.getLogger("lensan.landing")

_OLD = """select table_name from information_schema.columns
          where table_schema = 'raw' and column_name = 'original_name' and table_name in ('landed_files', 'deliveries')"""


def forget_delivered_names(conn, hasher=None) -> None:
    """Migrate raw.landed_files and raw.deliveries off the names as delivered (and commit); no-op when done."""
    with conn.cursor() as cur:
        cur.execute(_OLD)
        if not cur.fetchall():
            conn.rollback()
            return
        cur.execute("select pg_advisory_xact_lock(hashtext('lensan.db.ddl'))")   # one migrating process
        cur.execute(_OLD)
        tables = {table for (table,) in cur.fetchall()}
        if "landed_files" in tables:
            _landed_files(cur, hasher)
        if "deliveries" in tables:
            _deliveries(cur, hasher)
    conn.commit()
    log.warning("raw: names as delivered replaced by public names and keyed hashes (%s)", ", ".join(sorted(tables)))


def _landed_files(cur, hasher) -> None:
    cur.execute("""alter table raw.landed_files add column if not exists public_name text,
                   add column if not exists name_hash text, add column if not exists archive_dir text""")
    cur.execute("""select file_id, sha256, source, entity, unit_code, period_key, file_date, original_name,
                          archive_path, reason_vi, reason_en, reason_detail
                   from raw.landed_files""")
    rows = []
    for file_id, sha, source, entity, unit, period, date, name, path, *reasons in cur.fetchall():
        public = landed_public_name(source, sha, entity=entity, unit_code=unit, period_key=period, file_date=date,
                                    original_name=name)
        # a reason that quoted the name as delivered quotes the public name instead
        rows.append((file_id, public, name_key(name, hasher), str(Path(path).parent),
                     *(scrub(text, name, public) if text else text for text in reasons)))
    execute_values(cur, """update raw.landed_files as f set public_name = v.public_name, name_hash = v.name_hash,
                               archive_dir = v.archive_dir, reason_vi = v.vi, reason_en = v.en, reason_detail = v.detail
                           from (values %s) as v (file_id, public_name, name_hash, archive_dir, vi, en, detail)
                           where f.file_id = v.file_id""", rows, page_size=1000)
    cur.execute("""alter table raw.landed_files drop column original_name, drop column archive_path,
                   alter column public_name set not null, alter column name_hash set not null,
                   alter column archive_dir set not null""")


def _deliveries(cur, hasher) -> None:
    cur.execute("""alter table raw.deliveries add column if not exists public_name text,
                   add column if not exists name_hash text""")
    cur.execute("""select d.delivery_id, f.sha256, f.source, d.entity, d.unit_code, d.period_key, d.file_date,
                          d.original_name
                   from raw.deliveries as d join raw.landed_files as f on f.file_id = d.file_id""")
    rows = [(delivery_id, landed_public_name(source, sha, entity=entity, unit_code=unit, period_key=period,
                                             file_date=date, original_name=name), name_key(name, hasher))
            for delivery_id, sha, source, entity, unit, period, date, name in cur.fetchall()]
    execute_values(cur, """update raw.deliveries as d set public_name = v.public_name, name_hash = v.name_hash
                           from (values %s) as v (delivery_id, public_name, name_hash)
                           where d.delivery_id = v.delivery_id""", rows, page_size=1000)
    # two names that differ only where safe_name() rewrites them are one name now: keep the first delivery
    cur.execute("""delete from raw.deliveries as d using raw.deliveries as e
                   where e.file_id = d.file_id and e.name_hash = d.name_hash and e.delivery_id < d.delivery_id""")
    cur.execute("""alter table raw.deliveries drop column original_name,
                   alter column public_name set not null, alter column name_hash set not null,
                   add constraint deliveries_file_id_name_hash_key unique (file_id, name_hash)""")

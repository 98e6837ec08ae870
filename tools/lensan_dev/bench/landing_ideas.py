"""Issue #17's ideas for landing / bare COPY ≥ 0.7, measured on postmart orders files (docs/performance.md,
"Why 0.7 is missed"). Each arm loads the same files into an empty table shaped like raw.postmart_orders (primary key,
WAL-logged) in one transaction, after a CHECKPOINT; the arms alternate, `--rounds` times:

  bare        COPY of the files' values, decoded beforehand (the benchmark's bare COPY)
  client      landing's parse + checks + COPY text (`fast.copy_chunks`), phones hashed on the client (today)
  no_hash     the same with each phone's canonical form where its HMAC goes: what no hashing at all would
              cost (not a landing: clear phones), the bound of moving the hash anywhere
  server      as no_hash, into a temporary staging table, then INSERT … SELECT with the HMAC on the server:
              PostgreSQL's sha256() over the key pads computed here, sent as parameters (as good as
              the key: it would reach the server's memory, not the statement's text)
  file_bytes  the file's own bytes COPYed (format csv) into a staging table, then INSERT … SELECT with
              only what the server must add: strip, NULL, the phone rule's usual spellings and the HMAC.
              No checks at all, so a lower bound of that design.

The loaded rows are compared (md5 of the table, first round): server must give landing's rows, file_bytes
does when every phone is in one of the usual spellings (the others it leaves NULL). Archive (copy + SHA-256 of the file) is left out: the same in every arm.

    PYTHONPATH=tools:plugins LENSAN_HOME=<scratch> python -m lensan_dev.bench.landing_ideas <folder> \
        [--limit 70] [--rounds 3]

<folder> holds postmart_don_hang_<yyyymmdd>.csv files (searched recursively; an archive's
`<sha256>__` name prefix is allowed), e.g. a bench home's archive/postmart.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from lensan.landing.pseudonymise import hmac_key_pads
from lensan_dev.bench.common import copy_columns, stop_embedded_warehouse
from lensan_dev.bench.methods import cpu_seconds, cpu_used, decoded_copy_lines

ARMS = ("bare", "client", "no_hash", "server", "file_bytes")
TARGET = "bench.ideas_postmart_orders"
PHONE = "buyer_phone_hash"
HMAC_SQL = "encode(sha256(%(opad)s || sha256(%(ipad)s || convert_to('phone:' || {x}, 'UTF8'))), 'hex')"


def _delivered_name(path: Path) -> str:
    return path.name.split("__", 1)[-1]


class _CanonicalOnly:
    """A hasher that leaves each phone's canonical form where landing writes its HMAC."""

    def __call__(self, kind, value):     # only for unusual spellings; not hashed either
        from lensan.landing.pseudonymise import normalise

        return None if value is None else (normalise(kind, value) or None)

    def hex_digest_expr(self, kind, normalised):
        return normalised


class Ideas:
    def __init__(self, files: list[Path], key: bytes, scratch: Path):
        from lensan.landing.platforms import fast, spec

        self.fast = fast
        self.files = files
        self.extracts = [spec.describe(_delivered_name(p), "postmart") for p in files]
        self.key = key
        self.columns = list(self.extracts[0].columns)
        self.all_columns = list(fast.copy_columns(self.extracts[0]))
        self.ipad, self.opad = hmac_key_pads(key)
        self.bare_text = scratch / "ideas_bare.copy"
        with open(self.bare_text, "w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(decoded_copy_lines(files, "postmart"))

    def _copy_chunks(self, cur, table: str, hasher) -> None:
        from lensan.landing.load import CopyStream

        for file_id, (path, extract) in enumerate(zip(self.files, self.extracts), start=1):
            stream = CopyStream(self.fast.copy_chunks(path, extract, hasher,
                                                      prefix=f"{file_id}\t{extract.extract_date.isoformat()}"))
            cur.copy_expert(f"copy {table} ({', '.join(self.all_columns)}) from stdin with {self.fast.COPY_OPTIONS}",
                            stream, size=1 << 20)
            if stream.error is not None:
                raise stream.error

    def bare(self, cur) -> None:
        with open(self.bare_text, "rb") as fh:
            cur.copy_expert(f"copy {TARGET} ({', '.join(copy_columns('postmart'))}) from stdin", fh, size=1 << 18)

    def client(self, cur) -> None:
        from lensan.landing.pseudonymise import Pseudonymiser

        self._copy_chunks(cur, TARGET, Pseudonymiser(self.key))

    def no_hash(self, cur) -> None:
        self._copy_chunks(cur, TARGET, _CanonicalOnly())

    def server(self, cur) -> None:
        cur.execute("create temp table ideas_stage (like raw.postmart_orders) on commit drop")
        self._copy_chunks(cur, "ideas_stage", _CanonicalOnly())
        select = ", ".join(HMAC_SQL.format(x=c) if c == PHONE else c for c in self.all_columns)
        cur.execute(f"insert into {TARGET} ({', '.join(self.all_columns)}) select {select} from ideas_stage",
                    {"ipad": self.ipad, "opad": self.opad})

    def file_bytes(self, cur) -> None:
        from lensan.landing import identity

        cur.execute("create temp table ideas_stage (rn integer generated always as identity, "
                    f"{', '.join(c + ' text' for c in self.columns)}) on commit drop")
        ranges = []     # (file_id, extract date, first rn - 1, last rn) of each file's COPY
        for file_id, (path, extract) in enumerate(zip(self.files, self.extracts), start=1):
            with open(path, "rb") as fh:
                cur.copy_expert(f"copy ideas_stage ({', '.join(self.columns)}) from stdin with "
                                "(format csv, delimiter ';', header true, encoding 'UTF8')", fh, size=1 << 20)
            cur.execute("select coalesce(max(rn), 0) from ideas_stage")
            last = cur.fetchone()[0]
            ranges.append((file_id, extract.extract_date.isoformat(), ranges[-1][3] if ranges else 0, last))

        def by_range(value) -> str:
            return "case " + " ".join(f"when rn <= {r[3]} then {value(r)}" for r in ranges) + " end"

        general, typed = identity.valid_vn_9_digit_patterns()   # the phone rule's usual spellings (identity)
        hashed = HMAC_SQL.format(x="'0' || nsn")
        phone = f"case when nsn ~ %(general)s and nsn ~ %(typed)s then {hashed} end"
        values = [phone if c == PHONE else f"nullif(btrim({c}, %(ws)s), '')" for c in self.columns]
        cur.execute(
            f"insert into {TARGET} ({', '.join(self.all_columns)}) "
            f"select {by_range(lambda r: r[0])}, {by_range(lambda r: repr(r[1]) + '::date')}, {', '.join(values)}, "
            f"rn - {by_range(lambda r: r[2])} "
            f"from (select *, substring(regexp_replace({PHONE}, '[ .()\\-]', '', 'g') "
            "from '^(?:0|\\+84)([0-9]{9})$') as nsn from ideas_stage) as s",
            {"ipad": self.ipad, "opad": self.opad, "general": general, "typed": typed, "ws": self.fast.WHITESPACE})


def measure(files: list[Path], key: bytes, rounds: int, scratch: Path) -> dict:
    from lensan.db import warehouse
    from lensan.landing import ensure_raw_schema

    ideas = Ideas(files, key, scratch)
    conn = warehouse.connect()
    ensure_raw_schema(conn)
    with conn.cursor() as cur:
        cur.execute(f"create schema if not exists bench; drop table if exists {TARGET}; "
                    f"create table {TARGET} (like raw.postmart_orders including all) with (autovacuum_enabled = false)")
    conn.commit()
    runs: dict[str, list[dict]] = {arm: [] for arm in ARMS}
    digests = {}
    try:
        for round_number in range(rounds):
            for arm in ARMS:
                with conn.cursor() as cur:
                    cur.execute(f"truncate {TARGET}")
                    conn.commit()
                    cur.execute("checkpoint")
                    before = cpu_seconds()
                    started = time.perf_counter()
                    getattr(ideas, arm)(cur)
                    conn.commit()
                    run = {"s": round(time.perf_counter() - started, 3), **cpu_used(before)}
                    cur.execute(f"select count(*) from {TARGET}")
                    run["rows"] = cur.fetchone()[0]
                    if round_number == 0:
                        cur.execute(f"select md5(string_agg(concat_ws('|', {', '.join(ideas.all_columns)}), "
                                    f"E'\\n' order by file_id, row_number)) from {TARGET}")
                        digests[arm] = cur.fetchone()[0]
                runs[arm].append(run)
                print(f"  {arm:<11} round {round_number + 1}: {run}", flush=True)
        with conn.cursor() as cur:
            cur.execute(f"drop table {TARGET}")
        conn.commit()
    finally:
        conn.close()
    same = {arm: digests[arm] == digests["client"] for arm in ("server", "file_bytes")}
    return {"files": len(files), "rows": runs["client"][0]["rows"], "runs": runs, "same_rows_as_landing": same}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int, default=70, help="files, by extract date")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the embedded warehouse running")
    args = parser.parse_args(argv)
    from lensan import settings

    files = sorted(args.folder.rglob("*postmart_don_hang_*.csv"), key=_delivered_name)[:args.limit]
    if not files:
        raise SystemExit(f"no postmart_don_hang_*.csv under {args.folder}")
    try:
        result = measure(files, settings.pseudonym_key(), args.rounds, settings.home_dir("bench"))
    finally:
        if not args.keep:
            stop_embedded_warehouse()
    print(f"{result['files']} files, {result['rows']:,} rows; seconds (client / server CPU s), per round")
    for arm, runs in result["runs"].items():
        cells = "  ".join(f"{r['s']:6.2f} ({r['client_cpu_s']} / {r['server_cpu_s']})" for r in runs)
        best = min(r["s"] for r in runs)
        print(f"  {arm:<11} {cells}   bare / best = {min(r['s'] for r in result['runs']['bare']) / best:.2f}")
    print(f"  same rows as landing: {result['same_rows_as_landing']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

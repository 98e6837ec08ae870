"""Nothing lost, nothing leaked (issue 7): landing survives kills, warehouse restarts, concurrent runs and
hostile files — against the real embedded PostgreSQL.

Most tests run in a scratch database on the session's embedded server (LENSAN_WAREHOUSE_URL) with
their own LENSAN_HOME, so they neither see nor disturb other tests' rows. The restart test uses the
session home in embedded mode, because only there can the server be stopped and started.

The DAG-level variant of the restart test (`airflow dags test lensan_ingest` while the server is down)
is not run here: the DAGs retry after `retry_delay` = 5 minutes (lensan.orchestration.config.default_args),
too slow for a unit test. What the retry relies on is tested at function level instead: a landing
cut off by the restart raises LandingIncomplete (so the task fails and is retried), leaves nothing
half-loaded, and the next run — which starts the embedded server itself when it is down — loads
every file exactly once.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import astuple
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from lensan.db.warehouse import scratch_database
from fixtures.landing_builders import (LOCAL_TZ, PM_ORDER_HEADINGS, big_postmart_orders_csv, build_form,
                                       build_postmart_csv, build_register_xlsx, pm_order)
from lensan import settings
from lensan.landing.ledger import name_key
from lensan.settings import PROJECT_ROOT, SOURCES

pytestmark = pytest.mark.integration


# ------------------------------------------------------------------------------------------ helpers

def _wait(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Scratch:
    """A fresh database on the session's server plus its own LENSAN_HOME."""

    def __init__(self, warehouse, home: Path):
        self.server = warehouse
        self.dbname = f"i7_{uuid.uuid4().hex[:10]}"
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self._db = contextlib.ExitStack()
        self._db.enter_context(scratch_database(self.dbname, warehouse))
        self.url = (f"postgresql://{warehouse.user}@{warehouse.host}:{warehouse.port}/{self.dbname}")

    def admin(self):
        conn = psycopg2.connect(host=self.server.host, port=self.server.port, user=self.server.user,
                                password=self.server.password or None, dbname="postgres")
        conn.autocommit = True
        return contextlib.closing(conn)

    def connect(self):
        return psycopg2.connect(self.url)

    def env(self) -> dict[str, str]:
        return os.environ | {"LENSAN_HOME": str(self.home), "LENSAN_WAREHOUSE_URL": self.url}

    def drop(self):
        self._db.close()


@pytest.fixture
def scratch(warehouse, tmp_path, monkeypatch):
    """A scratch database + home, also made current for this process (landing in-process uses them)."""
    box = Scratch(warehouse, tmp_path / "home")
    monkeypatch.setenv("LENSAN_HOME", str(box.home))
    monkeypatch.setenv("LENSAN_WAREHOUSE_URL", box.url)
    yield box
    box.drop()


LAND_CHILD = """
import json, logging, sys
logging.basicConfig(level=logging.WARNING)
from lensan.landing import LandingIncomplete, land_pending
try:
    summary = land_pending({sources!r})
except LandingIncomplete as exc:
    print(json.dumps(exc.summary.as_dict()))
    sys.exit(3)
print(json.dumps(summary.as_dict()))
"""


def _spawn_landing(env: dict, sources=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", LAND_CHILD.format(sources=sources)], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _sha(path: Path) -> str:
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _copy_progress(conn, dbname: str) -> int | None:
    """Tuples processed by a running COPY into raw.* in `dbname` (pg_stat_progress_copy), None if none."""
    with conn.cursor() as cur:
        cur.execute("""select p.tuples_processed from pg_stat_progress_copy p
                       join pg_stat_activity a using (pid)
                       where a.datname = %s and a.query ilike 'copy raw.%%'""", (dbname,))
        row = cur.fetchone()
    return row[0] if row else None


def _backends(conn, dbname: str) -> int:
    with conn.cursor() as cur:
        cur.execute("select count(*) from pg_stat_activity where datname = %s and application_name = 'lensan' "
                    "and pid <> pg_backend_pid()", (dbname,))
        return cur.fetchone()[0]


def _landed_rows(conn, sha: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("select file_id, status, row_count from raw.landed_files where sha256 = %s", (sha,))
        rows = cur.fetchall()
    conn.rollback()
    return rows


def _count(conn, table: str, where: str = "true", params=()) -> int:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("select count(*) from raw.{} where " + where).format(sql.Identifier(table)), params)
        value = cur.fetchone()[0]
    conn.rollback()
    return value


def _files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


# ------------------------------------------------------------------------------------ 1. kill mid-load

def test_kill_mid_copy_rolls_back_and_the_retry_loads_once(scratch):
    """SIGKILL of a landing process in the middle of a 300k-row COPY leaves no raw rows and no
    landed_files row; the file stays in landing, the orphaned archive temp copy is swept, and the
    next run loads the file exactly once with every row."""
    rows = 300_000
    big = big_postmart_orders_csv(settings.landing_dir("postmart") / "postmart_don_hang_20241118.csv", rows)
    sha = _sha(big)
    child = _spawn_landing(scratch.env(), ["postmart"])
    with scratch.admin() as admin:
        try:
            progress = _wait(lambda: (child.poll() is None or None) and (_copy_progress(admin, scratch.dbname) or 0)
                             > 20_000, 45, "the COPY to be under way")
            assert progress
            os.kill(child.pid, signal.SIGKILL)
        finally:
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
            child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        # the server notices the dead client and aborts its transaction
        _wait(lambda: _backends(admin, scratch.dbname) == 0, 30, "the killed client's backend to end")

    conn = scratch.connect()
    try:
        assert _landed_rows(conn, sha) == []
        assert _count(conn, "postmart_orders") == 0
        assert _count(conn, "landed_files") == 0
        assert big.exists() and _sha(big) == sha                     # still waiting, unchanged
        # the archive copy may already be in place (it is written before the COPY): same bytes, same
        # name, so the retry simply replaces it; it is never read as "landed" without its row
        assert len(list((scratch.home / "archive" / "postmart").rglob(f"{sha}__*"))) <= 1
        # and a temp copy orphaned by a kill during the archive copy is swept by the next run
        from lensan.landing.archive import HOST
        orphan = scratch.home / "archive" / "postmart" / f".incoming-{HOST}-{child.pid}-1"
        orphan.write_bytes(b"partial")

        from lensan.landing import land_pending

        summary = land_pending(["postmart"])
        assert [astuple(x)[:3] for x in summary.landed] == [("postmart", big.name, rows)]
        assert summary.failed == [] and summary.quarantined == []
        (file_id, status, row_count), = _landed_rows(conn, sha)
        assert (status, row_count) == ("loaded", rows)
        assert _count(conn, "postmart_orders") == rows
        assert _count(conn, "postmart_orders", "file_id = %s", (file_id,)) == rows
        assert not big.exists()
        assert list((scratch.home / "archive" / "postmart").glob(".incoming-*")) == []   # swept
        archived = list((scratch.home / "archive" / "postmart").rglob(f"{sha}__*"))
        assert len(archived) == 1 and _sha(archived[0]) == sha

        # and a rerun changes nothing
        again = land_pending(["postmart"])
        assert again.landed == [] and _count(conn, "postmart_orders") == rows
    finally:
        conn.close()


def test_stale_temp_files_of_live_processes_are_kept(scratch):
    from lensan.landing import sweep_stale_temp_files
    from lensan.landing.archive import HOST

    folder = settings.home_dir("archive") / "voso"
    folder.mkdir(parents=True, exist_ok=True)
    mine = folder / f".incoming-{HOST}-{os.getpid()}-1"            # a live process: kept
    dead = folder / f".incoming-{HOST}-{2 ** 22 + 7}-1"             # beyond pid_max: gone
    other_host = folder / ".incoming-otherhost-1-1"                 # unknown liveness, recent: kept
    old = folder / ".incoming-otherhost-2-1"                        # older than 6 h: removed
    for path in (mine, dead, other_host, old):
        path.write_bytes(b"x")
    past = time.time() - 7 * 3600
    os.utime(old, (past, past))
    removed = sweep_stale_temp_files(["voso"])
    assert sorted(p.name for p in removed) == sorted([dead.name, old.name])
    assert mine.exists() and other_host.exists()


# --------------------------------------------------------------------------- 2. warehouse restart mid-run

def test_warehouse_restart_mid_copy_then_rerun_loads_once(warehouse, lensan_home, monkeypatch):
    """The embedded server is stopped (immediate = crash-like) while a child lands a large file, then
    started again: the child reports LandingIncomplete (the scheduler's retry signal), nothing of the
    file is in the warehouse, and the rerun loads it exactly once. A run started while the server is
    down starts it itself (embedded mode) and lands normally."""
    from lensan.db import embedded
    from lensan.db import warehouse as wh
    from lensan.landing import land_pending

    if os.environ.get("LENSAN_WAREHOUSE_URL"):
        pytest.skip("needs the embedded warehouse")
    landing = settings.landing_dir("postmart")
    for path in landing.iterdir():
        if path.is_file() or path.is_symlink():
            path.unlink()
    rows = 250_000
    big = big_postmart_orders_csv(landing / "postmart_don_hang_20241102.csv", rows, day="02/11/2024")
    sha = _sha(big)
    env = os.environ | {"LENSAN_HOME": str(lensan_home)}
    env.pop("LENSAN_WAREHOUSE_URL", None)
    child = _spawn_landing(env, ["postmart"])
    admin = psycopg2.connect(host=warehouse.host, port=warehouse.port, user=warehouse.user, dbname="postgres")
    admin.autocommit = True
    try:
        _wait(lambda: (child.poll() is None or None) and (_copy_progress(admin, "lensan") or 0) > 20_000, 45,
              "the COPY to be under way")
    finally:
        admin.close()
    assert embedded.stop(mode="immediate")
    info = embedded.ensure_running()
    assert info.port == warehouse.port                     # sticky: URLs handed out earlier stay valid
    out, err = child.communicate(timeout=60)
    assert child.returncode == 3, (child.returncode, err[-2000:])   # LandingIncomplete
    failed = json.loads(out)["failed"]
    assert [f["name"] for f in failed] == [big.name]
    assert big.exists()

    conn = wh.connect()
    try:
        assert _landed_rows(conn, sha) == []
    finally:
        conn.close()

    # the next run: started while the server is down, it brings the server up and loads the file once
    assert embedded.stop(mode="fast")
    summary = land_pending(["postmart"])
    assert [astuple(x)[:3] for x in summary.landed] == [("postmart", big.name, rows)]
    conn = wh.connect()
    try:
        (file_id, status, row_count), = _landed_rows(conn, sha)
        assert (status, row_count) == ("loaded", rows)
        assert _count(conn, "postmart_orders", "file_id = %s", (file_id,)) == rows
    finally:
        conn.close()
    assert not big.exists()
    assert list((lensan_home / "archive" / "postmart").glob(".incoming-*")) == []


# ------------------------------------------------------------------------------------ 3. concurrent ingest

def _per_file(conn) -> tuple[dict, dict]:
    """{sha: (source, entity, status, row_count)} and {(table, sha): rows} of a landing database."""
    with conn.cursor() as cur:
        cur.execute("select sha256, source, entity, status, reason_code, row_count from raw.landed_files")
        files = {r[0]: r[1:] for r in cur.fetchall()}
        # every raw table of rows, as the landing's DDL made them (each carries its file's file_id)
        cur.execute("""select table_name from information_schema.columns
                       where table_schema = 'raw' and column_name = 'file_id' and table_name <> 'landed_files'""")
        tables = sorted(name for (name,) in cur.fetchall())
        assert tables, "no raw tables"
        counts = {}
        for table in tables:
            cur.execute(sql.SQL("select l.sha256, count(*) from raw.{} t join raw.landed_files l using (file_id) "
                                "group by 1").format(sql.Identifier(table)))
            counts.update({(table, sha): n for sha, n in cur.fetchall()})
    conn.rollback()
    return files, counts


def test_two_processes_over_one_folder_land_each_file_once(warehouse, tmp_path):
    generate = pytest.importorskip("lensan_dev.generate")
    gen = generate.generate(["22"], ["2025-W18", "2025-W19", "2025-W20", "2025-W21"], seed=71, home=tmp_path / "gen")
    assert len(gen.paths) >= 300
    boxes = {name: Scratch(warehouse, tmp_path / name) for name in ("concurrent", "single")}
    try:
        for box in boxes.values():
            for path in gen.paths:
                target = box.home / "landing" / path.parent.name / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        # the single-process reference runs at the same time (same server, own database and home)
        procs = [_spawn_landing(boxes["concurrent"].env()), _spawn_landing(boxes["concurrent"].env()),
                 _spawn_landing(boxes["single"].env())]
        outs = []
        for proc in procs:
            out, err = proc.communicate(timeout=150)
            assert proc.returncode == 0, err[-3000:]
            outs.append(json.loads(out))
        first, second, single = outs
        landed = [x["name"] for s in (first, second) for x in s["landed"]]
        assert len(landed) == len(set(landed))                          # no file landed twice
        assert sorted(landed) == sorted(x["name"] for x in single["landed"])
        collapsed = sum(w["detail"]["count"] for x in single["landed"] for w in x["warnings"]
                        if w["code"] == "DUPLICATE_LINES")      # exact repeated lines load once
        assert sum(s["rows"] for s in (first, second)) == single["rows"] == sum(gen.rows_by_entity.values()) - collapsed
        kinds = ("landed", "duplicates", "redelivered")          # redelivered: same bytes under another name
        handled = sum(len(s[k]) for s in (first, second) for k in kinds + ("quarantined",))
        from collections import Counter
        seen = Counter(x["name"] for s in (first, second) for k in kinds for x in s[k])
        assert handled == len(gen.paths), ([n for n, c in seen.items() if c > 1][:5],
                                           [len(s[k]) for s in outs for k in kinds], [q for s in outs for q in s["quarantined"]][:4])
        assert all(s["quarantined"] == [] and s["failed"] == [] for s in outs), [
            (s["quarantined"][:3], s["failed"][:3]) for s in outs]
        for box in boxes.values():
            assert [p for p in (box.home / "landing").rglob("*") if p.is_file()] == []
        results = {}
        for name, box in boxes.items():
            conn = box.connect()
            try:
                results[name] = _per_file(conn)
            finally:
                conn.close()
        assert results["concurrent"] == results["single"]
        distinct_shas = {_sha(p) for p in gen.paths}
        assert set(results["concurrent"][0]) == distinct_shas            # sha256 unique: one row per content
    finally:
        for box in boxes.values():
            box.drop()


# ------------------------------------------------------------------------------------ 4. hostile files

def _quarantined(conn, name: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("select status, reason_code, archive_dir from raw.landed_files where name_hash = %s",
                    (name_key(name),))
        rows = cur.fetchall()
    conn.rollback()
    return rows


def test_oversized_file_is_refused_before_any_parser_reads_it(scratch, monkeypatch):
    from lensan.landing import land_pending
    from lensan.landing.platforms import reference, spec

    monkeypatch.setenv("LENSAN_MAX_FILE_MB", "1")
    big = big_postmart_orders_csv(settings.landing_dir("postmart") / "postmart_don_hang_20241116.csv", 20_000, day="16/11/2024")
    assert big.stat().st_size > 1024 * 1024

    def no_parsing(*args, **kwargs):
        raise AssertionError("an oversized file must not be parsed")

    monkeypatch.setattr(reference, "records", no_parsing)
    monkeypatch.setattr(spec, "describe", no_parsing)
    summary = land_pending(["postmart"])
    assert [astuple(q)[:3] for q in summary.quarantined] == [("postmart", big.name, "FILE_TOO_LARGE")]
    assert not list((scratch.home / "archive").rglob(f"*{big.name}"))     # not archived either
    conn = scratch.connect()
    try:
        (status, code, where), = _quarantined(conn, big.name)
        assert Path(where).resolve().is_relative_to(scratch.home / "quarantine")
    finally:
        conn.close()


def _zip_with(path: Path, members: dict[str, bytes], base: Path | None = None) -> Path:
    """An xlsx: the members of `base` (a real workbook) with `members` replacing or adding entries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = {}
    if base is not None:
        with zipfile.ZipFile(base) as src:
            existing = {i.filename: src.read(i) for i in src.infolist()}
    existing.update(members)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in existing.items():
            out.writestr(name, data)
    os.utime(path, (dt.datetime(2024, 11, 28, 9, tzinfo=LOCAL_TZ).timestamp(),) * 2)
    return path


def _form_template(tmp_path: Path) -> Path:
    return build_form(tmp_path / "template.xlsx")


def test_zip_bombs_are_refused_before_unpacking(scratch, tmp_path, monkeypatch):
    import openpyxl

    from lensan.landing import land_pending

    def no_openpyxl(*args, **kwargs):
        raise AssertionError("openpyxl must not open a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", no_openpyxl)
    template = _form_template(tmp_path)
    folder = settings.landing_dir("weekly_form")
    # 1) one highly compressed 60 MB sheet (~60 kB on disk): ratio ~1000:1
    bomb = _zip_with(folder / "bao_cao_tuan_205_2024-W46.xlsx",
                     {"xl/worksheets/sheet1.xml": b"<a>" + b" " * (60 * 1024 * 1024) + b"</a>"}, base=template)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    # 2) many entries each under the ratio limit but together over the total uncompressed limit
    monkeypatch.setenv("LENSAN_MAX_XLSX_UNCOMPRESSED_MB", "5")
    import random

    rng = random.Random(1)
    noise = {f"xl/media/image{i}.bin": rng.randbytes(600_000) for i in range(10)}
    wide = _zip_with(folder / "bao_cao_tuan_205_2024-W45.xlsx", noise, base=template)
    # 3) a central directory that lies about the size (declares 1 kB, holds 50 MB)
    liar = _zip_with(tmp_path / "liar.xlsx", {"xl/worksheets/sheet1.xml": b" " * (50 * 1024 * 1024)}, base=template)
    data = bytearray(liar.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while (at := data.find(signature, at)) >= 0:
            name_len_at = 26 if signature == b"PK\x03\x04" else 28
            name_len = int.from_bytes(data[at + name_len_at:at + name_len_at + 2], "little")
            header = 30 if signature == b"PK\x03\x04" else 46
            if data[at + header:at + header + name_len] == name:
                data[at + size_at:at + size_at + 4] = (1024).to_bytes(4, "little")
            at += 4
    lying = folder / "bao_cao_tuan_205_2024-W44.xlsx"
    lying.write_bytes(bytes(data))
    os.utime(lying, (dt.datetime(2024, 11, 28, 9, tzinfo=LOCAL_TZ).timestamp(),) * 2)
    started = time.monotonic()
    summary = land_pending(["weekly_form"])
    codes = {q.name: q.code for q in summary.quarantined}
    assert codes == {bomb.name: "UNSAFE_FILE", wide.name: "UNSAFE_FILE", lying.name: "UNREADABLE"}
    assert summary.landed == [] and summary.failed == []
    assert time.monotonic() - started < 30


def test_gzip_bombs_are_refused_while_streaming(scratch, monkeypatch):
    """A .jsonl.gz whose decompressed size exceeds the limit, and one endless line without a newline,
    are refused without being held in memory."""
    import gzip

    from lensan.landing import land_pending

    monkeypatch.setenv("LENSAN_MAX_GZIP_UNCOMPRESSED_MB", "2")
    monkeypatch.setenv("LENSAN_MAX_LINE_KB", "64")
    folder = settings.landing_dir("voso")
    line = json.dumps({"account_id": "VSTK1", "occurred_at": "2024-11-01T01:00:00Z", "activity_type": "search",
                       "ward_code": "07090"}) + "\n"
    big = folder / "voso_activities_2024-11-05.jsonl.gz"
    big.write_bytes(gzip.compress((line * (3 * 1024 * 1024 // len(line))).encode(), mtime=0))
    endless = folder / "voso_activities_2024-11-06.jsonl.gz"
    endless.write_bytes(gzip.compress(b'{"account_id": "' + b"A" * (50 * 1024 * 1024), mtime=0))
    for path in (big, endless):
        os.utime(path, (dt.datetime(2024, 11, 28, tzinfo=LOCAL_TZ).timestamp(),) * 2)
    summary = land_pending(["voso"])
    assert sorted(astuple(q)[:3] for q in summary.quarantined) == [("voso", big.name, "UNSAFE_FILE"),
                                                             ("voso", endless.name, "UNSAFE_FILE")]
    conn = scratch.connect()
    try:
        assert _count(conn, "voso_activity") == 0
    finally:
        conn.close()


def test_xml_entity_attacks_are_refused(scratch, tmp_path):
    from lensan.landing import land_pending

    template = _form_template(tmp_path)
    with zipfile.ZipFile(template) as src:
        sheet = src.read("xl/worksheets/sheet1.xml")
    body = sheet.split(b"?>", 1)[1] if sheet.startswith(b"<?xml") else sheet
    laughs = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
              + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                         for i in range(1, 10)) + b"]>" + body.replace(b"</sheetData>", b"</sheetData>", 1))
    external = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                + body)
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE x [<!ENTITY a "b">]>'
             + body.decode("utf-8")).encode("utf-16")
    folder = settings.landing_dir("weekly_form")
    names = {"bao_cao_tuan_205_2024-W43.xlsx": {"xl/worksheets/sheet1.xml": laughs},
             "bao_cao_tuan_205_2024-W42.xlsx": {"xl/worksheets/sheet1.xml": external},
             "bao_cao_tuan_205_2024-W41.xlsx": {"xl/sharedStrings.xml": utf16},
             "bao_cao_tuan_205_2024-W40.xlsx": {"[Content_Types].xml": external.replace(body, b"<Types/>")}}
    for name, members in names.items():
        _zip_with(folder / name, members, base=template)
    reg = build_register_xlsx(tmp_path / "reg.xlsx")
    _zip_with(settings.landing_dir("household_register") / "danh_sach_ho_205_20241117.xlsx",
              {"xl/worksheets/sheet1.xml": external}, base=reg)
    summary = land_pending(["weekly_form", "household_register"])
    assert sorted(astuple(q)[:3] for q in summary.quarantined) == sorted(
        [("weekly_form", n, "UNSAFE_FILE") for n in names] +
        [("household_register", "danh_sach_ho_205_20241117.xlsx", "UNSAFE_FILE")])
    assert summary.landed == []


HIDDEN = "....xlsx"          # a dot-file: ignored by landing by design (uploads in progress, editor locks)
HOSTILE_NAMES = [
    "bao_cao_tuan_..%2F..%2F..%2Fetc%2Fpasswd",
    "postmart_don_hang_..%2F..%2F20241118.csv",
    "bao_cao_tuan_205_2024-W47\n.xlsx",
    "postmart_don_hang_20241118\u202ecsv.exe",            # RTL override
    "voso_orders_2024-11-18\u0000".replace("\u0000", "") + "\u200b.jsonl.gz",
    "postmart_" + "x" * 230 + ".csv",                     # very long (near the 255-byte limit)
    "postmart_don_hang_20241118'; drop table raw.landed_files; --.csv",
    "-rf --help.csv",
]


def test_path_tricks_never_write_outside_home(scratch, tmp_path):
    from lensan.landing import land_pending

    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.csv"
    secret.write_text("Mã đơn hàng;x\n1;2\n", encoding="utf-8")
    secret_mode = secret.stat().st_mode
    (settings.landing_dir("weekly_form") / HIDDEN).write_bytes(b"hidden")
    before = {p for p in _files_under(tmp_path) if not p.startswith("home")}
    for i, name in enumerate(HOSTILE_NAMES):
        source = SOURCES[i % len(SOURCES)]
        (settings.landing_dir(source) / name).write_bytes(f"content {i}\n".encode())
    # symlinks into landing: to a file outside, to a directory outside, dangling
    (settings.landing_dir("postmart") / "postmart_don_hang_20241115.csv").symlink_to(secret)
    (settings.landing_dir("voso") / "voso_orders_2024-11-15.jsonl.gz").symlink_to(outside)
    (settings.landing_dir("household_register") / "danh_sach_ho_205_20241117.csv").symlink_to(outside / "missing")
    fifo = settings.landing_dir("voso") / "voso_orders_2024-11-14.jsonl.gz"
    os.mkfifo(fifo)
    summary = land_pending()
    assert summary.failed == [] and summary.landed == []
    quarantined = {(q.source, q.name): q.code for q in summary.quarantined}
    expected = {(SOURCES[i % len(SOURCES)], name) for i, name in enumerate(HOSTILE_NAMES)} | {
        ("postmart", "postmart_don_hang_20241115.csv"), ("voso", "voso_orders_2024-11-15.jsonl.gz"),
        ("household_register", "danh_sach_ho_205_20241117.csv"), ("voso", fifo.name)}
    assert set(quarantined) == expected, (expected - set(quarantined), set(quarantined) - expected)
    assert quarantined[("postmart", "postmart_don_hang_20241115.csv")] == "UNSAFE_FILE"
    assert quarantined[("voso", "voso_orders_2024-11-15.jsonl.gz")] == "UNSAFE_FILE"
    assert quarantined[("voso", fifo.name)] == "UNSAFE_FILE"
    # nothing new outside the home; the link target untouched and still there
    assert {p for p in _files_under(tmp_path) if not p.startswith("home")} == before
    assert secret.read_text(encoding="utf-8").startswith("Mã đơn hàng") and secret.stat().st_mode == secret_mode
    # landing is empty, every path recorded lies inside the home's quarantine
    assert [p for p in (scratch.home / "landing").rglob("*") if not p.is_dir()] == \
        [settings.landing_dir("weekly_form") / HIDDEN]
    conn = scratch.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select archive_dir, status from raw.landed_files")
            recorded = cur.fetchall()
        assert len(recorded) == len(HOSTILE_NAMES) + 4
        for where, status in recorded:
            assert status == "quarantined"
            resolved = Path(where).resolve()
            assert any(resolved.is_relative_to((scratch.home / top).resolve()) for top in ("archive", "quarantine")), \
                where
        assert _count(conn, "landed_files") == len(recorded)      # the table survived the name above
    finally:
        conn.close()
    for path in (scratch.home / "quarantine").rglob("*"):
        assert not path.is_symlink(), path                         # links are never carried along
        assert path.resolve().is_relative_to(scratch.home.resolve())
        if path.is_file():
            assert "\n" not in path.name and "\u202e" not in path.name and len(path.name.encode()) <= 255
            assert stat_mode(path) == 0o600


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_symlinked_home_folders_are_refused(scratch, tmp_path):
    from lensan.landing import land_pending

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    archive = scratch.home / "archive"
    if archive.exists():
        shutil.rmtree(archive)
    archive.symlink_to(elsewhere, target_is_directory=True)
    build_postmart_csv(settings.landing_dir("postmart") / "postmart_don_hang_20241113.csv", PM_ORDER_HEADINGS,
                       [pm_order(1, day="13/11/2024")])
    with pytest.raises(RuntimeError, match="outside LENSAN_HOME|symbolic link"):
        land_pending(["postmart"])
    assert list(elsewhere.rglob("*")) == []


def test_sql_text_in_file_content_is_only_data(scratch):
    """A file whose fields (and name) carry SQL is landed as plain values; the table stays."""
    from lensan.landing import land_pending

    evil = "'; drop table raw.landed_files; --"
    order = pm_order(1, day="18/11/2024")
    order[0] = "PMDH1" + evil
    order[3] = "PMTK" + evil
    order[9] = evil
    name = "postmart_don_hang_20241118.csv"
    build_postmart_csv(settings.landing_dir("postmart") / name, PM_ORDER_HEADINGS, [order])
    header = [["UBND " + evil], ["Mã đơn vị:", "205"], ["BÁO CÁO TUẦN"],
              ["Tuần 47/2024 (từ ngày 18/11/2024 đến ngày 24/11/2024)"],
              ["Người báo cáo: Robert'); DROP TABLE raw.weekly_forms;--"], ["Số điện thoại: 0912 345 678"], []]
    build_form(settings.landing_dir("weekly_form") / "bao_cao_tuan_205_2024-W47.xlsx", header=header)
    summary = land_pending(["postmart", "weekly_form"])
    assert summary.failed == [] and summary.quarantined == [], summary.quarantined
    assert len(summary.landed) == 2
    conn = scratch.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select order_id, buyer_account_id, buyer_province_code from raw.postmart_orders")
            assert cur.fetchall() == [("PMDH1" + evil, "PMTK" + evil, evil)]
            cur.execute("select unit_name from raw.weekly_forms")
            assert cur.fetchone()[0] == "UBND " + evil
            cur.execute("select count(*) from raw.landed_files")
            assert cur.fetchone()[0] == 2
    finally:
        conn.close()


_SQL_CALLS = {"execute", "executemany", "copy_expert", "copy_from", "copy_to", "execute_values", "mogrify", "SQL"}


def _dynamic_sql(node: ast.AST) -> bool:
    """An f-string, %-formatting, .format() or concatenation building the SQL text itself."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
            and isinstance(node.func.value, ast.Constant):
        return True
    return False


def test_no_sql_text_is_built_from_variables_in_landing():
    """Grep-by-AST: in the landing package (the code that reads file content) and pseudonymise, SQL text
    passed to execute/COPY/sql.SQL is never an f-string, %-format, .format() or concatenation;
    identifiers go through psycopg2.sql.Identifier and values through parameters."""
    files = sorted((PROJECT_ROOT / "plugins" / "lensan" / "landing").rglob("*.py"))   # pseudonymise included
    hits = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name not in _SQL_CALLS:
                continue
            index = 1 if name == "execute_values" else 0
            if len(node.args) > index and _dynamic_sql(node.args[index]):
                hits.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert hits == []
    assert _dynamic_sql(ast.parse('f"select {x}"', mode="eval").body)       # the check does catch them
    assert _dynamic_sql(ast.parse('"select %s" % x', mode="eval").body)


# ------------------------------------------------------------------------------------ quarantine unwritable

def test_landing_that_cannot_write_to_quarantine_prints_its_summary_and_fails(scratch):
    """Tests run as root, where chmod does not stop writes: the quarantine folder of the source is a
    regular file instead, so nothing can be written under it."""
    good = build_postmart_csv(settings.landing_dir("postmart") / "postmart_don_hang_20241117.csv", PM_ORDER_HEADINGS,
                              [pm_order(i, day="17/11/2024") for i in range(700, 705)])
    bad = settings.landing_dir("postmart") / "postmart_don_hang_20241118.csv"
    bad.write_bytes(b"")                                        # EMPTY_FILE: to be quarantined
    (scratch.home / "quarantine").mkdir(parents=True, exist_ok=True)
    (scratch.home / "quarantine" / "postmart").write_text("not a folder")
    env = {**os.environ, "LENSAN_HOME": str(scratch.home), "LENSAN_WAREHOUSE_URL": scratch.url}
    result = subprocess.run([sys.executable, "-m", "lensan.cli.main", "land", "postmart"], env=env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "Tóm tắt lần nhận: 1 tệp đã nạp" in result.stdout and "Batch summary: 1 files landed" in result.stdout
    assert f"postmart/{good.name}" in result.stdout
    assert f"postmart/{bad.name}" in result.stdout
    assert "Không ghi được vào thư mục cách ly" in result.stdout and "Cannot write to the quarantine folder" in result.stdout
    assert "LỖI: 1 tệp chưa nhận được" in result.stderr and "ERROR: 1 file(s) could not be landed" in result.stderr
    assert bad.exists() and not good.exists()                  # the bad file waits for the next run
    # once the quarantine is writable again, the next run quarantines it
    (scratch.home / "quarantine" / "postmart").unlink()
    again = subprocess.run([sys.executable, "-m", "lensan.cli.main", "land", "postmart", "--json"], env=env,
                           cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    summary = json.loads(again.stdout[: again.stdout.rindex("}") + 1])
    assert [(q["name"], q["code"]) for q in summary["quarantined"]] == [(bad.name, "EMPTY_FILE")]
    assert not bad.exists()

"""Personal data never leaves landing in clear (issue 7).

A generated batch (reporters' names and phones in the weekly forms; household heads' names, phones and
citizen IDs in the registers; shop owners' and buyers' phones in the platform extracts) is landed,
built by dbt and published. Every clear value — read back from the GENERATED files by this test's own
parsing, phones in every typed variant and normalised — is then searched for in every text column of
every table and view of every non-system schema, every export, dbt's logs and every log file under
LENSAN_HOME, and in the server log. None may be found. The archive (which keeps the bytes, hence the
personal data) must be private (0600) and under LENSAN_HOME/archive only.

File names (issue 18): a weekly form and a register are delivered under names carrying a person's name
and phone (`PLANTED_FORM`, `PLANTED_REGISTER`); the batch is gated, published and delivered. The name and
phone, in every written form, appear in no file under LENSAN_HOME outside archive/ and quarantine/
(exports, manifests, index.json, the outbox, logs) and in no table of any schema (raw and ops included:
the warehouse names a file by its public name and keeps only a keyed hash of its name); the archive and
the quarantine keep them, owner-only, and the operator finds a file by that name through the archive.

Key rotation: `lensan.landing.reland_all()` rebuilds the raw rows from the archive with a new key;
hashes change, links (household <-> shop by phone) still resolve.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gzip
import io
import json
import logging
import re
import stat
import time
import unicodedata
import uuid
import zipfile
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from lensan.db.warehouse import scratch_database
from lensan.landing.archive import kept_copy

pytestmark = pytest.mark.integration

WEEKS = ["2026-W46", "2026-W47"]
PROVINCE = "22"
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY", "USER-DEFINED")

# Personal data in file names, as senders really type them (a name that the generator never makes)
PLANTED_FORM = "Báo cáo tuần 47 - Tạ Quang Khải 0912.345.678.xlsx"
PLANTED_REGISTER = "Danh sach ho - Ta Quang Khai 0912345678.csv"


# ------------------------------------------------------------------------------------------ set-up

class _Scratch:
    def __init__(self, warehouse, home: Path):
        self.server, self.home = warehouse, home
        self.dbname = f"i7pd_{uuid.uuid4().hex[:10]}"
        home.mkdir(parents=True, exist_ok=True)
        self._db = contextlib.ExitStack()
        self._db.enter_context(scratch_database(self.dbname, warehouse))
        self.url = f"postgresql://{warehouse.user}@{warehouse.host}:{warehouse.port}/{self.dbname}"

    def connect(self):
        return psycopg2.connect(self.url)

    def drop(self):
        self._db.close()


def _use(mp: pytest.MonkeyPatch, box: _Scratch) -> None:
    mp.setenv("LENSAN_HOME", str(box.home))
    mp.setenv("LENSAN_WAREHOUSE_URL", box.url)


def _copy_generated(paths, home: Path) -> None:
    import shutil

    for path in paths:
        target = home / "landing" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _plant_names(home: Path) -> dict:
    """Deliver one generated W47 form under PLANTED_FORM, and a register (one byte changed, so it is no
    duplicate) under PLANTED_REGISTER; their SHA-256s."""
    import hashlib

    forms = sorted((home / "landing" / "weekly_form").glob(f"*{WEEKS[-1]}*.xlsx"))
    form = forms[0].rename(forms[0].with_name(PLANTED_FORM))
    register = sorted((home / "landing" / "household_register").glob("*.csv"))[0]
    planted = register.with_name(PLANTED_REGISTER)
    planted.write_bytes(register.read_bytes() + b"\n")
    return {"form": hashlib.sha256(form.read_bytes()).hexdigest(),
            "register": hashlib.sha256(planted.read_bytes()).hexdigest()}


@pytest.fixture(scope="module")
def pipeline(warehouse, lensan_home, tmp_path_factory):
    """Generate -> land -> dbt seed + build -> gate -> publish -> deliver, in a scratch database and home
    (once per module)."""
    from lensan.delivery import service as delivery
    from lensan.transform import dbt as lensan_dbt
    from lensan_dev import generate
    from lensan.publish import service as publish
    from lensan.landing import land_pending
    from lensan.quality import checkpoints, policy

    root = tmp_path_factory.mktemp("personal")
    gen = generate.generate([PROVINCE], WEEKS, seed=1034, home=root / "gen")
    box = _Scratch(warehouse, root / "home")
    mp = pytest.MonkeyPatch()
    _use(mp, box)
    # landing's own log, as an operator would configure it, goes to a file under LENSAN_HOME
    log_file = box.home / "logs" / "landing.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    lensan_log = logging.getLogger("lensan")
    old_level = lensan_log.level
    lensan_log.setLevel(logging.DEBUG)
    lensan_log.addHandler(handler)
    timings = {}
    try:
        _copy_generated(gen.paths, box.home)
        planted = _plant_names(box.home)
        started = time.monotonic()
        summary = land_pending()
        timings["land"] = time.monotonic() - started
        # the planted form lands (its identity is in its header); the register's name says no unit/date
        assert summary.failed == [], summary.failed
        assert [q.name for q in summary.quarantined] == [PLANTED_REGISTER], summary.quarantined[:3]
        assert PLANTED_FORM in {f.name for f in summary.landed}
        started = time.monotonic()
        lensan_dbt.run_dbt(["seed"])
        lensan_dbt.run_dbt(["build", "--exclude", "resource_type:seed"])
        timings["dbt"] = time.monotonic() - started
        started = time.monotonic()
        decision = policy.evaluate(lambda: checkpoints.run_checkpoint("marts", {"week_key": WEEKS[-1]}))
        assert not isinstance(decision, policy.Stop), decision.message
        timings["gate"] = time.monotonic() - started
        published = publish.publish_weekly(WEEKS[-1], gate_summary=decision.summary)
        delivered = delivery.deliver_published({"published": published.published, "unchanged": published.unchanged})
        timings["publish"] = time.monotonic() - started
        print(f"\npersonal-data pipeline: {timings}")
        yield {"box": box, "gen": gen, "published": published, "server_log": lensan_home / "warehouse" /
               "postgres.log", "planted": planted, "delivered": delivered}
    finally:
        lensan_log.removeHandler(handler)
        handler.close()
        lensan_log.setLevel(old_level)
        mp.undo()
        box.drop()


# -------------------------------------------------------------------------- clear values, read by hand

def _norm_name(text: str) -> str:
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold()))


def _phone_digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return "0" + digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits


def _xlsx_cells(data: bytes) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
                if v is not None]
    finally:
        wb.close()


def _xlsx_rows(data: bytes) -> list[list]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


class Clear:
    """Every clear name / phone / citizen ID of the generated files, with the forms they were typed in."""

    def __init__(self):
        self.names: set[str] = set()          # normalised
        self.typed_names: set[str] = set()
        self.phones: set[str] = set()         # normalised 0xxxxxxxxx
        self.typed_phones: set[str] = set()
        self.citizen_ids: set[str] = set()

    def add_name(self, value):
        if value and str(value).strip():
            self.typed_names.add(str(value).strip())
            self.names.add(_norm_name(str(value)))

    def add_phone(self, value):
        if value and str(value).strip():
            self.typed_phones.add(str(value).strip())
            self.phones.add(_phone_digits(str(value)))

    def add_citizen_id(self, value):
        if value and str(value).strip():
            self.citizen_ids.add(re.sub(r"\D", "", str(value)))

    @functools.cached_property
    def first_words(self) -> set[str]:
        return {n.split(" ", 1)[0] for n in self.names}

    @functools.cached_property
    def phone_tails(self) -> set[str]:
        return {p[-9:] for p in self.phones}


def collect_clear(paths) -> Clear:
    clear = Clear()
    for path in paths:
        source, data = path.parent.name, path.read_bytes()
        if source == "weekly_form":
            for cell in _xlsx_cells(data):
                if cell.startswith("Người báo cáo:"):
                    clear.add_name(cell.split(":", 1)[1])
                elif cell.startswith("Số điện thoại:"):
                    clear.add_phone(cell.split(":", 1)[1])
        elif source == "household_register":
            if path.suffix == ".xlsx":
                rows = _xlsx_rows(data)
            else:
                rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
            heading = [str(h) for h in rows[0]]
            for row in rows[1:]:
                record = dict(zip(heading, row))
                clear.add_name(record.get("Họ tên chủ hộ"))
                clear.add_phone(record.get("Số điện thoại"))
                clear.add_citizen_id(record.get("Số CCCD"))
        elif source == "postmart":
            for record in csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"):
                for column in ("SĐT người mua", "SĐT chủ gian hàng"):
                    clear.add_phone(record.get(column))
        elif source == "voso":
            for line in gzip.decompress(data).decode("utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    for field in ("buyer_phone", "owner_phone"):
                        clear.add_phone(record.get(field))
    return clear


_DIGIT_RUN = re.compile(r"\d+")
_PHONE_LIKE = re.compile(r"\+?\d[\d .\-()]{7,}\d")
_WORDS = re.compile(r"\w+")


def find_personal(text: str, clear: "Clear", tails: set[str]) -> set[str]:
    """The clear values in `text`: names (word n-grams, case/diacritic-normalised), phones in any typed
    form (separators, +84/84, bare 9-digit national part) and citizen IDs, also inside longer digit runs."""
    found = set()
    words = _WORDS.findall(unicodedata.normalize("NFC", text).casefold())
    firsts = clear.first_words
    for i, word in enumerate(words):
        if word in firsts:                       # n-grams only where a name could start
            for n in (2, 3, 4, 5):
                gram = " ".join(words[i:i + n])
                if gram in clear.names:
                    found.add("name:" + gram)
    for candidate in _PHONE_LIKE.findall(text):
        digits = _phone_digits(candidate)
        if digits in clear.phones or digits[-9:] in tails and len(digits) in (9, 10):
            found.add("phone:" + candidate)
    for run in _DIGIT_RUN.findall(text):
        if len(run) >= 9:
            for i in range(len(run) - 8):
                if run[i:i + 9] in tails:
                    found.add("phone-digits:" + run)
        if len(run) >= 12:
            for i in range(len(run) - 11):
                if run[i:i + 12] in clear.citizen_ids:
                    found.add("citizen_id:" + run)
    for typed in clear.typed_phones:
        if typed in text:
            found.add("phone-typed:" + typed)
    return found


@pytest.fixture(scope="module")
def clear(pipeline):
    values = collect_clear(pipeline["gen"].paths)
    # the batch really carries personal data of every kind, and the detector sees it
    assert len(values.names) > 50 and len(values.phones) > 50 and len(values.citizen_ids) > 50
    assert any(not p.startswith("0") or " " in p for p in values.typed_phones)   # typed variants present
    return values


def test_the_detector_finds_what_it_looks_for(clear):
    tails = clear.phone_tails
    name = sorted(clear.typed_names)[0]
    phone = sorted(clear.phones)[0]
    cid = sorted(clear.citizen_ids)[0]
    assert find_personal(f"x {name.upper()} y", clear, tails)
    assert find_personal(f"ĐT: +84 {phone[1:4]} {phone[4:7]} {phone[7:]}", clear, tails)
    assert find_personal(f"id{cid}z", clear, tails)
    assert find_personal(f"tel:84{phone[1:]}", clear, tails)
    assert not find_personal("3f2a9c0d" * 8, clear, tails)


# ------------------------------------------------------------------------------------------ the scans

def _text_columns(cur) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every text column of the base tables (and materialized views) of every
    non-system schema. Plain views are not scanned: they only re-read these tables, and re-running every
    dbt view would double the time."""
    cur.execute("""select c.table_schema, c.table_name, c.column_name from information_schema.columns c
                   join pg_class k on k.relname = c.table_name
                   join pg_namespace n on n.oid = k.relnamespace and n.nspname = c.table_schema
                   where c.table_schema <> all(%s) and c.table_schema not like 'pg\\_%%'
                     and c.data_type = any(%s) and k.relkind in ('r', 'm', 'p')
                   order by 1, 2, 3""", (list(SYSTEM_SCHEMAS), list(TEXT_TYPES)))
    return cur.fetchall()


def test_no_clear_personal_data_in_any_table(pipeline, clear):
    tails = clear.phone_tails
    conn = pipeline["box"].connect()
    hits, scanned = [], 0
    try:
        with conn.cursor() as cur:
            columns = _text_columns(cur)
            schemas = {c[0] for c in columns}
            assert {"raw", "marts"} <= schemas, schemas
            by_table: dict[tuple[str, str], list[str]] = {}
            for schema, table, column in columns:
                by_table.setdefault((schema, table), []).append(column)
            seen: set[str] = set()
            for (schema, table), cols in by_table.items():
                # one pass per table: every text column's distinct values, tagged with the column
                cur.execute(sql.SQL("select distinct c, v from {}.{} t, lateral (values {}) x(c, v) "
                                    "where v is not null").format(
                    sql.Identifier(schema), sql.Identifier(table),
                    sql.SQL(", ").join(sql.SQL("({}, t.{}::text)").format(sql.Literal(c), sql.Identifier(c))
                                       for c in cols)))
                for column, value in cur.fetchall():
                    scanned += 1
                    if value in seen:
                        continue
                    seen.add(value)
                    found = find_personal(value, clear, tails)
                    if found:
                        hits.append((f"{schema}.{table}.{column}", sorted(found)[:3], value[:120]))
        conn.rollback()
    finally:
        conn.close()
    assert scanned > 10_000
    assert hits == [], hits[:20]


def _file_text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"PK":     # xlsx/zip: every member's text
        parts = []
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                parts.append(archive.read(info).decode("utf-8", "ignore"))
        return "\n".join(parts)
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", "ignore")


def test_no_clear_personal_data_in_exports_logs_or_reasons(pipeline, clear):
    home = pipeline["box"].home
    tails = clear.phone_tails
    exports = [p for p in (home / "exports").rglob("*") if p.is_file()]
    assert exports, "publish wrote nothing"
    assert any(p.suffix == ".xlsx" for p in exports) and any(p.suffix == ".json" for p in exports)
    dbt_logs = [p for p in (home / "dbt" / "logs").rglob("*") if p.is_file()]
    assert dbt_logs, "dbt wrote no log"
    logs = [p for p in home.rglob("*.log") if p.is_file()]
    assert home / "logs" / "landing.log" in logs and (home / "logs" / "landing.log").stat().st_size > 0
    reasons = list((home / "quarantine").rglob("*.reason.json")) if (home / "quarantine").exists() else []
    targets = set(exports) | set(dbt_logs) | set(logs) | set(reasons)
    if pipeline["server_log"].exists():
        targets.add(pipeline["server_log"])
    hits = []
    for path in sorted(targets):
        found = find_personal(_file_text(path), clear, tails)
        if found:
            hits.append((str(path.relative_to(home) if path.is_relative_to(home) else path), sorted(found)[:3]))
    assert hits == []


def test_archive_is_private_and_inside_home(pipeline):
    home = pipeline["box"].home
    archived = [p for p in (home / "archive").rglob("*") if p.is_file() or p.is_symlink()]
    assert len(archived) >= len({p.read_bytes() for p in pipeline["gen"].paths}) - 1
    for path in archived:
        assert not path.is_symlink()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert path.resolve().is_relative_to(home.resolve() / "archive")
    conn = pipeline["box"].connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select archive_dir, sha256 from raw.landed_files where status = 'loaded'")
            for where, sha in cur.fetchall():
                assert Path(where).resolve().is_relative_to(home.resolve() / "archive"), where
                assert kept_copy(Path(where), sha) is not None, (where, sha)
    finally:
        conn.close()
    secret = home / "secrets" / "pseudonym.key"
    if secret.exists():                       # only when no LENSAN_PSEUDONYM_KEY is set
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_bi_reader_cannot_reach_hashes_or_raw(pipeline):
    """bi_reader sees marts only; the pseudonymised detail (raw, staging) stays out of its reach."""
    from lensan.db import roles

    conn = pipeline["box"].connect()
    try:
        roles.ensure_roles(conn)
        with conn.cursor() as cur:
            cur.execute("set role bi_reader")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("select phone_hash from raw.household_register limit 1")
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("""select table_schema, table_name, column_name from information_schema.columns
                           where table_schema = 'marts' and column_name ~ '(hash|phone|citizen|name_h)'""")
            exposed = cur.fetchall()
        assert exposed == [], exposed
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------ file names

def _fold(text: str) -> str:
    """Lower-case ASCII words: diacritics dropped, any separator (space, '_', '.', '-') one space."""
    text = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


# the planted name as typed, with or without diacritics, and as safe_name() would mangle the accented
# form (non-ASCII letters replaced: "T__Quang_Kh_i"); the phone in any separators, +84 or without its 0
_PLANTED_NAME = re.compile(r"\b(ta quang khai|quang khai|t quang kh i)\b")
_PLANTED_PHONE = "912345678"
_DIGITS_WITH_SEPARATORS = re.compile(r"\d[\d .\-()]*\d")


def find_planted(text: str) -> set[str]:
    found = set()
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)   # JSON's \uXXXX
    if "Tạ Quang Khải" in unicodedata.normalize("NFC", text):
        found.add("name-as-typed")
    if _PLANTED_NAME.search(_fold(text)):
        found.add("name")
    if any(_PLANTED_PHONE in re.sub(r"\D", "", run) for run in _DIGITS_WITH_SEPARATORS.findall(text)):
        found.add("phone")
    return found


def test_the_planted_detector_finds_every_written_form():
    from lensan.landing.names import safe_name

    for text in (PLANTED_FORM, PLANTED_REGISTER, safe_name(PLANTED_FORM), safe_name(PLANTED_REGISTER),
                 unicodedata.normalize("NFD", PLANTED_FORM), PLANTED_FORM.upper(),
                 json.dumps(PLANTED_FORM), json.dumps(PLANTED_FORM, ensure_ascii=False)):
        assert find_planted(text) >= {"name", "phone"}, text
    for phone in ("0912345678", "+84912345678", "0912 345 678", "84-912-345-678", "x912345678y"):
        assert find_planted(phone) == {"phone"}, phone
    assert find_planted("weekly_form_20501_2026-W47_3f2a9c0d1e2b.xlsx; 91234567; 0,912 345") == set()


def test_public_names_and_scrubbed_messages_hold_no_personal_data():
    from lensan.landing.names import log_name, public_name, safe_name, scrub

    sha = "3f2a9c0d1e2b" + "0" * 52
    assert public_name("weekly_form", sha, subject="20501", when="2026-W47", original_name=PLANTED_FORM) \
        == "weekly_form_20501_2026-W47_3f2a9c0d1e2b.xlsx"
    assert public_name("voso", sha, subject="orders", when="2026-11-22", original_name="voso_orders.jsonl.gz") \
        == "voso_orders_2026-11-22_3f2a9c0d1e2b.jsonl.gz"
    assert public_name("household_register", sha, original_name="x.Tạ Quang Khải 0912345678") \
        == "household_register_3f2a9c0d1e2b.bin"
    assert find_planted(log_name("household_register", PLANTED_REGISTER)) == set()
    message = f"The source cannot be recognised from the file name '{PLANTED_REGISTER}' " \
              f"(quarantine/household_register/{safe_name(PLANTED_REGISTER)})"
    assert find_planted(scrub(message, PLANTED_REGISTER)) == set()


def test_archive_and_quarantine_folders_are_narrowed_to_owner_only(tmp_path, monkeypatch):
    from lensan import settings
    from lensan.landing.archive import private_dir

    monkeypatch.setenv("LENSAN_HOME", str(tmp_path))
    wide = tmp_path / "quarantine" / "voso"
    wide.mkdir(parents=True, mode=0o755)
    wide.chmod(0o755)
    folder = private_dir(settings.home_dir("quarantine") / "voso" / "2026")
    for path in (tmp_path / "quarantine", wide, folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


def _planted_hits(paths) -> list[tuple[str, set[str]]]:
    hits = []
    for path in sorted(paths):
        found = find_planted(_file_text(path) + "\n" + str(path))
        if found:
            hits.append((str(path), found))
    return hits


def test_planted_file_names_reach_no_export_manifest_or_log(pipeline):
    """Everything written under LENSAN_HOME but the archive and the quarantine — exports (xlsx unzipped,
    csv, json, html), manifests, index.json, the outbox and the delivery ledger, dbt's and GX's files,
    logs — and the server log are free of the planted name and phone."""
    home = pipeline["box"].home
    private = (home / "archive", home / "quarantine")
    files = [p for p in home.rglob("*") if p.is_file() and not p.is_relative_to(private[0])
             and not p.is_relative_to(private[1])]
    names = {p.name for p in files}
    assert "manifest.json" in names and "index.json" in names
    assert any(p.suffix == ".xlsx" for p in files) and any(p.suffix == ".csv" for p in files)
    assert any(p.is_relative_to(home / "outbox") for p in files), "nothing was delivered"
    assert (home / "logs" / "landing.log").stat().st_size > 0
    assert not list((home / "landing").rglob("*.*")), "a planted file is still waiting in landing"
    if pipeline["server_log"].exists():
        files.append(pipeline["server_log"])
    assert _planted_hits(files) == []


def test_manifests_name_the_planted_form_by_hash_and_list_only_what_fed_them(pipeline):
    home = pipeline["box"].home
    sha = pipeline["planted"]["form"]
    manifests = sorted((home / "exports" / "week" / WEEKS[-1]).glob("*/rev-*/manifest.json"))
    assert {m.parent.parent.name for m in manifests} >= {f"province-{PROVINCE}", "nation-VN"}
    conn = pipeline["box"].connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from raw.landed_files where status = 'loaded'")
            loaded = cur.fetchone()[0]
            cur.execute("select f.unit_code from raw.weekly_forms as f join raw.landed_files as l using (file_id)"
                        " where l.sha256 = %s", (sha,))
            unit = cur.fetchone()[0]
    finally:
        conn.close()
    from lensan import reference

    region = reference.provinces()[("post2025", PROVINCE)]["region_code"]
    fed_by_the_form = {f"province-{PROVINCE}", f"region-{region}", "nation-VN"}
    counts = {}
    for path in manifests:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = manifest["source_files"]
        counts[manifest["scope_key"]] = len(files)
        assert manifest["source_file_count"] == len(files) and 0 < len(files) < loaded, path
        by_sha = {f["sha256"]: f for f in files}
        if manifest["scope_key"] not in fed_by_the_form:     # another province's scopes: extracts only
            assert sha not in by_sha and {f["source"] for f in files} <= {"postmart", "voso"}, path
            continue
        assert by_sha[sha]["safe_name"] == f"weekly_form_{unit}_{WEEKS[-1]}_{sha[:12]}.xlsx"
        assert by_sha[sha]["period_key"] == WEEKS[-1] and by_sha[sha]["source"] == "weekly_form"
        assert {"household_register", "weekly_form"} <= {f["source"] for f in files}
        assert pipeline["planted"]["register"] not in by_sha                      # quarantined: fed nothing
        assert all(f["period_key"] in (None, WEEKS[-1]) for f in files)             # not W46's forms
        start, end = "2026-11-16", "2026-11-22"                                      # 2026-W47
        extracts = [f for f in files if f["source"] in ("postmart", "voso")]
        assert extracts and all(start <= f["file_date"] <= end for f in extracts)
        assert "original_name" not in files[0]
    assert fed_by_the_form <= counts.keys() and counts[f"province-{PROVINCE}"] == counts["nation-VN"]


def test_planted_names_stay_in_the_archive_and_quarantine_owner_only(pipeline):
    home = pipeline["box"].home
    archived = {p.name.split("__", 1)[0]: p for p in (home / "archive").rglob("*__*")}
    quarantined = [p for p in (home / "quarantine").rglob("*") if p.is_file()]
    form = archived[pipeline["planted"]["form"]]
    register = archived[pipeline["planted"]["register"]]
    reason = next(p for p in quarantined if p.name.endswith(".reason.json"))
    assert find_planted(form.name) >= {"name", "phone"} and find_planted(register.name) >= {"name", "phone"}
    assert find_planted(reason.read_text(encoding="utf-8")) >= {"name", "phone"}
    assert len(quarantined) == 2 and all(find_planted(p.name) for p in quarantined)
    for path in [form, register, *quarantined]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for top in ("archive", "quarantine"):
        for folder in [home / top, *(p for p in (home / top).rglob("*") if p.is_dir())]:
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def _planted_in_tables(conn) -> set[str]:
    """The columns (schema.table.column) of any table of any schema holding the planted name or phone."""
    hits = set()
    with conn.cursor() as cur:
        for schema, table, column in _text_columns(cur):
            cur.execute(sql.SQL("select {}::text from {}.{} where {}::text ~* %s limit 1").format(
                sql.Identifier(column), sql.Identifier(schema), sql.Identifier(table), sql.Identifier(column)),
                ("quang|kh_?i|912[ .-]?345[ .-]?678",))
            row = cur.fetchone()
            if row and find_planted(row[0]):
                hits.add(f"{schema}.{table}.{column}")
    conn.rollback()
    return hits


def test_planted_names_reach_no_table(pipeline):
    """The warehouse names the planted files by public name only — raw.landed_files (the loaded form, the
    quarantined register and its reason), raw.deliveries, ops — and keeps their names as keyed hashes."""
    from lensan.landing.ledger import name_key

    conn = pipeline["box"].connect()
    try:
        assert _planted_in_tables(conn) == set()
        with conn.cursor() as cur:
            cur.execute("select sha256, status, public_name, reason_en from raw.landed_files where name_hash in (%s, %s)",
                        (name_key(PLANTED_FORM), name_key(PLANTED_REGISTER)))
            found = {sha: (status, public, reason) for sha, status, public, reason in cur.fetchall()}
        conn.rollback()
    finally:
        conn.close()
    form, register = pipeline["planted"]["form"], pipeline["planted"]["register"]
    assert found.keys() == {form, register}
    assert found[form][0] == "loaded"
    assert found[form][1].startswith("weekly_form_") and found[form][1].endswith(f"_{WEEKS[-1]}_{form[:12]}.xlsx")
    status, public, reason = found[register]
    assert (status, public) == ("quarantined", f"household_register_{register[:12]}.csv")
    assert public in reason                 # the reason quotes the public name where it quoted the file's


def test_the_operator_finds_a_planted_file_by_its_name_through_the_archive(pipeline, capsys):
    """`lensan withdraw <name as delivered>` resolves the name in the archive; `lensan status` shows the
    name on the operator's console (read from the archive), and the warehouse still holds none."""
    from lensan.cli import main as cli
    from lensan.cli.status import status_report

    mp = pytest.MonkeyPatch()
    _use(mp, pipeline["box"])
    try:
        assert cli.main(["withdraw", PLANTED_FORM, "--reason", "kiểm thử / test"]) == 0
        out = capsys.readouterr().out
        assert pipeline["planted"]["form"] in out
        withdrawn = status_report()["withdrawn"]
        assert [w["sha256"] for w in withdrawn] == [pipeline["planted"]["form"]]
        assert find_planted(withdrawn[0]["file"]) >= {"name", "phone"}      # from the archive, on the console
        conn = pipeline["box"].connect()
        try:
            assert _planted_in_tables(conn) == set()
        finally:
            conn.close()
    finally:
        mp.undo()


# ------------------------------------------------------------------------------------------ rotation

def _links(conn) -> tuple[set, dict]:
    """Household <-> shop links through the phone hash, and the hash columns' values."""
    with conn.cursor() as cur:
        cur.execute("""select distinct r.household_code, s.shop_id from raw.household_register r
                       join (select shop_id, owner_phone_hash from raw.postmart_shops
                             union all select shop_id, owner_phone_hash from raw.voso_shops) s
                         on s.owner_phone_hash = r.phone_hash""")
        links = set(cur.fetchall())
        hashes = {}
        for table, column in (("household_register", "phone_hash"), ("household_register", "head_name_hash"),
                              ("household_register", "citizen_id_hash"), ("weekly_forms", "reporter_phone_hash"),
                              ("postmart_orders", "buyer_phone_hash"), ("voso_shops", "owner_phone_hash")):
            row_key = sql.SQL("0" if table == "weekly_forms" else "row_number")
            cur.execute(sql.SQL("select file_id, {}, {} from raw.{}").format(
                row_key, sql.Identifier(column), sql.Identifier(table)))
            hashes[(table, column)] = {(r[0], r[1]): r[2] for r in cur.fetchall()}
        cur.execute("select file_id, sha256, status, row_count from raw.landed_files order by file_id")
        files = cur.fetchall()
    conn.rollback()
    return links, hashes, files


def test_key_rotation_rehashes_from_the_archive_and_keeps_links(warehouse, tmp_path, monkeypatch):
    from lensan_dev import generate
    from lensan.landing import land_pending, reland_all
    from lensan.landing.pseudonymise import pseudonymise

    gen = generate.generate([PROVINCE], ["2025-W20"], seed=5, home=tmp_path / "gen")
    box = _Scratch(warehouse, tmp_path / "home")
    try:
        _use(monkeypatch, box)
        monkeypatch.setenv("LENSAN_PSEUDONYM_KEY", "rotation-test-old-key")
        _copy_generated(gen.paths, box.home)
        summary = land_pending()
        assert summary.failed == [] and summary.quarantined == []
        conn = box.connect()
        try:
            links_old, hashes_old, files_old = _links(conn)
            assert links_old, "the generated batch links households to shops by phone"
            monkeypatch.setenv("LENSAN_PSEUDONYM_KEY", "rotation-test-new-key")
            relanded = reland_all()
            assert relanded.rows == summary.rows
            links_new, hashes_new, files_new = _links(conn)
        finally:
            conn.close()
        assert files_new == files_old                           # same files, ids, counts
        assert links_new == links_old                           # links still resolve
        clear = collect_clear([p for p in gen.paths if p.parent.name == "household_register"])
        some_phone = sorted(clear.phones)[0]
        for key, old in hashes_old.items():
            new = hashes_new[key]
            assert new.keys() == old.keys(), key
            values_old = {v for v in old.values() if v}
            values_new = {v for v in new.values() if v}
            assert values_old and values_new and not (values_old & values_new), key   # every hash changed
        assert pseudonymise("phone", some_phone, key=b"rotation-test-new-key") in \
            set(hashes_new[("household_register", "phone_hash")].values())
        assert pseudonymise("phone", some_phone, key=b"rotation-test-old-key") not in \
            set(hashes_new[("household_register", "phone_hash")].values())
        # a later delivery with the new key links to the rotated rows
        assert land_pending().landed == []
    finally:
        box.drop()


def test_rotation_is_all_or_nothing(warehouse, tmp_path, monkeypatch):
    """A missing archive copy aborts the rotation: the raw layer stays as it was."""
    from lensan.landing import land_pending, reland_all
    from fixtures.landing_builders import build_register_csv, register_rows

    box = _Scratch(warehouse, tmp_path / "home")
    try:
        _use(monkeypatch, box)
        build_register_csv(box.home / "landing" / "household_register" / "danh_sach_ho_205_20241117.csv",
                           rows=register_rows())
        build_register_csv(box.home / "landing" / "household_register" / "danh_sach_ho_206_20241117.csv",
                           rows=[r[:] for r in register_rows("206")])
        assert len(land_pending().landed) == 2
        conn = box.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("select archive_dir, sha256 from raw.landed_files order by file_id desc limit 1")
                where, sha = cur.fetchone()
                kept_copy(Path(where), sha).unlink()
                cur.execute("select phone_hash from raw.household_register order by 1")
                before = cur.fetchall()
            conn.rollback()
            monkeypatch.setenv("LENSAN_PSEUDONYM_KEY", "another-key")
            with pytest.raises(FileNotFoundError):
                reland_all()
            with conn.cursor() as cur:
                cur.execute("select phone_hash from raw.household_register order by 1")
                assert cur.fetchall() == before
        finally:
            conn.close()
    finally:
        box.drop()

"""The bad-input corpus (tests/corpus/, built by tests/corpus/build_corpus.py): every file gets exactly
its expected outcome from `lensan.landing.check_file`, `lensan check` explains it in Vietnamese and
English, and landing the whole corpus together with a good generated batch lands every good file and
quarantines exactly the bad ones, each with its reason.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lensan.db.warehouse import scratch_database
from lensan import settings, landing

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED: dict[str, str] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
BAD = {k: v for k, v in EXPECTED.items() if v != "accepted"}
GOOD = {k for k, v in EXPECTED.items() if v == "accepted"}
TEST_DB = "lensan_corpus_test"
# every corpus file is delivered on Thursday 01/10/2026 10:00 local (before the W39 deadline)
DELIVERED = dt.datetime(2026, 10, 1, 10, 0, tzinfo=settings.LOCAL_TZ).timestamp()


def _lensan_command() -> list[str]:
    script = Path(sys.executable).parent / "lensan"
    return [str(script)] if script.exists() else [sys.executable, "-m", "lensan.cli.main"]


@pytest.mark.unit
def test_the_corpus_is_big_varied_and_small():
    assert len(BAD) >= 30
    sources = {k.split("/")[0] for k in BAD}
    assert sources == {"weekly_form", "household_register", "postmart", "voso"}
    assert len(set(BAD.values())) >= 15                           # distinct reasons, not one damage repeated
    assert set(BAD.values()) <= set(landing.CODES)
    assert sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()) < 2 * 1024 * 1024
    assert {p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*")} == set(EXPECTED)
    assert any(k.endswith("_2.xlsx") for k in GOOD)                 # a resend is accepted
    import hashlib

    digests = [hashlib.sha256((CORPUS / k).read_bytes()).hexdigest() for k in EXPECTED]
    assert len(set(digests)) == len(digests)                        # no duplicate bytes: each file lands on its own


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_file_returns_exactly_the_expected_outcome(name):
    result = landing.check_file(CORPUS / name)
    outcome = "accepted" if result.ok else result.code
    assert outcome == EXPECTED[name], (result.code, result.message_en)
    if not result.ok:
        assert result.message_vi and result.message_en and result.message_vi != result.message_en


@pytest.mark.unit
def test_lensan_check_prints_the_specific_reason_in_both_languages():
    command = _lensan_command()

    def run(name):
        proc = subprocess.run(command + ["check", str(CORPUS / name)], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ))
        return name, proc

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(pool.map(run, sorted(EXPECTED)))
    for name, proc in results.items():
        out = proc.stdout + proc.stderr
        if EXPECTED[name] == "accepted":
            assert proc.returncode == 0, (name, out)
            assert "OK" in out
            continue
        expected = landing.check_file(CORPUS / name)
        assert proc.returncode != 0, (name, out)
        assert f"[{EXPECTED[name]}]" in out, (name, out)
        assert "KHÔNG HỢP LỆ" in out and "INVALID" in out, (name, out)
        assert expected.message_vi in out and expected.message_en in out, (name, out)


@pytest.fixture
def corpus_db(warehouse, tmp_path, monkeypatch):
    """A database and a LENSAN_HOME of this test's own."""
    with scratch_database(TEST_DB, warehouse) as info:
        monkeypatch.setenv("LENSAN_WAREHOUSE_URL", info.url)
        monkeypatch.setenv("LENSAN_HOME", str(tmp_path))
        yield tmp_path


@pytest.mark.integration
def test_landing_the_corpus_with_a_good_batch(corpus_db):
    from lensan_dev import generate
    from lensan.db import warehouse

    home = corpus_db
    good_batch = generate.generate(["46"], ["2026-W38"], seed=38, home=home)
    good_names = {Path(p).name for p in good_batch.paths}
    for name in EXPECTED:
        source, file_name = name.split("/")
        target = home / "landing" / source / file_name
        assert not target.exists(), f"corpus file {name} collides with the good batch"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / name, target)
        os.utime(target, (DELIVERED, DELIVERED))

    summary = landing.land_pending()
    assert summary.failed == []
    landed = {item.name for item in summary.landed}
    quarantined = {item.name: item.code for item in summary.quarantined}
    duplicates = {item.name for item in summary.duplicates}
    # the good batch lands whole (an empty daily extract repeats the bytes of another day's: a no-op)
    assert good_names <= landed | duplicates
    assert all(name in good_names for name in duplicates)
    assert {n.split("/")[1] for n in GOOD} <= landed
    assert quarantined == {n.split("/")[1]: code for n, code in BAD.items()}
    for name, code in BAD.items():
        source, file_name = name.split("/")
        reason = json.loads((home / "quarantine" / source / f"{file_name}.reason.json").read_text(encoding="utf-8"))
        assert reason["code"] == code and reason["message_vi"] and reason["message_en"]
    conn = warehouse.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select status, count(*) from raw.landed_files group by 1")
            counts = dict(cur.fetchall())
    finally:
        conn.close()
    assert counts.get("quarantined") == len(BAD)
    assert counts.get("loaded") == len(landed)

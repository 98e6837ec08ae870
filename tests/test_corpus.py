"""The bad-input corpus (tests/corpus/, built by tests/corpus/build_corpus.py): every file gets exactly
its expected outcome from `lensan.landing.check_file`, `lensan check` explains it in Vietnamese and
English, and landing the whole corpus together with a good generated batch lands every good file and
quarantines exactly the bad ones, each with its reason.json.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
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


FORM_DETAILS: dict[str, dict] = json.loads((CORPUS / "weekly_form_details.json").read_text(encoding="utf-8"))


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(FORM_DETAILS))
def test_hand_made_forms_land_exact_values_or_name_the_cell(name):
    """Forms as officers send them (tests/corpus/hand_forms.py): omitted rows are warnings (TT named, not
    landed: NULL downstream, never 0), values land exactly; a refusal names its cell or range."""
    from lensan.landing.parsers import weekly_form

    path = CORPUS / "weekly_form" / name
    expected = FORM_DETAILS[name]
    result = landing.check_file(path)              # no --source: told from the content
    assert result.source == "weekly_form"
    if "where" in expected:
        assert not result.ok and result.detail["where"] == expected["where"], result.message_en
        assert expected["where"].split(" ", 1)[1] in result.message_vi
        return
    assert result.ok, result.message_en
    assert (result.unit_code, result.week_key) == ("03388", "2026-W39")     # from the header, not the name
    omitted = [row["tt"] for w in result.warnings if w["code"] == "FORM_ROWS_OMITTED" for row in w["detail"]["rows"]]
    assert omitted == expected["warnings"]
    for w in result.warnings:
        assert all(tt in w["message_vi"] and tt in w["message_en"] for tt in omitted)
    form = weekly_form.parse(path)
    landed = {(f"{r.section}.{r.tt}" if r.section != "I" else "I"): [str(r.value_in_week), str(r.cumulative_value)]
              for r in form.rows}
    assert not set(omitted) & set(landed)
    assert len(landed) + len(omitted) == len(landing_reference_rows())
    for tt, values in expected["values"].items():
        assert landed[tt] == values, tt
    completion = {(f"{r.section}.{r.tt}" if r.section != "I" else "I"): r.completion_pct for r in form.rows}
    for tt, pct in expected.get("completion_pct", {}).items():      # a percent cell holds the fraction
        assert completion[tt] == Decimal(pct), tt


def landing_reference_rows():
    from lensan import reference

    return reference.weekly_form_indicators()


@pytest.mark.unit
def test_lensan_check_says_ok_and_lists_omitted_rows_of_the_odd_named_form():
    name = "Bao cao tuan 39 - xa Doan Ket.xlsx"
    assert FORM_DETAILS[name]["warnings"] == ["IV.2", "IV.5"]
    proc = subprocess.run(_lensan_command() + ["check", str(CORPUS / "weekly_form" / name)], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout and "CẢNH BÁO" in proc.stdout and "WARNING" in proc.stdout
    assert "IV.2" in proc.stdout and "IV.5" in proc.stdout
    as_json = subprocess.run(_lensan_command() + ["check", "--json", "--source", "weekly_form",
                                                  str(CORPUS / "weekly_form" / name)],
                             capture_output=True, text=True, timeout=120, env=dict(os.environ))
    verdict = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and verdict["ok"] is True and verdict["code"] is None
    assert [w["code"] for w in verdict["warnings"]] == ["FORM_ROWS_OMITTED"]
    refused = subprocess.run(_lensan_command() + ["check", "--json", str(CORPUS / "weekly_form" /
                                                  "bao_cao_tuan_03388_2026-W39_o_gop_nhieu_dong.xlsx")],
                             capture_output=True, text=True, timeout=120, env=dict(os.environ))
    verdict = json.loads(refused.stdout)
    assert refused.returncode == 1 and verdict["ok"] is False and verdict["code"] == "MERGED_NUMBER_CELLS"
    assert verdict["where"] == FORM_DETAILS["bao_cao_tuan_03388_2026-W39_o_gop_nhieu_dong.xlsx"]["where"]
    assert verdict["message_vi"] and verdict["message_en"]


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
    # the good batch lands whole (an empty daily extract repeats the bytes of another day's: one more
    # delivery of those bytes, nothing loaded again)
    duplicates = {item.name for item in summary.duplicates + summary.redelivered}
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


@pytest.mark.unit
def test_register_identity_cases_land_one_pseudonym_per_household():
    """The same households typed two ways (CSV text: +84 (0), 0084, dots, a CCCD with separators;
    XLSX number cells that lost their leading zeros) land with exactly the pseudonyms of their canonical
    phone / citizen id (landing.identity), the same in both files; a CMND keeps its own kind."""
    from lensan.landing.parsers import household_register
    from lensan.landing.pseudonymise import Pseudonymiser

    details = json.loads((CORPUS / "household_register_identity.json").read_text(encoding="utf-8"))
    hasher = Pseudonymiser(b"corpus-identity-key")
    cols = household_register.RAW_COLUMNS
    landed = {}
    for name, households in details.items():
        assert EXPECTED[name] == "accepted"
        rows = household_register.parse(CORPUS / name, hasher=hasher).rows
        got = {r[1 + cols.index("household_code")]: (r[1 + cols.index("phone_hash")],
                                                      r[1 + cols.index("citizen_id_hash")]) for r in rows}
        want = {code: tuple(hasher.hex_digests(kind, [v[kind]])[0] if v[kind] is not None else None
                            for kind in ("phone", "citizen_id"))
                for code, v in households.items()}
        assert got == want, name
        landed[name] = got
    assert len(set(map(lambda g: tuple(sorted(g.items())), landed.values()))) == 1   # one identity per household


PLATFORM_DETAILS: dict[str, dict] = json.loads((CORPUS / "platform_details.json").read_text(encoding="utf-8"))


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(PLATFORM_DETAILS))
def test_platform_extracts_land_exact_rows_or_name_the_line(name):
    """Extracts as VNPost / Viettel Post send them (build_corpus.write_platform_field_cases): a file cut
    off mid-row or inside a quoted field, a separator lost, a timestamp without its time zone are refused
    with their line, by both readers alike; separator-only lines are skipped and an exact duplicate line
    lands once, the other rows exactly as sent."""
    from lensan.landing.platforms import fast, reference, spec

    path = CORPUS / name
    expected = PLATFORM_DETAILS[name]
    extract = spec.describe(path.name)
    result = landing.check_file(path)
    if "where" in expected:
        assert not result.ok and result.code == EXPECTED[name] and result.detail["where"] == expected["where"]
        line = expected["where"].split(",")[0]
        assert line in result.message_en and line.replace("line", "dòng") in result.message_vi
        with pytest.raises(landing.LandingError) as caught:         # the COPY reader says the same
            for _ in fast.copy_chunks(path, extract):
                pass
        assert (caught.value.code, caught.value.detail) == (result.code, result.detail)
        return
    assert result.ok, result.message_en
    rows = list(reference.records(path, extract, None))
    distinct = list(dict.fromkeys(rows))
    assert [list(r) for r in distinct] == expected["rows"]
    assert len(rows) - len(distinct) == expected["repeats"]
    assert fast.count_rows_and_repeats(path, extract) == (len(expected["rows"]), expected["repeats"])
    assert result.row_count == len(expected["rows"])
    assert [w["code"] for w in result.warnings] == (["DUPLICATE_LINES"] if expected["repeats"] else [])

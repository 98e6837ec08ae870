"""The `lensan` command: argument parsing, `check`, `generate`, `land`, `status`, `warehouse`.

Commands that write files or land data run in their own LENSAN_HOME (a subprocess with its own
embedded warehouse), so they never touch the data the end-to-end test computes from.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from lensan import settings

from lensan.cli import args as cli_args, output, run

from lensan.calendar import periods

WEEK = "2026-W47"


def run_cli(*args: str, home: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if home is not None:
        env["LENSAN_HOME"] = str(home)
    result = subprocess.run([sys.executable, "-m", "lensan.cli.main", *args], env=env, capture_output=True,
                            text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"lensan {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


# --- pure helpers ----------------------------------------------------------------------------

@pytest.mark.unit
def test_parse_weeks_range_list_and_last():
    assert cli_args.parse_weeks("2026-W44..2026-W47", None) == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    assert cli_args.parse_weeks("2026-W47,2026-W45", None) == ["2026-W45", "2026-W47"]
    assert cli_args.parse_weeks("2025-W52..2026-W02", None) == ["2025-W52", "2026-W01", "2026-W02"]
    with pytest.raises(ValueError):
        cli_args.parse_weeks("2026-47", None)
    last = cli_args.parse_weeks(None, 3)
    assert len(last) == 3 and last[-1] == periods.last_complete_week(dt.datetime.now(settings.LOCAL_TZ))


@pytest.mark.unit
def test_latest_complete_weeks_relative_to_a_moment():
    wednesday = dt.datetime(2026, 11, 25, 12, tzinfo=settings.LOCAL_TZ)
    assert cli_args.latest_complete_weeks(4, wednesday) == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    sunday_night = dt.datetime(2026, 11, 22, 23, 59, tzinfo=settings.LOCAL_TZ)  # W47 not yet complete
    assert cli_args.latest_complete_weeks(1, sunday_night) == ["2026-W46"]


@pytest.mark.unit
def test_parse_provinces():
    assert cli_args.parse_provinces(None) == ["22", "92"]
    assert cli_args.parse_provinces(["22,92", "4"]) == ["22", "92", "04"]


@pytest.mark.unit
def test_publish_logical_date_reports_the_week():
    for now in (dt.datetime(2026, 11, 24, 8, tzinfo=settings.LOCAL_TZ),
                dt.datetime(2026, 11, 29, 23, tzinfo=settings.LOCAL_TZ)):
        moment = run.publish_logical_date(WEEK, now)
        assert moment <= now and periods.last_complete_week(moment) == WEEK


@pytest.mark.unit
def test_help_lists_every_command():
    result = run_cli("--help", check=True)
    for command in ("demo", "generate", "land", "check", "status", "withdraw", "publish", "warehouse", "bench"):
        assert command in result.stdout
    console = Path(sys.executable).parent / "lensan"
    assert console.exists(), "console script missing: pip install -e . --no-deps"


@pytest.mark.unit
def test_unknown_command_fails():
    assert run_cli("frobnicate").returncode != 0


# --- commands in an isolated LENSAN_HOME ------------------------------------------------------

@pytest.fixture(scope="module")
def cli_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    yield home
    if not os.environ.get("LENSAN_WAREHOUSE_URL"):
        run_cli("warehouse", "stop", home=home)


@pytest.fixture(scope="module")
def generated(cli_home):
    result = run_cli("generate", "--provinces", "22", "--weeks", WEEK, "--seed", "7", home=cli_home, check=True)
    assert "Đã tạo dữ liệu mẫu" in result.stdout and "Generated sample data" in result.stdout
    return cli_home / "landing"


@pytest.mark.unit
def test_generate_writes_every_source(generated):
    for source in settings.SOURCES:
        assert any((generated / source).iterdir()), source


@pytest.mark.unit
def test_generate_national_scale_with_progress(tmp_path):
    result = run_cli("generate", "--scale", "0.002", "--provinces", "92", "--weeks", "2026-W46",
                     home=tmp_path, check=True)
    assert "ETA" in result.stdout and "MB/s" in result.stdout and "rows/s" in result.stdout
    assert "Generated the national week 2026-W46 (scale 0.002)" in result.stdout
    assert any((tmp_path / "landing" / "postmart").iterdir())


@pytest.mark.unit
def test_bench_help_is_bench_runs():
    result = run_cli("bench", "--help", check=True)
    assert "--scale" in result.stdout and "bench/run" in result.stdout


@pytest.mark.unit
def test_check_ok_file(generated):
    form = sorted((generated / "weekly_form").glob("*.xlsx"))[0]
    result = run_cli("check", str(form))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")


@pytest.mark.unit
def test_check_bad_file_explains_in_both_languages(generated, tmp_path):
    form = sorted((generated / "weekly_form").glob("*.xlsx"))[0]
    bad = tmp_path / form.name
    bad.write_bytes(form.read_bytes()[:200])  # truncated workbook
    result = run_cli("check", str(bad))
    assert result.returncode == 1
    assert "KHÔNG HỢP LỆ" in result.stdout and "INVALID" in result.stdout


@pytest.mark.unit
def test_check_missing_file():
    assert run_cli("check", "/nonexistent/bao_cao_tuan_205_2026-W47.xlsx").returncode == 2


@pytest.mark.integration
@pytest.mark.skipif(bool(os.environ.get("LENSAN_WAREHOUSE_URL")),
                    reason="needs its own embedded warehouse; an external one is shared with other tests")
def test_land_then_status_shows_landed_and_quarantined(generated, cli_home):
    form = sorted((generated / "weekly_form").glob("*.xlsx"))[0]
    (generated / "weekly_form" / "bao_cao_tuan_99999_2026-W47.xlsx").write_bytes(b"not a workbook")
    shutil.copy(form, generated / "weekly_form" / f"copy_{form.name}")  # same bytes, another name: a delivery
    for i in (1, 2, 3):   # put in landing/ itself, in no source folder: they wait
        (generated / f"stray{i}.csv").write_text(f"stray {i}")

    result = run_cli("land", home=cli_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " files · " in result.stderr and "MB/s" in result.stderr and "ETA" in result.stderr   # progress
    text = result.stdout
    assert "Tóm tắt lần nhận:" in text and "Batch summary:" in text and "{" not in text   # no raw JSON
    assert "[TEMPLATE_NOT_RECOGNISED]" in text or "[UNREADABLE]" in text
    assert f"weekly_form/copy_{form.name}" in text and "recorded as a new delivery" in text
    assert "Traceback" not in result.stdout + result.stderr

    status = json.loads(run_cli("status", "--json", "--limit", "1", home=cli_home, check=True).stdout)
    by_status = {(r["source"], r["status"]): r for r in status["landed"]}
    assert by_status[("weekly_form", "loaded")]["files"] >= 1
    assert by_status[("weekly_form", "quarantined")]["files"] == 1
    bad = [q for q in status["quarantined"] if q["file"] == "bao_cao_tuan_99999_2026-W47.xlsx"]
    assert bad and bad[0]["reason_vi"] and bad[0]["reason_en"] and bad[0]["quarantined_at"]
    assert Path(bad[0]["path"]).is_relative_to(cli_home / "quarantine") and Path(bad[0]["path"]).exists()
    assert len(status["waiting"]) == 1 and status["waiting_total"] == 3
    assert status["warehouse"].startswith("postgresql://")

    text = run_cli("status", home=cli_home, check=True).stdout
    assert "bao_cao_tuan_99999_2026-W47.xlsx" in text and "Quarantined" in text and "quarantined at" in text
    assert "Files waiting in landing" in text and "stray3.csv" in text and "not in a source folder" in text
    assert "… và 2 file khác / and 2 more" in run_cli("status", "--limit", "1", home=cli_home, check=True).stdout

    # landing again is a no-op
    again = run_cli("land", "--json", home=cli_home, check=True)
    assert json.loads(again.stdout[: again.stdout.rindex("}") + 1])["landed"] == []
    for i in (1, 2, 3):
        (generated / f"stray{i}.csv").unlink()


@pytest.mark.unit
def test_land_rejects_unknown_source(cli_home):
    assert run_cli("land", "nonsense", home=cli_home).returncode == 2


@pytest.mark.integration
@pytest.mark.skipif(bool(os.environ.get("LENSAN_WAREHOUSE_URL")), reason="embedded warehouse only")
def test_warehouse_start_url_stop(tmp_path):
    started = run_cli("warehouse", "start", home=tmp_path, check=True)
    assert "postgresql://" in started.stdout
    url = run_cli("warehouse", "url", home=tmp_path, check=True).stdout.strip()
    assert url.startswith("postgresql://") and "127.0.0.1" in url
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:   # checkpoints far apart, no WAL for new tables (lensan.db.embedded)
            cur.execute("select current_setting('max_wal_size'), current_setting('wal_level')")
            assert cur.fetchone() == ("16GB", "minimal")
    finally:
        conn.close()
    stopped = run_cli("warehouse", "stop", home=tmp_path, check=True)
    assert "Đã dừng" in stopped.stdout and "stopped" in stopped.stdout
    again = run_cli("warehouse", "stop", home=tmp_path, check=True)
    assert "không chạy" in again.stdout


@pytest.mark.unit
def test_redact_hides_password():
    assert output.redact("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert output.redact("postgresql://u@h:5432/db") == "postgresql://u@h:5432/db"

"""`lensan withdraw`: a landed file taken back stays in the archive and in raw (with when and why), staging
leaves it out, the next build revises the periods it fed and publishing them writes new revisions
(issue #18, item 3). Against the real embedded PostgreSQL and dbt, on a generated data set."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from pathlib import Path

import pytest

from lensan import settings
from lensan.cli import main as cli
from lensan.landing import land_pending, ledger
from lensan.publish import service as publish
from lensan.transform import dbt as lensan_dbt

pytestmark = pytest.mark.integration

WEEK = "2026-W47"
SCOPE = "province-22"
WITHDRAWN = "postmart_don_hang_20261118.csv"     # a day of orders inside the week


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _revisions(scope_dir: Path) -> list[int]:
    return sorted(int(p.name.split("-")[1]) for p in scope_dir.glob("rev-*") if (p / "manifest.json").exists())


def _orders_of_week(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("select coalesce(sum(value_in_week), 0) from marts.rpt_weekly_report where week_key = %s "
                    "and scope_level = 'province' and scope_code = '22' and indicator_code = 'orders'", (WEEK,))
        value = cur.fetchone()[0]
    conn.rollback()
    return value


@pytest.fixture(scope="module")
def published(warehouse, lensan_home, empty_raw, tmp_path_factory):
    """One province, two weeks generated, landed, built and published once."""
    from lensan.db import warehouse as wh
    from lensan_dev.generate import generate

    with contextlib.closing(wh.connect()) as conn:   # only this module's files in raw
        with conn.cursor() as cur:
            empty_raw(cur)
        conn.commit()
    for source in settings.SOURCES:     # and in landing
        for path in settings.landing_dir(source).iterdir():
            if path.is_file():
                path.unlink()
    gen_home = tmp_path_factory.mktemp("withdraw-gen")
    summary = generate(["22"], ["2026-W46", WEEK], seed=1034, home=gen_home)
    for path in summary.paths:
        shutil.copy2(path, settings.landing_dir(path.parent.name) / path.name)
    landed = land_pending()
    assert landed.failed == [] and landed.quarantined == []
    lensan_dbt.run_dbt(["seed"])
    lensan_dbt.run_dbt(["run"])
    first = publish.publish_weekly(WEEK, gate_summary=None)
    return {"scope_dir": settings.home_dir("exports") / "week" / WEEK / SCOPE, "first": first}


def test_withdrawal_revises_the_week_it_fed(published, db, capsys):
    scope_dir = published["scope_dir"]
    revs_before = _revisions(scope_dir)
    assert revs_before, f"no revision published in {scope_dir}"
    latest_before = scope_dir / f"rev-{revs_before[-1]}"
    digest_before = _tree_digest(latest_before)
    orders_before = _orders_of_week(db)

    with db.cursor() as cur:
        cur.execute("select sha256, archive_dir, row_count from raw.landed_files where name_hash = %s",
                    (ledger.name_key(WITHDRAWN),))
        (sha, archive_dir, rows), = cur.fetchall()
    db.rollback()
    assert rows > 0

    # by name, through the command
    assert cli.main(["withdraw", WITHDRAWN, "--reason", "Đơn hàng trùng / duplicated orders"]) == 0
    out = capsys.readouterr().out
    assert "Đã rút" in out and "Withdrew" in out and sha in out
    with db.cursor() as cur:
        cur.execute("select status, withdrawn_at is not null, withdrawn_reason from raw.landed_files "
                    "where sha256 = %s", (sha,))
        assert cur.fetchone() == ("loaded", True, "Đơn hàng trùng / duplicated orders")
        cur.execute("select count(*) from raw.postmart_orders o join raw.landed_files f using (file_id) "
                    "where f.sha256 = %s", (sha,))
        assert cur.fetchone()[0] == rows            # history kept in raw
    db.rollback()
    assert (Path(archive_dir) / f"{sha}__{WITHDRAWN}").exists()     # and in the archive, under its name

    # again, by SHA-256 prefix: already withdrawn, nothing changes
    assert cli.main(["withdraw", sha[:16], "--reason", "again"]) == 0
    assert "trước đó" in capsys.readouterr().out

    lensan_dbt.run_dbt(["run"])
    assert _orders_of_week(db) < orders_before       # the week no longer counts the withdrawn day
    second = publish.publish_weekly(WEEK, gate_summary=None)
    assert SCOPE in [p["scope_key"] for p in second.published], second.published
    revs_after = _revisions(scope_dir)
    assert revs_after[-1] == revs_before[-1] + 1     # a new revision of the affected scope
    assert _tree_digest(latest_before) == digest_before   # the earlier one is intact


def test_withdraw_refuses_unknown_ambiguous_and_quarantined(published, db, capsys):
    assert cli.main(["withdraw", "postmart_don_hang_19990101.csv", "--reason", "x"]) == 1
    err = capsys.readouterr().err
    assert "Không tìm thấy" in err and "No landed file" in err
    assert cli.main(["withdraw", "postmart_don_hang_20261119.csv", "--reason", "  "]) == 2

    # a corrected file delivered under the very same name: the name now means two files
    name = "postmart_don_hang_20261120.csv"
    with db.cursor() as cur:
        cur.execute("select sha256, archive_dir from raw.landed_files where name_hash = %s", (ledger.name_key(name),))
        (first_sha, archive_dir), = cur.fetchall()
    db.rollback()
    corrected = settings.landing_dir("postmart") / name
    lines = (Path(archive_dir) / f"{first_sha}__{name}").read_bytes().splitlines(keepends=True)
    corrected.write_bytes(b"".join(lines[:-1]))      # the last order taken out
    summary = land_pending(["postmart"])
    assert [x.name for x in summary.landed] == [name]
    assert cli.main(["withdraw", name, "--reason", "x"]) == 2
    err = capsys.readouterr().err
    assert first_sha in err and "SHA-256" in err
    with db.cursor() as cur:
        cur.execute("select count(*) from raw.landed_files where name_hash = %s and withdrawn_at is not null",
                    (ledger.name_key(name),))
        assert cur.fetchone()[0] == 0
    db.rollback()
    # naming it by SHA-256 works
    assert cli.main(["withdraw", first_sha, "--reason", "replaced by the corrected file"]) == 0
    capsys.readouterr()


def test_withdraw_function_refuses_a_quarantined_file(published, db):
    bad = settings.landing_dir("postmart") / "postmart_don_hang_20261121_hong.csv"
    bad.write_bytes(b"not,a,postmart,file\n")
    summary = land_pending(["postmart"])
    assert [q.name for q in summary.quarantined] == [bad.name]
    with pytest.raises(ledger.WithdrawalRefused) as refused:
        ledger.withdraw(db, bad.name, "x")
    assert "cách ly" in refused.value.message_vi and "quarantined" in refused.value.message_en


def test_key_rotation_keeps_withdrawals_and_deliveries(published, db):
    from lensan.landing import reland_all

    def marks():
        with db.cursor() as cur:
            cur.execute("select sha256, withdrawn_at, withdrawn_reason from raw.landed_files "
                        "where withdrawn_at is not null order by 1")
            withdrawn = cur.fetchall()
            cur.execute("select delivery_id, file_id, public_name, name_hash from raw.deliveries order by 1")
            deliveries = cur.fetchall()
        db.rollback()
        return withdrawn, deliveries

    before = marks()
    assert before[0], "the tests above withdrew files"
    reland_all()
    assert marks() == before

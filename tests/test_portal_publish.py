"""A form handed in through the portal is published in the next weekly report: sample data for one
province and one week (the generator), then `lensan demo`'s portal step — one unit's form uploaded over
real HTTP (uvicorn on 127.0.0.1) in place of the generated file — the ingest, the dbt build and the
weekly publication. Built once for the module on the session's embedded PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fixtures.sql import rows

from lensan import settings
from lensan.calendar import periods

pytestmark = pytest.mark.integration

PROVINCE = "92"
WEEK = periods.last_complete_week(dt.datetime.now(tz=settings.LOCAL_TZ))


@pytest.fixture(scope="module")
def published(warehouse, lensan_home, empty_raw, tmp_path_factory):
    from lensan.db import warehouse as wh
    from lensan.landing import land_pending
    from lensan.portal import demo
    from lensan.publish import service
    from lensan.transform import dbt as lensan_dbt
    from lensan_dev import generate

    for source in settings.SOURCES:
        for path in settings.landing_dir(source).iterdir():
            path.unlink()
    conn = wh.connect()
    with conn.cursor() as cur:
        empty_raw(cur)
    conn.commit()
    conn.close()
    generate.generate([PROVINCE], [WEEK], seed=20)
    upload = demo.upload_one_form(PROVINCE, WEEK)
    assert upload and len(upload["landed"]) == 1
    landed = settings.landing_dir("weekly_form") / upload["landed"][0]
    kept = tmp_path_factory.mktemp("portal") / landed.name
    kept.write_bytes(landed.read_bytes())
    land_pending()
    lensan_dbt.run_dbt(["seed"])
    lensan_dbt.run_dbt(["build", "--exclude", "resource_type:seed"])
    service.publish_weekly(WEEK)
    scope = settings.home_dir("exports") / "week" / WEEK / f"province-{PROVINCE}"
    latest = max(scope.glob("rev-*"), key=lambda p: int(p.name.split("-")[1]))
    return {**upload, "form": kept, "rev": latest}


def test_the_portal_form_is_the_units_form_in_the_marts(published, db):
    from lensan.landing.parsers import weekly_form

    form = weekly_form.parse(published["form"])
    sent = {r.indicator_code: float(r.value_in_week) for r in form.rows if r.value_in_week is not None}
    stored = {code: float(value) for code, value in rows(
        db, "select indicator_code, value_in_week from marts.fct_reported_values where week_key = %s "
            "and unit_code = %s and value_in_week is not null", (WEEK, published["unit_code"]))}
    assert sent and stored == sent
    assert rows(db, "select f.sha256 from raw.weekly_forms w join raw.landed_files f using (file_id) "
                    "where w.unit_code = %s and w.week_key = %s", (published["unit_code"], WEEK)) == [
        (published["sha256"],)]


def test_the_published_weekly_report_counts_the_portal_form(published):
    manifest = json.loads((published["rev"] / "manifest.json").read_text(encoding="utf-8"))
    assert published["sha256"] in json.dumps(manifest)       # the portal's file fed this report
    report = next(data for data in (json.loads(p.read_text(encoding="utf-8")) for p in published["rev"].glob("*.json")
                                    if p.name != "manifest.json") if "completeness" in data)
    annex = report["completeness"]
    unit = [u for u in annex["units"] if u["unit_code"] == published["unit_code"]]
    on_time = dt.datetime.now(tz=settings.LOCAL_TZ) <= periods.weekly_deadline(WEEK)
    assert len(unit) == 1 and unit[0]["status"] == ("on_time" if on_time else "late")
    assert unit[0]["reported_rows"] > 0
    assert published["unit_code"] not in {u["unit_code"] for u in annex["missing_units"]}
    assert (published["unit_code"] in {u["unit_code"] for u in annex["late_units"]}) == (not on_time)

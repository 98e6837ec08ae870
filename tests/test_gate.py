"""lensan.quality (checkpoints, summary, scopes, policy) against the real embedded PostgreSQL and the committed GX project.

The tests run in a database of their own on the session's server (LENSAN_WAREHOUSE_URL points at
it for the duration), holding staging/marts tables with the contract's columns, so they never
collide with a dbt build of the real marts in the shared test warehouse.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from lensan.db.warehouse import scratch_database
from lensan import settings, reference
from lensan.quality import checkpoints, policy, scopes
from lensan.quality import summary as gate_summary

pytestmark = pytest.mark.integration

WEEK = "2026-W47"
OTHER_WEEK = "2026-W46"
TEST_DB = "lensan_gate_test"

DDL = """
drop schema if exists staging cascade;
drop schema if exists marts cascade;
drop schema if exists ops cascade;
drop schema if exists intermediate cascade;
create schema staging;
create schema intermediate;
create schema marts;
create table intermediate.int_platforms__orders (platform text, order_id text, order_status text,
    ordered_at timestamptz);
create table staging.stg_postmart__orders (platform text, order_id text, ordered_at timestamptz,
    updated_at timestamptz, order_status text, quantity numeric, weight_kg numeric, weight_t numeric,
    amount_vnd numeric, file_id bigint, row_number int);
create table staging.stg_voso__orders (platform text, order_id text, ordered_at timestamptz,
    updated_at timestamptz, order_status text, quantity numeric, weight_g numeric, weight_t numeric,
    amount_vnd numeric, file_id bigint, row_number int);
create table staging.stg_weekly_forms__forms (file_id bigint, unit_code text, unit_name text,
    map_version text, week_key text, week_start date, week_end date, received_at timestamptz);
create table staging.stg_weekly_forms__form_rows (file_id bigint, row_number int, tt text, section text,
    indicator_code text, label text, unit_label text, value_in_week numeric, growth_pct numeric,
    cumulative_value numeric, completion_pct numeric, notes text);
create table marts.fct_indicator_values (period_type text, period_key text, scope_level text,
    scope_code text, map_version text, platform text, indicator_code text, value_in_period numeric,
    cumulative_value numeric, previous_value numeric, growth_pct numeric, target_year int,
    target_value numeric, target_attainment_pct numeric, is_sample_target boolean, source text);
create table marts.rpt_weekly_report (week_key text, scope_level text, scope_code text, scope_name text,
    section text, tt text, sort_order int, indicator_code text, indicator_label_vi text, unit_vi text,
    value_in_week numeric, growth_pct numeric, cumulative_value numeric, target_value numeric,
    target_attainment_pct numeric, notes text, quality_flags text);
create table intermediate.int_geography__reporting_units (map_version text, unit_code text, unit_name text,
    province_code text, current_province_code text, region_code text);
create table marts.dim_admin_unit (map_version text, unit_level text, unit_code text, unit_name text,
    province_code text, current_province_code text, region_code text, is_reporting_unit boolean);
create table marts.dim_period (period_type text, period_key text);
create table marts.fct_quality_checks (week_key text, rule_code text, severity text, scope_key text,
    province_code text, subject_level text, subject_code text, subject_name text, indicator_code text,
    observed_value numeric, limit_value numeric, is_violation int, row_key text);
create table marts.fct_reporting_completeness (week_key text, map_version text, unit_code text, unit_name text,
    current_province_code text, scope_key text, reporting_status text, is_received boolean, is_on_time boolean,
    is_late boolean, is_missing boolean, winning_forms int);
create table marts.fct_plausibility (week_key text, map_version text, unit_code text, scope_key text,
    indicator_code text, value_in_week numeric, robust_score numeric, score_method text, is_outlier boolean);
create table marts.fct_reconciliation (week_key text, map_version text, unit_code text, scope_key text,
    indicator_code text, reported_value numeric, computed_value numeric, relative_divergence_pct numeric,
    is_divergent boolean);
"""

SCOPES = [("nation", "VN", "Toàn quốc"), ("region", "bac", "Miền Bắc"), ("province", "22", "Tỉnh Quảng Ninh")]


def _seed_good(conn) -> None:
    """A clean week W47 (and W46) for three scopes, plus consistent staging rows."""
    with conn.cursor() as cur:
        cur.execute(DDL)
        for week in (OTHER_WEEK, WEEK):
            for level, code, name in SCOPES:
                for ind in reference.weekly_form_indicators():
                    cur.execute(
                        "insert into marts.rpt_weekly_report values"
                        " (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                        (week, level, code, name, ind.section, ind.tt, ind.sort_order, ind.code, ind.label_vi,
                         ind.unit_vi, 5, 10.5, 120, 1000, 12, None, None))
                for ind in reference.indicators():
                    for platform in ("all", "postmart", "voso"):
                        cur.execute(
                            "insert into marts.fct_indicator_values values"
                            " ('week',%s,%s,%s,'post2025',%s,%s,5,120,115,4.3,2026,1000,12,true,'platforms')",
                            (week, level, code, platform, ind.code))
        cur.execute("""
            insert into intermediate.int_geography__reporting_units values ('pre2025','205','Huyện Đông Triều','22','22','bac');
            insert into marts.dim_admin_unit values
              ('post2025','province','22','Tỉnh Quảng Ninh','22','22','bac',false),
              ('post2025','commune','07090','Phường An Sinh','22','22','bac',true);
            insert into marts.dim_period values ('week', %(w1)s), ('week', %(w2)s);
            insert into marts.fct_quality_checks values
              (%(w2)s,'households_le_agri_households','error','province-22','22','province','22','Quảng Ninh',
               'hh_with_shop',120,1000,0,'households_le_agri_households:province-22:hh_with_shop'),
              (%(w2)s,'stock_not_decreasing','warning','province-22','22','unit','07090','Phường An Sinh',
               'hh_with_shop',5,0,0,'stock_not_decreasing:unit-07090:hh_with_shop');
            insert into marts.fct_reporting_completeness values
              (%(w2)s,'post2025','07090','Phường An Sinh','22','province-22','on_time',true,true,false,false,1);
            insert into marts.fct_plausibility values
              (%(w2)s,'post2025','07090','province-22','orders',12,0.5,'mad',false);
            insert into marts.fct_reconciliation values
              (%(w2)s,'post2025','07090','province-22','hh_with_shop',40,40,0,false);
        """, {"w1": OTHER_WEEK, "w2": WEEK})
        cur.execute("""
            insert into staging.stg_postmart__orders values
              ('postmart','PM1','2026-11-17 10:00+07','2026-11-17 10:00+07','success',1,1.5,0.0015,100000,1,1),
              ('postmart','PM1','2026-11-17 10:00+07','2026-11-19 10:00+07','returned',1,1.5,0.0015,100000,2,1);
            insert into staging.stg_voso__orders values
              ('voso','VS1','2026-11-18 10:00+07','2026-11-18 10:00+07','success',2,2000,0.002,200000,3,1);
            insert into intermediate.int_platforms__orders values
              ('postmart','PM1','returned','2026-11-17 10:00+07'), ('voso','VS1','success','2026-11-18 10:00+07');
            insert into staging.stg_weekly_forms__forms values
              (10,'205','Huyện Đông Triều','pre2025','2026-W47','2026-11-16','2026-11-22',now());
            insert into staging.stg_weekly_forms__form_rows values
              (10,1,'3','II','hh_with_shop','Số hộ','Hộ',3,10,40,55,null),
              (10,2,'2','III','volume_sold_t','Sản lượng','Tấn',1.5,-20,10,5,null);
        """)
    conn.commit()


@pytest.fixture(scope="module")
def gate_db(warehouse):
    """A database of this module's own on the session server; LENSAN_WAREHOUSE_URL points at it."""
    with scratch_database(TEST_DB, warehouse) as info, pytest.MonkeyPatch.context() as mp:
        mp.setenv("LENSAN_WAREHOUSE_URL", info.url)
        yield info


@pytest.fixture
def conn(gate_db):
    from lensan.db import warehouse

    connection = warehouse.connect()
    _seed_good(connection)
    yield connection
    connection.rollback()
    connection.close()


def _execute(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
    conn.commit()


def _gate_rows(conn, checkpoint):
    with conn.cursor() as cur:
        cur.execute("select run_id, success, status, failed_error, failed_warning, summary"
                    " from ops.gate_results where checkpoint = %s order by recorded_at", (checkpoint,))
        rows = cur.fetchall()
    conn.commit()
    return rows


# ------------------------------------------------------------------------------------------------


def test_committed_project_has_no_secret_and_the_expected_objects():
    root = settings.GX_PROJECT_DIR
    cfg = yaml.safe_load((root / "great_expectations.yml").read_text())
    ds = cfg["fluent_datasources"]["lensan_warehouse"]
    assert ds["type"] == "postgres"
    assert ds["connection_string"] == "${LENSAN_GX_WAREHOUSE_URL}"
    assert "@" not in json.dumps(cfg["stores"]) and "password" not in (root / "great_expectations.yml").read_text()
    suites = {p.stem for p in (root / "suites").glob("*.json")}
    assert {"staging_orders", "staging_form_rows", "marts_indicator_values", "marts_weekly_report"} <= suites
    for name in ("staging_checkpoint", "marts_checkpoint"):
        checkpoint = json.loads((root / "checkpoints" / f"{name}.json").read_text())
        assert checkpoint["name"] == name and checkpoint["validation_definitions"]
    suite = json.loads((root / "suites" / "marts_indicator_values.json").read_text())
    codes = next(e["kwargs"]["value_set"] for e in suite["expectations"]
                 if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "indicator_code")
    assert sorted(codes) == sorted(i.code for i in reference.indicators()) and len(codes) == 24


def test_marts_gate_passes_on_good_rows_and_records_the_summary(conn):
    summary = checkpoints.run_checkpoint("marts_checkpoint", {"week_key": WEEK})
    assert summary["success"] is True and summary["status"] == "passed"
    assert summary["period_key"] == WEEK and summary["batch_parameters"] == {"period_key": WEEK}
    assert summary["counts"]["validations"] == 6 and summary["counts"]["failed_error"] == 0
    assert summary["counts"]["evaluated"] == summary["counts"]["successful"] > 10
    # the batch really is the week: 3 scopes x 17 rows
    report = next(v for v in summary["validations"] if v["validation"] == "marts_weekly_report")
    assert report["results"][0]["observed_value"] == 3 * 17
    rows = _gate_rows(conn, "marts_checkpoint")
    assert rows[-1][0] == summary["run_id"] and rows[-1][1] is True and rows[-1][2] == "passed"
    assert os.environ[checkpoints.URL_VARIABLE].endswith(f"/{TEST_DB}?options=-c+lensan.gate_period%3D{WEEK}")


def test_marts_gate_raises_naming_the_failed_expectation_on_negative_households(conn):
    _execute(conn, "update marts.rpt_weekly_report set cumulative_value = -7 where week_key = %s"
                   " and scope_code = '22' and indicator_code = 'hh_with_shop'", (WEEK,))
    with pytest.raises(gate_summary.GateFailed) as caught:
        checkpoints.run_checkpoint("marts", {"week_key": WEEK}, run_id="test-run-negative")
    message = str(caught.value)
    assert "marts_weekly_report.expect_column_values_to_be_between(cumulative_value)" in message
    assert "KHÔNG ĐẠT" in message and "FAILED" in message and "-7" in message
    summary = caught.value.summary
    assert summary["success"] is False and summary["status"] == "failed"
    failed = summary["failed"][0]
    assert failed["severity"] == "error" and failed["unexpected_count"] == 1
    assert failed["affected_scopes"] == ["province-22"]
    assert failed["sample_unexpected_rows"][0]["row_key"] == "hh_with_shop"
    assert caught.value.blocked_scopes.keys() == {"province-22"} and summary["blocks_all"] is False
    rows = _gate_rows(conn, "marts_checkpoint")
    assert rows[-1][0] == "test-run-negative" and rows[-1][1] is False and rows[-1][3] == 1
    assert rows[-1][5]["failed"][0]["name"] == failed["name"]


def test_gate_results_are_upserted_by_run_id_and_checkpoint(conn):
    checkpoints.run_checkpoint("marts_checkpoint", {"week_key": WEEK}, run_id="same-run")
    _execute(conn, "update marts.rpt_weekly_report set cumulative_value = -1 where week_key = %s"
                   " and scope_code = 'VN' and indicator_code = 'orders'", (WEEK,))
    _execute(conn, "insert into marts.rpt_weekly_report select * from marts.rpt_weekly_report"
                   " where week_key = %s and scope_code = 'VN' and indicator_code = 'ocop_listed'", (WEEK,))
    with pytest.raises(gate_summary.GateFailed):
        checkpoints.run_checkpoint("marts_checkpoint", {"week_key": WEEK}, run_id="same-run")
    rows = [r for r in _gate_rows(conn, "marts_checkpoint") if r[0] == "same-run"]
    assert len(rows) == 1 and rows[0][1] is False
    names = {f["name"] for f in rows[0][5]["failed"]}
    assert "marts_weekly_report.expect_column_values_to_be_between(rows_per_key)" in names
    # the duplicate is the nation's own row: the nation is blocked, the provinces may still publish
    assert "nation-VN" in rows[0][5]["blocked_scopes"] and rows[0][5]["blocks_all"] is False


def test_warning_severity_failure_is_recorded_but_does_not_raise(conn):
    # a stock whose weekly increase is negative: warning (meta.severity = warning), not an error
    _execute(conn, "update marts.rpt_weekly_report set value_in_week = -2 where week_key = %s"
                   " and scope_code = '22' and indicator_code = 'hh_with_shop'", (WEEK,))
    summary = checkpoints.run_checkpoint("marts_checkpoint", {"week_key": WEEK})
    assert summary["success"] is True and summary["gx_success"] is False and summary["status"] == "warning"
    assert summary["failed"] == [] and summary["counts"]["failed_warning"] == 1
    warning = summary["warnings"][0]
    assert warning["name"] == "marts_weekly_report.expect_column_values_to_be_between(value_in_week)"
    assert warning["severity"] == "warning" and warning["affected_scopes"] == ["province-22"]
    assert _gate_rows(conn, "marts_checkpoint")[-1][2] == "warning"


def test_the_run_validates_only_the_requested_week(conn):
    _execute(conn, "update marts.rpt_weekly_report set cumulative_value = -9 where week_key = %s", (OTHER_WEEK,))
    assert checkpoints.run_checkpoint("marts_checkpoint", {"week_key": WEEK})["success"] is True
    with pytest.raises(gate_summary.GateFailed):
        checkpoints.run_checkpoint("marts_checkpoint", {"week_key": OTHER_WEEK})


def test_a_gate_of_one_week_reads_no_other_week(conn):
    """GX lists batches with a DISTINCT over the whole asset query: under a gated URL that listing, and
    so the gate's cost, sees only the requested period (issue #17: bounded by the period's rows)."""
    import os

    context = checkpoints.get_context()
    source = context.data_sources.get("lensan_warehouse")

    def periods_listed(asset_name):
        asset = source.get_asset(asset_name)
        request = asset.build_batch_request(partitioner=asset.batch_definitions[0].partitioner)
        return sorted({ids["period_key"] for ids in asset.get_batch_identifiers_list(request)})

    try:
        assert OTHER_WEEK in periods_listed("marts_weekly_report")   # no period: every week, as before
        os.environ[checkpoints.URL_VARIABLE] = checkpoints.gated_url(WEEK)
        for asset_name in ("marts_weekly_report", "marts_indicator_values", "marts_quality_checks",
                           "marts_reconciliation", "staging_form_rows", "staging_orders"):
            assert periods_listed(asset_name) in ([WEEK], []), asset_name
        assert periods_listed("marts_weekly_report") == [WEEK]
    finally:
        checkpoints.prepare_environment()


def test_gated_url_keeps_the_url_options_and_refuses_odd_keys(monkeypatch):
    from urllib.parse import parse_qs, urlsplit

    from lensan.db import warehouse

    monkeypatch.setattr(warehouse, "warehouse_url", lambda: "postgresql://u:p@h:5/db?sslmode=require")
    url = checkpoints.gated_url("2026-W47")
    query = parse_qs(urlsplit(url).query)
    assert query == {"sslmode": ["require"], "options": ["-c lensan.gate_period=2026-W47"]}
    assert checkpoints.gated_url(None) == "postgresql://u:p@h:5/db?sslmode=require"
    with pytest.raises(ValueError):
        checkpoints.gated_url("2026-W47 -c search_path=evil")


def test_a_week_without_rows_fails_the_gate(conn):
    with pytest.raises(gate_summary.GateFailed) as caught:
        checkpoints.run_checkpoint("marts_checkpoint", {"week_key": "2020-W01"})
    assert "no rows for period 2020-W01" in str(caught.value)
    assert caught.value.summary["blocks_all"] is True


def _period_inputs_schema(conn, extracts: list[tuple[str, str]]) -> None:
    """What judge_period_inputs reads beyond the gate's own tables: the kinds on fct_indicator_values, the
    period bounds and the landing log, with platform `extracts` as (file_date, 'file' | 'delivery')."""
    kinds = {i.code: i.kind for i in reference.indicators()}
    with conn.cursor() as cur:
        cur.execute("""alter table marts.fct_indicator_values add column indicator_kind text;
                       alter table marts.dim_period add column period_start date, add column period_end date;
                       update marts.dim_period set period_start = '2026-11-16', period_end = '2026-11-22'
                        where period_key = %s;
                       drop schema if exists raw cascade; create schema raw;
                       create table raw.landed_files (file_id bigint, source text, status text,
                                                      withdrawn_at timestamptz, file_date date);
                       create table raw.deliveries (delivery_id bigint, file_id bigint, file_date date);
                       insert into raw.landed_files values (1, 'postmart', 'loaded', null, '2026-11-09');""", (WEEK,))
        for code, kind in kinds.items():
            cur.execute("update marts.fct_indicator_values set indicator_kind = %s where indicator_code = %s",
                        (kind, code))
        for number, (day, how) in enumerate(extracts, start=2):
            if how == "file":
                cur.execute("insert into raw.landed_files values (%s, 'voso', 'loaded', null, %s)", (number, day))
            else:   # the same (empty) bytes delivered again under the name of a later day
                cur.execute("insert into raw.deliveries values (%s, 1, %s)", (number, day))
    conn.commit()


@pytest.mark.parametrize("extracts", [[("2026-11-20", "file")], [("2026-11-22", "delivery")]])
def test_a_quiet_week_with_its_extracts_is_published(conn, extracts):
    """Nothing happened: the week's rows exist, no flow nor active account, the platforms' extracts landed."""
    _period_inputs_schema(conn, extracts)
    try:
        _execute(conn, "update marts.fct_indicator_values set value_in_period = 0 where period_key = %s"
                       " and indicator_kind in ('flow', 'distinct_in_period')", (WEEK,))
        summary = checkpoints.run_checkpoint("marts_checkpoint", {"week_key": WEEK})
        assert summary["success"] is True and summary["quiet"] is True and not summary.get("no_data")
        assert summary["period_inputs"] == {"rows": summary["period_inputs"]["rows"], "events": 0, "extracts": 1}
        assert "nothing happened" in summary["quiet_note"]
        decision = policy.decide(summary)
        assert isinstance(decision, policy.Proceed) and policy.is_quiet(decision)
        assert gate_summary.compact(summary)["quiet"] is True
    finally:
        _execute(conn, "drop schema raw cascade")


def test_a_week_without_events_nor_extracts_is_data_missing(conn):
    """Data missing: zeros in the marts but no platform file for any day of the week (only an older one)."""
    _period_inputs_schema(conn, [])
    try:
        _execute(conn, "update marts.fct_indicator_values set value_in_period = 0 where period_key = %s"
                       " and indicator_kind in ('flow', 'distinct_in_period')", (WEEK,))
        with pytest.raises(gate_summary.GateFailed) as caught:
            checkpoints.run_checkpoint("marts_checkpoint", {"week_key": WEEK})
        summary = caught.value.summary
        assert summary["no_data"] is True and summary["blocks_all"] is True and not summary.get("quiet")
        assert "data missing for period 2026-W47" in str(caught.value)
        decision = policy.decide(summary)
        assert isinstance(decision, policy.Stop) and decision.no_data
        # with events the same missing extracts are not judged: the week is an ordinary one
        _execute(conn, "update marts.fct_indicator_values set value_in_period = 3 where period_key = %s"
                       " and indicator_code = 'orders' and scope_level = 'nation' and platform = 'all'", (WEEK,))
        summary = checkpoints.run_checkpoint("marts_checkpoint", {"week_key": WEEK})
        assert summary["success"] is True and not summary.get("quiet") and summary["period_inputs"]["events"] == 1
    finally:
        _execute(conn, "drop schema raw cascade")


def test_judge_period_inputs_keeps_a_summary_without_batch_as_it_is():
    summary = {"checkpoint": "marts_checkpoint", "period_key": WEEK, "no_data": True, "failed": [{"name": "x"}]}
    assert gate_summary.judge_period_inputs(dict(summary), {"rows": 0, "events": 0, "extracts": 0}) == summary
    assert gate_summary.judge_period_inputs(dict(summary), None) == summary


def test_staging_gate_passes_then_names_negative_form_value_and_duplicate_order(conn):
    summary = checkpoints.run_checkpoint("staging", {"week_key": WEEK})
    assert summary["status"] == "passed" and summary["counts"]["validations"] == 2
    # the same order re-delivered (a corrected extract of the day, file 4): a version, not a duplicate
    _execute(conn, "insert into staging.stg_voso__orders values ('voso','VS1','2026-11-18 10:00+07',"
                   "'2026-11-18 10:00+07','cancelled',2,2000,0.002,200000,4,1)")
    assert checkpoints.run_checkpoint("staging_checkpoint", {"week_key": WEEK})["counts"]["failed_error"] == 0
    _execute(conn, "insert into staging.stg_weekly_forms__form_rows values"
                   " (10,3,'1','II','hh_trained_digital','x','Hộ',-4,0,10,150,null)")
    # ... but twice within one delivery it is a duplicate order id
    _execute(conn, "insert into staging.stg_voso__orders values ('voso','VS1','2026-11-18 10:00+07',"
                   "'2026-11-18 10:00+07','returned',2,2000,0.002,200000,4,2)")
    _execute(conn, "insert into intermediate.int_platforms__orders values"
                   " ('postmart','PM1','success','2026-11-17 10:00+07')")
    with pytest.raises(gate_summary.GateFailed) as caught:
        checkpoints.run_checkpoint("staging_checkpoint", {"week_key": WEEK})
    names = {f["name"] for f in caught.value.summary["failed"]}
    assert names == {"staging_form_rows.expect_column_values_to_be_between(value_in_week)",
                     "staging_orders.expect_column_values_to_be_between(versions_in_delivery)",
                     "staging_orders.expect_column_values_to_be_between(latest_rows)"}
    latest = next(f for f in caught.value.summary["failed"] if f["column"] == "latest_rows")
    assert {r["row_key"] for r in latest["sample_unexpected_rows"]} == {"PM1"}
    warnings = {w["name"] for w in caught.value.summary["warnings"]}
    assert "staging_form_rows.expect_column_values_to_be_between(completion_pct)" in warnings


def test_build_data_docs_writes_into_lensan_home(conn):
    checkpoints.run_checkpoint("marts_checkpoint", {"week_key": WEEK})
    index = checkpoints.build_data_docs()
    assert index == settings.lensan_home() / "data_docs" / "index.html"
    assert index.exists() and "marts_weekly_report" in index.read_text(encoding="utf-8")
    assert not (settings.GX_PROJECT_DIR / "uncommitted" / "data_docs").exists()


def test_inside_airflow_the_run_id_is_the_dag_run(conn, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "lensan_publish_weekly")
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", "manual__2026-11-26T03:00:00+00:00")
    first = checkpoints.run_checkpoint("marts", {"week_key": WEEK})
    checkpoints.run_checkpoint("marts", {"week_key": WEEK})  # a retry of the same task
    assert first["run_id"] == "lensan_publish_weekly/manual__2026-11-26T03:00:00+00:00"
    assert [r[0] for r in _gate_rows(conn, "marts_checkpoint")].count(first["run_id"]) == 1


# ------------------------------------------------------------------------------------------------ attribution


def test_a_quality_rule_error_blocks_only_its_province_and_names_the_rule(conn):
    _execute(conn, "update marts.fct_quality_checks set is_violation = 1, observed_value = 5000"
                   " where rule_code = 'households_le_agri_households'")
    with pytest.raises(gate_summary.GateFailed) as caught:
        checkpoints.run_checkpoint("marts", {"week_key": WEEK})
    summary = caught.value.summary
    assert caught.value.blocked_scopes.keys() == {"province-22"} and summary["blocks_all"] is False
    failed = summary["failed"][0]
    assert failed["name"] == ("marts_quality_checks.expect_column_values_to_be_between(violations)"
                              "[households_le_agri_households]")
    assert "số hộ có gian hàng" in caught.value.blocked_scopes["province-22"]
    assert set(summary["flagged_scopes"]) == {"region-bac", "nation-VN"}
    assert "province-22" in summary["flagged_scopes"]["nation-VN"]


def test_a_warning_rule_and_late_units_only_warn(conn):
    _execute(conn, "update marts.fct_quality_checks set is_violation = 1 where rule_code = 'stock_not_decreasing'")
    _execute(conn, "update marts.fct_reporting_completeness set reporting_status = 'late', is_late = true,"
                   " is_on_time = false")
    summary = checkpoints.run_checkpoint("marts", {"week_key": WEEK})
    assert summary["status"] == "warning" and summary["blocked_scopes"] == {}
    names = {w["name"] for w in summary["warnings"]}
    assert "marts_quality_checks.expect_column_values_to_be_between(violations)[stock_not_decreasing]" in names
    assert "marts_reporting_completeness.expect_column_values_to_be_between(late_units)" in names


def test_two_accepted_forms_for_one_unit_week_is_an_error(conn):
    _execute(conn, "update marts.fct_reporting_completeness set winning_forms = 2")
    with pytest.raises(gate_summary.GateFailed) as caught:
        checkpoints.run_checkpoint("marts", {"week_key": WEEK})
    assert caught.value.blocked_scopes.keys() == {"province-22"}


def test_an_aggregate_failing_with_its_province_is_flagged_not_blocked(conn):
    # the same negative level in the province, its region and the nation: the province is the cause
    _execute(conn, "update marts.rpt_weekly_report set cumulative_value = -7 where week_key = %s"
                   " and indicator_code = 'hh_with_shop'", (WEEK,))
    with pytest.raises(gate_summary.GateFailed) as caught:
        checkpoints.run_checkpoint("marts", {"week_key": WEEK})
    summary = caught.value.summary
    assert caught.value.blocked_scopes.keys() == {"province-22"}
    assert set(summary["flagged_scopes"]) == {"region-bac", "nation-VN"}


def test_an_aggregate_failing_on_its_own_is_blocked(conn):
    _execute(conn, "update marts.rpt_weekly_report set cumulative_value = -7 where week_key = %s"
                   " and scope_level = 'nation' and indicator_code = 'ocop_listed'", (WEEK,))
    with pytest.raises(gate_summary.GateFailed) as caught:
        checkpoints.run_checkpoint("marts", {"week_key": WEEK})
    assert caught.value.blocked_scopes.keys() == {"nation-VN"}
    assert caught.value.summary["flagged_scopes"] == {}


def test_unseen_unexpected_rows_block_everything():
    summary = {"failed": [{"name": "x", "validation": "v", "affected_scopes": ["province-22"],
                           "affected_scopes_truncated": True}], "blocked_scopes": {}, "flagged_scopes": {},
               "blocks_all": False}
    scopes.attribute_scopes(summary)
    assert summary["blocks_all"] is True and summary["blocked_scopes"].keys() == {"province-22"}
    unattributable = {"failed": [{"name": "y", "validation": "v", "affected_scopes": ["postmart"]}],
                      "blocked_scopes": {}, "flagged_scopes": {}, "blocks_all": False}
    scopes.attribute_scopes(unattributable)
    assert unattributable["blocks_all"] is True and unattributable["blocked_scopes"] == {}


# ------------------------------------------------------------------------------------------------ periodic reports


MONTH = "2026-11"   # W46 (9–15 Nov) and W47 (16–22 Nov) are in it


def _seed_month(conn, value: int = 5) -> None:
    with conn.cursor() as cur:
        for level, code, _ in SCOPES:
            for ind in reference.indicators():
                cur.execute("insert into marts.fct_indicator_values values"
                            " ('month',%s,%s,%s,'post2025','all',%s,%s,120,115,4.3,2026,1000,12,true,'platforms')",
                            (MONTH, level, code, ind.code, value))
    conn.commit()


def test_period_gate_checks_the_period_rows_and_every_week_in_it(conn):
    _seed_month(conn)
    assert checkpoints.period_weeks("month", MONTH) == [OTHER_WEEK, WEEK]
    assert checkpoints.period_weeks("month", "2026-10") == [] and checkpoints.period_weeks("year", "2026") == [OTHER_WEEK, WEEK]
    summary = checkpoints.run_period_checkpoint("month", MONTH, run_id="period-pass")
    assert summary["status"] == "passed" and summary["checkpoint"] == gate_summary.PERIOD_GATE
    assert summary["period_key"] == MONTH and summary["weeks"] == [OTHER_WEEK, WEEK]
    assert [(p["checkpoint"], p["period_key"]) for p in summary["parts"]] == [
        ("marts_period_checkpoint", MONTH), ("marts_checkpoint", OTHER_WEEK), ("marts_checkpoint", WEEK)]
    assert summary["counts"]["validations"] == 1 + 6 + 6
    month_part = summary["parts"][0]
    assert month_part["status"] == "passed"
    # every part and the merged result are in ops.gate_results
    recorded = {(r[0], c) for c in ("marts_period_checkpoint", "marts_checkpoint", gate_summary.PERIOD_GATE)
                for r in _gate_rows(conn, c)}
    assert {("period-pass", "marts_period_checkpoint"), (f"period-pass__{OTHER_WEEK}", "marts_checkpoint"),
            (f"period-pass__{WEEK}", "marts_checkpoint"), ("period-pass", gate_summary.PERIOD_GATE)} <= recorded
    compact = gate_summary.compact(summary)
    assert compact["weeks"] == [OTHER_WEEK, WEEK] and len(compact["parts"]) == 3


def test_period_gate_blocks_a_province_failing_in_one_of_its_weeks(conn):
    _seed_month(conn)
    _execute(conn, "update marts.rpt_weekly_report set cumulative_value = -7 where week_key = %s"
                   " and scope_code = '22' and indicator_code = 'hh_with_shop'", (WEEK,))
    with pytest.raises(gate_summary.GateFailed) as caught:
        checkpoints.run_period_checkpoint("month", MONTH, run_id="period-week-fails")
    summary = caught.value.summary
    assert summary["blocks_all"] is False and caught.value.blocked_scopes.keys() == {"province-22"}
    assert caught.value.blocked_scopes["province-22"].startswith(f"[{WEEK}] ")
    assert set(summary["flagged_scopes"]) == {"region-bac", "nation-VN"}
    assert summary["failed"][0]["part"] == WEEK and summary["failed"][0]["name"].startswith(f"[{WEEK}] ")
    assert "marts_period_gate" in str(caught.value) and MONTH in str(caught.value)


def test_period_gate_blocks_a_province_whose_period_rows_fail(conn):
    _seed_month(conn)
    _execute(conn, "update marts.fct_indicator_values set cumulative_value = -3 where period_key = %s"
                   " and scope_code = '22' and indicator_code = 'orders'", (MONTH,))
    with pytest.raises(gate_summary.GateFailed) as caught:
        checkpoints.run_period_checkpoint("month", MONTH)
    assert caught.value.blocked_scopes.keys() == {"province-22"}
    assert caught.value.blocked_scopes["province-22"].startswith(f"[{MONTH}] ")
    assert caught.value.summary["blocks_all"] is False


def test_period_gate_without_period_rows_says_no_data(conn):
    with pytest.raises(gate_summary.GateFailed) as caught:
        checkpoints.run_period_checkpoint("month", "2026-05")
    summary = caught.value.summary
    assert summary["no_data"] is True and summary["blocks_all"] is True and summary["weeks"] == []
    assert "no rows for period 2026-05" in str(caught.value)


# ------------------------------------------------------------------------------------------------ policy


def _summary(**fields) -> dict:
    return {"checkpoint": "marts_checkpoint", "period_key": WEEK, "failed": [], "blocked_scopes": {},
            "flagged_scopes": {}, "blocks_all": False} | fields


def test_policy_proceeds_on_a_passing_or_warning_gate():
    for summary in (_summary(status="passed"), _summary(status="warning", warnings=[{"name": "w"}])):
        assert policy.decide(summary) == policy.Proceed(summary)


def test_policy_blocks_the_scopes_a_failure_is_pinned_on():
    summary = _summary(failed=[{"name": "negative households"}], blocked_scopes={"province-22": "negative"})
    decision = policy.decide(summary)
    assert isinstance(decision, policy.Blocked) and decision.scopes == {"province-22": "negative"}
    assert decision.summary is summary
    assert decision.message == gate_summary.failure_message(summary) and "negative households" in decision.message


def test_policy_stops_on_any_other_error_and_tells_no_data_apart():
    unpinned = _summary(failed=[{"name": "duplicate grain"}], blocked_scopes={"province-22": "x"}, blocks_all=True)
    decision = policy.decide(unpinned)
    assert isinstance(decision, policy.Stop) and not decision.no_data and "duplicate grain" in decision.message
    assert isinstance(policy.decide(_summary(failed=[{"name": "y"}])), policy.Stop)  # an error no scope carries
    empty = _summary(failed=[{"name": "no rows"}], blocks_all=True, no_data=True)
    assert policy.decide(empty).no_data


def test_policy_evaluate_reads_a_gate_failure_as_its_summary():
    summary = _summary(failed=[{"name": "x"}], blocked_scopes={"region-bac": "x"})

    def failing():
        raise gate_summary.GateFailed(summary)

    assert policy.evaluate(failing) == policy.Blocked(summary, {"region-bac": "x"}, gate_summary.failure_message(summary))
    assert policy.evaluate(lambda: _summary()) == policy.Proceed(_summary())

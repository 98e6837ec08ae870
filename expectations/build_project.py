"""Regenerates the committed GX project (datasource + assets, suites, validation definitions,
checkpoints) through the GX Core 1.24 API. The JSON/YAML it writes is what is committed; run it only
to change the gates, then review the diff (ids are regenerated):

    LENSAN_HOME=/tmp/gx_build .venv/bin/python expectations/build_project.py

It needs a reachable warehouse (GX tests the connection when the datasource is added); the staging,
intermediate and marts relations need not exist.
"""
import shutil

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.core.partitioners import PartitionerColumnValue
from great_expectations.expectations.row_conditions import Column
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from lensan import settings, reference

from lensan.quality import checkpoints

checkpoints.prepare_environment()
root = settings.GX_PROJECT_DIR
for sub in ("suites", "validation_definitions", "checkpoints"):  # suites: expectations_store base_directory
    shutil.rmtree(root / sub, ignore_errors=True)
ctx = gx.get_context(mode="file", context_root_dir=root)
for ds in list(ctx.data_sources.all()):
    ctx.data_sources.delete(ds)  # all() iterates over names

ds = ctx.data_sources.add_postgres("lensan_warehouse", connection_string="${LENSAN_GX_WAREHOUSE_URL}")

WEEK = "to_char(({col} at time zone 'Asia/Ho_Chi_Minh'), 'IYYY-\"W\"IW')"
# The gated period, from the connection's `lensan.gate_period` setting (lensan.quality.checkpoints puts it
# in the connection URL of each run). GX lists an asset's batches with a DISTINCT over the whole query, so
# without this filter every gate would read all history. Unset (a gate without a period): every row.
# Range bounds on the plain column keep the period_key / week_key indexes usable; period keys start with
# a 4-digit year, so '0' and '9' bound them in any collation.
GATE_PERIOD = "nullif(current_setting('lensan.gate_period', true), '')"


def in_gated_period(column: str) -> str:
    return f"{column} between coalesce({GATE_PERIOD}, '0') and coalesce({GATE_PERIOD}, '9')"


def in_gated_week(timestamp: str) -> str:
    monday = f"to_date({GATE_PERIOD}, 'IYYY-\"W\"IW')"
    return (f"{timestamp} >= coalesce({monday}::timestamp at time zone 'Asia/Ho_Chi_Minh', '-infinity')"
            f" and {timestamp} < coalesce(({monday} + 7)::timestamp at time zone 'Asia/Ho_Chi_Minh', 'infinity')")


QUERIES = {
    "staging_orders": f"""SELECT o.*,
       count(*) over (partition by o.platform, o.order_id, o.file_id) as versions_in_delivery,
       coalesce(l.latest_rows, 0) as latest_rows,
       o.platform as scope_key, o.order_id as row_key,
       {WEEK.format(col='o.ordered_at')} as period_key
  from (select platform, order_id, ordered_at, updated_at, order_status, quantity, weight_t, amount_vnd,
               file_id, row_number
          from staging.stg_postmart__orders
         where {{ordered}}
        union all
        select platform, order_id, ordered_at, updated_at, order_status, quantity, weight_t, amount_vnd,
               file_id, row_number
          from staging.stg_voso__orders
         where {{ordered}}) as o
  left join (select platform as l_platform, order_id as l_order_id, count(*) as latest_rows
               from intermediate.int_platforms__orders where {{ordered}} group by 1, 2) as l
    on l.l_platform = o.platform and l.l_order_id = o.order_id""",
    # scope_key: the publishing scope a row is attributed to — the province (today's boundaries) of a
    # reporting unit, so an error blocks only that province (lensan.quality.scopes).
    "staging_form_rows": """SELECT r.*, f.unit_code, f.map_version, f.week_key, f.received_at,
       coalesce('province-' || g.current_province_code, 'unit-' || f.unit_code) as scope_key,
       r.indicator_code as row_key, f.week_key as period_key
  from staging.stg_weekly_forms__form_rows as r
  join staging.stg_weekly_forms__forms as f on f.file_id = r.file_id
  left join intermediate.int_geography__reporting_units as g
    on g.map_version = f.map_version and g.unit_code = f.unit_code
 where {form_week}""",
    "marts_indicator_values": """SELECT v.*,
       case when v.scope_level in ('unit', 'province') and u.current_province_code is not null
            then 'province-' || u.current_province_code
            else v.scope_level || '-' || v.scope_code end as scope_key,
       v.indicator_code as row_key
  from marts.fct_indicator_values as v
  left join marts.dim_admin_unit as u
    on v.scope_level in ('unit', 'province') and u.map_version = v.map_version and u.unit_code = v.scope_code
   and (u.unit_level = 'province') = (v.scope_level = 'province')
 where {values_period}""",
    "marts_weekly_report": """SELECT r.*, r.scope_level || '-' || r.scope_code as scope_key,
       r.indicator_code as row_key, r.week_key as period_key,
       count(*) over (partition by r.week_key, r.scope_level, r.scope_code) as rows_in_scope,
       count(*) over (partition by r.week_key, r.scope_level, r.scope_code, r.indicator_code) as rows_per_key
  from marts.rpt_weekly_report as r
 where {report_week}""",
    # value / consistency rules and completeness / plausibility / reconciliation (dbt models/marts/quality),
    # rolled up to one row per week x province (scope_key) x rule, so a failure lists every affected
    # province (never truncated) and row_key names the units / indicators concerned. One neutral row per
    # week of marts.dim_period keeps every week validatable even when nothing was reported.
    # The violations' keys are sorted apart: an ordered aggregate over the group made PostgreSQL 16 sort
    # every check of the week by its key first (0.45 s a query for 157,000 checks, ~60 ms so; GX runs
    # the query about a dozen times a gate).
    "marts_quality_checks": """SELECT c.week_key as period_key, c.scope_key, c.rule_code, c.severity,
       count(*) as checks, sum(c.is_violation) as violations,
       left((select string_agg(k, ', ' order by k)
               from unnest(array_agg(c.row_key) filter (where c.is_violation = 1)) as k), 1000) as row_key
  from marts.fct_quality_checks as c
 where {c_week}
 group by c.week_key, c.scope_key, c.rule_code, c.severity
union all
SELECT p.period_key, 'nation-VN', '_week_evaluated', 'info', 0, 0, null
  from marts.dim_period as p where p.period_type = 'week' and {p_period}""",
    "marts_reporting_completeness": """SELECT c.week_key as period_key, c.scope_key,
       count(*) as expected_units, count(*) filter (where c.is_late) as late_units,
       count(*) filter (where c.is_missing) as missing_units, max(c.winning_forms) as max_winning_forms,
       left(string_agg(case when not c.is_on_time then c.unit_code || ':' || c.reporting_status end, ', '
                       order by c.unit_code), 1000) as row_key
  from marts.fct_reporting_completeness as c
 where {c_week}
 group by c.week_key, c.scope_key
union all
SELECT p.period_key, 'nation-VN', 0, 0, 0, 0, null
  from marts.dim_period as p where p.period_type = 'week' and {p_period}""",
    "marts_plausibility": """SELECT p.week_key as period_key, p.scope_key, count(*) as scored,
       count(*) filter (where p.is_outlier) as outliers,
       left(string_agg(case when p.is_outlier then p.unit_code || ':' || p.indicator_code || '='
                            || coalesce(p.robust_score::text, 'const') end,
                       ', ' order by p.unit_code, p.indicator_code), 1000) as row_key
  from marts.fct_plausibility as p
 where {p_week}
 group by p.week_key, p.scope_key
union all
SELECT d.period_key, 'nation-VN', 0, 0, null
  from marts.dim_period as d where d.period_type = 'week' and {d_period}""",
    "marts_reconciliation": """SELECT r.week_key as period_key, r.scope_key, count(*) as compared,
       count(*) filter (where r.is_divergent) as divergent,
       left(string_agg(case when r.is_divergent then r.unit_code || ':' || r.indicator_code end, ', '
                       order by r.unit_code, r.indicator_code), 1000) as row_key
  from marts.fct_reconciliation as r
 where {r_week}
 group by r.week_key, r.scope_key
union all
SELECT d.period_key, 'nation-VN', 0, 0, null
  from marts.dim_period as d where d.period_type = 'week' and {d_period}""",
}
PERIOD_FILTERS = {
    "{ordered}": in_gated_week("ordered_at"),
    "{form_week}": in_gated_period("f.week_key"),
    "{values_period}": in_gated_period("v.period_key"),
    "{report_week}": in_gated_period("r.week_key"),
    "{c_week}": in_gated_period("c.week_key"),
    "{p_week}": in_gated_period("p.week_key"),
    "{r_week}": in_gated_period("r.week_key"),
    "{p_period}": in_gated_period("p.period_key"),
    "{d_period}": in_gated_period("d.period_key"),
}
for placeholder, condition in PERIOD_FILTERS.items():
    QUERIES = {name: query.replace(placeholder, condition) for name, query in QUERIES.items()}
batch_defs = {}
for name, query in QUERIES.items():
    asset = ds.add_query_asset(name=name, query=query)
    batch_defs[name] = asset.add_batch_definition(
        "by_period", partitioner=PartitionerColumnValue(column_name="period_key"), validate_partitioner=False)

WARN = {"severity": "warning"}
codes = [i.code for i in reference.indicators()]
weekly_codes = [i.code for i in reference.weekly_form_indicators()]
flow_codes = [i.code for i in reference.indicators() if i.kind != "stock"]  # flows, distinct, gauge, ratios
stock_codes = [i.code for i in reference.indicators() if i.kind == "stock"]

# rule_code of marts.fct_quality_checks, severity, description (English / Vietnamese)
QUALITY_RULES = [
    ("count_non_negative", "error", "counts are non-negative / số lượng không âm"),
    ("pct_in_range", "error", "percentages within 0-100 / tỉ lệ phần trăm trong khoảng 0-100"),
    ("households_le_agri_households", "error",
     "households with a shop <= agricultural households (base) / số hộ có gian hàng <= số hộ SXNN"),
    ("reported_households_le_agri_households", "error",
     "households reported in the form <= the unit's agricultural households / số hộ báo cáo <= số hộ SXNN"),
    ("reported_count_non_negative", "error", "reported cumulative values are non-negative / số lũy kế báo cáo không âm"),
    ("one_form_per_unit_week", "error",
     "one accepted form per unit and week (latest resend wins) / mỗi đơn vị một báo cáo được dùng mỗi tuần"),
    ("order_id_unique_latest", "error",
     "order ids unique per platform in the latest-status model / mã đơn hàng không trùng trên mỗi sàn"),
    ("stock_not_decreasing", "warning", "stocks do not decrease week over week / chỉ tiêu lũy kế không giảm"),
    ("shop_le_digitized", "warning",
     "households with a shop <= households digitized / số hộ có gian hàng <= số hộ đã số hoá"),
    ("digitized_le_agri_households", "warning",
     "households digitized <= agricultural households (base) / số hộ đã số hoá <= số hộ SXNN"),
    ("ocop_le_registry", "warning",
     "OCOP products listed <= OCOP >=3 star registry / sản phẩm OCOP trên sàn <= danh mục OCOP"),
]

SUITES = {
    "staging_orders": [
        gxe.ExpectColumnValuesToNotBeNull(column="order_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="ordered_at"),
        gxe.ExpectColumnValuesToBeInSet(column="platform", value_set=["postmart", "voso"]),
        # several deliveries of one entity-day (re-delivered, corrected) are versions: the latest wins in
        # int_platforms__orders (macros/staging.sql); within one delivery an order id is unique
        gxe.ExpectColumnValuesToBeBetween(column="versions_in_delivery", min_value=1, max_value=1,
            description="order_id unique within one delivery (file); several deliveries of an order are versions,"
                        " the latest wins / mã đơn hàng không trùng trong cùng một lần gửi (mỗi lần gửi là một"
                        " phiên bản)"),
        gxe.ExpectColumnValuesToBeBetween(column="latest_rows", min_value=1, max_value=1,
            description="each staged order is exactly once in the latest-status model intermediate.int_platforms__orders"
                        " (order_id unique per platform) / mỗi đơn hàng đúng một dòng trạng thái mới nhất"),
        gxe.ExpectColumnValuesToBeInSet(column="order_status", value_set=["success", "cancelled", "returned"]),
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="weight_t", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="amount_vnd", min_value=0),
    ],
    "staging_form_rows": [
        gxe.ExpectColumnValuesToNotBeNull(column="unit_code"),
        gxe.ExpectColumnValuesToNotBeNull(column="indicator_code"),
        gxe.ExpectColumnValuesToBeInSet(column="indicator_code", value_set=weekly_codes),
        gxe.ExpectColumnValuesToBeBetween(column="value_in_week", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="cumulative_value", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="completion_pct", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="completion_pct", max_value=100, meta=WARN, severity="warning",
            description="completion above 100% (target exceeded or typo) / tỉ lệ hoàn thành trên 100%"),
        gxe.ExpectColumnValuesToBeBetween(column="growth_pct", min_value=-100),
        gxe.ExpectColumnValuesToBeBetween(column="growth_pct", max_value=1000, meta=WARN, severity="warning",
            description="growth above 1000% week over week / tăng trưởng trên 1000%"),
    ],
    "marts_indicator_values": [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="indicator_code"),
        gxe.ExpectColumnValuesToBeInSet(column="indicator_code", value_set=codes),
        gxe.ExpectColumnValuesToBeInSet(column="scope_level", value_set=["unit", "province", "region", "nation"]),
        gxe.ExpectColumnValuesToBeInSet(column="platform", value_set=["postmart", "voso", "all"]),
        # no compound-uniqueness expectation here: the model's last post-hook fails a build that writes a
        # duplicate key (macros/checks.sql), and GX's self-join check read rows x dim_admin_unit (minutes
        # per gate)
        gxe.ExpectColumnValuesToBeBetween(column="cumulative_value", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="value_in_period", min_value=0,
            row_condition=Column("indicator_code").is_in(flow_codes)),
        gxe.ExpectColumnValuesToBeBetween(column="value_in_period", min_value=0, meta=WARN, severity="warning",
            row_condition=Column("indicator_code").is_in(stock_codes),
            description="a stock decreased during the period / chỉ tiêu lũy kế bị giảm"),
        gxe.ExpectColumnValuesToBeBetween(column="target_attainment_pct", min_value=0),
    ],
    "marts_weekly_report": [
        gxe.ExpectTableRowCountToBeBetween(min_value=17),
        gxe.ExpectColumnValuesToBeBetween(column="rows_in_scope", min_value=17,
            description="every scope-week has the 17 template rows / đủ 17 dòng chỉ tiêu mỗi phạm vi"),
        gxe.ExpectColumnValuesToBeInSet(column="scope_level", value_set=["province", "region", "nation"]),
        gxe.ExpectColumnValuesToNotBeNull(column="scope_name"),
        gxe.ExpectColumnValuesToNotBeNull(column="indicator_label_vi"),
        gxe.ExpectColumnValuesToNotBeNull(column="unit_vi"),
        gxe.ExpectColumnValuesToBeInSet(column="indicator_code", value_set=codes),
        gxe.ExpectColumnValuesToBeBetween(column="rows_per_key", max_value=1,
            description="one row per week, scope and indicator / mỗi chỉ tiêu một dòng mỗi phạm vi"),
        gxe.ExpectColumnValuesToBeBetween(column="cumulative_value", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="value_in_week", min_value=0,
            row_condition=Column("indicator_code").is_in(flow_codes)),
        gxe.ExpectColumnValuesToBeBetween(column="value_in_week", min_value=0, meta=WARN, severity="warning",
            row_condition=Column("indicator_code").is_in(stock_codes),
            description="a stock decreased during the week / chỉ tiêu lũy kế bị giảm trong tuần"),
        gxe.ExpectColumnValuesToBeBetween(column="target_attainment_pct", min_value=0),
    ],
    "marts_quality_checks": [
        gxe.ExpectColumnValuesToBeBetween(
            column="violations", max_value=0, row_condition=Column("rule_code").is_in([rule]),
            description=text, meta={"severity": severity, "rule_code": rule},
            **({"severity": "warning"} if severity == "warning" else {}))
        for rule, severity, text in QUALITY_RULES
    ],
    "marts_reporting_completeness": [
        gxe.ExpectColumnValuesToBeBetween(column="max_winning_forms", min_value=0, max_value=1,
            description="one accepted (latest) form per unit and week / mỗi đơn vị một báo cáo được dùng mỗi tuần"),
        gxe.ExpectColumnValuesToBeBetween(column="late_units", max_value=0, meta=WARN, severity="warning",
            description="units that reported after the deadline / đơn vị báo cáo trễ hạn"),
        gxe.ExpectColumnValuesToBeBetween(column="missing_units", max_value=0, meta=WARN, severity="warning",
            description="units that sent no form / đơn vị chưa gửi báo cáo"),
    ],
    "marts_plausibility": [
        gxe.ExpectColumnValuesToBeBetween(column="outliers", max_value=0, meta=WARN, severity="warning",
            description="weekly flow far from the unit's previous weeks (robust MAD score above 3.5)"
                        " / số liệu tuần bất thường so với các tuần trước (điểm MAD > 3,5)"),
    ],
    "marts_reconciliation": [
        gxe.ExpectColumnValuesToBeBetween(column="divergent", max_value=0, meta=WARN, severity="warning",
            description="the form's figures diverge from platform/register data beyond the threshold"
                        " / số liệu báo cáo chênh lệch so với dữ liệu sàn/danh sách hộ"),
    ],
}
vds = {}
for name, exps in SUITES.items():
    suite = ctx.suites.add(gx.ExpectationSuite(name=name, meta={"owner": "lensan.quality"}))
    for e in exps:
        suite.add_expectation(e)
    suite.save()
    vds[name] = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch_defs[name], suite=suite))

RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["scope_key", "row_key"],
                 "partial_unexpected_count": 200, "include_unexpected_rows": False}
for cp, names in {"staging_checkpoint": ["staging_orders", "staging_form_rows"],
                  "marts_checkpoint": ["marts_indicator_values", "marts_weekly_report", "marts_quality_checks",
                                       "marts_reporting_completeness", "marts_plausibility",
                                       "marts_reconciliation"],
                  # the periodic reports (month / half-year / year): the period's own rows of
                  # fct_indicator_values; lensan.quality.checkpoints.run_period_checkpoint adds marts_checkpoint per week
                  "marts_period_checkpoint": ["marts_indicator_values"]}.items():
    ctx.checkpoints.add(gx.Checkpoint(name=cp, validation_definitions=[vds[n] for n in names],
                                      actions=[], result_format=RESULT_FORMAT))
print("ok")

# readable SQL in the committed YAML: literal block scalars instead of folded escaped strings
yml = YAML()
yml.width = 120
path = root / "great_expectations.yml"
with path.open() as fh:
    data = yml.load(fh)
data["config_version"] = 4
for asset in data["fluent_datasources"]["lensan_warehouse"]["assets"].values():
    asset["query"] = LiteralScalarString(asset["query"].strip() + "\n")
for key in ("plugins_directory", "data_context_id"):
    if key in data and data[key] is None:
        del data[key]
with path.open("w") as fh:
    yml.dump(data, fh)
print("yaml rewritten")

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

from lensan import config, gate, reference

gate.prepare_environment()
root = config.GX_PROJECT_DIR
for sub in ("expectations", "validation_definitions", "checkpoints"):
    shutil.rmtree(root / sub, ignore_errors=True)
ctx = gx.get_context(mode="file", context_root_dir=root)
for ds in list(ctx.data_sources.all()):
    ctx.data_sources.delete(ds)  # all() iterates over names

ds = ctx.data_sources.add_postgres("lensan_warehouse", connection_string="${LENSAN_GX_WAREHOUSE_URL}")

WEEK = "to_char(({col} at time zone 'Asia/Ho_Chi_Minh'), 'IYYY-\"W\"IW')"
QUERIES = {
    "staging_orders": f"""SELECT o.*,
       count(*) over (partition by o.platform, o.order_id, o.updated_at) as versions_at_update_time,
       coalesce(l.latest_rows, 0) as latest_rows,
       o.platform as scope_key, o.order_id as row_key,
       {WEEK.format(col='o.ordered_at')} as period_key
  from (select platform, order_id, ordered_at, updated_at, order_status, quantity, weight_t, amount_vnd,
               file_id, row_number
          from staging.stg_postmart__orders
        union all
        select platform, order_id, ordered_at, updated_at, order_status, quantity, weight_t, amount_vnd,
               file_id, row_number
          from staging.stg_voso__orders) as o
  left join (select platform as l_platform, order_id as l_order_id, count(*) as latest_rows
               from intermediate.int_platform__orders group by 1, 2) as l
    on l.l_platform = o.platform and l.l_order_id = o.order_id""",
    "staging_form_rows": """SELECT r.*, f.unit_code, f.map_version, f.week_key, f.received_at,
       'unit-' || f.unit_code as scope_key, r.indicator_code as row_key, f.week_key as period_key
  from staging.stg_weekly_forms__form_rows as r
  join staging.stg_weekly_forms__forms as f on f.file_id = r.file_id""",
    "marts_indicator_values": """SELECT v.*, v.scope_level || '-' || v.scope_code as scope_key,
       v.indicator_code as row_key
  from marts.fct_indicator_values as v""",
    "marts_weekly_report": """SELECT r.*, r.scope_level || '-' || r.scope_code as scope_key,
       r.indicator_code as row_key, r.week_key as period_key,
       count(*) over (partition by r.week_key, r.scope_level, r.scope_code) as rows_in_scope
  from marts.rpt_weekly_report as r""",
}
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

SUITES = {
    "staging_orders": [
        gxe.ExpectColumnValuesToNotBeNull(column="order_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="ordered_at"),
        gxe.ExpectColumnValuesToBeInSet(column="platform", value_set=["postmart", "voso"]),
        gxe.ExpectColumnValuesToBeBetween(column="versions_at_update_time", min_value=1, max_value=1,
            description="order_id unique per platform and status-update time, so the latest status is unambiguous"
                        " / mã đơn hàng không trùng trên mỗi sàn (mỗi lần cập nhật trạng thái)"),
        gxe.ExpectColumnValuesToBeBetween(column="latest_rows", min_value=1, max_value=1,
            description="each staged order is exactly once in the latest-status model intermediate.int_platform__orders"
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
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["period_type", "period_key", "scope_level", "scope_code",
                                                         "map_version", "platform", "indicator_code"]),
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
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["week_key", "scope_level", "scope_code", "indicator_code"]),
        gxe.ExpectColumnValuesToBeBetween(column="cumulative_value", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="value_in_week", min_value=0,
            row_condition=Column("indicator_code").is_in(flow_codes)),
        gxe.ExpectColumnValuesToBeBetween(column="value_in_week", min_value=0, meta=WARN, severity="warning",
            row_condition=Column("indicator_code").is_in(stock_codes),
            description="a stock decreased during the week / chỉ tiêu lũy kế bị giảm trong tuần"),
        gxe.ExpectColumnValuesToBeBetween(column="target_attainment_pct", min_value=0),
    ],
}
vds = {}
for name, exps in SUITES.items():
    suite = ctx.suites.add(gx.ExpectationSuite(name=name, meta={"owner": "lensan.gate"}))
    for e in exps:
        suite.add_expectation(e)
    suite.save()
    vds[name] = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch_defs[name], suite=suite))

RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["scope_key", "row_key"],
                 "partial_unexpected_count": 20, "include_unexpected_rows": False}
for cp, names in {"staging_checkpoint": ["staging_orders", "staging_form_rows"],
                  "marts_checkpoint": ["marts_indicator_values", "marts_weekly_report"]}.items():
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

-- {% macro lensan_ops_schema() %}
-- Ops layer: what the pipeline did (not data). Idempotent. The only copy of this DDL: the Python
-- writers run it through lensan.db.ddl.ensure(conn, "ops"), and dbt's on-run-start runs the same
-- file (linked as dbt_project/macros/ops.sql) as the macro lensan_ops_schema(): the first and last
-- lines, comments to PostgreSQL, make it one. Keep Jinja syntax out of the lines in between.

-- Concurrent CREATE ... IF NOT EXISTS of one table can fail: every lensan DDL file takes this lock
-- (held until commit).
select pg_advisory_xact_lock(hashtext('lensan.db.ddl'));

create schema if not exists ops;

-- lensan.orchestration.ops: one summary per DAG task run, one alert per failure
create table if not exists ops.run_log (
    dag_id       text        not null,
    run_id       text        not null,
    task_id      text        not null,
    logical_date timestamptz,
    status       text        not null,
    summary      jsonb       not null default '{}'::jsonb,
    recorded_at  timestamptz not null default now(),
    primary key (dag_id, run_id, task_id)
);
create table if not exists ops.alerts (
    alert_id        bigserial primary key,
    dag_id          text        not null,
    run_id          text,
    task_id         text,
    try_number      integer,
    logical_date    timestamptz,
    exception_class text,
    message         text,
    created_at      timestamptz not null default now()
);

-- lensan.quality: the summary of every checkpoint run
create table if not exists ops.gate_results (
    run_id          text not null,
    checkpoint      text not null,
    period_key      text,
    success         boolean not null,
    status          text not null,
    failed_error    integer not null,
    failed_warning  integer not null,
    summary         jsonb not null,
    recorded_at     timestamptz not null default now(),
    primary key (run_id, checkpoint)
);

-- lensan.publish: every publication and every row it published (one transaction), the latter a dbt
-- source (marts.fct_indicator_values_asof_deadline), so it must exist before the first publication
create table if not exists ops.publications (
    period_type      text        not null,
    period_key       text        not null,
    scope_level      text        not null,
    scope_code       text        not null,
    revision         integer     not null,
    path             text        not null,
    content_hash     text        not null,
    manifest_sha256  text        not null,
    gate_status      text,
    changed_rows     integer     not null default 0,
    created_at       timestamptz not null,
    primary key (period_type, period_key, scope_level, scope_code, revision)
);
create table if not exists ops.published_values (
    period_type            text        not null,
    period_key             text        not null,
    scope_level            text        not null,
    scope_code             text        not null,
    indicator_code         text        not null,
    revision               integer     not null,
    published_at           timestamptz not null,
    map_version            text        not null default 'post2025',
    platform               text        not null default 'all',
    value_in_period        numeric,
    growth_pct             numeric,
    cumulative_value       numeric,
    target_value           numeric,
    target_attainment_pct  numeric,
    is_sample_target       boolean,
    primary key (period_type, period_key, scope_level, scope_code, indicator_code, revision)
);

-- dbt's incremental models: the last landed file each has processed (dbt_project/macros/incremental.sql)
create table if not exists ops.build_watermarks (
    model         text        primary key,
    upto_file_id  bigint      not null,
    upto_sha256   text,
    built_at      timestamptz not null default now()
);

-- lensan.orchestration.changed: per period type, the newest landed file (of the build the marts
-- reflected) and that build's time when earlier periods were last revised; files and withdrawals
-- after it say which published periods to revise again
create table if not exists ops.revision_watermarks (
    period_type   text        primary key,
    upto_file_id  bigint      not null,
    upto_sha256   text,
    built_at      timestamptz,
    recorded_at   timestamptz not null default now()
);

-- lensan.portal: access codes of the reporting units and provinces (only a salted scrypt hash of the
-- secret part is kept; code_ref, the public first part, finds the row) and the audit log of sign-ins
-- and uploads (account codes, outcomes, SHA-256 and client address: no personal data)
create table if not exists ops.portal_codes (
    code_ref      text        primary key,
    account_kind  text        not null check (account_kind in ('unit', 'province')),
    account_code  text        not null,
    secret_salt   bytea       not null,
    secret_hash   bytea       not null,
    issued_at     timestamptz not null default now(),
    expires_on    date        not null,
    revoked_at    timestamptz
);
create table if not exists ops.portal_audit (
    event_id      bigserial   primary key,
    at            timestamptz not null default now(),
    event         text        not null,   -- sign_in | sign_out | upload | template | denied
    account_kind  text,
    account_code  text,
    code_ref      text,
    outcome       text        not null,   -- ok | refused | bad_code | expired | revoked | rate_limited | ...
    reason_code   text,
    week_key      text,
    sha256        text,
    client_ip     text
);
-- {% endmacro %}

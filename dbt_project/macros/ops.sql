{#- ops.published_values: every row of every published revision (written by lensan.publish in the
    same transaction as ops.publications). Created here too (idempotent, same DDL as
    lensan.publish.PUBLICATIONS_DDL) so the source exists before the first publication and
    marts.fct_indicator_values_asof_deadline always builds. Called from on-run-start. -#}
{% macro ensure_ops_published_values() -%}
create schema if not exists ops;
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
{%- endmacro %}

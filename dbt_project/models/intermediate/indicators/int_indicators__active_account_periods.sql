{{ config(
    pre_hook=["{{ reset_without_watermark() }}"],
    post_hook=["drop index if exists {{ this.schema }}.{{ this.identifier }}__period",
               "drop index if exists {{ this.schema }}.{{ this.identifier }}__key",
               "drop index if exists {{ this.schema }}.{{ this.identifier }}__probe",
               "{{ create_index(probe_key(['period_type', 'period_key', 'account_id', 'platform', 'unit_map_version'],
                                          ['unit_code']), 'period_probe', include='unit_code') }}"]
) }}  {#- the probe's index holds every column it compares (stored_row_probe() below): looked up in the
    index only. Period first: a week's new rows go to the ends of their week and month and into their
    half-year and year, not all over an index of every period (26 national weeks: 245 MB of WAL
    instead of 559 MB, inserted in 2.9 s instead of 4.0-4.7 s into a freshly built index). Its
    leading columns serve int_indicators__active_accounts' reads of a period's rows too. The
    indexes of earlier builds (`period`, on those two columns alone: 5-7 s to build on a national
    week, and one more index for every insert; `key`, without every column; `probe`, account first)
    are dropped. -#}
{%- set key = ['period_type', 'period_key', 'account_id', 'platform', 'unit_map_version'] -%}
{#- N.1 active accounts, first-seen form: one row per period (week, month, half-year, year),
    account and reporting unit it was active in. Kept at the unit grain, not expanded to scopes and
    platform 'all' (8x the rows: 30M for a national week); int_indicators__active_accounts counts
    the distinct accounts of every scope from it. Incremental: activity never retracts, so the
    account-periods of activity days on or after the earliest changed date not there yet are added. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
with

activities as (
    select * from {{ ref('int_platforms__activities') }}
    {% if is_incremental() %} where activity_date >= {{ changed_from() }} {% endif %}
),

in_period as (

    -- each activity day falls in exactly one period of each type: derive the keys, no range join
    select distinct
        k.period_type, k.period_key,
        a.platform, a.account_id,
        a.unit_map_version, a.unit_code, a.province_code, a.current_province_code, a.region_code
    from activities as a
    cross join lateral (values
        ('week'::text,      to_char(a.activity_date, 'IYYY-"W"IW')),
        ('month'::text,     to_char(a.activity_date, 'YYYY-MM')),
        ('half_year'::text, to_char(a.activity_date, 'YYYY') || '-H'
                            || case when extract(month from a.activity_date) <= 6 then '1' else '2' end),
        ('year'::text,      to_char(a.activity_date, 'YYYY'))
    ) as k (period_type, period_key)

)

select i.* from in_period as i
{% if is_incremental() %}
{{ stored_row_probe('i', key, ['unit_code']) }}
where i_stored.found is null
{% endif %}

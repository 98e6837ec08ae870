{#- Expand attributed rows to every scope they count in. The row must have unit_map_version,
    unit_code, province_code (on the unit's map), current_province_code, region_code, platform.
    Scopes: the reporting unit (its own map), the province as reported (pre2025 map only), the
    province on today's boundaries (post2025), region and nation (post2025). Each row counts in its
    platform and in 'all'. Use:  from x {{ expand_scopes('x') }}  -> adds scope_level, scope_code,
    map_version, platform_scope. -#}
{% macro expand_scopes(alias) -%}
    cross join lateral (values
        ('unit'::text,     {{ alias }}.unit_code,             {{ alias }}.unit_map_version),
        ('province'::text, case when {{ alias }}.unit_map_version = 'pre2025'
                                then {{ alias }}.province_code end, 'pre2025'::text),
        ('province'::text, {{ alias }}.current_province_code, 'post2025'::text),
        ('region'::text,   {{ alias }}.region_code,           'post2025'::text),
        ('nation'::text,   '{{ var("nation_code") }}'::text,   'post2025'::text)
    ) as scopes (scope_level, scope_code, map_version)
    cross join lateral (values ({{ alias }}.platform), ('all'::text)) as platforms (platform_scope)
{%- endmacro %}

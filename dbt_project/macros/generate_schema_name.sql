{#- Custom schemas are used as is (staging, intermediate, marts, reference), not prefixed with the
    target schema: BI tools, GX and publishing address them by these fixed names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{#- dbt's default seed loader renders one placeholder per cell through a nested Jinja loop with a macro
    call each: 14 s for ref_admin_units and ref_bases (15,000 rows each), most of a national build's
    seeding. Same statements, built by repeating one row's placeholders. -#}
{% macro postgres__load_csv_rows(model, agate_table) %}
    {%- set cols_sql = get_seed_column_quoted_csv(model, agate_table.column_names) -%}
    {%- set row_sql = '(' ~ ([get_binding_char()] * (agate_table.column_names | length)) | join(', ') ~ ')' -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set bindings = [] -%}
        {%- for row in chunk -%}
            {%- do bindings.extend(row) -%}
        {%- endfor -%}
        {%- set sql = 'insert into ' ~ this.render() ~ ' (' ~ cols_sql ~ ') values '
                      ~ ([row_sql] * (chunk | length)) | join(', ') -%}
        {%- do adapter.add_query(sql, bindings=bindings, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

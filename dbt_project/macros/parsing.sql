{#- Typing helpers for the raw platform extracts (values arrive as text).
    The costly ones first try the spelling landing writes nearly always, with cheap tests (LIKE,
    strpos, lower) that give exactly what the general rules below them give for it: the regular
    expressions and normalize() cost about 1 µs a value, several seconds a build over a national
    week's millions of values, each read several times. -#}

{#- postmart: 'dd/mm/yyyy HH:MM:SS' in local time (Asia/Ho_Chi_Minh) -> timestamptz.
    ISO-8601 text (with or without offset) is accepted too, read as local when it has no offset.
    The first test is landing's layout, whose digits landing checks (platforms.reference): text of that
    layout with a sign or a space among them, which landing refuses, would read otherwise than by the
    general rules (to_timestamp is lenient); checking the digits here costs what the fast test saves. -#}
{% macro parse_local_timestamp(column) -%}
    case
        when {{ column }} like '__/__/____ __:__:__'
            then (to_timestamp({{ column }}, 'DD/MM/YYYY HH24:MI:SS')::timestamp at time zone '{{ var("local_tz") }}')
        when nullif(trim({{ column }}), '') is null then null
        when trim({{ column }}) ~ '^\d{1,2}/\d{1,2}/\d{4}'
            then (to_timestamp(trim({{ column }}), 'DD/MM/YYYY HH24:MI:SS')::timestamp
                  at time zone '{{ var("local_tz") }}')
        when trim({{ column }}) ~ '(Z|[+-]\d{2}(:?\d{2})?)$' then trim({{ column }})::timestamptz
        else (trim({{ column }})::timestamp at time zone '{{ var("local_tz") }}')
    end
{%- endmacro %}

{#- voso: ISO-8601 UTC ('2026-11-16T03:15:00Z') -> timestamptz; text without an offset is UTC. -#}
{% macro parse_utc_timestamp(column) -%}
    case
        when {{ column }} like '____-__-__T__:__:__Z' then {{ column }}::timestamptz
        when nullif(trim({{ column }}), '') is null then null
        when trim({{ column }}) ~ '(Z|[+-]\d{2}(:?\d{2})?)$' then trim({{ column }})::timestamptz
        else (trim({{ column }})::timestamp at time zone 'UTC')
    end
{%- endmacro %}

{#- Numbers written the Vietnamese way (decimal comma, thousands dot): '1.234,5' -> 1234.5,
    '12,5' -> 12.5, '1234' -> 1234. A plain '2.5' (dot, no comma, not a thousands group) stays 2.5. -#}
{% macro parse_vn_number(column) -%}
    case
        when strpos({{ column }}, ',') = 0 and strpos({{ column }}, '.') = 0 and strpos({{ column }}, ' ') = 0
            then nullif({{ column }}, '')::numeric
        when nullif(trim({{ column }}), '') is null then null
        when trim({{ column }}) ~ ',' then
            replace(replace(replace(trim({{ column }}), ' ', ''), '.', ''), ',', '.')::numeric
        when trim({{ column }}) ~ '^-?\d{1,3}(\.\d{3})+$' then replace(trim({{ column }}), '.', '')::numeric
        else replace(trim({{ column }}), ' ', '')::numeric
    end
{%- endmacro %}

{#- Plain machine numbers (voso): '1500' -> 1500. -#}
{% macro parse_number(column) -%}
    nullif(trim({{ column }}), '')::numeric
{%- endmacro %}

{#- 'Có'/'Không' (postmart), 'true'/'false' (voso), also 1/0, yes/no, x. NULL stays NULL. -#}
{% macro parse_bool(column) -%}
    case
        when lower({{ column }}) in ('có', 'true') then true
        when lower({{ column }}) in ('không', 'false') then false
        when nullif(trim({{ column }}), '') is null then null
        when lower(normalize(trim({{ column }}), NFC)) in ('có', 'co', 'true', 't', '1', 'yes', 'y', 'x') then true
        when lower(normalize(trim({{ column }}), NFC)) in ('không', 'khong', 'false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}

{#- Order status of either platform -> success | cancelled | returned (else the raw value, which
    the change driver's test `int_indicators__changes.rows_with_unknown_code` catches). -#}
{% macro order_status_labels() -%}
    {{ return({'thành công': 'success', 'thanh cong': 'success', 'delivered': 'success',
               'success': 'success', 'hủy': 'cancelled', 'huỷ': 'cancelled', 'huy': 'cancelled',
               'cancelled': 'cancelled', 'canceled': 'cancelled', 'hoàn': 'returned',
               'hoan': 'returned', 'returned': 'returned'}) }}
{%- endmacro %}

{% macro normalise_order_status(column) -%}
    {{ normalise_label(column, order_status_labels()) }}
{%- endmacro %}

{#- The platforms' Vietnamese or English labels -> one code (both platforms use either). -#}
{% macro normalise_label(column, codes) -%}
    case lower({{ column }})
    {%- for label, code in codes.items() %}
        when '{{ label }}' then '{{ code }}'
    {%- endfor %}
    else
        case lower(normalize(trim({{ column }}), NFC))
        {%- for label, code in codes.items() %}
            when '{{ label }}' then '{{ code }}'
        {%- endfor %}
            else lower(trim({{ column }}))
        end
    end
{%- endmacro %}

{% macro activity_type_labels() -%}
    {{ return({'đăng sp': 'post_product', 'post_product': 'post_product', 'tìm kiếm': 'search',
               'search': 'search', 'nhắn tin': 'message', 'message': 'message',
               'giao dịch': 'transaction', 'transaction': 'transaction'}) }}
{%- endmacro %}

{% macro normalise_activity_type(column) -%}
    {{ normalise_label(column, activity_type_labels()) }}
{%- endmacro %}

{#- SQL: the codes a label map gives, as a list of text literals for `in (...)` -#}
{% macro label_codes(labels) -%}
    {%- for code in labels.values() | unique | sort %}'{{ code }}'{{ ', ' if not loop.last }}{% endfor -%}
{%- endmacro %}

{% macro normalise_shop_status(column) -%}
    {{ normalise_label(column, {'hoạt động': 'active', 'active': 'active', 'tạm khóa': 'suspended',
                                'tạm khoá': 'suspended', 'suspended': 'suspended'}) }}
{%- endmacro %}

{% macro normalise_product_group(column) -%}
    {{ normalise_label(column, {'nông sản': 'agricultural', 'agricultural': 'agricultural', 'đầu vào': 'input',
                                'input': 'input'}) }}
{%- endmacro %}

{#- A zero-padded code (7090 -> '07090'); a longer one stays as typed ('205' as a province code: lpad
    would cut it to '20', another province's code). -#}
{% macro pad_code(column, width) -%}
    case when length({{ column }}) = {{ width }} and strpos({{ column }}, ' ') = 0 then {{ column }}
         when nullif(trim({{ column }}), '') is null then null
         when trim({{ column }}) ~ '^\d+$' and length(trim({{ column }})) < {{ width }}
             then lpad(trim({{ column }}), {{ width }}, '0')
         else trim({{ column }}) end
{%- endmacro %}

{#- The local calendar date (Asia/Ho_Chi_Minh) of a timestamptz. -#}
{% macro local_date(column) -%}
    ({{ column }} at time zone '{{ var("local_tz") }}')::date
{%- endmacro %}

{#- Which map a local date belongs to. -#}
{% macro map_version_for(date_column) -%}
    case when {{ date_column }} < date '{{ var("reform_date") }}' then 'pre2025' else 'post2025' end
{%- endmacro %}

{#- The reporting calendar's deadline rule: the ONLY SQL copy of it (Asia/Ho_Chi_Minh, var local_tz).
    Python has the same rule in lensan's calendar (weekly_deadline, period_deadline);
    tests/test_calendar_agreement.py checks that every period of marts.dim_period agrees with it.

      week       Thursday 14:00 after the ISO week (period end + 4 days; appendix 02)
      month      end of the 3rd day of the next month (period end + 4 days, 00:00)
      half_year  end of 10 July / 10 January (period end + 11 days, 00:00)
      year       15 December 00:00 of the year (the year-end report is due before 15 December)

    period_type: a SQL expression ('week', or a column); period_end: a SQL date expression.
    Returns a timestamptz. -#}
{% macro period_deadline_sql(period_type, period_end) -%}
    ((case {{ period_type }}
          when 'week'      then {{ period_end }} + 4 + time '14:00'
          when 'month'     then ({{ period_end }} + 4)::timestamp
          when 'half_year' then ({{ period_end }} + 11)::timestamp
          when 'year'      then make_date(extract(year from {{ period_end }})::int, 12, 15)::timestamp
      end) at time zone '{{ var("local_tz") }}')
{%- endmacro %}

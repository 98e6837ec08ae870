"""Calendar: period keys (ISO week, month, half-year, year), their bounds and publication deadlines
(Asia/Ho_Chi_Minh), and the period a scheduled run reports on. The one place these rules live in Python
(lensan.calendar.periods); dbt states the same deadlines in SQL (dbt_project/macros/calendar.sql)."""

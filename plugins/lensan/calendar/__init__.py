"""Calendar: period keys (ISO week, month, half-year, year), their bounds and publication deadlines
(Asia/Ho_Chi_Minh). The one place these rules live; dbt gets them from here."""

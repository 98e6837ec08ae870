"""Parsers of the reporting units' files: the weekly report form (S1, `weekly_form`) and the household
register (S2, `household_register`). Each `parse(path, arrived_at, hasher)` returns the parsed file or
raises a `LandingError`; personal values are replaced by their keyed hashes while parsing. `workbook`
reads any spreadsheet a unit sends (.xlsx, .xls, .ods) with python-calamine."""

"""The `lensan` command line: `main` builds the parser and dispatches; one module per command (demo,
generate, land, check, status, publish, warehouse, run, dbt_manifest, bench), each adding its own
sub-parser; `output` (messages in Vietnamese and English) and `args` (time, weeks, provinces) are shared."""

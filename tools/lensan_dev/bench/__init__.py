"""The national-scale benchmark (`bench/run`, `lensan bench`, `python -m lensan_dev.bench`): generate a
national week, load its orders three ways (bare COPY, lensan landing, pandas to_sql), profile landing,
and the hooks (incremental dbt build, end to end). `run` orchestrates (see its docstring); the steps
live in `methods`, `profile_landing` and `e2e`, each run in a fresh interpreter (`child`); `common` holds
the orders files and bench tables, `report` the figures and the table; `incremental` measures the
weekly incremental dbt build (`python -m lensan_dev.bench.incremental`)."""

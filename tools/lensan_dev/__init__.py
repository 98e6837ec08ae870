"""Developer tools, apart from the runtime package: the sample-data generator, the benchmark and the
local Airflow harness used by `lensan demo` and the tests."""

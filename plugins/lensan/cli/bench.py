"""`lensan bench`: the benchmark, the same as bench/run (lensan_dev.bench.run); its options are its own."""

from __future__ import annotations


def add_parser(sub) -> None:
    # dispatched in main() before parsing: its options are bench/run's (`lensan bench --help`)
    sub.add_parser("bench", help="đo hiệu năng, như bench/run / the benchmark, same as bench/run")


def run(argv: list[str]) -> int:
    from lensan_dev.bench import run as bench_run

    return bench_run.main(argv)

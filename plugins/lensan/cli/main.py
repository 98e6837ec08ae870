"""The `lensan` command: demo, sample data, landing, checks, status, publication, warehouse.

One module per command in this package, each adding its own sub-parser (`add_parser(sub)`); this
module only builds the parser and dispatches. Messages meant for people are given in Vietnamese and
English. Heavy modules (Airflow, dbt, GX, pandas) are imported inside the commands that need them,
so `lensan check` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from lensan.cli import (bench, check, dbt_manifest, demo, generate, land, portal, publish, run, status, warehouse,
                        withdraw)

# in the order `lensan --help` lists them
COMMANDS = (demo, generate, land, check, status, withdraw, publish, warehouse, run, dbt_manifest, bench, portal)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lensan",
        description="lensan — kho dữ liệu giám sát Chương trình 1034 / Programme 1034 monitoring warehouse")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:   # its options (--help included) are bench/run's own
        return bench.run(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`lensan dbt-manifest`: write the dbt manifest that Cosmos renders the transform DAG from."""

from __future__ import annotations

from lensan.cli.output import say


def add_parser(sub) -> None:
    p = sub.add_parser("dbt-manifest", help="tạo dbt manifest cho Cosmos / write the dbt manifest Cosmos renders")
    p.set_defaults(func=cmd_dbt_manifest)


def cmd_dbt_manifest(args) -> int:
    from lensan.transform import manifest as dbt_manifest

    path = dbt_manifest.install_manifest()
    say(f"Manifest dbt cho Cosmos: {path}", f"dbt manifest for Cosmos: {path}")
    return 0

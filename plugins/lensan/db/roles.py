"""Warehouse roles: who may read what.

* `bi_reader`      — BI tools: SELECT on the `marts` schema only (raw, staging and personal-data
                     hashes stay out of reach).
* `lensan_checker` — read-only tooling (`lensan status`, audits): SELECT on every lensan schema, no writes.
* The pipeline itself runs as the connecting (owner) role and owns every object it creates.

Roles are created without passwords: on the embedded server (loopback, trust auth) none is needed;
on a real server set one with LENSAN_BI_READER_PASSWORD / LENSAN_CHECKER_PASSWORD.
"""

from __future__ import annotations

from psycopg2 import sql

from lensan import settings

BI_READER = "bi_reader"
CHECKER = "lensan_checker"
READABLE_BY_CHECKER = ("raw", "staging", "intermediate", "marts", "reference", "ops")


def _ensure_role(cur, role: str, password: str | None) -> None:
    cur.execute("select 1 from pg_roles where rolname = %s", (role,))
    if cur.fetchone() is None:
        cur.execute(sql.SQL("create role {} login nosuperuser nocreatedb nocreaterole noinherit")
                    .format(sql.Identifier(role)))
    if password:
        cur.execute(sql.SQL("alter role {} password %s").format(sql.Identifier(role)), (password,))


def _grant_read(cur, role: str, schema: str) -> None:
    ident_schema, ident_role = sql.Identifier(schema), sql.Identifier(role)
    cur.execute(sql.SQL("create schema if not exists {}").format(ident_schema))
    cur.execute(sql.SQL("grant usage on schema {} to {}").format(ident_schema, ident_role))
    cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(ident_schema, ident_role))
    # Tables dbt creates later (it rebuilds marts on every run) inherit the grant.
    cur.execute(sql.SQL("alter default privileges in schema {} grant select on tables to {}")
                .format(ident_schema, ident_role))


def ensure_roles(conn) -> None:
    """Create the reader roles and their grants; idempotent, run before every transform."""
    configured = settings.load()
    with conn.cursor() as cur:
        _ensure_role(cur, BI_READER, configured.bi_reader_password)
        _ensure_role(cur, CHECKER, configured.checker_password)
        cur.execute(sql.SQL("grant connect on database {} to {}, {}").format(
            sql.Identifier(conn.info.dbname), sql.Identifier(BI_READER), sql.Identifier(CHECKER)))
        cur.execute("revoke create on schema public from public")
        _grant_read(cur, BI_READER, "marts")
        for schema in READABLE_BY_CHECKER:
            _grant_read(cur, CHECKER, schema)
    conn.commit()

"""Roles against the real embedded server: bi_reader sees the mart and nothing else."""

from __future__ import annotations

import dataclasses

import psycopg2
import pytest

from lensan.db import roles

pytestmark = pytest.mark.integration


def connect_as(info, role):
    return dataclasses.replace(info, user=role).connect()


@pytest.fixture
def granted(warehouse, db):
    with db.cursor() as cur:
        for schema in ("raw", "staging", "marts"):
            cur.execute(f"create schema if not exists {schema}")
        cur.execute("create table if not exists raw.roles_probe (secret text)")
        cur.execute("create table if not exists staging.roles_probe (secret text)")
        cur.execute("create table if not exists marts.roles_probe_before (v int)")
    db.commit()
    roles.ensure_roles(db)
    roles.ensure_roles(db)  # idempotent
    with db.cursor() as cur:  # created after the grants, as dbt does on every run
        cur.execute("drop table if exists marts.roles_probe_after")
        cur.execute("create table marts.roles_probe_after (v int)")
        cur.execute("insert into marts.roles_probe_after values (1)")
    db.commit()
    return warehouse


@pytest.mark.parametrize("table", ["raw.roles_probe", "staging.roles_probe"])
def test_bi_reader_is_refused_outside_the_mart(granted, table):
    conn = connect_as(granted, roles.BI_READER)
    try:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn.cursor() as cur:
            cur.execute(f"select * from {table}")
    finally:
        conn.close()


def test_bi_reader_reads_the_mart_including_tables_rebuilt_later(granted):
    conn = connect_as(granted, roles.BI_READER)
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from marts.roles_probe_before")
            cur.execute("select v from marts.roles_probe_after")
            assert cur.fetchall() == [(1,)]
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("insert into marts.roles_probe_after values (2)")
    finally:
        conn.close()


def test_checker_reads_everything_and_writes_nothing(granted):
    conn = connect_as(granted, roles.CHECKER)
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from raw.roles_probe")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("delete from raw.roles_probe")
    finally:
        conn.close()

"""The warehouse connection: an external PostgreSQL (LENSAN_WAREHOUSE_URL) or the embedded one
(`lensan.db.embedded`, started on first use).
"""

from __future__ import annotations

import contextlib
import time

from lensan import settings
from lensan.db import embedded
from lensan.db.connection import ConnectionInfo, parse_url


def connection_info() -> ConnectionInfo:
    """Where the warehouse is: the external URL when configured, else the (started) embedded server."""
    url = settings.external_warehouse_url()
    if url:
        return parse_url(url)
    return embedded.ensure_running()


def warehouse_url() -> str:
    return connection_info().url


@contextlib.contextmanager
def scratch_database(name: str, info: ConnectionInfo | None = None):
    """A fresh database `name` on the warehouse's server (`info`, default: the configured one); a
    leftover of that name is dropped first. Yields its ConnectionInfo and drops it afterwards."""
    from psycopg2 import sql

    info = info or connection_info()

    def admin(statement) -> None:
        conn = info.connect("postgres", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
        finally:
            conn.close()

    drop = sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
    admin(drop)
    admin(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield ConnectionInfo(info.host, info.port, info.user, info.password, name)
    finally:
        admin(drop)


def connect(retries: int = 5):
    """A psycopg2 connection to the warehouse (autocommit off: callers commit their transaction).

    Retries briefly so a task that starts while the server restarts still gets through.
    """
    import psycopg2

    info = connection_info()
    for attempt in range(retries):
        try:
            return info.connect(application_name="lensan")
        except psycopg2.OperationalError:
            if attempt == retries - 1:
                raise
            time.sleep(1 + attempt)
            if not settings.external_warehouse_url():
                info = embedded.ensure_running()
    raise AssertionError("unreachable")

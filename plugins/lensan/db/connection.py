"""Where a PostgreSQL server is and how to open a connection to it (`ConnectionInfo`), parsed from a
postgresql:// URL. Which server is the warehouse is `lensan.db.warehouse`'s decision."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlparse


@dataclass(frozen=True)
class ConnectionInfo:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    @property
    def url(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    def connect(self, dbname: str | None = None, *, autocommit: bool = False, **kwargs):
        """A psycopg2 connection to `dbname` (default: this database) on this server."""
        import psycopg2

        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password or None,
                                dbname=dbname or self.dbname, **kwargs)
        conn.autocommit = autocommit
        return conn


def parse_url(url: str) -> ConnectionInfo:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgresql", "postgres", "postgresql+psycopg2"):
        raise ValueError(f"LENSAN_WAREHOUSE_URL must be a postgresql:// URL, got scheme {parsed.scheme!r}")
    return ConnectionInfo(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=unquote(parsed.username or "postgres"),
        password=unquote(parsed.password or ""),
        dbname=(parsed.path or "/postgres").lstrip("/") or "postgres",
    )

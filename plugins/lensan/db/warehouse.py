"""The warehouse connection: an external PostgreSQL (LENSAN_WAREHOUSE_URL) or the embedded one.

The embedded server is PostgreSQL 16 from the `pgserver` wheel, started with its binaries but on
127.0.0.1 and a free TCP port (pgserver itself only offers a Unix socket, which GX and Cosmos
cannot address). It keeps running between commands so Airflow tasks, dbt and the CLI share it;
`lensan warehouse stop` stops it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from lensan import settings
from lensan.db.locks import file_lock

EMBEDDED_DB = "lensan"
EMBEDDED_USER = "postgres"


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


def _parse_url(url: str) -> ConnectionInfo:
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


def _pg_bin(name: str) -> str:
    from pgserver._commands import POSTGRES_BIN_PATH  # the binaries shipped in the wheel

    return str(POSTGRES_BIN_PATH / name)


def _data_dir() -> Path:
    return settings.home_dir("warehouse") / "pgdata"


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root; pgserver's convention is a `pgserver` system user."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sticky_port(port_file: Path) -> int:
    """The port used last time when it is still free, so URLs handed out earlier stay valid."""
    if port_file.exists():
        previous = int(port_file.read_text().strip() or 0)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as postgres binds it
            try:
                sock.bind(("127.0.0.1", previous))
                return previous
            except OSError:
                pass
    return _free_port()


def _running_port(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return None
    lines = pid_file.read_text().splitlines()
    try:
        pid, port = int(lines[0]), int(lines[3])
    except (IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return port if _accepts_connections(port) else None


def embedded_server_cpu_seconds() -> float | None:
    """CPU seconds the embedded server has used since it started: the postmaster, its live processes
    and those it has already reaped (Linux /proc). None when the warehouse is external or not running."""
    if settings.external_warehouse_url():
        return None
    try:
        postmaster = int((_data_dir() / "postmaster.pid").read_text().split()[0])
        ticks = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:  # the fields after the command name: state, ppid, … utime (11), stime, cutime, cstime
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue        # exited meanwhile: its time is in the postmaster's cutime
            if int(entry.name) == postmaster:
                ticks += sum(map(int, fields[11:15]))
            elif int(fields[1]) == postmaster:
                ticks += int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def _accepts_connections(port: int) -> bool:
    result = subprocess.run(
        [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"], check=False
    )
    return result.returncode == 0


def _run_as(user: str | None, args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, user=user, capture_output=True, text=True, **kwargs)


def _prepare_permissions(pgdata: Path, user: str) -> None:
    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions
    import stat

    bin_path = Path(_pg_bin("postgres")).parent
    ensure_prefix_permissions(pgdata)
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(bin_path.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    import pwd

    entry = pwd.getpwnam(user)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)


def ensure_embedded() -> ConnectionInfo:
    """Start (initialising on first use) the embedded server; idempotent and safe across processes."""
    warehouse_dir = settings.home_dir("warehouse")
    pgdata = _data_dir()
    with file_lock(warehouse_dir / ".lock"):
        port = _running_port(pgdata)
        if port is None:
            user = _system_user()
            pgdata.mkdir(parents=True, exist_ok=True)
            if user:
                _prepare_permissions(pgdata, user)
            if not (pgdata / "PG_VERSION").exists():
                _run_as(user, [_pg_bin("initdb"), "-D", str(pgdata), "--auth=trust", "--encoding=UTF8",
                               "--locale=C.UTF-8", "-U", EMBEDDED_USER])
            port = _sticky_port(warehouse_dir / "port")
            log_file = warehouse_dir / "postgres.log"
            if user:
                log_file.touch()
                import pwd

                os.chown(log_file, pwd.getpwnam(user).pw_uid, -1)
            # No Unix socket: the path under a deep LENSAN_HOME can exceed the 107-byte limit.
            options = f"-h 127.0.0.1 -p {port} -k '' -c max_connections=200 -c fsync=off" \
                if settings.load().embedded_fast else f"-h 127.0.0.1 -p {port} -k '' -c max_connections=200"
            _run_as(user, [_pg_bin("pg_ctl"), "-D", str(pgdata), "-w", "-t", "60", "-l", str(log_file),
                           "-o", options, "start"])
            (warehouse_dir / "port").write_text(str(port))
        info = ConnectionInfo("127.0.0.1", port, EMBEDDED_USER, "", EMBEDDED_DB)
        _ensure_database(info)
        return info


def stop_embedded(mode: str = "fast") -> bool:
    """Stop the embedded server if it runs; returns whether it was running."""
    pgdata = _data_dir()
    if _running_port(pgdata) is None:
        return False
    _run_as(_system_user(), [_pg_bin("pg_ctl"), "-D", str(pgdata), "-w", "-m", mode, "stop"])
    return True


def _ensure_database(info: ConnectionInfo) -> None:
    import psycopg2

    admin = psycopg2.connect(host=info.host, port=info.port, user=info.user, dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (info.dbname,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{info.dbname}"')
    finally:
        admin.close()


def connection_info() -> ConnectionInfo:
    """Where the warehouse is: the external URL when configured, else the (started) embedded server."""
    url = settings.external_warehouse_url()
    if url:
        return _parse_url(url)
    return ensure_embedded()


def warehouse_url() -> str:
    return connection_info().url


@contextlib.contextmanager
def scratch_database(name: str, info: ConnectionInfo | None = None):
    """A fresh database `name` on the warehouse's server (`info`, default: the configured one); a
    leftover of that name is dropped first. Yields its ConnectionInfo and drops it afterwards."""
    import psycopg2
    from psycopg2 import sql

    info = info or connection_info()

    def admin(statement) -> None:
        conn = psycopg2.connect(host=info.host, port=info.port, user=info.user, password=info.password or None,
                                dbname="postgres")
        conn.autocommit = True
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
            return psycopg2.connect(host=info.host, port=info.port, user=info.user,
                                    password=info.password or None, dbname=info.dbname,
                                    application_name="lensan")
        except psycopg2.OperationalError:
            if attempt == retries - 1:
                raise
            time.sleep(1 + attempt)
            if not settings.external_warehouse_url():
                info = ensure_embedded()
    raise AssertionError("unreachable")

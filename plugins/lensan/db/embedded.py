"""The embedded warehouse: PostgreSQL 16 from the `pgserver` wheel under LENSAN_HOME/warehouse.

It is started with pgserver's binaries but on 127.0.0.1 and a free TCP port (pgserver itself only
offers a Unix socket, which GX and Cosmos cannot address). It keeps running between commands so
Airflow tasks, dbt and the CLI share it; `lensan warehouse stop` stops it. Used when
LENSAN_WAREHOUSE_URL is unset (`lensan.db.warehouse` decides).
"""

from __future__ import annotations

import os
import pwd
import socket
import stat
import subprocess
from pathlib import Path

from lensan import settings
from lensan.db.connection import ConnectionInfo
from lensan.db.locks import file_lock

EMBEDDED_DB = "lensan"
EMBEDDED_USER = "postgres"
# A build rewrites GBs into large tables and indexes. After each checkpoint the first change to a page
# writes the whole page to the WAL, so checkpoints every ~1 GB (the default) made the WAL of the national
# weekly build grow with history: 2.4 GB with 1 week, 7.4 GB and 13 checkpoints with 26; with these
# 4.0 GB, no checkpoint, the build ~2 % faster. 16 GB: at 26 weeks the build's WAL (4.4 GB) had passed
# the ~4.2 GB at which 8 GB requests a checkpoint (max_wal_size / (1 + checkpoint_completion_target)).
# wal_level=minimal: no WAL for the tables a build creates (the embedded warehouse feeds no replica).
# Crash-safe as before.
BULK_WRITE_OPTIONS = "-c max_wal_size=16GB -c checkpoint_timeout=30min -c wal_level=minimal -c max_wal_senders=0"
# Text sorts in code point order, as C.UTF-8 does, but by byte comparison: PostgreSQL 16 compares
# C.UTF-8 text through strcoll() without abbreviated keys (the builds' sorts and index builds on text
# keys); the collation "C" gives the same order (UTF-8 bytes sort as code points) with memcmp().
# Character classes, upper() and lower() keep C.UTF-8. docker-compose.yml's warehouse is initialised alike.
INITDB_LOCALE = ("--locale=C.UTF-8", "--lc-collate=C")


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


def cpu_seconds() -> float | None:
    """CPU seconds the embedded server has used since it started: the postmaster, its live processes
    and those it has already reaped (Linux /proc). None when the warehouse is external or not running."""
    if settings.external_warehouse_url():
        return None
    try:
        postmaster = int((_data_dir() / "postmaster.pid").read_text().split()[0])
        ticks = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == postmaster:
                continue
            try:  # the fields after the command name: state, ppid, … utime (11), stime, cutime, cstime
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue        # exited meanwhile: its time is in the postmaster's cutime, read below
            if int(fields[1]) == postmaster:
                ticks += int(fields[11]) + int(fields[12])
        # The postmaster last: a child reaped during the scan is then counted (at worst twice), never lost.
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += sum(map(int, fields[11:15]))
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

    bin_path = Path(_pg_bin("postgres")).parent
    ensure_prefix_permissions(pgdata)
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(bin_path.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    entry = pwd.getpwnam(user)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)


def ensure_running() -> ConnectionInfo:
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
                               *INITDB_LOCALE, "-U", EMBEDDED_USER])
            port = _sticky_port(warehouse_dir / "port")
            log_file = warehouse_dir / "postgres.log"
            if user:
                log_file.touch()
                os.chown(log_file, pwd.getpwnam(user).pw_uid, -1)
            # No Unix socket: the path under a deep LENSAN_HOME can exceed the 107-byte limit.
            options = f"-h 127.0.0.1 -p {port} -k '' -c max_connections=200 {BULK_WRITE_OPTIONS}"
            if settings.load().embedded_fast:
                options += " -c fsync=off"
            _run_as(user, [_pg_bin("pg_ctl"), "-D", str(pgdata), "-w", "-t", "60", "-l", str(log_file),
                           "-o", options, "start"])
            (warehouse_dir / "port").write_text(str(port))
        info = ConnectionInfo("127.0.0.1", port, EMBEDDED_USER, "", EMBEDDED_DB)
        _ensure_database(info)
        return info


def stop(mode: str = "fast") -> bool:
    """Stop the embedded server if it runs; returns whether it was running."""
    pgdata = _data_dir()
    if _running_port(pgdata) is None:
        return False
    _run_as(_system_user(), [_pg_bin("pg_ctl"), "-D", str(pgdata), "-w", "-m", mode, "stop"])
    return True


def _ensure_database(info: ConnectionInfo) -> None:
    admin = info.connect("postgres", autocommit=True)
    try:
        with admin.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (info.dbname,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{info.dbname}"')
    finally:
        admin.close()

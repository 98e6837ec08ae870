"""Settings: the only reader of the `LENSAN_*` environment variables.

`load()` returns one frozen `Settings` read from the environment at that moment (cheap; a test's
`monkeypatch.setenv` is seen by the next call); `value(field)` reads just one of them. `VARIABLES`
documents every variable; the README's configuration table is checked against it
(tests/test_settings.py). Paths of the repository (dbt and GX projects, seeds) and fixed domain
constants live here too, so every entry point agrees.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from dataclasses import dataclass
from typing import Any, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NATION_CODE = "VN"

# The repository root: plugins/lensan/settings.py -> repo. Code, dbt project and GX project live there.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
GX_PROJECT_DIR = PROJECT_ROOT / "expectations"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"

SOURCES = ("weekly_form", "household_register", "postmart", "voso")
DELIVERY_CHANNELS = ("outbox", "sftp", "email")


def _text(raw: str | None) -> str | None:
    return raw


def _flag(raw: str | None) -> bool:
    return bool(raw)


def _number(raw: str | None) -> float:
    return float(raw)


def _whole(raw: str | None) -> int:
    return int(float(raw))


def _channels(raw: str | None) -> tuple[str, ...]:
    return tuple(c for c in re.split(r"[,\s]+", raw or "") if c) or ("outbox",)


def _home(raw: str | None) -> Path:
    return _resolved_home(raw, os.getcwd())


@functools.lru_cache(maxsize=64)
def _resolved_home(raw: str | None, cwd: str) -> Path:
    # memoised per value and working directory: resolve() walks the path on disk, and landing reads
    # the settings several times a file (a national week lands ~7,000 files)
    return (PROJECT_ROOT / ".lensan" if raw == "./.lensan" else Path(raw)).resolve()


@dataclass(frozen=True)
class Variable:
    name: str
    field: str          # the Settings attribute it sets
    default: str | None
    doc: str
    parse: Callable[[str | None], Any] = _text


VARIABLES: tuple[Variable, ...] = (
    Variable("LENSAN_HOME", "home", "./.lensan", "working directory: landing/, archive/, quarantine/, exports/, "
             "warehouse/ (embedded PostgreSQL), airflow/, dbt/, gx/, data_docs/, delivery/, outbox/, secrets/", _home),
    Variable("LENSAN_WAREHOUSE_URL", "warehouse_url", None, "postgresql://user:pass@host:port/db of an external "
             "warehouse; unset: the embedded server under LENSAN_HOME/warehouse"),
    Variable("LENSAN_PSEUDONYM_KEY", "pseudonym_key", None, "secret key of the keyed hash of personal data; unset: "
             "a random key created once in LENSAN_HOME/secrets/pseudonym.key (0600)"),
    Variable("LENSAN_BI_READER_PASSWORD", "bi_reader_password", None,
             "password of the read-only role bi_reader (marts only)"),
    Variable("LENSAN_CHECKER_PASSWORD", "checker_password", None, "password of the read-only role lensan_checker"),
    Variable("LENSAN_EMBEDDED_FAST", "embedded_fast", None,
             "set: the embedded server runs without fsync (tests, benchmarks)", _flag),
    Variable("LENSAN_MAX_FILE_MB", "max_file_mb", "200", "largest landed file accepted at all", _number),
    Variable("LENSAN_MAX_XLSX_UNCOMPRESSED_MB", "max_xlsx_uncompressed_mb", "100",
             "largest total uncompressed size of an XLSX's zip entries", _number),
    Variable("LENSAN_MAX_XLSX_RATIO", "max_xlsx_ratio", "200", "largest compression ratio of a big XLSX zip entry",
             _number),
    Variable("LENSAN_MAX_GZIP_UNCOMPRESSED_MB", "max_gzip_uncompressed_mb", "4096",
             "largest decompressed size of a .jsonl.gz extract", _number),
    Variable("LENSAN_MAX_LINE_KB", "max_line_kb", "1024", "longest single JSON line of a .jsonl.gz extract", _number),
    Variable("LENSAN_DELIVERY_CHANNELS", "delivery_channels", "outbox",
             "comma-separated delivery channels: outbox, sftp, email", _channels),
    Variable("LENSAN_SFTP_CONN_ID", "sftp_conn_id", "lensan_sftp", "Airflow connection of the sftp channel"),
    Variable("LENSAN_SMTP_CONN_ID", "smtp_conn_id", "lensan_smtp", "Airflow connection of the email channel"),
    Variable("LENSAN_REPORT_RECIPIENTS", "report_recipients", None, "e-mail recipients (comma-separated) when the "
             "SMTP connection's extra names none"),
    Variable("LENSAN_REPORT_SENDER", "report_sender", None, "e-mail sender when the SMTP connection's extra names none"),
    Variable("LENSAN_NATIONAL_ISSUING_BODY", "national_issuing_body", None, "body heading the national and "
             "regional reports (e.g. BỘ KHOA HỌC VÀ CÔNG NGHỆ); unset: dbt_project/seeds/ref_issuing_bodies.csv"),
    Variable("LENSAN_AIRFLOW_RETRIES", "airflow_retries", "2", "retries of every lensan task", _whole),
    Variable("LENSAN_AIRFLOW_RETRY_DELAY_S", "airflow_retry_delay_s", "300", "seconds between retries", _number),
    Variable("LENSAN_DAG_TIMEOUT", "dag_timeout_s", "1800",
             "seconds an `airflow dags test` run of the CLI/tests may take", _number),
    Variable("LENSAN_PORTAL_URL", "portal_url", None, "URL of the reporting units' portal, linked from the Airflow "
             "UI; unset: no link"),
    Variable("LENSAN_PORTAL_HOST", "portal_host", "127.0.0.1", "address `lensan portal serve` listens on"),
    Variable("LENSAN_PORTAL_PORT", "portal_port", "8090", "port `lensan portal serve` listens on", _whole),
    Variable("LENSAN_PORTAL_INSECURE_COOKIES", "portal_insecure_cookies", None,
             "set: the portal's cookies lack the Secure flag (plain http on localhost only)", _flag),
    Variable("LENSAN_PORTAL_MAX_UPLOAD_MB", "portal_max_upload_mb", "10",
             "largest form the portal accepts; enforced while the upload streams in", _number),
    Variable("LENSAN_PORTAL_SECRET", "portal_secret", None, "key signing the portal's session cookies; unset: a "
             "random key created once in LENSAN_HOME/secrets/portal.key (0600)"),
    Variable("LENSAN_PORTAL_SIGNIN_PER_MIN", "portal_signin_per_min", "10",
             "sign-in attempts per minute from one client address (burst of the same size)", _number),
    Variable("LENSAN_PORTAL_UPLOADS_PER_MIN", "portal_uploads_per_min", "6",
             "uploads per minute of one signed-in account (burst of the same size)", _number),
)
_BY_FIELD = {v.field: v for v in VARIABLES}


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse_url: str | None
    pseudonym_key: str | None
    bi_reader_password: str | None
    checker_password: str | None
    embedded_fast: bool
    max_file_mb: float
    max_xlsx_uncompressed_mb: float
    max_xlsx_ratio: float
    max_gzip_uncompressed_mb: float
    max_line_kb: float
    delivery_channels: tuple[str, ...]
    sftp_conn_id: str
    smtp_conn_id: str
    report_recipients: str | None
    report_sender: str | None
    national_issuing_body: str | None
    airflow_retries: int
    airflow_retry_delay_s: float
    dag_timeout_s: float
    portal_url: str | None
    portal_host: str
    portal_port: int
    portal_insecure_cookies: bool
    portal_max_upload_mb: float
    portal_secret: str | None
    portal_signin_per_min: float
    portal_uploads_per_min: float


def _value(variable: Variable):
    raw = os.environ.get(variable.name)
    if raw is None or raw.strip() == "":   # blank counts as unset
        raw = variable.default
    try:
        return variable.parse(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{variable.name}={raw!r} không hợp lệ / is not valid") from None


def load() -> Settings:
    """The settings as the environment gives them now."""
    return Settings(**{v.field: _value(v) for v in VARIABLES})


def value(field: str) -> Any:
    """One setting (a `Settings` attribute) as the environment gives it now: what `load()` reads for it,
    without parsing the other variables (landing reads a few settings several times a file)."""
    return _value(_BY_FIELD[field])


def lensan_home() -> Path:
    home = value("home")
    home.mkdir(parents=True, exist_ok=True)
    return home


def home_dir(name: str) -> Path:
    """A sub-directory of LENSAN_HOME (landing, archive, quarantine, exports, ...), created on use."""
    path = lensan_home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def landing_dir(source: str | None = None) -> Path:
    path = home_dir("landing")
    if source:
        path = path / source
        path.mkdir(parents=True, exist_ok=True)
    return path


def external_warehouse_url() -> str | None:
    return value("warehouse_url")


def pseudonym_key() -> bytes:
    key = value("pseudonym_key")
    if key:
        return key.encode("utf-8")
    key_file = home_dir("secrets") / "pseudonym.key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode("utf-8")

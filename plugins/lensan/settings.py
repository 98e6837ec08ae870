"""Settings: the only reader of the `LENSAN_*` environment variables.

`load()` returns one frozen `Settings` read from the environment at that moment (cheap; a test's
`monkeypatch.setenv` is seen by the next call). `VARIABLES` documents every variable; the README's
configuration table is checked against it (tests/test_settings.py). Paths of the repository (dbt
and GX projects, seeds) and fixed domain constants live here too, so every entry point agrees.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Variable:
    name: str
    default: str | None
    doc: str


VARIABLES: tuple[Variable, ...] = (
    Variable("LENSAN_HOME", "./.lensan", "working directory: landing/, archive/, quarantine/, exports/, "
             "warehouse/ (embedded PostgreSQL), airflow/, dbt/, gx/, data_docs/, delivery/, outbox/, secrets/"),
    Variable("LENSAN_WAREHOUSE_URL", None, "postgresql://user:pass@host:port/db of an external warehouse; "
             "unset: the embedded server under LENSAN_HOME/warehouse"),
    Variable("LENSAN_PSEUDONYM_KEY", None, "secret key of the keyed hash of personal data; unset: a random key "
             "created once in LENSAN_HOME/secrets/pseudonym.key (0600)"),
    Variable("LENSAN_BI_READER_PASSWORD", None, "password of the read-only role bi_reader (marts only)"),
    Variable("LENSAN_CHECKER_PASSWORD", None, "password of the read-only role lensan_checker"),
    Variable("LENSAN_EMBEDDED_FAST", None, "set: the embedded server runs without fsync (tests, benchmarks)"),
    Variable("LENSAN_MAX_FILE_MB", "200", "largest landed file accepted at all"),
    Variable("LENSAN_MAX_XLSX_UNCOMPRESSED_MB", "100", "largest total uncompressed size of an XLSX's zip entries"),
    Variable("LENSAN_MAX_XLSX_RATIO", "200", "largest compression ratio of a big XLSX zip entry"),
    Variable("LENSAN_MAX_GZIP_UNCOMPRESSED_MB", "4096", "largest decompressed size of a .jsonl.gz extract"),
    Variable("LENSAN_MAX_LINE_KB", "1024", "longest single JSON line of a .jsonl.gz extract"),
    Variable("LENSAN_DELIVERY_CHANNELS", "outbox", "comma-separated delivery channels: outbox, sftp, email"),
    Variable("LENSAN_SFTP_CONN_ID", "lensan_sftp", "Airflow connection of the sftp channel"),
    Variable("LENSAN_SMTP_CONN_ID", "lensan_smtp", "Airflow connection of the email channel"),
    Variable("LENSAN_REPORT_RECIPIENTS", None, "e-mail recipients (comma-separated) when the SMTP connection's "
             "extra names none"),
    Variable("LENSAN_REPORT_SENDER", None, "e-mail sender when the SMTP connection's extra names none"),
    Variable("LENSAN_AIRFLOW_RETRIES", "2", "retries of every lensan task"),
    Variable("LENSAN_AIRFLOW_RETRY_DELAY_S", "300", "seconds between retries"),
    Variable("LENSAN_DAG_TIMEOUT", "1800", "seconds an `airflow dags test` run of the CLI/tests may take"),
    Variable("LENSAN_PORTAL_URL", None, "URL of the reporting units' portal, linked from the Airflow UI; "
             "unset: no link"),
)


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
    airflow_retries: int
    airflow_retry_delay_s: float
    dag_timeout_s: float
    portal_url: str | None


def _get(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return next(v.default for v in VARIABLES if v.name == name)
    return value


def _number(name: str) -> float:
    raw = _get(name)
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={raw!r} không phải số / is not a number") from None


def load() -> Settings:
    """The settings as the environment gives them now."""
    home = _get("LENSAN_HOME")
    channels = tuple(c for c in re.split(r"[,\s]+", _get("LENSAN_DELIVERY_CHANNELS") or "") if c)
    return Settings(
        home=(PROJECT_ROOT / ".lensan" if home == "./.lensan" else Path(home)).resolve(),
        warehouse_url=_get("LENSAN_WAREHOUSE_URL"),
        pseudonym_key=_get("LENSAN_PSEUDONYM_KEY"),
        bi_reader_password=_get("LENSAN_BI_READER_PASSWORD"),
        checker_password=_get("LENSAN_CHECKER_PASSWORD"),
        embedded_fast=bool(_get("LENSAN_EMBEDDED_FAST")),
        max_file_mb=_number("LENSAN_MAX_FILE_MB"),
        max_xlsx_uncompressed_mb=_number("LENSAN_MAX_XLSX_UNCOMPRESSED_MB"),
        max_xlsx_ratio=_number("LENSAN_MAX_XLSX_RATIO"),
        max_gzip_uncompressed_mb=_number("LENSAN_MAX_GZIP_UNCOMPRESSED_MB"),
        max_line_kb=_number("LENSAN_MAX_LINE_KB"),
        delivery_channels=channels or ("outbox",),
        sftp_conn_id=_get("LENSAN_SFTP_CONN_ID"),
        smtp_conn_id=_get("LENSAN_SMTP_CONN_ID"),
        report_recipients=_get("LENSAN_REPORT_RECIPIENTS"),
        report_sender=_get("LENSAN_REPORT_SENDER"),
        airflow_retries=int(_number("LENSAN_AIRFLOW_RETRIES")),
        airflow_retry_delay_s=_number("LENSAN_AIRFLOW_RETRY_DELAY_S"),
        dag_timeout_s=_number("LENSAN_DAG_TIMEOUT"),
        portal_url=_get("LENSAN_PORTAL_URL"),
    )


def lensan_home() -> Path:
    home = load().home
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
    return load().warehouse_url


def pseudonym_key() -> bytes:
    key = load().pseudonym_key
    if key:
        return key.encode("utf-8")
    key_file = home_dir("secrets") / "pseudonym.key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode("utf-8")

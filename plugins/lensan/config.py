"""Settings read from the environment; one place so every entry point agrees.

LENSAN_HOME            working directory (default ./.lensan): landing/, archive/, quarantine/,
                       exports/, warehouse/ (embedded PostgreSQL data), logs.
LENSAN_WAREHOUSE_URL   postgresql://user:pass@host:port/db of an external warehouse; unset means
                       the embedded server under LENSAN_HOME/warehouse.
LENSAN_PSEUDONYM_KEY   secret key of the keyed hash for personal data (never committed). When unset,
                       a random key is created once in LENSAN_HOME/secrets/pseudonym.key (0600).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# The repository root: plugins/lensan/config.py -> repo. Code, dbt project and GX project live there.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
GX_PROJECT_DIR = PROJECT_ROOT / "expectations"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"

SOURCES = ("weekly_form", "household_register", "postmart", "voso")


def lensan_home() -> Path:
    home = Path(os.environ.get("LENSAN_HOME", PROJECT_ROOT / ".lensan")).resolve()
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
    return os.environ.get("LENSAN_WAREHOUSE_URL") or None


def pseudonym_key() -> bytes:
    key = os.environ.get("LENSAN_PSEUDONYM_KEY")
    if key:
        return key.encode("utf-8")
    key_file = home_dir("secrets") / "pseudonym.key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode("utf-8")

"""docker-compose.yml validates offline (Debian's docker-compose 1.29, no engine) with a .env made
from .env.example, and the repository carries no secrets for it."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from lensan import settings

pytestmark = pytest.mark.unit

ROOT = settings.PROJECT_ROOT
SERVICES = {"warehouse", "airflow-db", "airflow-init", "airflow-api-server", "airflow-scheduler",
            "airflow-dag-processor", "airflow-triggerer"}


@pytest.fixture
def compose_dir(tmp_path):
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    return tmp_path


def _compose(cwd, *args):
    exe = shutil.which("docker-compose")
    if not exe:
        pytest.skip("docker-compose not installed (make test installs it with apt-get)")
    return subprocess.run([exe, "-f", "docker-compose.yml", *args], cwd=cwd, capture_output=True, text=True)


def test_compose_config_is_valid(compose_dir):
    result = _compose(compose_dir, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_resolved_services(compose_dir):
    result = _compose(compose_dir, "config")
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert SERVICES <= set(resolved["services"])
    for name in SERVICES - {"warehouse", "airflow-db"}:
        service = resolved["services"][name]
        assert service["image"] == "apache/airflow:3.3.2-python3.11"
        env = service["environment"]
        assert env["LENSAN_WAREHOUSE_URL"].startswith("postgresql://")
        assert "@warehouse:5432/" in env["LENSAN_WAREHOUSE_URL"]
        assert "@airflow-db:5432/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        targets = {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in service["volumes"]}
        assert {"/opt/lensan/home/landing", "/opt/lensan/home/exports", "/opt/lensan/home/archive"} <= targets
    metabase = resolved["services"]["metabase"]["environment"]
    assert (metabase["LENSAN_MART_USER"], metabase["LENSAN_MART_SCHEMA"]) == ("bi_reader", "marts")
    commands = {name: resolved["services"][name].get("command") for name in SERVICES}
    for role in ("api-server", "scheduler", "dag-processor", "triggerer"):
        assert [role] in commands.values(), role


def test_compose_requires_env(tmp_path):
    """Without a .env the secrets are missing and compose refuses (no silent default passwords)."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text("")
    result = _compose(tmp_path, "config", "-q")
    assert result.returncode != 0


def test_no_secrets_committed():
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    example = (ROOT / ".env.example").read_text()
    for line in example.splitlines():
        if "PASSWORD" in line or "SECRET" in line or "KEY=" in line:
            key, _, value = line.partition("=")
            assert value.startswith("change-me"), line
    for line in (ROOT / "docker-compose.yml").read_text().splitlines():
        if re.search(r"(PASSWORD|SECRET|FERNET|PSEUDONYM_KEY)\w*:\s", line):
            assert "${" in line, f"literal secret in docker-compose.yml: {line.strip()}"

"""docker-compose.yml validates offline (Debian's docker-compose 1.29, no engine) with a .env made
from .env.example, and the repository carries no secrets for it."""

from __future__ import annotations

import os
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


def _compose(cwd, *args, env=None):
    exe = shutil.which("docker-compose")
    if not exe:
        pytest.skip("docker-compose not installed (make test installs it with apt-get)")
    return subprocess.run([exe, "-f", "docker-compose.yml", *args], cwd=cwd, capture_output=True, text=True,
                          env=None if env is None else {**os.environ, **env})


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


CELERY = {"redis", "airflow-worker-1", "airflow-worker-2"}


def test_celery_profile_is_valid(compose_dir):
    result = _compose(compose_dir, "--profile", "celery", "config", "-q", env={"AIRFLOW_EXECUTOR": "CeleryExecutor"})
    assert result.returncode == 0, result.stderr


def test_celery_profile_runs_redis_and_two_workers(compose_dir):
    """Only the celery profile adds Redis and the workers; every Airflow service then uses the
    CeleryExecutor with the Redis broker, and the workers see the same LENSAN_HOME folders."""
    result = _compose(compose_dir, "--profile", "celery", "config", env={"AIRFLOW_EXECUTOR": "CeleryExecutor"})
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert {name for name, service in services.items() if service.get("profiles")} == CELERY
    assert all(services[name]["profiles"] == ["celery"] for name in CELERY)
    assert "ports" not in services["redis"]                      # the broker stays inside the network
    workers = [services[name] for name in ("airflow-worker-1", "airflow-worker-2")]
    assert len({w["hostname"] for w in workers}) == 2
    for worker in workers:
        assert "exec airflow celery worker" in worker["command"][-1]
        assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
        assert worker["image"] == services["airflow-scheduler"]["image"]
        targets = {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in worker["volumes"]}
        assert {"/opt/lensan/home/landing", "/opt/lensan/home/archive", "/opt/lensan/home"} <= targets
    for name in ("airflow-scheduler", "airflow-api-server", "airflow-worker-1", "airflow-worker-2"):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/")
        assert "@airflow-db:5432/" in env["AIRFLOW__CELERY__RESULT_BACKEND"]


def test_local_executor_by_default(compose_dir):
    result = _compose(compose_dir, "config", env={"AIRFLOW_EXECUTOR": ""})
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert "profiles" not in services["airflow-scheduler"]


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


def test_portal_service_serves_the_portal_behind_the_proxy(compose_dir):
    """The portal runs from the Airflow image and venv, sees the shared landing folder, and is published
    on the loopback only (the TLS reverse proxy in front of it trusts its forwarded headers)."""
    result = _compose(compose_dir, "config")
    assert result.returncode == 0, result.stderr
    portal = yaml.safe_load(result.stdout)["services"]["portal"]
    assert portal["image"] == "apache/airflow:3.3.2-python3.11" and "profiles" not in portal
    assert "lensan.cli.main portal serve" in " ".join(portal["command"]) and "--proxy-headers" in portal["command"][-1]
    assert portal["environment"]["LENSAN_WAREHOUSE_URL"].startswith("postgresql://")
    targets = {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in portal["volumes"]}
    assert "/opt/lensan/home/landing" in targets
    published = portal["ports"][0]
    assert (published["host_ip"], str(published["target"])) == ("127.0.0.1", "8090") if isinstance(published, dict) \
        else published.startswith("127.0.0.1:")

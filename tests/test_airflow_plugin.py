"""The lensan Airflow plugin (lensan.orchestration.airflow_plugin, registered by plugins/lensan_airflow_plugin.py):
loaded by Airflow's own plugins manager from the repository's plugins/ folder, its UI links, and the
pages its FastAPI app serves to signed-in users only."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lensan import settings
from lensan_dev import airflow_harness

# Airflow reads its configuration once, at first import: the test home's Airflow, never ~/airflow.
for _key, _value in airflow_harness.airflow_env().items():
    if _key.startswith("AIRFLOW"):
        os.environ.setdefault(_key, _value)

PROBE = """
import json, sys
from airflow import plugins_manager, settings

plugins, errors = plugins_manager._get_plugins()
iframes, _ = plugins_manager._get_ui_plugins()   # the views shown inside the UI (external links are not)
apps, _ = plugins_manager.get_fastapi_plugins()
print(json.dumps({
    "folder": settings.PLUGINS_FOLDER,
    "plugins": {p.name: str(p.source) for p in plugins},
    "errors": errors,
    "views": [v["name"] for p in plugins if p.name == "lensan" for v in p.external_views],
    "iframes": [v["url_route"] for v in iframes],
    "apps": [a["url_prefix"] for a in apps],
    # the loader imports plugin files under their bare names: none of the lensan package may be among them
    "leaked": sorted(name for name, module in list(sys.modules.items()) if "." not in name and name != "lensan"
                     and "/plugins/lensan/" in (getattr(module, "__file__", None) or "")),
}))
"""


@pytest.mark.integration
def test_airflow_plugins_manager_loads_the_lensan_plugin():
    env = airflow_harness.airflow_env({"LENSAN_PORTAL_URL": "https://portal.example.vn/bao-cao"})
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(settings.PROJECT_ROOT / "plugins")
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["folder"] == env["AIRFLOW__CORE__PLUGINS_FOLDER"]
    assert found["plugins"].get("lensan") == "$PLUGINS_FOLDER/lensan_airflow_plugin.py", found
    assert found["errors"] == {}
    assert {"Data Docs (GX)", "Báo cáo đã công bố / Published reports",
            "Cổng đơn vị báo cáo / Reporting-unit portal"} <= set(found["views"])
    assert {"lensan-data-docs", "lensan-exports"} <= set(found["iframes"])
    assert "/lensan" in found["apps"]
    assert found["leaked"] == []


@pytest.mark.unit
def test_ui_links(monkeypatch):
    from lensan.orchestration import airflow_plugin

    monkeypatch.delenv("LENSAN_PORTAL_URL", raising=False)
    links = airflow_plugin.ui_links()
    assert [v["href"] for v in links] == ["lensan/data-docs/index.html", "lensan/exports/"]
    assert all(v["destination"] == "nav" and v["url_route"] and not v["href"].startswith("/") for v in links)
    monkeypatch.setenv("LENSAN_PORTAL_URL", "https://portal.example.vn")
    portal = airflow_plugin.ui_links()[-1]
    assert portal["href"] == "https://portal.example.vn" and "url_route" not in portal


@pytest.fixture
def client(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from lensan.orchestration import airflow_plugin

    monkeypatch.setenv("LENSAN_HOME", str(tmp_path))
    (tmp_path / "data_docs").mkdir()
    (tmp_path / "data_docs" / "index.html").write_text("<h1>GX</h1>", encoding="utf-8")
    week = tmp_path / "exports" / "week" / "2026-W47"
    week.mkdir(parents=True)
    (week / "tom_tat_2026-W47.html").write_text("<p>tóm tắt</p>", encoding="utf-8")
    (week / "index.json").write_text("{}", encoding="utf-8")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pseudonym.key").write_text("k", encoding="utf-8")
    app = airflow_plugin.fastapi_app()["app"]
    yield TestClient(app)
    app.dependency_overrides.clear()


@pytest.mark.unit
def test_pages_need_an_airflow_sign_in(client):
    assert client.get("/data-docs/index.html").status_code == 401
    assert client.get("/exports/").status_code == 401


@pytest.mark.unit
def test_pages_for_a_signed_in_user(client):
    from airflow.api_fastapi.core_api.security import get_user

    client.app.dependency_overrides[get_user] = lambda: object()
    assert client.get("/data-docs/index.html").text == "<h1>GX</h1>"
    assert client.get("/data-docs/").text == "<h1>GX</h1>"
    index = client.get("/exports/")
    assert index.status_code == 200 and 'href="week/2026-W47/tom_tat_2026-W47.html"' in index.text
    assert client.get("/exports/week/2026-W47/tom_tat_2026-W47.html").text == "<p>tóm tắt</p>"
    # nothing outside the two folders
    assert client.get("/exports/../secrets/pseudonym.key").status_code == 404
    assert client.get("/exports/%2e%2e/secrets/pseudonym.key").status_code == 404
    assert client.get("/data-docs/missing.html").status_code == 404

"""The lensan Airflow plugin: a `lensan` menu in the Airflow 3 UI with the GX Data Docs, the published
reports and the reporting units' portal.

Airflow loads it through plugins/lensan_airflow_plugin.py (its plugins folder is the repository's
plugins/; plugins/.airflowignore keeps the lensan package itself out of the plugin loader, which
would import every module of it under its bare file name). Airflow 3 plugins use `external_views`
(links / iframes in the UI) and `fastapi_apps` (served by the api-server); `appbuilder_menu_items`
and Flask views are Airflow 2 only.

The api-server serves LENSAN_HOME/data_docs and LENSAN_HOME/exports under /lensan (`fastapi_app`),
to signed-in users only: Airflow does not authenticate plugin apps itself, so every route depends on
Airflow's own `get_user` (the UI's session cookie or a bearer token). The portal is an external link,
shown when LENSAN_PORTAL_URL is set.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path

from airflow.plugins_manager import AirflowPlugin

from lensan import settings

URL_PREFIX = "/lensan"
CATEGORY = "lensan"   # not one of Airflow's menus (browse, docs, admin, user): the UI adds a menu of its own


def ui_links() -> list[dict]:
    """The UI links. `href` is relative to the UI's base URL (no leading slash), `url_route` shows the
    page in an iframe inside the UI; without it the link opens the page itself."""
    prefix = URL_PREFIX.lstrip("/")
    views = [
        {"name": "Data Docs (GX)", "href": f"{prefix}/data-docs/index.html", "url_route": "lensan-data-docs",
         "destination": "nav", "category": CATEGORY},
        {"name": "Báo cáo đã công bố / Published reports", "href": f"{prefix}/exports/",
         "url_route": "lensan-exports", "destination": "nav", "category": CATEGORY},
    ]
    portal = settings.load().portal_url
    if portal:
        views.append({"name": "Cổng đơn vị báo cáo / Reporting-unit portal", "href": portal,
                      "destination": "nav", "category": CATEGORY})
    return views


def _file(root: Path, relative: str):
    """A file under `root` (a directory means its index.html); 404 outside it or when missing."""
    from fastapi import HTTPException
    from fastapi.responses import FileResponse

    base = root.resolve()
    target = (base / relative).resolve()
    if target.is_dir():
        target = target / "index.html"
    if not target.is_relative_to(base) or not target.is_file():
        raise HTTPException(status_code=404, detail="not found")
    return FileResponse(target)


def exports_index(exports: Path) -> str:
    """An HTML page listing every published period: its summary page and index.json, newest first."""
    rows = []
    for type_dir in sorted(p for p in exports.iterdir() if p.is_dir()) if exports.is_dir() else []:
        for period in sorted((p for p in type_dir.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True):
            links = [f'<a href="{html.escape(f"{type_dir.name}/{period.name}/{page.name}")}">{html.escape(page.name)}</a>'
                     for page in sorted(period.glob("tom_tat_*.html")) + sorted(period.glob("index.json"))]
            if links:
                rows.append(f"<tr><td>{html.escape(type_dir.name)}</td><td>{html.escape(period.name)}</td>"
                            f"<td>{' · '.join(links)}</td></tr>")
    body = "".join(rows) or '<tr><td colspan="3">Chưa có báo cáo nào / nothing published yet</td></tr>'
    return ('<!doctype html><html lang="vi"><head><meta charset="utf-8">'
            "<title>Báo cáo đã công bố / Published reports</title></head><body>"
            "<h1>Báo cáo đã công bố / Published reports</h1>"
            "<table><tr><th>loại kỳ / period type</th><th>kỳ / period</th><th>tệp / files</th></tr>"
            f"{body}</table></body></html>")


@functools.cache
def fastapi_app() -> dict:
    """The FastAPI app the api-server mounts at URL_PREFIX (built once, on first use)."""
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends, FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI(title="lensan", dependencies=[Depends(get_user)])

    @app.get("/data-docs/{relative:path}")
    def data_docs(relative: str):
        return _file(settings.lensan_home() / "data_docs", relative)

    @app.get("/exports/", response_class=HTMLResponse)
    def exports() -> str:
        return exports_index(settings.lensan_home() / "exports")

    @app.get("/exports/{relative:path}")
    def export_file(relative: str):
        return _file(settings.lensan_home() / "exports", relative)

    return {"app": app, "url_prefix": URL_PREFIX, "name": "lensan"}


class LensanPlugin(AirflowPlugin):
    name = "lensan"
    external_views = ui_links()

    @property
    def fastapi_apps(self) -> list[dict]:  # type: ignore[override]
        # built on use: only the api-server asks for it, so the other components never import FastAPI here
        return [fastapi_app()]

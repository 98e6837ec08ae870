"""`lensan demo`'s portal step: one unit hands in its weekly form through the portal's real HTTP path
(uvicorn on 127.0.0.1) before the DAGs run, so the next weekly report publishes a form that came
through the portal. The form is the generator's own for that unit (the same bytes: the demo's values
and planted quality warnings stay as generated); only its arrival is the upload's."""

from __future__ import annotations

import datetime as dt

from lensan import reference, settings
from lensan.portal import codes, server
from lensan.portal.client import PortalClient


def upload_one_form(province: str, week_key: str) -> dict | None:
    """Upload the generated form of the first unit of `province` for `week_key` (one not resent);
    {unit_code, unit_name, sha256, code, landed} or None when the generator wrote no such form."""
    folder = settings.landing_dir("weekly_form")
    for unit in reference.reporting_units("post2025", [province]):
        path = folder / f"bao_cao_tuan_{unit.code}_{week_key}.xlsx"
        if path.exists() and not (folder / f"bao_cao_tuan_{unit.code}_{week_key}_2.xlsx").exists():
            break
    else:
        return None
    data = path.read_bytes()
    code = codes.issue("unit", unit.code, dt.date.today() + dt.timedelta(days=90))
    path.unlink()          # the portal delivers it instead
    try:
        with server.running() as url, PortalClient(url) as client:
            client.sign_in(code)
            result = client.upload(path.name, data)
    except Exception:
        path.write_bytes(data)
        raise
    if not result.ok:
        path.write_bytes(data)
        raise RuntimeError(f"the portal refused the demo form of {unit.code}: {result.code}")
    landed = [p.name for p in folder.glob(f"bao_cao_tuan_{unit.code}_{week_key}_{result.sha256[:16]}.*")]
    return {"unit_code": unit.code, "unit_name": unit.name, "sha256": result.sha256, "code": code, "landed": landed}

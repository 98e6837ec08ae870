"""The Thursday rush: every commune uploads its weekly form in the last hour before 14:00.

    bench/run rush [--communes N] [--clients 50] [--workers 2] [--retry-share 0.02] [--home DIR] [--keep]
    lensan bench rush ...        (the same)

In a throw-away LENSAN_HOME with the embedded warehouse: access codes are issued for the first N
post-reform communes (default all 3,321) and a valid form is written for each (setup, not timed); then
`lensan portal serve` runs as a real uvicorn on 127.0.0.1 (a subprocess, `--workers` processes) and
`--clients` threads each sign in as a commune and upload its form over HTTP, 50 at once. A share of the
communes (`--retry-share`) sends the same form again at once, as a double click would.

Printed (and written as JSON to --out): the p50 / p95 / max time from the start of an upload to its
verdict (target p95 ≤ 2 s), the total time of the rush (target ≤ 10 min), and the landing check: every
accepted form is in landing/weekly_form/ exactly once (none lost, none doubled, no temp file left).
Bounded: N uploads (+ the retries), each with a 120 s timeout; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

TARGET_P95_S = 2.0
TARGET_TOTAL_S = 600.0


def _form(args: tuple[str, str, str, int]) -> tuple[str, bytes]:
    from lensan.portal import form_template

    code, name, week, n = args
    return code, form_template.blank_form(code, name, week, {"ocop_listed": (n % 3, 10 + n % 7),
                                                              "hh_with_shop": (n % 5, 40 + n % 11)})


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered) + 0.5)) - 1))] if ordered else 0.0


def _start_server(port: int, workers: int, say) -> subprocess.Popen:
    import httpx

    env = {**os.environ, "LENSAN_PORTAL_INSECURE_COOKIES": "1",        # plain http on the loopback
           "LENSAN_PORTAL_SIGNIN_PER_MIN": "1000000"}                    # every client shares 127.0.0.1
    process = subprocess.Popen([sys.executable, "-m", "lensan.cli.main", "portal", "serve", "--host", "127.0.0.1",
                                "--port", str(port), "--workers", str(workers)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the portal exited: " + process.stderr.read().decode(errors="replace")[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                say(f"portal up on 127.0.0.1:{port} ({workers} worker(s))")
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    _stop(process)
    raise RuntimeError("the portal did not answer within 120 s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _one(url: str, code: str, name: str, data: bytes, times: int) -> list[dict]:
    from lensan.portal.client import PortalClient

    out = []
    with PortalClient(url, timeout=120) as client:
        client.sign_in(code)
        for _ in range(times):
            started = time.perf_counter()
            result = client.upload(name, data)
            out.append({"seconds": time.perf_counter() - started, "ok": result.ok, "status": result.status,
                        "sha256": result.sha256, "reason": result.code})
    return out


def check_landing(expected: dict[str, str], week: str) -> dict:
    """{unit: sha256} of the accepted forms against landing/weekly_form/: each exactly once."""
    from lensan import settings

    folder = settings.landing_dir("weekly_form")
    names = [p.name for p in folder.iterdir()]
    lost, doubled = [], []
    for unit, sha in expected.items():
        found = [n for n in names if n.startswith(f"bao_cao_tuan_{unit}_{week}_")]
        if not any(n.startswith(f"bao_cao_tuan_{unit}_{week}_{sha[:16]}.") for n in found):
            lost.append(unit)
        if len(found) > 1:
            doubled.append(unit)
    temp = [n for n in names if n.endswith(".part")]
    return {"accepted": len(expected), "lost": lost, "doubled": doubled, "temp_files": temp,
            "exactly_once": not lost and not doubled and not temp}


def run_rush(communes: int | None = None, clients: int = 50, workers: int = 2, retry_share: float = 0.02,
             say=print) -> dict:
    """The rush in the current LENSAN_HOME (its warehouse); the figures."""
    from lensan import reference, settings
    from lensan.calendar import periods
    from lensan.portal import codes
    from lensan.portal.server import free_port

    units = reference.reporting_units("post2025")
    units = units[:communes] if communes else units
    week = periods.last_complete_week(dt.datetime.now(tz=settings.LOCAL_TZ))
    say(f"rush: {len(units)} communes, {clients} clients, week {week}")
    started = time.perf_counter()
    access = codes.issue_many("unit", [u.code for u in units], dt.date.today() + dt.timedelta(days=30))
    with ProcessPoolExecutor(2) as pool:
        forms = dict(pool.map(_form, [(u.code, u.name, week, i) for i, u in enumerate(units)], chunksize=32))
    setup_s = time.perf_counter() - started
    say(f"setup (codes + forms, not timed): {setup_s:.1f} s")
    retry_every = int(round(1 / retry_share)) if retry_share > 0 else 0
    process = _start_server(free_port(), workers, say)
    try:
        url = process.args[process.args.index("--port") + 1]
        url = f"http://127.0.0.1:{url}"
        rush_started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            futures = {u.code: pool.submit(_one, url, access[u.code], f"bao cao tuan {u.code}.xlsx", forms[u.code],
                                           2 if retry_every and i % retry_every == 0 else 1)
                       for i, u in enumerate(units)}
            results = {code: future.result() for code, future in futures.items()}
        total_s = time.perf_counter() - rush_started
    finally:
        _stop(process)
    uploads = [r for rs in results.values() for r in rs]
    seconds = [r["seconds"] for r in uploads]
    accepted = {code: rs[0]["sha256"] for code, rs in results.items() if rs[0]["ok"]}
    refused = {code: rs[0]["reason"] or rs[0]["status"] for code, rs in results.items() if not rs[0]["ok"]}
    landing_check = check_landing(accepted, week)
    figures = {
        "communes": len(units), "clients": clients, "workers": workers, "week": week, "uploads": len(uploads),
        "retried": sum(len(rs) > 1 for rs in results.values()), "accepted": len(accepted), "refused": refused,
        "p50_s": round(statistics.median(seconds), 3), "p95_s": round(_percentile(seconds, 0.95), 3),
        "max_s": round(max(seconds), 3), "total_s": round(total_s, 1), "setup_s": round(setup_s, 1),
        "uploads_per_s": round(len(uploads) / total_s, 1), "landing": landing_check, "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "target_p95_met": _percentile(seconds, 0.95) <= TARGET_P95_S, "target_total_met": total_s <= TARGET_TOTAL_S,
    }
    say(f"uploads {figures['uploads']} ({figures['retried']} retried at once), accepted {figures['accepted']}, "
        f"refused {len(refused)}")
    say(f"time to verdict: p50 {figures['p50_s']} s, p95 {figures['p95_s']} s (target ≤ {TARGET_P95_S:g} s: "
        f"{'met' if figures['target_p95_met'] else 'MISSED'}), max {figures['max_s']} s")
    say(f"total {figures['total_s']} s for {len(units)} communes (target ≤ {TARGET_TOTAL_S:g} s: "
        f"{'met' if figures['target_total_met'] else 'MISSED'}), {figures['uploads_per_s']} uploads/s")
    say(f"landing/weekly_form: {len(accepted)} accepted forms, lost {len(landing_check['lost'])}, "
        f"doubled {len(landing_check['doubled'])}, temp files {len(landing_check['temp_files'])} — "
        + ("each exactly once" if landing_check["exactly_once"] else "NOT exactly once"))
    say(f"machine: {figures['cpus']} CPUs, load average {figures['load_avg_1m']} at the end")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run rush", description=__doc__.split("\n\n")[0])
    parser.add_argument("--communes", type=int, default=None, help="the first N communes (default all 3,321)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent uploads (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--retry-share", type=float, default=0.02, help="share of communes uploading twice at once")
    parser.add_argument("--home", type=Path, default=None, help="throw-away LENSAN_HOME (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the home and leave the warehouse running")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON to this file")
    args = parser.parse_args(argv)
    home = (args.home or Path(tempfile.mkdtemp(prefix="lensan-rush-"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    # a dev tool sets the environment of the run (and of the server subprocess) it owns
    os.environ.update({"LENSAN_HOME": str(home), "LENSAN_EMBEDDED_FAST": "1"})
    os.environ.pop("LENSAN_WAREHOUSE_URL", None)
    try:
        figures = run_rush(args.communes, args.clients, args.workers, args.retry_share)
        if args.out:
            args.out.write_text(json.dumps(figures, indent=1, default=str))
    finally:
        if not args.keep:
            from lensan.db import embedded

            embedded.stop(mode="fast")
            shutil.rmtree(home, ignore_errors=True)
    ok = figures["landing"]["exactly_once"] and not figures["refused"]
    return 0 if ok else 1

"""A self-contained Airflow 3 environment for running lensan's DAGs locally (`lensan demo`, tests).

Everything lives under LENSAN_HOME/airflow: AIRFLOW_HOME, a SQLite metadata database and logs. The
DAGs folder is the repository's `dags/`. DAGs run with `airflow dags test <dag_id> <logical date>`,
in a subprocess, which executes a real DAG run in-process (no scheduler or webserver needed).

Shared settings for the DAG files themselves are here too (the Asset URIs, default_args, the dbt
profile/manifest paths) so the DAGs and the CLI agree; this module imports nothing heavy.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lensan import config

# Asset names/URIs: the contract between the three DAGs (docs/architecture.md).
RAW_ASSET_NAME = "lensan_raw"
RAW_ASSET_URI = "lensan://warehouse/raw"
MARTS_ASSET_NAME = "lensan_marts"
MARTS_ASSET_URI = "lensan://warehouse/marts"

DAG_INGEST = "lensan_ingest"
DAG_TRANSFORM = "lensan_transform"
DAG_PUBLISH = "lensan_publish_weekly"
DAG_IDS = (DAG_INGEST, DAG_TRANSFORM, DAG_PUBLISH)

DAGS_FOLDER = config.PROJECT_ROOT / "dags"
DBT_PROFILE_NAME = "lensan"
DBT_TARGET_NAME = "warehouse"


def default_args() -> dict:
    """default_args shared by every lensan DAG.

    LENSAN_AIRFLOW_RETRIES overrides the number of retries (default 2); `lensan demo` and the
    end-to-end tests set it to 0 so a broken task fails the run at once instead of waiting out the
    retry delay inside `airflow dags test`; LENSAN_AIRFLOW_RETRY_DELAY_S sets that delay (default 300).
    """
    from lensan.ops import alert_on_failure  # light: psycopg2 is imported only when it fires

    return {
        "owner": "lensan",
        "on_failure_callback": alert_on_failure,
        "retries": int(os.environ.get("LENSAN_AIRFLOW_RETRIES", "2")),
        "retry_delay": dt.timedelta(seconds=float(os.environ.get("LENSAN_AIRFLOW_RETRY_DELAY_S", "300"))),
    }


def dbt_profiles_yml() -> Path:
    """Where `lensan.dbt.profiles_dir()` writes the profile (LENSAN_HOME/dbt/profiles.yml).

    Computed without touching the warehouse, so DAG parsing never starts a database.
    """
    return Path(os.environ.get("LENSAN_HOME", config.PROJECT_ROOT / ".lensan")).resolve() / "dbt" / "profiles.yml"


def dbt_manifest_path() -> Path:
    """The dbt manifest Cosmos renders the transform DAG from: LENSAN_HOME/dbt/manifest.json.

    A private, atomically replaced copy of dbt's target/manifest.json (lensan.dbt.manifest_path()) (see `install_manifest`):
    any dbt command rewrites that file in place, and a DAG parsed at that moment would
    read a half-written file.
    """
    return dbt_profiles_yml().parent / "manifest.json"


def graph_signature(manifest: Path) -> str:
    """A digest of the dbt graph (nodes and their dependencies), insensitive to SQL-only edits."""
    import hashlib
    import json

    data = json.loads(manifest.read_text(encoding="utf-8"))
    graph = sorted((uid, sorted(node.get("depends_on", {}).get("nodes", [])))
                   for uid, node in data.get("nodes", {}).items())
    return hashlib.sha256(json.dumps(graph).encode()).hexdigest()[:16]


def install_manifest() -> Path:
    """Refresh the dbt manifest (`lensan.dbt.ensure_manifest()`) and install the copy the DAG reads."""
    import json
    import tempfile

    from lensan import dbt as lensan_dbt

    import time

    lensan_dbt.profiles_dir()
    for attempt in range(5):  # another dbt command may be rewriting target/manifest.json right now
        source = lensan_dbt.ensure_manifest()
        data = source.read_bytes()
        try:
            json.loads(data)  # never install a truncated manifest
            break
        except ValueError:
            if attempt == 4:
                raise
            time.sleep(2)
    target = dbt_manifest_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and target.read_bytes() == data:
        return target
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".manifest-", suffix=".json")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)
    return target


# ---------------------------------------------------------------------------------------------
# The local Airflow installation used by `lensan demo` and the tests
# ---------------------------------------------------------------------------------------------

def airflow_home() -> Path:
    return config.home_dir("airflow")


def venv_bin() -> Path:
    return Path(sys.executable).parent


def airflow_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for an `airflow` subprocess: AIRFLOW_HOME under LENSAN_HOME, SQLite metadata."""
    home = airflow_home()
    env = dict(os.environ)
    env.update({
        "LENSAN_HOME": str(config.lensan_home()),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
        # Cosmos: keep its caches inside LENSAN_HOME, not in /tmp shared with other users.
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos_cache"),
        "PATH": f"{venv_bin()}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)
    if extra:
        env.update(extra)
    return env


def airflow_executable() -> str:
    candidate = venv_bin() / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def ensure_airflow_db(env: dict[str, str] | None = None) -> Path:
    """`airflow db migrate` once per LENSAN_HOME (a stamp file records the Airflow version)."""
    import airflow

    home = airflow_home()
    stamp = home / ".migrated"
    if stamp.exists() and stamp.read_text().strip() == airflow.__version__ and (home / "airflow.db").exists():
        return home / "airflow.db"
    result = subprocess.run([airflow_executable(), "db", "migrate"], env=env or airflow_env(),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("airflow db migrate failed:\n" + result.stdout[-4000:] + result.stderr[-4000:])
    stamp.write_text(airflow.__version__)
    return home / "airflow.db"


@dataclass
class DagRunResult:
    dag_id: str
    logical_date: str
    returncode: int
    log_file: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 60) -> str:
        text = self.log_file.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def failures(self, context: int = 40) -> str:
        """The failed tasks and the first error of each (traceback included) from the run's log."""
        text = self.log_file.read_text(errors="replace").splitlines()
        failed = [t for t, state in task_states(self.dag_id).items() if state not in ("success", "skipped")]
        out = [f"{self.dag_id}: tasks not successful: {', '.join(sorted(failed)) or '-'}"]
        shown = 0
        for index, line in enumerate(text):
            if "Task failed with exception" in line or "[error" in line and "Traceback" in "".join(text[index:index + 3]):
                out.extend(text[index:index + context])
                out.append("...")
                shown += 1
                if shown >= 2:
                    break
        return "\n".join(out)


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("logical dates must be timezone-aware")
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()


def dags_test(dag_id: str, logical_date: dt.datetime, conf: dict | None = None,
              extra_env: dict[str, str] | None = None, echo: bool = False,
              timeout: float | None = None) -> DagRunResult:
    """Run one real DAG run with `airflow dags test`; the full output goes to a log file.

    `airflow dags test` keeps polling while a task waits for its retry and ignores SIGTERM, so the
    run is bounded by `timeout` (LENSAN_DAG_TIMEOUT, default 1800 s) and killed (SIGKILL) after it.
    """
    import json
    import signal
    import threading

    env = airflow_env(extra_env)
    ensure_airflow_db(env)
    logical = _iso(logical_date)
    log_dir = airflow_home() / "dags_test_logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"{dag_id}__{logical.replace(':', '')}.log"
    cmd = [airflow_executable(), "dags", "test", dag_id, logical]
    if conf:
        cmd += ["--conf", json.dumps(conf)]
    timeout = timeout or float(os.environ.get("LENSAN_DAG_TIMEOUT", "1800"))
    with open(log_file, "w") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        killer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        killer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                fh.write(line)
                if echo:
                    sys.stdout.write(line)
            returncode = proc.wait()
        finally:
            killer.cancel()
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if returncode < 0:
            fh.write(f"\n[lensan] airflow dags test killed after {timeout:.0f} s\n")
    return DagRunResult(dag_id, logical, returncode, log_file)


def task_states(dag_id: str, logical_date: dt.datetime | None = None) -> dict[str, str]:
    """task_id -> state of the latest run of a DAG (or the run at `logical_date`), from the SQLite db."""
    import sqlite3

    db = airflow_home() / "airflow.db"
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        if logical_date is None:
            row = conn.execute("select run_id from dag_run where dag_id = ? order by id desc limit 1",
                               (dag_id,)).fetchone()
        else:
            logical = logical_date.astimezone(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
            row = conn.execute("select run_id from dag_run where dag_id = ? and logical_date like ? "
                               "order by id desc limit 1", (dag_id, logical.isoformat(sep=" ") + "%")).fetchone()
        if row is None:
            return {}
        return dict(conn.execute("select task_id, state from task_instance where dag_id = ? and run_id = ?",
                                 (dag_id, row[0])).fetchall())

"""A self-contained Airflow 3 environment for running lensan's DAGs locally (`lensan demo`, `lensan run`,
tests) — a developer tool, not part of the deployed runtime.

Everything lives under LENSAN_HOME/airflow: AIRFLOW_HOME, a SQLite metadata database and logs. The
DAGs folder is the repository's `dags/`, the plugins folder its `plugins/` (the lensan Airflow plugin;
plugins/.airflowignore keeps the lensan package itself out of Airflow's plugin loader). DAGs run with
`airflow dags test <dag_id> <logical date>`, in a subprocess, which executes a real DAG run in-process
(no scheduler or webserver needed).

`LocalAirflow` runs Airflow as deployed instead — api-server (execution API), dag-processor and
scheduler (LocalExecutor) as subprocesses on a SQLite metadata database — for what `dags test`
cannot do: real scheduler runs such as `airflow backfill create` (tests/test_backfill.py).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lensan import settings

DAGS_FOLDER = settings.PROJECT_ROOT / "dags"
PLUGINS_FOLDER = settings.PROJECT_ROOT / "plugins"


def airflow_home() -> Path:
    return settings.home_dir("airflow")


def venv_bin() -> Path:
    return Path(sys.executable).parent


def airflow_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for an `airflow` subprocess: AIRFLOW_HOME under LENSAN_HOME, SQLite metadata."""
    home = airflow_home()
    env = dict(os.environ)
    env.update({
        "LENSAN_HOME": str(settings.lensan_home()),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_FOLDER),
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
    timeout = timeout or settings.load().dag_timeout_s
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


# ---------------------------------------------------------------------------------------------
# A real local Airflow deployment (scheduler + dag-processor + api-server) for backfills
# ---------------------------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


FINISHED_RUN_STATES = ("success", "failed")


class LocalAirflow:
    """Airflow 3 as deployed, on this machine: `airflow api-server` (it serves the Task SDK's
    execution API the task processes talk to), `airflow dag-processor` and `airflow scheduler` with
    the LocalExecutor, as subprocesses in their own process groups, sharing a SQLite metadata
    database (`?timeout=60`: the components and the CLI wait for SQLite's write lock instead of
    failing with "database is locked") under `home` (default LENSAN_HOME/airflow_local).

    Only explicitly created runs execute (`[scheduler] use_job_schedule = False`): backfills
    (`airflow backfill create`), triggered runs — never a run of the timetable or of an Asset, so a
    test or a replay does not also publish "this week". DAGs are unpaused at creation (a paused DAG's
    backfill runs are created but their tasks are never queued). `dag_files` limits the DAGs folder to
    those files of `dags/` (symlinked into `home/dags`); None = the whole `dags/`.

        with LocalAirflow(dag_files=["lensan_publish_weekly.py"]) as af:
            af.wait_for_dags(["lensan_publish_weekly"])
            backfill_id = af.backfill("lensan_publish_weekly", "2026-11-05T00:00:00+07:00", "2026-11-13T00:00:00+07:00")
            runs = af.wait_backfill(backfill_id, timeout=300)
    """

    def __init__(self, home: Path | None = None, dag_files: list[str] | None = None,
                 extra_env: dict[str, str] | None = None, parallelism: int = 2):
        import secrets

        self.home = Path(home) if home else settings.home_dir("airflow_local")
        self.home.mkdir(parents=True, exist_ok=True)
        if dag_files is None:
            dags_folder = DAGS_FOLDER
        else:
            dags_folder = self.home / "dags"
            dags_folder.mkdir(exist_ok=True)
            for stale in dags_folder.iterdir():
                stale.unlink()
            for name in dag_files:
                (dags_folder / name).symlink_to(DAGS_FOLDER / name)
        self.db = self.home / "airflow.db"
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.env = airflow_env({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.db}?timeout=60",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
            "AIRFLOW__COSMOS__CACHE_DIR": str(self.home / "cosmos_cache"),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            **(extra_env or {}),
        })
        self.procs: dict[str, subprocess.Popen] = {}

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> "LocalAirflow":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, wait: bool = True, scheduler: bool = True) -> "LocalAirflow":
        """Migrate the metadata database and launch the components; with `wait`, return once the
        api-server answers (else call `wait_ready()` later: the components boot meanwhile). With
        `scheduler=False` the scheduler is left for `start_scheduler()`: backfills created before it
        runs do not compete with it for SQLite's write lock."""
        result = self.airflow("db", "migrate", timeout=300)
        if result.returncode != 0:
            raise RuntimeError("airflow db migrate failed:\n" + result.stdout[-3000:] + result.stderr[-3000:])
        try:
            self._launch("api-server", "--host", "127.0.0.1", "--port", str(self.port))
            self._launch("dag-processor")
            if scheduler:
                self.start_scheduler()
            if wait:
                self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def start_scheduler(self) -> None:
        if "scheduler" not in self.procs:
            self._launch("scheduler")

    def _launch(self, name: str, *args: str) -> None:
        with open(self.home / f"{name}.log", "w") as log:
            self.procs[name] = subprocess.Popen([airflow_executable(), name, *args], env=self.env, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 180) -> None:
        """Until the api-server (and with it the execution API the tasks need) answers."""
        self._wait(self._api_ready, timeout, "the api-server to answer")

    def stop(self, grace: float = 20) -> None:
        """SIGTERM every component's process group and every descendant (task processes included),
        SIGKILL whatever is left after `grace` seconds."""
        import signal

        import psutil

        victims: list[psutil.Process] = []
        for proc in self.procs.values():
            try:
                parent = psutil.Process(proc.pid)
                victims += [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for victim in victims:
            try:
                victim.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(victims, timeout=grace)
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for victim in alive:
            try:
                victim.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=5)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()

    # -- helpers --------------------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """One `airflow …` CLI command against this deployment."""
        return subprocess.run([airflow_executable(), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def _api_ready(self) -> bool:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.api_url}/api/v2/monitor/health", timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _wait(self, condition, timeout: float, what: str, interval: float = 2) -> None:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = {name: p.returncode for name, p in self.procs.items() if p.poll() is not None}
            if dead:
                raise RuntimeError(f"Airflow component(s) exited {dead} while waiting for {what}:\n"
                                   + self.logs_tail())
            if condition():
                return
            time.sleep(interval)
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}:\n" + self.logs_tail())

    def logs_tail(self, lines: int = 25) -> str:
        out = []
        for name in self.procs or ("api-server", "dag-processor", "scheduler"):
            path = self.home / f"{name}.log"
            if path.exists():
                text = path.read_text(errors="replace").splitlines()
                out.append(f"--- {name} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(out)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import sqlite3

        conn = sqlite3.connect(self.db, timeout=60)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 180) -> None:
        """Until the dag-processor has parsed and serialised every DAG of `dag_ids`."""
        def parsed() -> bool:
            try:
                found = {r[0] for r in self.query("select dag_id from serialized_dag")}
            except Exception:   # table not there yet
                return False
            return set(dag_ids) <= found

        self._wait(parsed, timeout, f"the dag-processor to parse {', '.join(dag_ids)}")

    # -- backfills ------------------------------------------------------------------------

    def backfill(self, dag_id: str, from_date: str, to_date: str, max_active_runs: int = 1,
                 reprocess_behavior: str | None = None) -> int:
        """`airflow backfill create …`; returns the backfill's id.

        On SQLite, creating the runs can hit "database is locked" at once (a read transaction that
        must become a write one while another component writes: SQLite does not wait then). Airflow
        removes such a half-created backfill itself only for PostgreSQL/MySQL lock errors
        (`_cleanup_partial_backfill`); here the same cleanup is done and the command retried.
        """
        import time

        args = ["backfill", "create", "--dag-id", dag_id, "--from-date", from_date, "--to-date", to_date,
                "--max-active-runs", str(max_active_runs)]
        if reprocess_behavior:
            args += ["--reprocess-behavior", reprocess_behavior]
        for attempt in range(4):
            known = {r[0] for r in self.query("select id from backfill where dag_id = ?", (dag_id,))}
            result = self.airflow(*args)
            if result.returncode == 0:
                break
            output = result.stdout + result.stderr
            if "database is locked" not in output or attempt == 3:
                raise RuntimeError(f"airflow backfill create failed ({result.returncode}):\n"
                                   + result.stdout[-3000:] + result.stderr[-3000:])
            self._drop_partial_backfills(dag_id, known)
            time.sleep(2 + 3 * attempt)
        rows = self.query("select max(id) from backfill where dag_id = ?", (dag_id,))
        if not rows or rows[0][0] is None:
            raise RuntimeError("airflow backfill create succeeded but recorded no backfill:\n" + result.stdout[-3000:])
        return int(rows[0][0])

    def _drop_partial_backfills(self, dag_id: str, known: set[int]) -> None:
        """Remove the backfill rows a failed `backfill create` left (as Airflow's own cleanup does)."""
        import sqlite3

        conn = sqlite3.connect(self.db, timeout=60)
        try:
            with conn:
                for (backfill_id,) in conn.execute("select id from backfill where dag_id = ?", (dag_id,)).fetchall():
                    if backfill_id in known:
                        continue
                    conn.execute("delete from backfill_dag_run where backfill_id = ?", (backfill_id,))
                    conn.execute("delete from dag_run where backfill_id = ?", (backfill_id,))
                    conn.execute("delete from backfill where id = ?", (backfill_id,))
        finally:
            conn.close()

    def backfill_runs(self, backfill_id: int) -> list[dict]:
        rows = self.query("select run_id, logical_date, state from dag_run where backfill_id = ? "
                          "order by logical_date", (backfill_id,))
        return [{"run_id": r, "logical_date": d, "state": s} for r, d, s in rows]

    def wait_backfill(self, backfill_id: int, timeout: float = 600) -> list[dict]:
        """Until every run of the backfill has finished (success or failed); returns the runs. (The
        scheduler marks the backfill itself complete a little later, in a periodic check.)"""
        def finished() -> bool:
            runs = self.backfill_runs(backfill_id)
            return bool(runs) and all(r["state"] in FINISHED_RUN_STATES for r in runs)

        self._wait(finished, timeout, f"backfill {backfill_id} to finish", interval=2)
        return self.backfill_runs(backfill_id)

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        return dict(self.query("select task_id, state from task_instance where dag_id = ? and run_id = ?",
                               (dag_id, run_id)))

    def task_log(self, dag_id: str, run_id: str, task_id: str) -> str:
        """The task's log file(s) (every attempt), for failure messages."""
        base = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        files = sorted(base.rglob("*.log")) if base.exists() else []
        return "\n".join(f"--- {p.name} ---\n" + p.read_text(errors="replace")[-6000:] for p in files)

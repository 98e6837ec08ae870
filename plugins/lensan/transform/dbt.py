"""dbt profiles and invocation for the lensan project (dbt_project/).

* `profiles_dir()` writes LENSAN_HOME/dbt/profiles.yml for the current warehouse (profile `lensan`,
  target `warehouse`) and returns the directory; Cosmos and the CLI pass it to dbt.
* `run_dbt(args)` runs dbt in-process (`dbtRunner`) with --project-dir/--profiles-dir set and raises
  `DbtError` when the command fails (a failing model, test or unit test).
  Ready nodes start longest chain first (`lensan.transform.scheduling`).
* `ensure_manifest()` runs `dbt parse` when LENSAN_HOME/dbt/target/manifest.json is missing or older than any project
  file, and returns its path (Cosmos loads it with LoadMode.DBT_MANIFEST).

No network: anonymous usage statistics are switched off before dbt is imported.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from lensan import settings

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

PROFILE_NAME = "lensan"
TARGET_NAME = "warehouse"
THREADS = 2
# Unit tests check the models' logic on fixed inputs: they run in development and CI (`make test`), not
# in every scheduled build, as dbt advises ("When to run unit tests", docs.getdbt.com/docs/build/unit-tests).
# The transform DAG's build and its per-model test tasks (Cosmos, through the environment) leave them out.
PRODUCTION_EXCLUDED_RESOURCE_TYPES = "unit_test"
PRODUCTION_BUILD = ["build", "--exclude-resource-type", PRODUCTION_EXCLUDED_RESOURCE_TYPES]
PRODUCTION_ENV = {"DBT_EXCLUDE_RESOURCE_TYPES": PRODUCTION_EXCLUDED_RESOURCE_TYPES}
# Files whose change makes the manifest stale.
_PROJECT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}
_PROJECT_SUBDIRS = ("models", "macros", "seeds", "tests", "analyses", "snapshots")

_lock = threading.RLock()


class DbtError(RuntimeError):
    """A dbt command failed (compile error, failing model, data test or unit test)."""


def project_dir() -> Path:
    return settings.DBT_PROJECT_DIR


def _yaml_str(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def profiles_dir() -> Path:
    """Write LENSAN_HOME/dbt/profiles.yml for the current warehouse and return its directory."""
    from lensan.db import warehouse

    info = warehouse.connection_info()
    directory = settings.home_dir("dbt")
    text = "\n".join([
        "# Written by lensan.transform.dbt.profiles_dir() for the current warehouse; do not edit.",
        f"{PROFILE_NAME}:",
        f"  target: {TARGET_NAME}",
        "  outputs:",
        f"    {TARGET_NAME}:",
        "      type: postgres",
        f"      host: {_yaml_str(info.host)}",
        f"      port: {int(info.port)}",
        f"      user: {_yaml_str(info.user)}",
        f"      password: {_yaml_str(info.password or '')}",
        f"      dbname: {_yaml_str(info.dbname)}",
        "      schema: public",
        f"      threads: {THREADS}",
        "      connect_timeout: 30",
        "",
    ])
    path = directory / "profiles.yml"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        tmp = path.with_suffix(".yml.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    return directory


def target_dir() -> Path:
    """dbt's target/ (manifest, compiled SQL, run results) per LENSAN_HOME, so parallel homes
    (tests, CI, a developer's demo) never overwrite each other's artefacts."""
    return settings.home_dir("dbt") / "target"


def _with_dirs(args: list[str], profiles: Path) -> list[str]:
    args = [str(a) for a in args]
    if "--project-dir" not in args:
        args += ["--project-dir", str(project_dir())]
    if "--profiles-dir" not in args:
        args += ["--profiles-dir", str(profiles)]
    if "--target-path" not in args:
        args += ["--target-path", str(target_dir())]
    if "--log-path" not in args:
        args += ["--log-path", str(settings.home_dir("dbt") / "logs")]
    return args


def run_dbt(args: list[str]):
    """Run a dbt command in-process, e.g. run_dbt(["build"]); its result (dbt's own, e.g. the nodes run);
    raise DbtError when it fails."""
    from dbt.cli.main import dbtRunner

    from lensan.transform import scheduling

    command = _with_dirs(list(args), profiles_dir())
    threads = command[command.index("--threads") + 1] if "--threads" in command else THREADS
    # dbtRunner is not re-entrant across threads; serialise in-process invocations.
    with _lock:
        scheduling.install(int(threads))
        result = dbtRunner().invoke(["--no-send-anonymous-usage-stats", *command])
    if result.success:
        return result.result
    failures = []
    res = result.result
    for node_result in getattr(res, "results", None) or []:
        status = str(getattr(node_result, "status", ""))
        if status.lower().split(".")[-1] in ("error", "fail", "runtimeerr"):
            node = getattr(node_result, "node", None)
            name = getattr(node, "unique_id", None) or getattr(node, "name", "?")
            failures.append(f"{name}: {status}: {getattr(node_result, 'message', '')}")
    detail = "; ".join(failures) if failures else repr(result.exception or res)
    raise DbtError(f"dbt {' '.join(map(str, args))} failed: {detail}")


def compile_sql(sql: str) -> str:
    """`sql` (Jinja calling the project's macros) as dbt compiles it for the warehouse."""
    return run_dbt(["compile", "--inline", sql, "--quiet"]).results[0].node.compiled_code


def _newest_project_mtime() -> float:
    root = project_dir()
    newest = 0.0
    for name in ("dbt_project.yml", "packages.yml", "dependencies.yml", "selectors.yml"):
        path = root / name
        if path.exists():
            newest = max(newest, path.stat().st_mtime)
    for sub in _PROJECT_SUBDIRS:
        base = root / sub
        if not base.exists():
            continue
        for path in base.rglob("*"):
            if path.is_file() and path.suffix in _PROJECT_SUFFIXES:
                newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_path() -> Path:
    return target_dir() / "manifest.json"


def ensure_manifest() -> Path:
    """target/manifest.json, (re)parsed when missing or older than any project file."""
    path = manifest_path()
    if not path.exists() or path.stat().st_mtime < _newest_project_mtime():
        run_dbt(["parse"])
    return path


def refresh_publication_snapshot() -> None:
    """Rebuild marts.fct_indicator_values_asof_deadline after a publication, so the mart shows the
    values as published by each deadline without waiting for the next transform run."""
    run_dbt(["run", "--select", "fct_indicator_values_asof_deadline"])

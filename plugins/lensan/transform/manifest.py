"""The dbt manifest and profile the transform DAG is rendered from (Cosmos, LoadMode.DBT_MANIFEST).

The DAG reads LENSAN_HOME/dbt/manifest.json: a private, atomically replaced copy of dbt's
target/manifest.json (lensan.transform.dbt.manifest_path()), installed by `install_manifest`
(`lensan dbt-manifest`, the DAG's `prepare` task): any dbt command rewrites dbt's own file in place,
and a DAG parsed at that moment would read a half-written file. The paths are computed without
touching the warehouse, so parsing a DAG never starts a database.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from lensan import settings


def dbt_profiles_yml() -> Path:
    """Where `lensan.transform.dbt.profiles_dir()` writes the profile (LENSAN_HOME/dbt/profiles.yml)."""
    return settings.load().home / "dbt" / "profiles.yml"


def dbt_manifest_path() -> Path:
    """The dbt manifest Cosmos renders the transform DAG from: LENSAN_HOME/dbt/manifest.json."""
    return dbt_profiles_yml().parent / "manifest.json"


def graph_signature(manifest: Path) -> str:
    """A digest of the dbt graph (nodes and their dependencies), insensitive to SQL-only edits."""
    data = json.loads(manifest.read_text(encoding="utf-8"))
    graph = sorted((uid, sorted(node.get("depends_on", {}).get("nodes", [])))
                   for uid, node in data.get("nodes", {}).items())
    return hashlib.sha256(json.dumps(graph).encode()).hexdigest()[:16]


def install_manifest() -> Path:
    """Refresh the dbt manifest (`lensan.transform.dbt.ensure_manifest()`) and install the copy the DAG reads."""
    from lensan.transform import dbt as lensan_dbt

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

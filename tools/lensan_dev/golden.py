#!/usr/bin/env python3
"""Golden demo outputs: the mart checksums and the published exports of a fixed seed and week.

Records (or compares against) `tests/golden/demo_outputs.json`. It drives lensan only through its
command line and the dbt executable, so the same script measures the code before and after a
restructure:

    lensan generate (fixed provinces, weeks, seed) → lensan land → dbt seed + build →
    lensan publish --week (GX gate + publication) → checksums

    .venv/bin/python -m lensan_dev.golden compare    # exit 1 and a diff when anything changed (make golden)
    .venv/bin/python -m lensan_dev.golden record     # after an intended change of outputs

Documented differences that are not compared: the run's own timestamps (any date-time of the day
the script runs, in ISO or dd/mm/yyyy form, becomes <RUN-TIME>), the zip timestamps inside XLSX
files (their members are compared instead), the SHA-256 of export files in manifests (the files
themselves are compared), columns that mirror the publication log (revision, published_*), and the
per-run absolute paths (LENSAN_HOME becomes <HOME>).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from lensan.settings import PROJECT_ROOT

ROOT = PROJECT_ROOT
GOLDEN = ROOT / "tests" / "golden" / "demo_outputs.json"
BIN = Path(sys.executable).parent

PROVINCES = "22,92"
WEEKS = "2026-W44..2026-W47"
WEEK = "2026-W47"
SEED = 1034
PSEUDONYM_KEY = "test-only-golden-outputs-key"

PUBLICATION_LOG_COLUMNS = re.compile(r"revision|published|differs_from_latest|built_at|recorded_at")
EXPORT_SUFFIXES = (".xlsx", ".csv", ".json", ".html", ".svg", ".png")


def run(cmd: list[str], env: dict) -> None:
    result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")


def pipeline(home: Path) -> dict:
    env = {**os.environ, "LENSAN_HOME": str(home), "LENSAN_PSEUDONYM_KEY": PSEUDONYM_KEY,
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "false"}
    env.pop("LENSAN_WAREHOUSE_URL", None)
    lensan = str(BIN / "lensan")
    dbt_dirs = ["--project-dir", str(ROOT / "dbt_project"), "--profiles-dir", str(home / "dbt"),
                "--target-path", str(home / "dbt" / "target"), "--log-path", str(home / "dbt" / "logs")]
    try:
        run([lensan, "generate", "--provinces", PROVINCES, "--weeks", WEEKS, "--seed", str(SEED)], env)
        run([lensan, "land"], env)
        run([lensan, "dbt-manifest"], env)
        run([str(BIN / "dbt"), "seed", *dbt_dirs], env)
        run([str(BIN / "dbt"), "build", "--exclude", "resource_type:seed", *dbt_dirs], env)
        run([lensan, "publish", "--week", WEEK], env)
        return {"marts": _warehouse_checksums(env), "exports": export_checksums(home / "exports", home)}
    finally:
        subprocess.run([lensan, "warehouse", "stop"], env=env, cwd=ROOT, capture_output=True)


def marts_checksums(conn) -> dict:
    """Row count and md5 of every marts table: data columns as text in name order, rows sorted."""
    out = {}
    with conn.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = 'marts' "
                    "and table_type = 'BASE TABLE' order by 1")
        for (table,) in cur.fetchall():
            cur.execute("select column_name from information_schema.columns where table_schema = 'marts' "
                        "and table_name = %s order by column_name", (table,))
            cols = [c for (c,) in cur.fetchall() if not PUBLICATION_LOG_COLUMNS.search(c)]
            row = "row(" + ", ".join(f'"{c}"' for c in cols) + ")::text"
            cur.execute(f"select count(*), md5(coalesce(string_agg({row}, chr(10) order by {row}), '')) "
                        f'from marts."{table}"')
            count, digest = cur.fetchone()
            out[table] = {"rows": count, "md5": digest}
    conn.commit()
    return out


def _warehouse_checksums(env: dict) -> dict:
    import psycopg2

    url = subprocess.run([str(BIN / "lensan"), "warehouse", "url", "--show-password"], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.strip()
    with psycopg2.connect(url) as conn:
        return marts_checksums(conn)


def _run_time_pattern() -> re.Pattern:
    days = {dt.date.today() + dt.timedelta(days=d) for d in (-1, 0, 1)}
    alternatives = []
    for day in days:
        alternatives.append(re.escape(day.isoformat()) + r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
        alternatives.append(r"(\d{2}:\d{2} ngày )?" + re.escape(day.strftime("%d/%m/%Y"))
                            + r"( \d{2}:\d{2}(:\d{2})?)?")
        alternatives.append(re.escape(day.strftime("%Y%m%d")) + r"T?\d{6}(\.?\d+)?Z?")
    return re.compile("|".join(alternatives))


def normalise_text(text: str, home: Path) -> str:
    text = text.replace(str(home), "<HOME>")
    return _run_time_pattern().sub("<RUN-TIME>", text)


def _mask_export_hashes(value):
    """Manifests list the SHA-256 of the export files, which embed the run's time; the files
    themselves are compared, so those hashes are masked. Hashes of landed files stay."""
    if isinstance(value, dict):
        name = str(value.get("name") or value.get("file") or value.get("path") or "")
        masked = {k: _mask_export_hashes(v) for k, v in value.items()}
        if name.endswith(EXPORT_SUFFIXES) and "landed" not in name:
            for key in ("sha256", "bytes", "size"):
                if key in masked:
                    masked[key] = "<EXPORT>"
        return masked
    if isinstance(value, list):
        return [_mask_export_hashes(v) for v in value]
    return value


def normalised_bytes(path: Path, home: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xlsx":
        parts = []
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in sorted(zf.namelist()):
                member = zf.read(name).decode("utf-8", errors="replace")
                parts.append(f"== {name}\n{normalise_text(member, home)}")
        return "\n".join(parts).encode()
    if path.suffix in (".png",):
        return data
    text = normalise_text(data.decode("utf-8", errors="replace"), home)
    if path.suffix == ".json":
        value = json.loads(text)
        return json.dumps(_mask_export_hashes(value), sort_keys=True, ensure_ascii=False, indent=1).encode()
    return text.encode()


def export_checksums(exports: Path, home: Path) -> dict:
    return {str(p.relative_to(exports)): hashlib.sha256(normalised_bytes(p, home)).hexdigest()
            for p in sorted(exports.rglob("*")) if p.is_file()}


def compare(expected: dict, actual: dict) -> list[str]:
    problems = []
    for section in ("marts", "exports"):
        want, got = expected.get(section, {}), actual.get(section, {})
        for key in sorted(set(want) | set(got)):
            if want.get(key) != got.get(key):
                problems.append(f"{section}/{key}: expected {want.get(key)}, got {got.get(key)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["record", "compare"])
    parser.add_argument("--keep", action="store_true", help="keep the temporary LENSAN_HOME")
    parser.add_argument("--dump", type=Path, help="write the normalised export files here (for diffing)")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="lensan-golden-"))
    actual = pipeline(home)
    if args.dump:
        for path in sorted((home / "exports").rglob("*")):
            if path.is_file():
                target = args.dump / path.relative_to(home / "exports")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(normalised_bytes(path, home))
    if not args.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    if args.action == "record":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"recorded {len(actual['marts'])} marts and {len(actual['exports'])} export files in {GOLDEN}")
        return 0
    problems = compare(json.loads(GOLDEN.read_text(encoding="utf-8")), actual)
    for line in problems:
        print(line)
    print(f"{len(actual['marts'])} marts, {len(actual['exports'])} export files: "
          + ("identical" if not problems else f"{len(problems)} differ"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

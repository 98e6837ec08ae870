"""lensan.settings: the only reader of LENSAN_* variables, and the README's configuration table.

The table must list every variable the settings know (with their defaults) and every LENSAN_* name
the code, DAGs, dev tools and the compose deployment mention; no other module may read one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lensan import settings

pytestmark = pytest.mark.unit

ROOT = settings.PROJECT_ROOT
# A LENSAN_* name on its own (not the tail of AIRFLOW_CONN_LENSAN_SFTP); `LENSAN_*` prose is no name.
NAME = re.compile(r"(?<![A-Za-z0-9_])LENSAN_[A-Z0-9_]*[A-Z0-9]\b(?!_?\*)")
SCANNED = ("plugins", "dags", "tools", "docker-compose.yml", ".env.example")
ENV_READ = re.compile(r"""(environ\.get\(|environ\[|getenv\()\s*["']LENSAN_""")


def _configuration_table() -> dict[str, list[str]]:
    """{variable: the cells of its row} from the README's "## Configuration" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for name in NAME.findall(cells[0]):
            rows[name] = cells
    return rows


def _files(entry: str):
    path = ROOT / entry
    if path.is_file():
        yield path
        return
    for file in sorted(path.rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts and file.suffix not in (".pyc", ".gz", ".xlsx"):
            yield file


def test_every_setting_is_in_the_readme_with_its_default():
    table = _configuration_table()
    for variable in settings.VARIABLES:
        assert variable.name in table, f"{variable.name} missing from the README configuration table"
        default = table[variable.name][1]
        assert default == (f"`{variable.default}`" if variable.default is not None else "—"), variable.name


def test_every_lensan_name_in_code_and_deployment_is_in_the_readme():
    table = _configuration_table()
    missing = {}
    for entry in SCANNED:
        for file in _files(entry):
            for name in NAME.findall(file.read_text(encoding="utf-8", errors="replace")):
                if name not in table:
                    missing.setdefault(name, str(file.relative_to(ROOT)))
    assert not missing, f"LENSAN_* names not in the README configuration table: {missing}"


def test_only_settings_reads_lensan_variables():
    """The package and the DAGs get every LENSAN_* value from settings.load() (dev tools and tests may
    set them for subprocesses)."""
    modules = sorted((ROOT / "plugins" / "lensan").rglob("*.py")) + sorted((ROOT / "dags").rglob("*.py"))
    readers = [str(path.relative_to(ROOT)) for path in modules
               if path != Path(settings.__file__).resolve() and ENV_READ.search(path.read_text(encoding="utf-8"))]
    assert readers == []


@pytest.fixture
def clean_environment(monkeypatch):
    for variable in settings.VARIABLES:
        monkeypatch.delenv(variable.name, raising=False)
    return monkeypatch


def test_defaults(clean_environment):
    loaded = settings.load()
    assert loaded.home == (settings.PROJECT_ROOT / ".lensan").resolve()
    assert (loaded.warehouse_url, loaded.pseudonym_key, loaded.bi_reader_password, loaded.checker_password,
            loaded.report_recipients, loaded.report_sender, loaded.portal_url) == (None,) * 7
    assert loaded.embedded_fast is False
    assert (loaded.max_file_mb, loaded.max_xlsx_uncompressed_mb, loaded.max_xlsx_ratio,
            loaded.max_gzip_uncompressed_mb, loaded.max_line_kb) == (200, 100, 200, 4096, 1024)
    assert loaded.delivery_channels == ("outbox",)
    assert (loaded.sftp_conn_id, loaded.smtp_conn_id) == ("lensan_sftp", "lensan_smtp")
    assert (loaded.airflow_retries, loaded.airflow_retry_delay_s, loaded.dag_timeout_s) == (2, 300, 1800)
    assert (loaded.portal_host, loaded.portal_port, loaded.portal_insecure_cookies, loaded.portal_max_upload_mb,
            loaded.portal_secret, loaded.portal_signin_per_min, loaded.portal_uploads_per_min) == (
        "127.0.0.1", 8090, False, 10, None, 10, 6)


def test_overrides(clean_environment, tmp_path):
    values = {
        "LENSAN_HOME": str(tmp_path / "home"),
        "LENSAN_WAREHOUSE_URL": "postgresql://u:p@db.example:5433/w",
        "LENSAN_PSEUDONYM_KEY": "k",
        "LENSAN_BI_READER_PASSWORD": "bi",
        "LENSAN_CHECKER_PASSWORD": "chk",
        "LENSAN_EMBEDDED_FAST": "1",
        "LENSAN_MAX_FILE_MB": "1.5",
        "LENSAN_MAX_XLSX_UNCOMPRESSED_MB": "2",
        "LENSAN_MAX_XLSX_RATIO": "3",
        "LENSAN_MAX_GZIP_UNCOMPRESSED_MB": "4",
        "LENSAN_MAX_LINE_KB": "5",
        "LENSAN_DELIVERY_CHANNELS": "outbox, sftp email",
        "LENSAN_SFTP_CONN_ID": "my_sftp",
        "LENSAN_SMTP_CONN_ID": "my_smtp",
        "LENSAN_REPORT_RECIPIENTS": "a@example.org,b@example.org",
        "LENSAN_REPORT_SENDER": "lensan@example.org",
        "LENSAN_NATIONAL_ISSUING_BODY": "BỘ KHOA HỌC VÀ CÔNG NGHỆ",
        "LENSAN_AIRFLOW_RETRIES": "0",
        "LENSAN_AIRFLOW_RETRY_DELAY_S": "7",
        "LENSAN_DAG_TIMEOUT": "60",
        "LENSAN_PORTAL_URL": "https://portal.example.org",
        "LENSAN_PORTAL_HOST": "0.0.0.0",
        "LENSAN_PORTAL_PORT": "8443",
        "LENSAN_PORTAL_INSECURE_COOKIES": "1",
        "LENSAN_PORTAL_MAX_UPLOAD_MB": "2.5",
        "LENSAN_PORTAL_SECRET": "s3cret",
        "LENSAN_PORTAL_SIGNIN_PER_MIN": "4",
        "LENSAN_PORTAL_UPLOADS_PER_MIN": "3",
    }
    assert set(values) == {v.name for v in settings.VARIABLES}   # a new variable needs a case here
    for name, value in values.items():
        clean_environment.setenv(name, value)
    loaded = settings.load()
    assert loaded == settings.Settings(
        home=(tmp_path / "home").resolve(), warehouse_url="postgresql://u:p@db.example:5433/w", pseudonym_key="k",
        bi_reader_password="bi", checker_password="chk", embedded_fast=True, max_file_mb=1.5,
        max_xlsx_uncompressed_mb=2, max_xlsx_ratio=3, max_gzip_uncompressed_mb=4, max_line_kb=5,
        delivery_channels=("outbox", "sftp", "email"), sftp_conn_id="my_sftp", smtp_conn_id="my_smtp",
        report_recipients="a@example.org,b@example.org", report_sender="lensan@example.org",
        national_issuing_body="BỘ KHOA HỌC VÀ CÔNG NGHỆ", airflow_retries=0,
        airflow_retry_delay_s=7, dag_timeout_s=60, portal_url="https://portal.example.org",
        portal_host="0.0.0.0", portal_port=8443, portal_insecure_cookies=True, portal_max_upload_mb=2.5,
        portal_secret="s3cret", portal_signin_per_min=4, portal_uploads_per_min=3)


def test_blank_is_unset_and_a_bad_number_is_refused(clean_environment):
    clean_environment.setenv("LENSAN_MAX_FILE_MB", "  ")
    clean_environment.setenv("LENSAN_WAREHOUSE_URL", "")
    loaded = settings.load()
    assert (loaded.max_file_mb, loaded.warehouse_url) == (200, None)
    clean_environment.setenv("LENSAN_DAG_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="LENSAN_DAG_TIMEOUT='soon'"):
        settings.load()

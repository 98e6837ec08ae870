"""Delivery of a published revision: outbox, SFTP and e-mail against real servers on 127.0.0.1.

The SFTP server is paramiko's server side (an SSH transport + SFTP subsystem over a real TCP socket,
serving a temporary directory); the SMTP server is aiosmtpd's Controller. Nothing on the network
path is mocked: the code under test reads its Airflow connections from AIRFLOW_CONN_* variables and
talks to these servers through the SFTP and SMTP providers' hooks.
"""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import io
import json
import os
import secrets
import socket
import threading
from pathlib import Path

import paramiko
import pytest
from aiosmtpd.controller import Controller

from lensan.delivery import ledger, service
from lensan.delivery.channels.email import email_subject
from lensan.delivery.manifest import MANIFEST_NAME, ManifestError, load_revision, manifest_files
from lensan.delivery.results import DeliveryError
from lensan.delivery.service import deliver

pytestmark = pytest.mark.unit

PERIOD_TYPE, PERIOD_KEY, SCOPE = "week", "2026-W47", "province-22"
SUBJECT = "[lensan] Báo cáo tuần 2026-W47 — Tỉnh Quảng Ninh (lần 1)"


# ------------------------------------------------------------------------------------------
# a fake published revision (not built by lensan.publish.service)


def _xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo tuần"
    ws.append(["TT", "Chỉ tiêu", "Trong tuần", "Lũy kế"])
    ws.append(["1", "Số hộ sản xuất nông nghiệp có tài khoản", 120, 4520])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def make_revision(home: Path, rev: int = 1, scope: str = SCOPE) -> Path:
    d = home / "exports" / PERIOD_TYPE / PERIOD_KEY / scope / f"rev-{rev}"
    d.mkdir(parents=True)
    stem = f"bao-cao-tuan_{PERIOD_KEY}_{scope}_rev{rev}"
    out = io.StringIO()
    csv.writer(out).writerows([["indicator_code", "value_in_week"], ["I.1", "120"]])
    contents = {
        f"{stem}.xlsx": _xlsx_bytes(),
        f"{stem}.csv": b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"),
        f"{stem}.json": json.dumps({"rows": [{"indicator_code": "I.1", "value_in_week": 120}]}).encode(),
    }
    for name, data in contents.items():
        (d / name).write_bytes(data)
    manifest = {  # the shape lensan.publish.service writes
        "period_type": PERIOD_TYPE,
        "period_key": PERIOD_KEY,
        "scope_level": "province",
        "scope_code": "22",
        "scope_name": "Tỉnh Quảng Ninh",
        "scope_key": scope,
        "revision": rev,
        "generated_at": "2026-11-26T02:00:00Z",
        "row_counts": {"indicator_rows": 24},
        "files": [
            {"name": n, "format": n.rsplit(".", 1)[1], "bytes": len(b),
             "sha256": hashlib.sha256(b).hexdigest()}
            for n, b in contents.items()
        ],
        "gate": {"status": "passed"},
        "quality_flags": [],
        "source_files": [{"sha256": "ab" * 32, "source": "weekly_form", "period_key": "2026-W47",
                          "file_date": "2026-11-22", "arrived_at": "2026-11-23T02:00:00Z",
                          "safe_name": "weekly_form_20501_2026-W47_abababababab.xlsx"}],
        "source_file_count": 1,
    }
    (d / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return d


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh LENSAN_HOME per test, so ledgers and outboxes do not leak between tests."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("LENSAN_HOME", str(h))
    monkeypatch.delenv("LENSAN_REPORT_RECIPIENTS", raising=False)
    monkeypatch.delenv("LENSAN_DELIVERY_CHANNELS", raising=False)
    return h


@pytest.fixture
def revision(home) -> Path:
    return make_revision(home)


def _files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------
# outbox


def test_outbox_copies_and_verifies(home, revision):
    [result] = deliver(revision)
    assert result.status == "delivered", result
    final = home / "outbox" / PERIOD_TYPE / PERIOD_KEY / SCOPE / "rev-1"
    assert _files(final) == _files(revision)
    # nothing left behind by the temp-dir-then-rename copy
    assert [p.name for p in final.parent.iterdir()] == ["rev-1"]
    manifest = json.loads((final / MANIFEST_NAME).read_text(encoding="utf-8"))
    for f in manifest["files"]:
        assert hashlib.sha256((final / f["name"]).read_bytes()).hexdigest() == f["sha256"]
    [entry] = ledger.ledger_entries()
    assert entry["channel"] == "outbox" and entry["status"] == "delivered"
    assert entry["revision"] == f"{PERIOD_TYPE}/{PERIOD_KEY}/{SCOPE}/rev-1"


def test_outbox_redelivery_is_a_noop(home, revision):
    deliver(revision, ["outbox"])
    final = home / "outbox" / PERIOD_TYPE / PERIOD_KEY / SCOPE / "rev-1"
    mtimes = {p: p.stat().st_mtime_ns for p in final.iterdir()}
    [again] = deliver(revision, ["outbox"])
    assert again.status == "skipped"
    assert "already delivered" in again.detail
    assert {p: p.stat().st_mtime_ns for p in final.iterdir()} == mtimes
    assert [e["status"] for e in ledger.ledger_entries()] == ["delivered"]


def test_outbox_already_present_without_ledger_is_recognised(home, revision):
    deliver(revision, ["outbox"])
    ledger.ledger_path().unlink()
    [again] = deliver(revision, ["outbox"])
    assert again.status == "skipped" and "already in outbox" in again.detail


def test_tampered_file_is_rejected_and_nothing_delivered(home, revision):
    xlsx = next(revision.glob("*.xlsx"))
    data = bytearray(xlsx.read_bytes())
    data[-1] ^= 0xFF
    xlsx.write_bytes(bytes(data))
    with pytest.raises(DeliveryError, match=r"SHA-256.*!=") as info:
        deliver(revision, ["outbox"])
    assert xlsx.name in str(info.value)
    assert [r.status for r in info.value.results] == ["failed"]
    assert not list((home / "outbox").rglob("*.*"))  # not even a temp copy
    [entry] = ledger.ledger_entries()
    assert entry["status"] == "failed" and xlsx.name in entry["detail"]


def test_missing_file_and_bad_manifest_are_rejected(home, revision):
    next(revision.glob("*.csv")).unlink()
    with pytest.raises(DeliveryError, match="missing"):
        deliver(revision)
    other = make_revision(home, rev=2)
    (other / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(DeliveryError, match="not valid JSON"):
        deliver(other)
    assert not list((home / "outbox").rglob("*.*"))


def test_existing_different_outbox_is_never_overwritten(home, revision):
    final = home / "outbox" / PERIOD_TYPE / PERIOD_KEY / SCOPE / "rev-1"
    final.mkdir(parents=True)
    (final / "stray.txt").write_text("not this revision")
    with pytest.raises(DeliveryError, match="never overwritten"):
        deliver(revision)
    assert _files(final) == {"stray.txt": b"not this revision"}


def test_manifest_revision_must_match_directory(home):
    d = make_revision(home, rev=3)
    m = json.loads((d / MANIFEST_NAME).read_text(encoding="utf-8"))
    m["revision"] = 4
    (d / MANIFEST_NAME).write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(DeliveryError, match="revision"):
        deliver(d)


def test_concurrent_deliveries_deliver_once(home, revision):
    results, errors = [], []

    def run():
        try:
            results.extend(deliver(revision, ["outbox"]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(r.status for r in results) == ["delivered", "skipped", "skipped", "skipped"]
    assert [e["status"] for e in ledger.ledger_entries()] == ["delivered"]


def test_unchanged_revision_never_delivered_goes_out_once(home, revision):
    """A publish that wrote a revision and crashed before delivery: its retry reports the revision as
    unchanged; deliver_published still sends it, once (the ledger skips it afterwards)."""
    summary = {"published": [], "unchanged": [{"path": str(revision)}]}
    assert [r["status"] for r in service.deliver_published(summary)] == ["delivered"]
    assert [r["status"] for r in service.deliver_published(summary)] == ["skipped"]
    assert [e["status"] for e in ledger.ledger_entries()] == ["delivered"]


def test_unknown_channel(revision):
    with pytest.raises(ValueError, match="unknown delivery channel"):
        deliver(revision, ["fax"])


def test_manifest_shape():
    """The one shape lensan.publish.service writes; anything else is refused."""
    h = "ab" * 32
    [f] = manifest_files({"files": [{"name": "a.csv", "format": "csv", "bytes": 3, "sha256": h}]})
    assert (f.name, f.sha256, f.size) == ("a.csv", h, 3)
    for files, message in [
        ([{"name": "../a.csv", "bytes": 3, "sha256": h}], "escapes"),
        ([{"name": "/a.csv", "bytes": 3, "sha256": h}], "escapes"),
        ([{"name": "a.csv", "bytes": 3, "sha256": h.upper()}], "invalid SHA-256"),
        ([{"name": "a.csv", "sha256": h}], "invalid size"),
        ([{"name": "a.csv", "bytes": 3, "sha256": h}] * 2, "listed twice"),
        (["a.csv"], "unexpected file entry"),
        ([], "no files"),
        ({"a.csv": h}, "no files"),
    ]:
        with pytest.raises(ManifestError, match=message):
            manifest_files({"files": files})


def test_subject_without_scope_name_uses_the_scope_directory(home):
    d = make_revision(home, rev=5)
    m = json.loads((d / MANIFEST_NAME).read_text(encoding="utf-8"))
    del m["scope_name"]
    (d / MANIFEST_NAME).write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    assert email_subject(load_revision(d)) == f"[lensan] Báo cáo tuần {PERIOD_KEY} — {SCOPE} (lần 5)"


# ------------------------------------------------------------------------------------------
# SFTP: a real SSH/SFTP server (paramiko server side) on 127.0.0.1


class _Handle(paramiko.SFTPHandle):
    def stat(self):
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as e:
            return paramiko.SFTPServer.convert_errno(e.errno)


class _FsSFTP(paramiko.SFTPServerInterface):
    """SFTP subsystem serving a local directory (`root` is `/`, also the login directory)."""

    def __init__(self, server, *args, root: str, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.root = root

    def _local(self, path: str) -> str:
        return self.root + self.canonicalize(path)

    def _err(self, e: OSError):
        return paramiko.SFTPServer.convert_errno(e.errno)

    def list_folder(self, path):
        try:
            out = []
            local = self._local(path)
            for name in os.listdir(local):
                attr = paramiko.SFTPAttributes.from_stat(os.stat(os.path.join(local, name)))
                attr.filename = name
                out.append(attr)
            return out
        except OSError as e:
            return self._err(e)

    def stat(self, path):
        try:
            return paramiko.SFTPAttributes.from_stat(os.stat(self._local(path)))
        except OSError as e:
            return self._err(e)

    lstat = stat

    def open(self, path, flags, attr):
        local = self._local(path)
        try:
            fd = os.open(local, flags, getattr(attr, "st_mode", None) or 0o644)
        except OSError as e:
            return self._err(e)
        if flags & os.O_WRONLY:
            mode = "ab" if flags & os.O_APPEND else "wb"
        elif flags & os.O_RDWR:
            mode = "a+b" if flags & os.O_APPEND else "r+b"
        else:
            mode = "rb"
        fobj = os.fdopen(fd, mode)
        handle = _Handle(flags)
        handle.filename = local
        handle.readfile = fobj
        handle.writefile = fobj
        return handle

    def remove(self, path):
        try:
            os.remove(self._local(path))
        except OSError as e:
            return self._err(e)
        return paramiko.SFTP_OK

    def rename(self, oldpath, newpath):
        new = self._local(newpath)
        if os.path.exists(new):  # SFTP v3 rename never replaces (like OpenSSH's server)
            return paramiko.SFTP_FAILURE
        try:
            os.rename(self._local(oldpath), new)
        except OSError as e:
            return self._err(e)
        return paramiko.SFTP_OK

    def mkdir(self, path, attr):
        try:
            os.mkdir(self._local(path))
        except OSError as e:
            return self._err(e)
        return paramiko.SFTP_OK

    def rmdir(self, path):
        try:
            os.rmdir(self._local(path))
        except OSError as e:
            return self._err(e)
        return paramiko.SFTP_OK

    def chattr(self, path, attr):
        return paramiko.SFTP_OK


class _Auth(paramiko.ServerInterface):
    def __init__(self, user: str, password: str):
        self.user, self.password = user, password

    def get_allowed_auths(self, username):
        return "password"

    def check_auth_password(self, username, password):
        ok = username == self.user and password == self.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class SFTPServer:
    def __init__(self, root: Path, user: str = "lensan"):
        self.root, self.user, self.password = root, user, secrets.token_urlsafe(16)
        self.host_key = paramiko.ECDSAKey.generate()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.transports: list[paramiko.Transport] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            t = paramiko.Transport(client)
            t.add_server_key(self.host_key)
            t.set_subsystem_handler("sftp", paramiko.SFTPServer, _FsSFTP, root=str(self.root))
            self.transports.append(t)
            try:
                t.start_server(server=_Auth(self.user, self.password))
            except Exception:  # a client that fails negotiation must not kill the server
                t.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        for t in self.transports:
            t.close()
        self.sock.close()

    def connection_json(self, password: str | None = None, **extra) -> str:
        return json.dumps(
            {
                "conn_type": "sftp",
                "host": "127.0.0.1",
                "port": self.port,
                "login": self.user,
                "password": password or self.password,
                "extra": {
                    "host_key": f"{self.host_key.get_name()} {self.host_key.get_base64()}",
                    "look_for_keys": "false",
                    "remote_base": "/inbox/lensan",
                    "conn_retry_attempts": 1,
                    **extra,
                },
            }
        )


@pytest.fixture
def sftp_server(tmp_path):
    root = tmp_path / "sftp-root"
    root.mkdir()
    with SFTPServer(root) as server:
        yield server


def test_sftp_upload_verified_and_idempotent(home, revision, sftp_server, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_LENSAN_SFTP", sftp_server.connection_json())
    [result] = deliver(revision, ["sftp"])
    assert result.status == "delivered", result.detail
    remote = sftp_server.root / "inbox/lensan" / PERIOD_TYPE / PERIOD_KEY / SCOPE / "rev-1"
    assert _files(remote) == _files(revision)
    # no temp dirs or .part files left on the server
    assert [p.name for p in remote.parent.iterdir()] == ["rev-1"]
    assert not list(remote.rglob("*.part"))
    assert sftp_server.connections == 1

    [again] = deliver(revision, ["sftp"])
    assert again.status == "skipped"
    assert sftp_server.connections == 1  # the ledger answered; the server was not contacted
    assert [e["status"] for e in ledger.ledger_entries()] == ["delivered"]

    # ledger lost: the server's copy is recognised (names and sizes), not overwritten
    ledger.ledger_path().unlink()
    [third] = deliver(revision, ["sftp"])
    assert third.status == "skipped" and "already on SFTP server" in third.detail
    assert _files(remote) == _files(revision)


def test_sftp_failure_raises_records_and_retry_succeeds(home, revision, sftp_server, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_LENSAN_SFTP", sftp_server.connection_json(password="wrong"))
    with pytest.raises(DeliveryError, match="SFTP delivery .* failed: Authentication") as info:
        deliver(revision, ["sftp"])
    assert [r.status for r in info.value.results] == ["failed"]
    assert [e["status"] for e in ledger.ledger_entries()] == ["failed"]
    assert not (sftp_server.root / "inbox").exists()

    monkeypatch.setenv("AIRFLOW_CONN_LENSAN_SFTP", sftp_server.connection_json())
    [result] = deliver(revision, ["sftp"])
    assert result.status == "delivered"
    assert [e["status"] for e in ledger.ledger_entries()] == ["failed", "delivered"]


def test_sftp_rejects_wrong_host_key(home, revision, sftp_server, monkeypatch):
    other = paramiko.ECDSAKey.generate()
    monkeypatch.setenv(
        "AIRFLOW_CONN_LENSAN_SFTP",
        sftp_server.connection_json(host_key=f"{other.get_name()} {other.get_base64()}"),
    )
    with pytest.raises(DeliveryError, match="SFTP delivery"):
        deliver(revision, ["sftp"])
    assert not (sftp_server.root / "inbox").exists()


def test_sftp_without_directory_rename_resumes_an_interrupted_upload(
    home, revision, sftp_server, monkeypatch
):
    monkeypatch.setenv("AIRFLOW_CONN_LENSAN_SFTP", sftp_server.connection_json(rename_dir="false"))
    remote = sftp_server.root / "inbox/lensan" / PERIOD_TYPE / PERIOD_KEY / SCOPE / "rev-1"
    # what an upload cut short leaves: some files, a .part, no manifest.json
    remote.mkdir(parents=True)
    xlsx = next(revision.glob("*.xlsx"))
    (remote / xlsx.name).write_bytes(xlsx.read_bytes())
    (remote / "x.csv.part").write_bytes(b"half")
    [result] = deliver(revision, ["sftp"])
    assert result.status == "delivered", result.detail
    assert _files(remote) == _files(revision)
    assert [p.name for p in remote.parent.iterdir()] == ["rev-1"]
    [again] = deliver(revision, ["sftp"])
    assert again.status == "skipped"


def test_sftp_existing_different_revision_is_never_overwritten(home, revision, sftp_server, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_LENSAN_SFTP", sftp_server.connection_json())
    remote = sftp_server.root / "inbox/lensan" / PERIOD_TYPE / PERIOD_KEY / SCOPE / "rev-1"
    remote.mkdir(parents=True)
    (remote / MANIFEST_NAME).write_text("{}")
    with pytest.raises(DeliveryError, match="never overwritten"):
        deliver(revision, ["sftp"])
    assert _files(remote) == {MANIFEST_NAME: b"{}"}


def test_sftp_connection_missing_is_a_clear_error(home, revision, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_LENSAN_SFTP", raising=False)
    with pytest.raises(DeliveryError, match="AIRFLOW_CONN_LENSAN_SFTP"):
        deliver(revision, ["sftp"])


# ------------------------------------------------------------------------------------------
# e-mail: a real SMTP server (aiosmtpd) on 127.0.0.1


class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def _smtp_conn(port: int, **extra) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {
                "disable_tls": True,
                "disable_ssl": True,
                "from_email": "lensan@mic.gov.vn",
                "recipients": ["bao-cao@mic.gov.vn", "so-tttt@quangninh.gov.vn"],
                "retry_limit": 0,
                "timeout": 10,
                **extra,
            },
        }
    )


def test_email_sent_with_attachments_and_vietnamese_subject(home, revision, smtp_server, monkeypatch):
    controller, inbox = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_LENSAN_SMTP", _smtp_conn(controller.port))
    [result] = deliver(revision, ["email"])
    assert result.status == "delivered", result.detail

    [envelope] = inbox.envelopes
    assert sorted(envelope.rcpt_tos) == ["bao-cao@mic.gov.vn", "so-tttt@quangninh.gov.vn"]
    assert envelope.mail_from == "lensan@mic.gov.vn"
    msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert msg["Subject"] == SUBJECT
    assert msg["X-Lensan-Revision"] == f"{PERIOD_TYPE}/{PERIOD_KEY}/{SCOPE}/rev-1"
    attachments = {part.get_filename(): part.get_content() for part in msg.iter_attachments()}
    originals = _files(revision)
    assert set(attachments) == {n for n in originals if n.endswith((".xlsx", ".csv"))}
    for name, data in attachments.items():
        assert data == originals[name]
    body = msg.get_body(preferencelist=("html", "plain")).get_content()
    assert "Kính gửi" in body and "attached is the lensan weekly report" in body
    assert "passed" in body  # the quality-gate status from the manifest
    manifest_sha = hashlib.sha256(originals[MANIFEST_NAME]).hexdigest()
    assert manifest_sha in body
    for name, data in originals.items():
        if name != MANIFEST_NAME:
            assert hashlib.sha256(data).hexdigest() in body

    [again] = deliver(revision, ["email"])
    assert again.status == "skipped"
    assert len(inbox.envelopes) == 1  # not sent twice


def test_email_recipients_from_env(home, revision, smtp_server, monkeypatch):
    controller, inbox = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_LENSAN_SMTP", _smtp_conn(controller.port, recipients=None))
    monkeypatch.setenv("LENSAN_REPORT_RECIPIENTS", "a@example.vn; b@example.vn")
    deliver(revision, ["email"])
    [envelope] = inbox.envelopes
    assert sorted(envelope.rcpt_tos) == ["a@example.vn", "b@example.vn"]


def test_email_without_recipients_fails_clearly(home, revision, smtp_server, monkeypatch):
    controller, inbox = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_LENSAN_SMTP", _smtp_conn(controller.port, recipients=None))
    with pytest.raises(DeliveryError, match="no e-mail recipients"):
        deliver(revision, ["email"])
    assert inbox.envelopes == []


def test_all_channels_failure_of_one_does_not_block_others(home, revision, sftp_server, monkeypatch):
    """SMTP is down: outbox and SFTP still deliver, the call raises, the retry only re-tries e-mail."""
    monkeypatch.setenv("AIRFLOW_CONN_LENSAN_SFTP", sftp_server.connection_json())
    dead_port = _free_port()
    monkeypatch.setenv("AIRFLOW_CONN_LENSAN_SMTP", _smtp_conn(dead_port))
    with pytest.raises(DeliveryError, match="failed on email") as info:
        deliver(revision, ["outbox", "sftp", "email"])
    assert [(r.channel, r.status) for r in info.value.results] == [
        ("outbox", "delivered"),
        ("sftp", "delivered"),
        ("email", "failed"),
    ]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=dead_port)
    controller.start()
    try:
        results = deliver(revision, ["outbox", "sftp", "email"])
    finally:
        controller.stop()
    assert [(r.channel, r.status) for r in results] == [
        ("outbox", "skipped"),
        ("sftp", "skipped"),
        ("email", "delivered"),
    ]
    assert len(inbox.envelopes) == 1
    assert sftp_server.connections == 1


def test_channels_from_env(home, revision, monkeypatch):
    monkeypatch.setenv("LENSAN_DELIVERY_CHANNELS", "outbox")
    assert [r.channel for r in deliver(revision)] == ["outbox"]

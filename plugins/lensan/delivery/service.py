"""Delivery of published revisions over the configured channels: outbox (default), SFTP and e-mail.

`deliver(revision_dir, channels)` sends one published revision (lensan.delivery.manifest) over each
channel (lensan.delivery.channels.*) and returns one `DeliveryResult` per channel; `deliver_published`
does it for every revision of a publish summary (the Airflow deliver tasks). The channels, connection ids,
recipients and sender come from `lensan.settings.load()` (LENSAN_DELIVERY_CHANNELS, LENSAN_SFTP_CONN_ID,
LENSAN_SMTP_CONN_ID, LENSAN_REPORT_RECIPIENTS, LENSAN_REPORT_SENDER).

Every channel first verifies every file against manifest.json, once when the revision is loaded and again
right before sending; a mismatch is a failure and nothing is delivered over that channel.

Idempotency: every attempt is appended to the delivery ledger (lensan.delivery.ledger). A revision already
delivered to the same channel and target (with the same manifest) is skipped. Deliveries of the same
revision over the same channel are serialised with a file lock. If any channel fails, the others are still
attempted and `DeliveryError` is raised at the end (the Airflow task then retries; channels that succeeded
are skipped on the retry). A revision that does not verify at all is refused on every channel and recorded
so in the ledger.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict
from pathlib import Path

from lensan import settings
from lensan.delivery import ledger
from lensan.delivery.channels.base import Channel
from lensan.delivery.channels.email import Email
from lensan.delivery.channels.outbox import Outbox
from lensan.delivery.channels.sftp import Sftp
from lensan.delivery.manifest import Revision, load_revision, verify_files
from lensan.delivery.results import DeliveryError, DeliveryResult

log = logging.getLogger(__name__)


def make_channel(name: str, sftp_conn_id: str | None = None, smtp_conn_id: str | None = None) -> Channel:
    """The channel called `name` (one of settings.DELIVERY_CHANNELS); conn ids default to the settings'."""
    if name == "outbox":
        return Outbox()
    if name == "sftp":
        return Sftp(sftp_conn_id or settings.load().sftp_conn_id)
    if name == "email":
        return Email(smtp_conn_id or settings.load().smtp_conn_id)
    raise ValueError(
        f"unknown delivery channel {name!r}; expected one of {', '.join(settings.DELIVERY_CHANNELS)}"
    )


def _deliver_one(rev: Revision, channel: Channel) -> DeliveryResult:
    target = "?"
    try:
        target = channel.target(rev)
        with ledger.channel_lock(rev, channel.name):
            done = ledger.already_delivered(rev, channel.name, target)
            if done:
                return DeliveryResult(
                    channel.name, rev.path, "skipped", f"already delivered at {done.get('at')} to {target}"
                )
            verify_files(rev.path, rev.files)  # again, right before sending
            there = channel.already_there(rev)
            if there:
                ledger.record(rev, channel.name, target, "delivered", there)
                return DeliveryResult(channel.name, rev.path, "skipped", there)
            status, detail = channel.send(rev)
            ledger.record(rev, channel.name, target, "delivered", detail)
            return DeliveryResult(channel.name, rev.path, status, detail)
    except Exception as exc:
        detail = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(Exception):
            ledger.record(rev, channel.name, target, "failed", detail)
        return DeliveryResult(channel.name, rev.path, "failed", detail)


def deliver(
    revision_dir: Path | str,
    channels: list[str] | None = None,
    *,
    sftp_conn_id: str | None = None,
    smtp_conn_id: str | None = None,
) -> list[DeliveryResult]:
    """Deliver a published revision over `channels` (default: env LENSAN_DELIVERY_CHANNELS, else
    ["outbox"]). Returns one result per channel (delivered or skipped); raises DeliveryError
    (with `.results`) if the revision does not verify or any channel failed, after trying all."""
    names = list(dict.fromkeys(channels if channels is not None else settings.load().delivery_channels))
    if not names:
        raise ValueError("no delivery channel given")
    handlers = [make_channel(n, sftp_conn_id, smtp_conn_id) for n in names]
    try:
        rev = load_revision(revision_dir)
    except DeliveryError as exc:
        path = Path(revision_dir)
        results = [DeliveryResult(n, path, "failed", str(exc)) for n in names]
        _record_unloadable(path, names, str(exc))
        raise type(exc)(f"delivery of {path} refused: {exc}", results) from exc
    results = [_deliver_one(rev, h) for h in handlers]
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise DeliveryError(
            f"delivery of {rev.key} failed on {', '.join(r.channel for r in failed)}: "
            + " | ".join(f"{r.channel}: {r.detail}" for r in failed),
            results,
        )
    return results


def _record_unloadable(path: Path, channels: list[str], detail: str) -> None:
    """Record a refused delivery (the revision did not verify) in the ledger, one line per channel."""
    with contextlib.suppress(Exception):
        p = path.resolve()
        ledger.append([
            ledger.entry(channel=channel, revision="/".join(p.parts[-4:]), revision_dir=str(p),
                         manifest_sha256=None, target=None, status="failed", detail=detail)
            for channel in channels
        ])


def result_dicts(results: list[DeliveryResult]) -> list[dict[str, str]]:
    """JSON-friendly results (for XCom)."""
    return [{**asdict(r), "revision_dir": str(r.revision_dir)} for r in results]


def deliver_published(summary: dict) -> list[dict[str, str]]:
    """Deliver the current revision of every scope of a publish summary (`published`: new revisions,
    `unchanged`: the latest one, equal to what would be published now).

    The ledger skips revisions already delivered, so an unchanged revision goes out only if it never
    did — e.g. a publish task that wrote a revision and then crashed, whose retry finds it unchanged.
    Every revision is tried; then, if any channel failed, raise so the Airflow task retries (channels
    already delivered are skipped on the retry). Returns JSON-friendly results.
    """
    results: list[dict[str, str]] = []
    errors = []
    for pub in (summary.get("published") or []) + (summary.get("unchanged") or []):
        try:
            results += result_dicts(deliver(pub["path"]))
        except DeliveryError as exc:
            results += result_dicts(exc.results)
            errors.append(str(exc))
    for r in results:
        log.info("Gửi / delivery %s %s: %s", r["channel"], r["status"], r["revision_dir"])
    if errors:
        raise DeliveryError("Gửi báo cáo thất bại / delivery failed:\n" + "\n".join(errors))
    return results

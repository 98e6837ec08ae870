"""What a delivery channel is (`Channel`), and the Airflow connection lookup of the channels that use one.

Connections are read with Airflow's normal lookup (secrets backends, then `AIRFLOW_CONN_<ID>` environment
variables in URI or JSON form), so no metadata database is needed.
"""

from __future__ import annotations

from typing import Any

from lensan.delivery.manifest import Revision
from lensan.delivery.results import DeliveryError


class Channel:
    """One way of handing a verified revision over. `target` names where it goes without side effects;
    `already_there` recognises a copy already at the target (when the ledger was lost); `send` delivers."""

    name = ""

    def target(self, rev: Revision) -> str:
        raise NotImplementedError

    def already_there(self, rev: Revision) -> str | None:
        """Detail if the revision is verifiably at the target already (ledger lost), else None."""
        return None

    def send(self, rev: Revision) -> tuple[str, str]:
        """Deliver; returns (status, detail) with status "delivered" or "skipped" (already there)."""
        raise NotImplementedError


def _get_connection(conn_id: str, env_hint: str) -> Any:
    """The Airflow connection `conn_id`, or a DeliveryError saying how to define it."""
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException and friends
        raise DeliveryError(
            f"Airflow connection {conn_id!r} is not available ({exc}); define it (e.g. env "
            f"AIRFLOW_CONN_{conn_id.upper()}) or set {env_hint}"
        ) from exc


class ConnectionChannel(Channel):
    """A channel that talks to a server through an Airflow connection, looked up on first use."""

    conn_env = ""  # the LENSAN_* variable that names the connection (for the error message)

    def __init__(self, conn_id: str):
        self.conn_id = conn_id
        self._conn = None

    @property
    def conn(self) -> Any:
        if self._conn is None:
            self._conn = _get_connection(self.conn_id, self.conn_env)
        return self._conn

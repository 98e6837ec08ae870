"""The portal's warehouse access: connections kept open and reused (a new one costs ~30 ms, and a page
needs two or three), the ops schema made once per process."""

from __future__ import annotations

import contextlib
import queue
import threading

import psycopg2

from lensan.db import ddl, warehouse

IDLE_MAX = 16
_idle: queue.LifoQueue = queue.LifoQueue()
_ready = threading.Event()
_lock = threading.Lock()


def _connection():
    try:
        return _idle.get_nowait()
    except queue.Empty:
        conn = warehouse.connect()
        if not _ready.is_set():
            with _lock:
                if not _ready.is_set():
                    ddl.ensure(conn, "ops")
                    _ready.set()
        return conn


@contextlib.contextmanager
def cursor():
    """A cursor on a pooled warehouse connection; commits when the block succeeds, rolls back otherwise.
    A connection that failed (server restarted) is dropped, never reused."""
    conn = _connection()
    healthy = False
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
        healthy = True
    except psycopg2.Error:
        if not conn.closed:
            try:
                conn.rollback()
                healthy = True
            except psycopg2.Error:
                pass
        raise
    finally:
        if healthy and not conn.closed and _idle.qsize() < IDLE_MAX:
            _idle.put(conn)
        else:
            conn.close()


def reset() -> None:
    """Close the idle connections and forget that the ops schema exists (a new warehouse)."""
    _ready.clear()
    while True:
        try:
            _idle.get_nowait().close()
        except queue.Empty:
            return

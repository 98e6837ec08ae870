"""Serving the portal with uvicorn: `serve` in the foreground (`lensan portal serve`), `running` in a
background thread on a free port of 127.0.0.1 (browser tests, the demo, the rush benchmark)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


def serve(host: str, port: int, proxy_headers: bool = False, forwarded_allow_ips: str | None = None,
          workers: int = 1) -> None:
    import uvicorn

    uvicorn.run("lensan.portal.app:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips, server_header=False,
                log_level="info")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(host: str = "127.0.0.1", port: int | None = None, log_level: str = "warning"):
    """The portal on a real uvicorn in a daemon thread, over plain http on the loopback (so its cookies
    go without the Secure flag); yields its base URL, stops it on exit."""
    import uvicorn

    from lensan.portal.app import create_app

    port = port or free_port(host)
    config = uvicorn.Config(create_app(secure_cookies=False), host=host, port=port, log_level=log_level, server_header=False,
                            timeout_keep_alive=30, backlog=1024)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="lensan-portal", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

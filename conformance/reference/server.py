"""Running the reference app on uvicorn: in a background thread, or in the foreground.

uvicorn (with uvloop and httptools when installed) is an established ASGI server with
HTTP/1.1 keep-alive done right (measurements.md: 5-12k req/s against 1.3k for a
stdlib server, whose HTTP/1.1 without TCP_NODELAY is 50x slower).  We bind the socket
ourselves so port 0 works: the OS picks a free port and we know it before the first
request, which lets every pytest-xdist worker start its own reference.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

from conformance.profile import Profile, Secrets
from conformance.reference.app import ReferenceApp


def _config(app: ReferenceApp, certfile: str | None, keyfile: str | None) -> object:
    import uvicorn

    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # an access log would print query strings, which may hold keys
        lifespan="on",
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        timeout_keep_alive=30,
    )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class ReferenceServer:
    """The reference on a real socket, in a daemon thread; a context manager."""

    def __init__(
        self,
        profile: Profile,
        secrets: Secrets,
        host: str = "127.0.0.1",
        port: int = 0,
        certfile: str | None = None,
        keyfile: str | None = None,
    ) -> None:
        import uvicorn

        self.app = ReferenceApp(profile, secrets)
        self._sock = bind(host, port)
        bound_host, bound_port = self._sock.getsockname()[:2]
        scheme = "https" if certfile else "http"
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.base_url = f"{scheme}://{shown}:{bound_port}"
        self.profile = profile.rebased(self.base_url)
        self.secrets = secrets
        self._server = uvicorn.Server(_config(self.app, certfile, keyfile))  # type: ignore[arg-type]
        self._thread = threading.Thread(target=self._run, name="reference-server", daemon=True)

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self) -> ReferenceServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the reference server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        self.app.db.close()

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_forever(
    profile: Profile,
    secrets: Secrets,
    host: str,
    port: int,
    certfile: str | None = None,
    keyfile: str | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C; uvicorn handles the signal and drains."""
    import uvicorn

    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    app = ReferenceApp(profile, secrets)
    sock = bind(host, port)
    try:
        uvicorn.Server(_config(app, certfile, keyfile)).run(sockets=[sock])  # type: ignore[arg-type]
    finally:
        sock.close()
        app.db.close()

"""The overall deadline of one request, enforced by cutting its socket.

Socket timeouts bound each read, not the sum of them: a target that sends a byte just
before every read timeout would hold a check for as long as it likes.  A
:class:`Deadline` is a timer per request; when it fires it shuts down the sockets of
that request, which wakes a read blocked in the sending thread, and shortens every
later read on them.  requests never shows the socket before the answer's headers are
in, so the connections register themselves with the deadline of the thread that uses
them (:class:`DeadlineAdapter` mounts connection classes that do).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()
#: Seconds a read may wait once the deadline has passed (Linux keeps delivering data
#: that arrives after a shutdown, so shutting down alone does not end a trickle).
AFTER_DEADLINE = 0.01


class Deadline:
    """A context manager around one request; ``fired`` says whether it ran out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)
            fired = self.fired
        if fired:
            _cut(connection)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            connections = list(self._connections)
        for connection in connections:
            _cut(connection)

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.deadline = None


def _cut(connection: HTTPConnection) -> None:
    sock = connection.sock
    if sock is None:
        return  # still connecting: the connect timeout bounds that
    # shutdown wakes a recv blocked in the sending thread; the short timeout ends the
    # reads after it at the target's next pause (http.client caps a header's size, and
    # the transport's read loop looks at ``fired`` between reads of a body).  A socket
    # already closed has nothing blocked on it.
    with contextlib.suppress(OSError):
        sock.settimeout(AFTER_DEADLINE)
        sock.shutdown(socket.SHUT_RDWR)


def _register(connection: HTTPConnection) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(connection)


class _WatchedConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _register(self)  # per request, so a reused keep-alive connection is watched too
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _register(self)
        super().request(*args, **kwargs)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections that register with the current Deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # PoolManager documents pool_classes_by_scheme as its customisation point.
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHTTPSPool}

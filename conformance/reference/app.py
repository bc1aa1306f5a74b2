"""The ASGI shell around the reference services.

A plain ASGI callable rather than a framework: routing is three fixed paths, the
services already speak bytes in / :class:`Reply` out, and the body must be read with
a hard cap (a framework's form parser would buffer whatever it is sent).  What
remains here is routing, the size cap and copying the Reply out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from conformance.profile import Profile, Secrets
from conformance.reference.database import Database
from conformance.reference.reply import Reply

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Bodies larger than this are not read further: the service answers its documented
#: size error instead.  1 MiB is far above any legitimate call (a 1500-character body
#: is at most 6 KB even as percent-encoded 4-byte characters times 3).
MAX_BODY = 1_048_576

HELLO = Reply(200, b"hello", "text/plain")


class ReferenceApp:
    """Routes ``<site>/CRConsAPI``, ``<site>/SRConsAPI``, the SOAP service and ``/hello``."""

    def __init__(self, profile: Profile, secrets: Secrets, db_path: str = ":memory:") -> None:
        self.db = Database(db_path)
        self.routes: dict[str, tuple[str, str]] = {"/hello": ("hello", "")}
        self.luminate: Any = None
        self.kognitiv: Any = None
        if profile.luminate is not None:
            from conformance.reference.luminate import LuminateService

            self.luminate = LuminateService(profile, secrets, self.db)
            site_path = urlsplit(profile.luminate.site).path.rstrip("/")
            for servlet in ("CRConsAPI", "SRConsAPI"):
                self.routes[f"{site_path}/{servlet}"] = ("luminate", servlet)
        if profile.kognitiv is not None:
            from conformance.reference.kognitiv import KognitivService

            self.kognitiv = KognitivService(profile, secrets, self.db)
            self.routes[urlsplit(profile.kognitiv.service).path] = ("kognitiv", "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        route = self.routes.get(scope["path"])
        if route is None:
            await _send(send, Reply(404, b"not found", "text/plain"))
            return
        body, oversize = await _read_body(receive)
        kind, servlet = route
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        # The services are synchronous and quick (an SQLite call or two): running them
        # on the event loop avoids a thread hop per request, and the Database lock
        # keeps them correct should a threaded server ever call them.
        if kind == "luminate":
            reply = self.luminate.handle(
                servlet, scope["method"], headers.get("content-type"), body, query, oversize
            )
        elif kind == "kognitiv":
            reply = self.kognitiv.handle(
                scope["method"], query, headers, body, _own_url(scope, headers), oversize
            )
        else:
            reply = HELLO
        await _send(send, reply)


def _own_url(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host") or "{}:{}".format(*scope.get("server") or ("127.0.0.1", 80))
    return f"{scope.get('scheme', 'http')}://{host}{scope['path']}"


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    oversize = False
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if not oversize:
            size += len(chunk)
            if size > MAX_BODY:
                # Keep draining (so the client sees an answer, not a reset) but
                # drop what we have: nothing of an oversize body is ever parsed.
                oversize = True
                chunks.clear()
            else:
                chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), oversize


async def _send(send: Send, reply: Reply) -> None:
    headers = [(b"content-length", str(len(reply.body)).encode())]
    if reply.content_type:
        headers.append((b"content-type", reply.content_type.encode("latin-1")))
    headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers)
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return

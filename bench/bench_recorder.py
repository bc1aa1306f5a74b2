"""A pytest plugin for bench/suite.py: records what the embedded reference receives.

Loaded with ``-p bench_recorder`` (bench/ on PYTHONPATH) into a suite run.  It wraps
the reference's ASGI entry point, so requests are captured as the server got them,
before any redaction: method, path, query, headers and body, the status answered,
and the moment of arrival.  Answers are kept only when they carry a session token,
which the replay needs to map old tokens to new ones.  Everything is written once, when
pytest ends, to the file named by ``BENCH_RECORD``; nothing is written per request, so
the recording costs the run a list append.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from typing import Any

import pytest

from conformance.reference import app as reference_app

_records: list[dict[str, Any]] = []
_lock = threading.Lock()


def _wrap() -> None:
    original = reference_app.ReferenceApp.__call__

    async def recording(
        self: reference_app.ReferenceApp,
        scope: reference_app.Scope,
        receive: reference_app.Receive,
        send: reference_app.Send,
    ) -> None:
        if scope["type"] != "http":
            await original(self, scope, receive, send)
            return
        arrived = time.time()
        body: list[bytes] = []
        answer: list[bytes] = []
        status: list[int] = []

        async def tap_receive() -> reference_app.Message:
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
            return message

        async def tap_send(message: reference_app.Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            elif message["type"] == "http.response.body":
                answer.append(message.get("body", b""))
            await send(message)

        await original(self, scope, tap_receive, tap_send)
        reply = b"".join(answer)
        record = {
            "t": arrived,
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body": base64.b64encode(b"".join(body)).decode("ascii"),
            "status": status[0] if status else None,
            # Only login answers matter to the replay (their token); keep nothing else.
            "answer": reply.decode("utf-8", "replace") if b"token" in reply else None,
        }
        with _lock:
            _records.append(record)

    reference_app.ReferenceApp.__call__ = recording  # type: ignore[method-assign]


if os.environ.get("BENCH_RECORD"):
    _wrap()


def pytest_unconfigure(config: pytest.Config) -> None:
    path = os.environ.get("BENCH_RECORD")
    if not path:
        return
    with _lock, open(path, "w", encoding="utf-8") as handle:
        for record in _records:
            handle.write(json.dumps(record) + "\n")

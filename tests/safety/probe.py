"""A pytest plugin for the suite's own tests: what the embedded reference saw and holds.

Loaded into a suite run in a subprocess (``-p tests.safety.probe``, see run.py).  It
wraps the reference's ASGI app, so it counts what reached the server over HTTP (not
what the suite meant to send), by API method: the form's ``method`` parameter,
``RecordInteraction`` for a SOAP envelope, ``WSDL`` for the description.  At the end
of the session, while the server still runs, it lists the records created since the
seed.  Each process (each xdist worker has its own reference) writes
``$CONFORMANCE_PROBE_DIR/probe-<pid>.json``.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

_apps: list[Any] = []
_baselines: list[dict[str, int]] = []
_received: dict[str, int] = {}
_lock = threading.Lock()
_BODY_SEEN = 65_536  # enough to find the method of any ordinary request


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("CONFORMANCE_PROBE_DIR"):
        return
    from conformance.reference.app import ReferenceApp

    original_init = ReferenceApp.__init__
    original_call = ReferenceApp.__call__

    def init(self: ReferenceApp, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        _apps.append(self)
        _baselines.append(_highest_ids(self))

    async def call(self: ReferenceApp, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await original_call(self, scope, receive, send)
            return
        seen = bytearray()

        async def tee() -> Any:
            message = await receive()
            if message["type"] == "http.request" and len(seen) < _BODY_SEEN:
                seen.extend(message.get("body", b"")[: _BODY_SEEN - len(seen)])
            return message

        try:
            await original_call(self, scope, tee, send)
        finally:
            name = _api_method(scope, bytes(seen))
            with _lock:
                _received[name] = _received.get(name, 0) + 1

    ReferenceApp.__init__ = init  # type: ignore[method-assign]
    ReferenceApp.__call__ = call  # type: ignore[method-assign]


def _api_method(scope: Any, body: bytes) -> str:
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    for source in (body.decode("latin-1"), query):
        for key, value in parse_qsl(source, keep_blank_values=True):
            if key == "method":
                return value
    if b"RecordInteraction" in body:
        return "RecordInteraction"
    if "wsdl" in query.lower():
        return "WSDL"
    return f"({scope['method']} {scope['path']})"


def _rows(app: Any, sql: str, *args: int) -> list[dict[str, Any]]:
    with app.db.transaction() as conn:
        return [dict(row) for row in conn.execute(sql, args).fetchall()]


def _highest_ids(app: Any) -> dict[str, int]:
    lo = _rows(app, "SELECT COALESCE(MAX(interaction_id), 0) AS n FROM lo_interaction")
    kg = _rows(app, "SELECT COALESCE(MAX(interaction_id), 0) AS n FROM kognitiv_interaction")
    return {"interaction": lo[0]["n"], "kognitiv": kg[0]["n"]}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    directory = os.environ.get("CONFORMANCE_PROBE_DIR")
    if not directory or not _apps:
        return  # the xdist controller starts no reference: its workers report
    from conformance.reference.store import FIRST_NEW_CONS_ID

    records: dict[str, list[dict[str, Any]]] = {"constituent": [], "interaction": [], "kognitiv": []}
    for app, base in zip(_apps, _baselines, strict=True):
        records["constituent"] += _rows(
            app,
            "SELECT cons_id, primary_email, member_id, source, sub_source FROM lo_constituent "
            "WHERE cons_id >= ?",
            FIRST_NEW_CONS_ID,
        )
        records["interaction"] += _rows(
            app,
            "SELECT interaction_id, cons_id, subject FROM lo_interaction WHERE interaction_id > ?",
            base["interaction"],
        )
        records["kognitiv"] += _rows(
            app,
            "SELECT interaction_id, note FROM kognitiv_interaction WHERE interaction_id > ?",
            base["kognitiv"],
        )
    out = Path(directory) / f"probe-{os.getpid()}.json"
    out.write_text(json.dumps({"received": _received, "created": records}), encoding="utf-8")

"""A hostile fake target: a raw-socket HTTP server on 127.0.0.1 that misbehaves on request.

Raw sockets, not a framework, because the misbehaviour is the point: a declared length
that lies, a body that never ends, a pause mid-answer, headers without end.  Each
request names its scenario: the form parameter ``scenario`` on the Luminate servlets,
the ``InteractionNote`` of a SOAP envelope; a WSDL request always gets the redirect
loop.  Requests to ``/leak`` (where the external entities point) are only counted:
the suite must never make one.  Each connection is served by a daemon thread and
closed after one answer, so a stalled scenario holds nothing but its own thread.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import cache
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

NS = "http://convio.com/crm/v1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
LOCATION = "http://convio.com/crm/v1.0 http://service.convio.net/xmlschema/crm.public.v1.xsd"
KG_NS = "https://app.smartbutton.com/Services/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
#: Longer than any read timeout a hostile test uses, shorter than its run timeout.
STALL_SECONDS = 6.0
#: How long a trickle or an endless body goes on if nobody hangs up.
ENDLESS_SECONDS = 30.0
XML = "text/xml;charset=UTF-8"

Writer = Callable[[socket.socket, "Request"], None]


class Request:
    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        self.number = 0  # the server numbers requests: a SOAP success's InteractionId
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.path = urlsplit(target).path
        self.query = urlsplit(target).query

    def params(self) -> dict[str, str]:
        pairs = parse_qsl(self.query, keep_blank_values=True)
        pairs += parse_qsl(self.body.decode("latin-1"), keep_blank_values=True)
        return dict(pairs)

    @property
    def scenario(self) -> str:
        if self.path.startswith("/leak"):
            return "leak"
        if "wsdl" in self.query.lower():
            return "wsdl-loop"
        note = re.search(rb"<InteractionNote>([^<]*)</InteractionNote>", self.body)
        if note:
            return "soap-" + note.group(1).decode("latin-1")
        return self.params().get("scenario", "ok")

    @property
    def json(self) -> bool:
        return self.params().get("response_format") == "json"


class HostileServer:
    """The fake target in a thread; ``hits`` counts requests by scenario."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="hostile-server", daemon=True)
        _bomb()  # made now, not while a client's read timeout runs

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing.set()
        # shutdown, not just close: closing does not wake a thread blocked in accept().
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(timeout=5)

    def count(self, scenario: str) -> int:
        with self._lock:
            return self.hits[scenario]

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # the listening socket was closed: shutting down
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(ENDLESS_SECONDS)
            request = _read_request(conn)
            if request is None:
                return
            with self._lock:
                first = self.hits[request.scenario] == 0
                self.hits[request.scenario] += 1
                request.number = self.hits.total()
            writer = SCENARIOS.get(request.scenario, _ok)
            if request.scenario.endswith("500-once") and not first:
                writer = _ok
            writer(conn, request)
            conn.shutdown(socket.SHUT_WR)


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > 1_000_000:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < min(length, 2_000_000):
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, target, headers, body)


# -- answers -------------------------------------------------------------------------


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _send(conn: socket.socket, status: str, body: bytes, content_type: str, **extra: str) -> None:
    headers = {"Content-Type": content_type, "Content-Length": str(len(body)), **extra}
    conn.sendall(_head(status, headers) + body)


def error_xml(inner: str = "<code>2</code><message>Incorrect api_key.</message>", doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        f'<errorResponse xmlns="{NS}" xmlns:xsi="{XSI}" xsi:schemaLocation="{LOCATION}">'
        f"{inner}</errorResponse>"
    ).encode()


ERROR_JSON = b'{"errorResponse":{"code":"2","message":"Incorrect api_key."}}'


def soap_result(code: str, interaction: int, doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}'
        f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body>'
        f'<RecordInteractionResponse xmlns="{KG_NS}"><RecordInteractionResult>'
        f"<ReturnCode>{code}</ReturnCode><InteractionId>{interaction}</InteractionId>"
        "</RecordInteractionResult></RecordInteractionResponse></soap:Body></soap:Envelope>"
    ).encode()


def _laughs() -> str:
    entities = "".join(
        f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "lol") * 10}">' for i in range(1, 10)
    )
    return f"<!DOCTYPE errorResponse [{entities}]>"


def _ok(conn: socket.socket, request: Request) -> None:
    if request.scenario.startswith("soap-"):
        _send(conn, "200 OK", soap_result("0", request.number), "text/xml; charset=utf-8")
    elif request.json:
        _send(conn, "403 Forbidden", ERROR_JSON, "application/json;charset=UTF-8")
    else:
        _send(conn, "403 Forbidden", error_xml(), XML)


def _document(request: Request, doctype: str, entity: str = "") -> bytes:
    """An otherwise valid answer with ``doctype`` and ``entity`` (a reference) in it."""
    if request.scenario.startswith("soap-"):
        return soap_result(f"{entity}0", request.number, doctype)
    return error_xml(f"<code>2</code><message>{entity or 'x'}</message>", doctype)


def _billion_laughs(conn: socket.socket, request: Request) -> None:
    _send(conn, "200 OK", _document(request, _laughs(), "&lol9;"), XML)


def _external_file(conn: socket.socket, request: Request) -> None:
    doctype = '<!DOCTYPE errorResponse [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    _send(conn, "200 OK", _document(request, doctype, "&x;"), XML)


def _external_http(conn: socket.socket, request: Request) -> None:
    port = conn.getsockname()[1]
    doctype = f'<!DOCTYPE errorResponse [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/leak">]>'
    _send(conn, "200 OK", _document(request, doctype, "&x;"), XML)


def _external_dtd(conn: socket.socket, request: Request) -> None:
    port = conn.getsockname()[1]
    doctype = f'<!DOCTYPE errorResponse SYSTEM "http://127.0.0.1:{port}/leak.dtd">'
    _send(conn, "200 OK", _document(request, doctype), XML)


def _declared_huge(conn: socket.socket, request: Request) -> None:
    conn.sendall(_head("200 OK", {"Content-Type": XML, "Content-Length": "50000000"}))
    _endless(conn, b"<x>" + b"a" * 65533)


def _chunked_huge(conn: socket.socket, request: Request) -> None:
    conn.sendall(_head("200 OK", {"Content-Type": XML, "Transfer-Encoding": "chunked"}))
    piece = b"a" * 65536
    _endless(conn, f"{len(piece):x}\r\n".encode() + piece + b"\r\n")


def _unframed_huge(conn: socket.socket, request: Request) -> None:
    conn.sendall(_head("200 OK", {"Content-Type": XML}))  # no length: the body ends at close
    _endless(conn, b"a" * 65536)


def _endless(conn: socket.socket, piece: bytes) -> None:
    """Send ``piece`` again and again until the client hangs up (or a long time passes)."""
    stop = time.monotonic() + ENDLESS_SECONDS
    while time.monotonic() < stop:
        conn.sendall(piece)


@cache
def _bomb() -> bytes:
    return gzip.compress(b"\0" * 20_000_000, compresslevel=9)  # about 20 KB on the wire


def _gzip_bomb(conn: socket.socket, request: Request) -> None:
    _send(conn, "200 OK", _bomb(), XML, **{"Content-Encoding": "gzip"})


def _stall(conn: socket.socket, request: Request) -> None:
    body = _document(request, "")
    conn.sendall(_head("200 OK", {"Content-Type": XML, "Content-Length": str(len(body))}))
    conn.sendall(body[: len(body) // 2])
    time.sleep(STALL_SECONDS)


def _silent(conn: socket.socket, request: Request) -> None:
    time.sleep(STALL_SECONDS)


def _hang_up(conn: socket.socket, request: Request) -> None:
    """The request was read (and might have been acted on), but no answer comes."""


def _trickle(conn: socket.socket, request: Request) -> None:
    """A byte every tenth of a second: no read waits long, the answer never finishes."""
    conn.sendall(_head("200 OK", {"Content-Type": XML, "Content-Length": "100000"}))
    _drip(conn)


def _trickle_headers(conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    _drip(conn)


def _drip(conn: socket.socket) -> None:
    # A tenth of the read timeout the tests use (1 s): a loaded machine that stretches
    # the pause tenfold still never lets a read time out, so only the deadline can end it.
    stop = time.monotonic() + ENDLESS_SECONDS
    while time.monotonic() < stop:
        conn.sendall(b"a")
        time.sleep(0.1)


def _huge_header(conn: socket.socket, request: Request) -> None:
    conn.sendall(_head("200 OK", {"Content-Type": XML, "X-Huge": "a" * 200_000, "Content-Length": "0"}))


def _many_headers(conn: socket.socket, request: Request) -> None:
    headers = {f"X-H{i}": "a" for i in range(500)}
    conn.sendall(_head("200 OK", {"Content-Type": XML, **headers, "Content-Length": "0"}))


def _redirect_loop(conn: socket.socket, request: Request) -> None:
    host = request.headers.get("host", "127.0.0.1")
    _send(conn, "302 Found", b"", "text/plain", Location=f"http://{host}{request.target}")


def _redirect_loop_relative(conn: socket.socket, request: Request) -> None:
    _send(conn, "302 Found", b"", "text/plain", Location=request.target)


def _deep_json(conn: socket.socket, request: Request) -> None:
    body = b'{"errorResponse":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    _send(conn, "403 Forbidden", body, "application/json;charset=UTF-8")


def _nested_json(conn: socket.socket, request: Request) -> None:
    body = b'{"errorResponse":{"code":' + b"[" * 200 + b'"2"' + b"]" * 200 + b"}}"
    _send(conn, "403 Forbidden", body, "application/json;charset=UTF-8")


def _server_error(conn: socket.socket, request: Request) -> None:
    _send(conn, "500 Internal Server Error", b"boom", "text/plain")


def _not_well_formed(conn: socket.socket, request: Request) -> None:
    _send(conn, "403 Forbidden", _document(request, "")[:-20], XML)


def _bad_utf8(conn: socket.socket, request: Request) -> None:
    body = error_xml("<code>2</code><message>caf</message>").replace(b"caf<", b"caf\xe9<")  # Latin-1 é
    _send(conn, "403 Forbidden", body, XML)


def _wrong_type(conn: socket.socket, request: Request) -> None:
    _send(conn, "403 Forbidden", error_xml(), "text/html;charset=UTF-8")


def _json_as_xml(conn: socket.socket, request: Request) -> None:
    _send(conn, "403 Forbidden", ERROR_JSON, XML)


def _leak(conn: socket.socket, request: Request) -> None:
    _send(conn, "200 OK", b"<!ENTITY leaked 'yes'>", "text/plain")


SCENARIOS: dict[str, Writer] = {
    "billion-laughs": _billion_laughs,
    "external-file": _external_file,
    "external-http": _external_http,
    "external-dtd": _external_dtd,
    "declared-huge": _declared_huge,
    "chunked-huge": _chunked_huge,
    "unframed-huge": _unframed_huge,
    "gzip-bomb": _gzip_bomb,
    "stall": _stall,
    "silent": _silent,
    "hang-up": _hang_up,
    "trickle": _trickle,
    "trickle-headers": _trickle_headers,
    "huge-header": _huge_header,
    "many-headers": _many_headers,
    "redirect-loop": _redirect_loop,
    "redirect-loop-relative": _redirect_loop_relative,
    "deep-json": _deep_json,
    "nested-json": _nested_json,
    "500": _server_error,
    "500-once": _server_error,
    "not-well-formed": _not_well_formed,
    "bad-utf8": _bad_utf8,
    "wrong-type": _wrong_type,
    "json-as-xml": _json_as_xml,
    "leak": _leak,
    "wsdl-loop": _redirect_loop,
}
# The SOAP path serves the same misbehaviour, chosen by the envelope's InteractionNote.
SCENARIOS.update({f"soap-{name}": writer for name, writer in list(SCENARIOS.items())})

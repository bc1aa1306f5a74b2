"""HTTP for the suite: one keep-alive session, hard limits, honest failures.

Every request has a connect and a read timeout, an overall deadline (connect + read,
see :mod:`conformance.deadline`: a target trickling a byte at a time cannot hold a
check forever) and a body cap (counted after decompression, so a gzip bomb is cut off
too).  Under ``writes: forbidden``, or on a host the profile does not list, a request
that would write is refused before it is sent, whoever built it.  Redirects are never
followed: a 302 is itself an answer under L-T12, and a 302 that points back at the
URL it answers, to a request that asked for no redirect, is a redirect loop.

Anything that stops us from getting a complete answer is a :class:`TransportErrored`
(a :class:`CheckErrored`) with a reason: the target did not *break* a clause, we just
could not see what it does.  Connection failures (nothing was sent) are retried;
answers, and connections that broke after the request went out, never are, so a
write is never sent twice.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests
import urllib3
from urllib3.util.retry import Retry

from conformance.deadline import Deadline, DeadlineAdapter
from conformance.outcome import CheckErrored, CheckSkipped, Exchange
from conformance.redaction import Redactor

_PREVIEW = 20_000  # characters of a body kept in an exchange (for the report)
_CHUNK = 65_536
#: Parameters that ask a Luminate servlet for a 302 (L-T12): with one of them a 302
#: back to the same URL is the answer the case asked for, not a loop.
REDIRECT_PARAMS = frozenset({"redirect", "success_redirect", "error_redirect"})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
#: Luminate methods that create or change data, lower-cased (a lax target may take
#: ``loginteraction`` too), and the one Kognitiv operation, which always writes.
_WRITE_METHODS = frozenset({"createorupdate", "loginteraction"})
_SOAP_WRITE = b"recordinteraction"
#: Extra attempts when a connection cannot be made (nothing was sent, so it is safe).
CONNECT_RETRIES = 2
_ATTEMPTS = f"{CONNECT_RETRIES + 1} attempts"


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    exchange: Exchange = field(repr=False)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class TransportErrored(CheckErrored):
    """No complete answer; ``exchange`` holds what was sent and what arrived, if anything."""

    def __init__(self, reason: str, exchange: Exchange) -> None:
        super().__init__(reason)
        self.exchange = exchange


class RequestBudget:
    """The profile's request cap and rate limit, shared by all checks of a process.

    ``take`` reserves the next send slot under a lock and sleeps outside it, so
    threads are spaced ``1 / rate`` apart in the order they asked.  The clock and the
    sleep are injectable so the spacing can be tested without waiting for it.
    """

    def __init__(
        self,
        budget: int | None,
        rate_per_second: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.budget = budget
        self.interval = 1.0 / rate_per_second if rate_per_second else 0.0
        self.sent = 0
        self.by_method: dict[str, int] = {}
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def take(self, what: str) -> float:
        """Count one request; wait for its slot; return the slot (clock time)."""
        with self._lock:
            if self.budget is not None and self.sent >= self.budget:
                raise CheckErrored(
                    f"request budget of {self.budget} requests is spent (profile request_budget); "
                    "the request was not sent"
                )
            self.sent += 1
            self.by_method[what] = self.by_method.get(what, 0) + 1
            now = self._clock()
            slot = max(self._next, now)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
        return slot


# -- the client ---------------------------------------------------------------------


class HttpClient:
    def __init__(
        self,
        redactor: Redactor,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_body: int = 1_048_576,
        budget: RequestBudget | None = None,
        refuse_writes: str | None = None,
    ) -> None:
        self.redactor = redactor
        #: Why writes must not leave this process (``writes: forbidden``, a host not
        #: listed), or None.  Plans skip write cases before sending anything; this is
        #: the last line: whatever builds a request (a case, a property, a bug in
        #: either), a write is refused here, as a check skipped by policy.
        self.refuse_writes = refuse_writes
        self.timeout = (connect_timeout, read_timeout)
        self.deadline = connect_timeout + read_timeout
        self.max_body = max_body
        self.budget = budget or RequestBudget(None, None)
        self.session = requests.Session()
        # Only failures to connect are retried: the request never left.
        # A read error means it may have been processed, and a write must not be
        # sent twice; an answer (any status) is what the check is about.
        retry = Retry(
            total=CONNECT_RETRIES,
            connect=CONNECT_RETRIES,
            read=False,  # re-raise the read error itself: never a second attempt
            status=0,
            other=0,
            redirect=0,
            allowed_methods=None,
            raise_on_status=False,
            backoff_factor=0.1,
        )
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, DeadlineAdapter(max_retries=retry, pool_maxsize=4))
        # Never take proxies or credentials from the environment: the target is
        # exactly what the profile names.
        self.session.trust_env = False
        # Compression is read (bounded) if a target insists, but never invited.
        self.session.headers["Accept-Encoding"] = "identity"

    def send(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        what: str = "",
    ) -> HttpAnswer:
        headers = dict(headers or {})
        if self.refuse_writes is not None:
            write = write_named(url, body, headers)
            if write is not None:
                raise CheckSkipped(f"{self.refuse_writes}; {write} not sent", policy=True)
        exchange = Exchange(
            method=method,
            url=url,
            request_headers=headers,
            request_body=body[:_PREVIEW].decode("utf-8", "replace"),
        )
        self.budget.take(what or method)
        started = time.monotonic()
        host = urlsplit(url).netloc
        with Deadline(self.deadline) as deadline:
            try:
                response = self.session.request(
                    method,
                    url,
                    data=body or None,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.exceptions.RequestException as exc:
                raise TransportErrored(self._no_answer(exc, host, deadline), exchange) from None
            try:
                exchange.status = response.status_code
                exchange.response_headers = {k.lower(): v for k, v in response.headers.items()}
                _refuse_loop(response, url, body, host, exchange)
                data = self._read(response, host, deadline, exchange)
            finally:
                response.close()
        exchange.response_body = data[:_PREVIEW].decode("utf-8", "replace")
        exchange.elapsed_ms = (time.monotonic() - started) * 1000
        return HttpAnswer(response.status_code, exchange.response_headers, data, exchange)

    def _no_answer(self, exc: requests.exceptions.RequestException, host: str, timer: Deadline) -> str:
        """Why no answer's headers arrived, in the words of the fix."""
        if timer.fired:
            return f"{host} did not send its answer's headers within the {self.deadline:g} s deadline"
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return f"connecting to {host} timed out after {self.timeout[0]:g} s ({_ATTEMPTS})"
        reason = exc.args[0] if exc.args else exc
        cause = getattr(reason, "reason", reason)  # MaxRetryError wraps the last error
        if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(
            cause, urllib3.exceptions.ReadTimeoutError
        ):
            return f"{host} sent no answer within {self.timeout[1]:g} s (read timeout)"
        if isinstance(cause, urllib3.exceptions.NewConnectionError):
            return f"cannot connect to {host}: {_short(cause)} ({_ATTEMPTS})"
        if isinstance(cause, urllib3.exceptions.SSLError):
            return f"TLS with {host} failed: {_short(cause)}"
        if isinstance(cause, urllib3.exceptions.ProtocolError):
            return f"{host} broke off the connection before a complete answer's headers: {_short(cause)}"
        return f"request to {host} failed: {_short(exc)}"

    def _read(self, response: requests.Response, host: str, timer: Deadline, exchange: Exchange) -> bytes:
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self.max_body:
            raise TransportErrored(
                f"{host} announced a {int(declared):,}-byte answer (Content-Length), over the cap of "
                f"{self.max_body:,} bytes (profile max_body_bytes); not read",
                exchange,
            )
        decoder = _Decoder(response.headers.get("content-encoding", ""), self.max_body, host, exchange)
        body = bytearray()
        raw = 0
        problem: BaseException | None = None
        try:
            # read1 makes one read of the socket at a time, so the deadline is looked
            # at between any two of them: a trickle that never pauses long enough for
            # the read timeout still ends at the deadline.
            while not timer.fired:
                piece = response.raw.read1(_CHUNK, decode_content=False)
                if not piece:
                    break
                raw += len(piece)
                for data in decoder.feed(piece):
                    body += data
                    if len(body) > self.max_body:
                        kind = "" if decoder.identity else " once decompressed"
                        raise TransportErrored(
                            f"{host} sent more than the cap of {self.max_body:,} bytes{kind} "
                            "(profile max_body_bytes); the rest was not read",
                            exchange,
                        )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            problem = exc
        # Checked even when the body "ended" normally: a body without a length ends at
        # EOF, and the deadline cutting the socket looks exactly like one.
        if timer.fired:
            reason = (
                f"{host} did not finish its answer within the {self.deadline:g} s deadline "
                f"(a trickle: {raw:,} bytes of the body arrived)"
            )
        elif isinstance(problem, urllib3.exceptions.ReadTimeoutError | TimeoutError):
            reason = (
                f"{host} stalled mid-answer: nothing for {self.timeout[1]:g} s "
                f"after {raw:,} bytes of the body (read timeout)"
            )
        elif problem is not None:
            reason = f"{host} broke off mid-answer after {raw:,} bytes of the body: {_short(problem)}"
        else:
            body += decoder.flush()
            if len(body) <= self.max_body:
                return bytes(body)
            reason = f"{host} sent more than the cap of {self.max_body:,} bytes once decompressed"
        exchange.response_body = bytes(body[:_PREVIEW]).decode("utf-8", "replace")
        raise TransportErrored(reason, exchange)


class _Decoder:
    """Content-Encoding undone with a bound on the output of every step (no bombs)."""

    def __init__(self, encoding: str, cap: int, host: str, exchange: Exchange) -> None:
        name = encoding.strip().lower()
        self.identity = name in ("", "identity")
        self.cap = cap
        self._zlib: Any = None
        if name in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
        elif not self.identity:
            raise TransportErrored(
                f"{host} answered with Content-Encoding {encoding!r} to a request for identity; "
                "cannot read it",
                exchange,
            )
        self._host = host
        self._exchange = exchange

    def feed(self, data: bytes) -> list[bytes]:
        if self._zlib is None:
            return [data]
        out = []
        try:
            # max_length keeps each step at most one byte over the cap, however
            # far a small input would expand; the rest waits in unconsumed_tail.
            piece = self._zlib.decompress(data, self.cap + 1)
            out.append(piece)
            total = len(piece)
            while self._zlib.unconsumed_tail and total <= self.cap:
                piece = self._zlib.decompress(self._zlib.unconsumed_tail, self.cap + 1)
                out.append(piece)
                total += len(piece)
        except zlib.error as exc:
            reason = f"{self._host} sent a body that does not decompress: {exc}"
            raise TransportErrored(reason, self._exchange) from None
        return out

    def flush(self) -> bytes:
        # zlib's flush takes no output bound, but all input has been fed through
        # decompress with max_length already, so what remains is at most its tail.
        return b"" if self._zlib is None else bytes(self._zlib.flush())


def write_named(url: str, body: bytes, headers: dict[str, str]) -> str | None:
    """The write a request would make, judged from what it carries, or None.

    Errs towards "a write": a ``method`` parameter (form body or query) naming a write
    method in any letter case, or RecordInteraction anywhere in a body or header.
    """
    text = body.decode("latin-1")
    for source in (text, urlsplit(url).query):
        for name, value in parse_qsl(source, keep_blank_values=True):
            if name == "method" and value.lower() in _WRITE_METHODS:
                return value
    carried = [body.lower(), *(v.lower().encode("latin-1", "replace") for v in headers.values())]
    if any(_SOAP_WRITE in part for part in carried):
        return "RecordInteraction"
    return None


def _refuse_loop(response: requests.Response, url: str, body: bytes, host: str, exchange: Exchange) -> None:
    """A redirect to the very URL it answers, unasked for, is a loop: errored, not followed."""
    if response.status_code not in _REDIRECT_STATUS:
        return
    location = response.headers.get("location", "").strip()
    if not location or not _same_resource(urljoin(url, location), url):
        return
    asked = {name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
    asked |= {name for name, _ in parse_qsl(body.decode("latin-1"), keep_blank_values=True)}
    if asked & REDIRECT_PARAMS:
        return  # the case asked for a redirect (L-T12); where it points is for the case to judge
    raise TransportErrored(
        f"redirect loop: {host} answered HTTP {response.status_code} with Location back to the same URL "
        f"({urlsplit(url).path}), to a request with no redirect parameter; not followed",
        exchange,
    )


def _same_resource(a: str, b: str) -> bool:
    x, y = urlsplit(a), urlsplit(b)
    return (x.scheme.lower(), x.netloc.lower(), x.path or "/", x.query) == (
        y.scheme.lower(),
        y.netloc.lower(),
        y.path or "/",
        y.query,
    )


def _short(exc: BaseException) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    if "RemoteDisconnected" in text or "without response" in text:
        return "the target closed the connection without an answer"
    if "IncompleteRead" in text:
        return "the body ended before its announced length"
    if "got more than" in text and "headers" in text:
        return "more than 100 header lines"
    if "LineTooLong" in text or "line too long" in text.lower():
        return "a header line over 64 KiB"
    return text[:200]

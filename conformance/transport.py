"""HTTP for the suite: one keep-alive session, hard limits, honest failures.

Every request has a connect and a read timeout, an overall deadline and a body cap;
redirects are never followed (a 302 is itself an answer under L-T12).  Anything that
stops us from getting a complete answer is a :class:`CheckErrored` with a reason:
the target did not *break* a clause, we just could not see what it does.
Connection failures (nothing was sent) are retried; answers never are.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from conformance.outcome import CheckErrored, Exchange
from conformance.redaction import Redactor

_PREVIEW = 20_000  # characters of a body kept in an exchange (for the report)


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    exchange: Exchange = field(repr=False)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class RequestBudget:
    """The profile's request cap and rate limit, shared by all checks of a run."""

    def __init__(self, budget: int | None, rate_per_second: float | None) -> None:
        self.budget = budget
        self.interval = 1.0 / rate_per_second if rate_per_second else 0.0
        self.sent = 0
        self.by_method: dict[str, int] = {}
        self._next = 0.0
        self._lock = threading.Lock()

    def take(self, what: str) -> None:
        with self._lock:
            if self.budget is not None and self.sent >= self.budget:
                raise CheckErrored(
                    f"request budget of {self.budget} requests is spent (profile request_budget)"
                )
            self.sent += 1
            self.by_method[what] = self.by_method.get(what, 0) + 1
            wait = self._next - time.monotonic()
            self._next = max(self._next, time.monotonic()) + self.interval
        if wait > 0:
            time.sleep(wait)


class HttpClient:
    def __init__(
        self,
        redactor: Redactor,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_body: int = 1_048_576,
        budget: RequestBudget | None = None,
    ) -> None:
        self.redactor = redactor
        self.timeout = (connect_timeout, read_timeout)
        self.deadline = connect_timeout + read_timeout
        self.max_body = max_body
        self.budget = budget or RequestBudget(None, None)
        self.session = requests.Session()
        retry = Retry(
            total=2,
            connect=2,
            read=0,
            status=0,
            other=0,
            redirect=0,
            allowed_methods=None,
            raise_on_status=False,
            backoff_factor=0.1,
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry, pool_maxsize=4))
        self.session.mount("https://", HTTPAdapter(max_retries=retry, pool_maxsize=4))
        # Never take proxies or credentials from the environment: the target is
        # exactly what the profile names.
        self.session.trust_env = False

    def send(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        what: str = "",
    ) -> HttpAnswer:
        headers = dict(headers or {})
        exchange = Exchange(
            method=method,
            url=url,
            request_headers=headers,
            request_body=body[:_PREVIEW].decode("utf-8", "replace"),
        )
        self.budget.take(what or method)
        started = time.monotonic()
        host = urlsplit(url).netloc
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
        except requests.exceptions.ConnectTimeout:
            raise CheckErrored(f"connecting to {host} timed out after {self.timeout[0]:g} s") from None
        except requests.exceptions.ReadTimeout:
            raise CheckErrored(f"{host} sent no answer within {self.timeout[1]:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            raise CheckErrored(f"cannot connect to {host}: {_short(exc)}") from None
        except requests.exceptions.RequestException as exc:
            raise CheckErrored(f"request to {host} failed: {_short(exc)}") from None
        try:
            data = self._read(response, started, host)
        finally:
            response.close()
        exchange.status = response.status_code
        exchange.response_headers = {k.lower(): v for k, v in response.headers.items()}
        exchange.response_body = data[:_PREVIEW].decode("utf-8", "replace")
        exchange.elapsed_ms = (time.monotonic() - started) * 1000
        return HttpAnswer(response.status_code, exchange.response_headers, data, exchange)

    def _read(self, response: requests.Response, started: float, host: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise CheckErrored(
                f"{host} announced a {int(declared):,}-byte answer, over the cap of {self.max_body:,} bytes"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > self.max_body:
                    raise CheckErrored(f"{host} sent more than the cap of {self.max_body:,} bytes")
                if time.monotonic() - started > self.deadline:
                    raise CheckErrored(f"{host} did not finish its answer within {self.deadline:g} s")
                chunks.append(chunk)
        except requests.exceptions.RequestException as exc:
            raise CheckErrored(f"{host} stalled or broke off mid-answer: {_short(exc)}") from None
        return b"".join(chunks)


def _short(exc: BaseException) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text[:200]

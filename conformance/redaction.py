"""Secret redaction, applied in one place.

Every text that leaves the process (failure messages, exchanges, event files, JUnit,
the HTML report, log records through :class:`RedactingFilter`) passes through
:meth:`Redactor.redact`.  Besides the literal values we
also redact their percent-encoded, XML-escaped and JSON-escaped forms, because a secret
reaches an exchange as part of a form body, an envelope or a JSON string, not only verbatim.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from urllib.parse import quote, quote_plus

MASK = "***"

#: Parameters whose values are secret whatever they hold: tokens learnt at run time are
#: redacted by name even before they are registered as values.
SECRET_NAMES = (
    "api_key",
    "login_password",
    "password",
    "auth",
    "sso_auth_token",
    "token",
    "SecurityToken",
    "JSESSIONID",
    "signature",
    "nonce",
)

_NAMES = "|".join(SECRET_NAMES)

#: A secret parameter by name, in each of the three shapes it travels in: a form or
#: query (``api_key=...``), JSON (``"auth": "..."``) and XML (``<SecurityToken>...``,
#: also with a namespace prefix or attributes).  The name must start a word.
_NAMED = re.compile(
    r"(?:^|(?<=[?&\s\"'{,<:;]))(?P<name>" + _NAMES + r")"
    r"(?:(?P<form>=)[^&;\s\"'<]+"
    r"|(?P<json>\"\s*:\s*\")(?:[^\"\\]|\\.)+"
    r"|(?P<xml>(?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*>)[^<]+)"
)


def _mask_named(match: re.Match[str]) -> str:
    return match.group("name") + (match.group("form") or match.group("json") or match.group("xml")) + MASK


class Redactor:
    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*values)

    def add(self, *values: str | None) -> None:
        """Register secret values; very short ones are ignored (they would mask noise)."""
        forms: set[str] = set()
        for value in values:
            if not value or len(value) < 4:
                continue
            forms.update(
                {
                    value,
                    quote(value, safe=""),
                    quote_plus(value),
                    html.escape(value),  # in an attribute
                    html.escape(value, quote=False),  # in element text
                    json.dumps(value)[1:-1],  # inside a JSON string (ASCII-only)
                    json.dumps(value, ensure_ascii=False)[1:-1],  # inside a JSON string (UTF-8)
                }
            )
        if not forms - self._values:
            return
        with self._lock:
            self._values |= forms
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def with_values(self, values: Iterable[str]) -> Redactor:
        """A redactor for one check: these secrets plus values learnt by the check.

        Tokens learnt at run time (a login per check) stay out of the run-wide redactor:
        one alternation growing by a token per check made every redaction slower and
        every ``add`` recompile it (the biggest cost of the harness, bench/suite.py).
        """
        child = Redactor()
        with self._lock:
            child._values = set(self._values)
        child.add(*values)
        if child._pattern is None and self._pattern is not None:
            child._pattern = self._pattern
        return child

    def redact(self, text: str) -> str:
        if not text:
            return text
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return _NAMED.sub(_mask_named, text)

    def __contains__(self, text: str) -> bool:
        return text in self._values


class RedactingFilter(logging.Filter):
    """Redacts a log record in place, before any handler formats it.

    Logs leave the process too: pytest shows them live (``log_cli``), after a failure
    and in JUnit (``junit_logging``), and a library's DEBUG line can hold a secret
    (urllib3 logs each request line, query string included).  Attached to a handler,
    the filter sees every record that handler is given, whichever logger made it.
    """

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True

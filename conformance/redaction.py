"""Secret redaction, applied in one place.

Every text that leaves the process (failure messages, exchanges, event files, JUnit,
the HTML report) passes through :meth:`Redactor.redact`.  Besides the literal values we
also redact their percent-encoded and XML-escaped forms, because a secret reaches an
exchange as part of a form body or an envelope, not only verbatim.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable
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

_NAMED = re.compile(
    r"(?P<pre>(?:^|[?&\s\"'{,])(?:" + "|".join(SECRET_NAMES) + r")(?:=|\"\s*:\s*\"|>))(?P<val>[^&\s\"<]+)"
)


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
            forms.update({value, quote(value, safe=""), quote_plus(value), html.escape(value)})
        if not forms - self._values:
            return
        with self._lock:
            self._values |= forms
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def redact(self, text: str) -> str:
        if not text:
            return text
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return _NAMED.sub(lambda m: m.group("pre") + MASK, text)

    def __contains__(self, text: str) -> bool:
        return text in self._values

"""The parameters of one Luminate call, from the form body and the query string.

L-T1 puts parameters in an ``application/x-www-form-urlencoded`` body; the vendor's URL
syntax shows them in the query string, so both are read (body first).  A parameter with
an empty value counts as absent (L-K1), so empty occurrences are dropped here and never
count as a repeat either.

Bytes that are not UTF-8 are kept as lone surrogates (``surrogateescape``) instead of
failing the parse: the request then goes through the usual stages and is refused with
code 35 at the "characters XML forbids" stage (L-T16), where lone surrogates are refused
anyway, and earlier stages (``api_key``, ``method``) still answer first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Params:
    pairs: tuple[tuple[str, str], ...]

    def first(self, name: str) -> str | None:
        """The first value of ``name``; repeats are refused later (code 22)."""
        for key, value in self.pairs:
            if key == name:
                return value
        return None

    def has(self, name: str) -> bool:
        return self.first(name) is not None

    def flag(self, name: str) -> bool:
        """A boolean switch such as ``suppress_response_codes=true``, any letter case."""
        value = self.first(name)
        return value is not None and value.lower() == "true"

    def repeated(self) -> str | None:
        """The first parameter name given more than once, if any."""
        counts = Counter(key for key, _ in self.pairs)
        return next((key for key, _ in self.pairs if counts[key] > 1), None)


def _never(name: str) -> bool:
    return False


def _pairs(text: str, fault: Callable[[str], bool] = _never) -> list[tuple[str, str]]:
    if fault("form-plus-kept"):
        text = text.replace("+", "%2B")  # what decoding with unquote, not unquote_plus, amounts to
    return [
        (key, value)
        for key, value in parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")
        if value != "" or (key == "cons_id" and fault("empty-identifier-counts"))
    ]


def is_form(content_type: str | None, fault: Callable[[str], bool] = _never) -> bool:
    if content_type is None:
        return False
    if fault("form-charset-refused"):
        return content_type.strip().lower() == FORM
    return content_type.split(";", 1)[0].strip().lower() == FORM


def parse(
    content_type: str | None, body: bytes, query: str, fault: Callable[[str], bool] = _never
) -> Params:
    """Body parameters (form bodies only) followed by query-string parameters.

    ``fault`` is the site's switch of deliberate mistakes (selftest only).
    """
    pairs: list[tuple[str, str]] = []
    if is_form(content_type, fault) and body:
        pairs += _pairs(body.decode("utf-8", "surrogateescape"), fault)
    if query:
        pairs += _pairs(_raw(query), fault)
    return Params(tuple(pairs))


def _raw(query: str) -> str:
    """The query string with any raw (not percent-encoded) bytes read as UTF-8.

    The ASGI app hands the query over decoded as latin-1, one character per byte, so
    re-encoding recovers the bytes; a string that cannot be latin-1 already is text.
    """
    try:
        return query.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return query

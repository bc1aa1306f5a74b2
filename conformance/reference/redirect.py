"""Client API redirects (L-T12) and their signatures (L-T13).

The target URL is sent as given, except that characters which cannot travel in an HTTP
header (controls, blanks, anything outside ASCII) are percent-encoded as UTF-8, the way
a browser turns an IRI into a URI.  That keeps a CR/LF in a redirect parameter from
splitting the response headers, and it happens before signing, so the signature covers
exactly the ``Location`` that is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from conformance.reference.params import Params


def _never(name: str) -> bool:
    return False


def target(params: Params, success: bool, fault: Callable[[str], bool] = _never) -> str | None:
    """The URL for this outcome: the specific parameter, else ``redirect``, else none."""
    if fault("redirect-any-outcome"):
        names = ("success_redirect", "error_redirect", "redirect")
        return next((url for url in map(params.first, names) if url is not None), None)
    specific = params.first("success_redirect" if success else "error_redirect")
    if fault("redirect-no-fallback"):
        return specific
    return specific if specific is not None else params.first("redirect")


def _header_safe(url: str) -> str:
    out: list[str] = []
    for char in url:
        if "!" <= char <= "~":
            out.append(char)
            continue
        try:
            raw = char.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate that did not come from a byte
            raw = char.encode("utf-8", "surrogatepass")
        out.append("".join(f"%{b:02X}" for b in raw))
    return "".join(out)


def location(url: str, sign: bool, secret: str, now: int, fault: Callable[[str], bool] = _never) -> str:
    """The ``Location`` header: ``url``, with ``ts`` and ``sig`` appended when signing.

    ``sig`` is the lower-case hex SHA-1 of the query string up to and including ``ts``
    (no leading ``?``), followed directly by the site's secret key.
    """
    url = _header_safe(url)
    if not sign:
        return url
    base, hash_mark, fragment = url.partition("#")
    path, _, query = base.partition("?")
    if query and not query.endswith("&"):
        query += "&"
    query += f"ts={now}"
    signed = query.rsplit("ts=", 1)[0] if fault("sign-without-ts") else query
    # The vendor's scheme (vendor-facts.md), not a choice: SHA-1 of query plus secret.
    sig = hashlib.sha1((signed + secret).encode("utf-8"), usedforsecurity=False).hexdigest()
    if fault("sign-uppercase-hex"):
        sig = sig.upper()
    return f"{path}?{query}&sig={sig}{hash_mark}{fragment}"

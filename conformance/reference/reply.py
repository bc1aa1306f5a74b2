"""What a reference service answers: status, headers and bytes, nothing framework-bound.

The services return a Reply and the ASGI app only copies it out, so the services can
be tested and benchmarked without a server and the app stays a thin shell.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

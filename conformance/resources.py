"""Where the bundled data lives, installed or in a source checkout.

A wheel carries ``schemas/`` and ``cases/`` inside the package (the build copies the
top-level folders in); a source checkout or an editable install has them beside the
package.  Everything that reads bundled data asks here, so both layouts work.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def schema_dir() -> Path:
    return _bundled("schemas")


def cases_dir() -> Path:
    return _bundled("cases")

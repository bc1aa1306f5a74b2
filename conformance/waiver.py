"""Waivers: known failures a team accepts until a date (``--waivers FILE``).

A waiver file is a YAML list checked against ``schemas/waivers.schema.json``; each
waiver names a clause (every failure attributed to it) or a case (a check id, or a
case description, covering all its checks), with a reason, an owner and an expiry
date.  A waiver is honoured up to and including its ``expires`` day; after that it
covers nothing, so the failure it hid fails the gate again.  A broken file is one
``file:line: message`` error, like every other data file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from conformance.resources import schema_dir
from conformance.yamlfile import DataFileError, LoadedYaml, load_yaml, schema_error


@dataclass(frozen=True)
class Waiver:
    """One accepted failure: a clause or a case, why, who, until when."""

    clause: str | None
    case: str | None
    reason: str
    owner: str
    expires: date
    #: Where the waiver is written, for messages (``waivers.yaml:4``).
    where: str

    @property
    def subject(self) -> str:
        return f"clause {self.clause}" if self.clause else f"case '{self.case}'"

    def expired(self, today: date) -> bool:
        return today > self.expires

    def covers(self, check_id: str, case: str | None, clause: str | None) -> bool:
        """Whether this waiver (expired or not) names this check's failure of ``clause``."""
        if self.case is not None:
            return self.case in (check_id, case)
        return clause is not None and clause == self.clause


def load_waivers(path: Path, clause_ids: Iterable[str] | None = None) -> tuple[Waiver, ...]:
    """Load and check a waiver file; ``clause_ids`` (the catalogue) catches typos in ``clause``."""
    loaded = load_yaml(path)  # dates stay text (see yamlfile), checked below with their line
    if loaded.data is None:
        return ()  # an empty file waives nothing, which is what it says
    error = _best_match(list(_validator().iter_errors(loaded.data)))
    if error is not None:
        raise _message(loaded, error)
    known = None if clause_ids is None else tuple(clause_ids)
    waivers = []
    for index, raw in enumerate(loaded.data):
        where = f"{path}:{loaded.line_of(raw)}"
        if known is not None and "clause" in raw and raw["clause"] not in known:
            import difflib

            close = difflib.get_close_matches(raw["clause"], known, n=1)
            raise DataFileError(path, _line(loaded, [index, "clause"]),
                                f"{index}.clause: '{raw['clause']}' is not a clause of the catalogue",
                                f"did you mean '{close[0]}'?" if close else "see `conformance clauses`")
        try:
            expires = date.fromisoformat(raw["expires"])
        except ValueError:
            raise DataFileError(path, _line(loaded, [index, "expires"]),
                                f"{index}.expires: '{raw['expires']}' is not a date "
                                "(expected YYYY-MM-DD)") from None
        waivers.append(Waiver(clause=raw.get("clause"), case=raw.get("case"), reason=raw["reason"],
                              owner=raw["owner"], expires=expires, where=where))
    return tuple(waivers)


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads((schema_dir() / "waivers.schema.json").read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def _best_match(errors: list[Any]) -> Any:
    import jsonschema

    return jsonschema.exceptions.best_match(errors)


def _line(loaded: LoadedYaml, path: list[Any]) -> int:
    """The line of ``path``: a scalar's key line where the loader kept it, else its mapping's."""
    node: Any = loaded.data
    line = loaded.line_of(node)
    key_lines: dict[tuple[int, Any], int] = getattr(loaded, "key_lines", {})
    for step in path:
        if isinstance(node, dict):
            line = key_lines.get((id(node), step), line)
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        line = loaded.lines.get(id(node), line)
    return line


def _message(loaded: LoadedYaml, error: Any) -> DataFileError:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        import difflib

        allowed = list(error.schema.get("properties", {}))
        extra = next(k for k in error.instance if k not in allowed)
        close = difflib.get_close_matches(str(extra), allowed, n=1)
        where = ".".join(str(p) for p in path) or "(top level)"
        hint = f"did you mean '{close[0]}'?" if close else "allowed keys: " + ", ".join(allowed)
        return DataFileError(loaded.path, _line(loaded, [*path, extra]), f"{where}: unknown key '{extra}'",
                             hint)
    if error.validator == "type" and not path:
        return DataFileError(loaded.path, 1,
                             f"(top level): {_shown(error.instance)} is not a list of waivers",
                             "each entry: {clause: L-L2, reason: ..., owner: ..., expires: YYYY-MM-DD}")
    if error.validator == "pattern" and path and path[-1] in ("expires", "clause"):
        where = ".".join(str(p) for p in path)
        expected = "a date (expected YYYY-MM-DD)" if path[-1] == "expires" else "a clause id (e.g. L-L2)"
        return DataFileError(loaded.path, _line(loaded, path),
                             f"{where}: {_shown(error.instance)} is not {expected}")
    return schema_error(loaded, error)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

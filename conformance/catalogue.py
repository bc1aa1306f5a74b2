"""The clause catalogue: every clause of contract.md as data (``schemas/clauses.yaml``).

One clause ID is used everywhere (contract, case files, pytest markers, report); this
module is where the IDs, and what the report says about each clause, come from.  The file is
checked against ``clauses.schema.json`` when it is loaded, so a broken entry stops the
run at once as one ``file:line: what is wrong`` line instead of surfacing mid-run.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from conformance.resources import schema_dir
from conformance.yamlfile import DataFileError, load_yaml, schema_error

Part = Literal["L", "K"]
Level = Literal["MUST", "DECIDED", "OBSERVE"]


class CatalogueError(DataFileError):
    """The catalogue is broken; ``str()`` is one ``file:line: message`` line."""


class UnknownClauseError(LookupError):
    """A clause ID the catalogue does not hold; the message names the nearest one."""


@dataclass(frozen=True)
class ClauseCode:
    """The error code (or Kognitiv ReturnCode) a clause names for one condition."""

    when: str
    #: The reference server's answer; None only where any code passes and the contract names none.
    code: int | None
    #: Codes the default profile accepts as well, because the vendor's documents disagree.
    accept: tuple[int, ...]
    #: Any errorResponse passes, whatever its code.
    any_code: bool


@dataclass(frozen=True)
class ClauseSource:
    """Where a clause comes from: exactly one of a seed page, a vendor page or a decision."""

    seed: str | None = None
    vendor_doc: str | None = None
    quote: str | None = None
    decision: str | None = None


@dataclass(frozen=True)
class Clause:
    """One clause of contract.md: its text, where it comes from and the codes it names."""

    id: str
    part: Part
    group: str
    level: Level
    title: str
    statement: str
    sources: tuple[ClauseSource, ...]
    methods: tuple[str, ...]
    codes: tuple[ClauseCode, ...] = ()
    #: The optional target method an OBSERVE clause needs.
    observation: str | None = None
    #: The part the contract decided (the report labels it as a decision, not vendor text).
    decision: str | None = None


class Catalogue:
    """The clauses in the contract's order, looked up by ID."""

    def __init__(self, clauses: Iterable[Clause]) -> None:
        self._clauses = tuple(clauses)
        self._by_id = {clause.id: clause for clause in self._clauses}
        if len(self._by_id) != len(self._clauses):
            raise ValueError("a catalogue holds each clause ID once")

    def __iter__(self) -> Iterator[Clause]:
        return iter(self._clauses)

    def __len__(self) -> int:
        return len(self._clauses)

    def __contains__(self, clause_id: object) -> bool:
        return clause_id in self._by_id

    def get(self, clause_id: str) -> Clause:
        try:
            return self._by_id[clause_id]
        except KeyError:
            close = difflib.get_close_matches(clause_id, self._by_id, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UnknownClauseError(f"unknown clause '{clause_id}'{hint}") from None

    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def by_part(self, part: Part) -> tuple[Clause, ...]:
        return tuple(clause for clause in self._clauses if clause.part == part)


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and check the catalogue (the bundled one by default, read once per process)."""
    if path is None:
        return _bundled_catalogue()
    return _load_catalogue(path)


@cache
def _bundled_catalogue() -> Catalogue:
    return _load_catalogue(schema_dir() / "clauses.yaml")


def _load_catalogue(path: Path) -> Catalogue:
    try:
        loaded = load_yaml(path)
        errors = list(_validator().iter_errors(loaded.data))
        if errors:
            raise schema_error(loaded, _best_match(errors))
        first_line: dict[str, int] = {}
        for raw in loaded.data:
            line = loaded.line_of(raw)
            if raw["id"] in first_line:
                raise DataFileError(
                    path, line, f"duplicate clause id '{raw['id']}' (first at line {first_line[raw['id']]})"
                )
            first_line[raw["id"]] = line
    except DataFileError as exc:
        # One exception type for callers, still a DataFileError for code that handles any data file.
        raise CatalogueError(exc.path, exc.line, exc.message, exc.hint) from None
    return Catalogue(_clause(raw) for raw in loaded.data)


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads((schema_dir() / "clauses.schema.json").read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def _best_match(errors: list[Any]) -> Any:
    import jsonschema

    return jsonschema.exceptions.best_match(errors)


def _clause(raw: Mapping[str, Any]) -> Clause:
    return Clause(
        id=raw["id"],
        part=raw["part"],
        group=raw["group"],
        level=raw["level"],
        title=raw["title"],
        statement=raw["statement"],
        sources=tuple(ClauseSource(**source) for source in raw["sources"]),
        methods=tuple(raw["methods"]),
        codes=tuple(
            ClauseCode(
                when=code["when"],
                code=code.get("code"),
                accept=tuple(code["accept"]),
                any_code=code["any_code"],
            )
            for code in raw.get("codes", ())
        ),
        observation=raw.get("observation"),
        decision=raw.get("decision"),
    )

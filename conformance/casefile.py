"""Case files: loading, validation against their schema, and the loaded form.

Validation happens when a file is collected, never later: a broken file is one
``file:line: what is wrong`` line with a hint, and no request is sent for it.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from conformance.resources import schema_dir
from conformance.substitution import references
from conformance.yamlfile import DataFileError, LoadedYaml, load_yaml, schema_error

#: Names a case may use without binding them: the profile's facts, secrets and the run.
PROFILE_NAMES = frozenset(
    {
        "profile.admin.account_id",
        "profile.other_admin.account_id",
        "profile.constituent.cons_id",
        "profile.constituent.primary_email",
        "profile.custom_type",
        "profile.custom_type_2",
        "profile.standard_type",
        "profile.category",
        "profile.missing_category",
        "profile.missing_type",
        "profile.shared_member_id",
        "profile.shared_email",
        "profile.group",
        "profile.group_name",
        "profile.group_2",
        "profile.missing_group",
        "kognitiv.active_account",
        "kognitiv.inactive_account",
        "kognitiv.location",
        "kognitiv.interaction_type", "kognitiv.namespace",
        "secret.api_key",
        "secret.admin_login",
        "secret.admin_password",
        "secret.other_admin_login",
        "secret.other_admin_password",
        "secret.constituent_user",
        "secret.constituent_password",
        "secret.kognitiv_token",
        "secret.kognitiv_no_permission_token",
        "obs.origin",
        "obs.active",
        "obs.active_detail",
        "obs.donor_status",
        "run.id",
        "check.uid",
        "check.email",
        "check.email_2",
        "check.member_id",
        "site.url",
    }
)

#: What each setup step binds, by kind.
SETUP_BINDS = {
    "constituent": ("cons_id", "primary_email", "member_id"),
    "interaction": ("interaction_id", "subject"),
    "session": ("token", "cons_id"),
}

#: Luminate methods that create or change data (skipped under ``writes: forbidden``).
WRITE_METHODS = frozenset({"logInteraction", "createOrUpdate"})


@dataclass(frozen=True)
class Step:
    request: Mapping[str, Any]
    expect: Mapping[str, Any]
    capture: Mapping[str, str]
    line: int
    description: str = ""


@dataclass(frozen=True)
class SetupStep:
    kind: str
    name: str
    data: Mapping[str, Any]
    line: int
    step: Step | None = None


@dataclass(frozen=True)
class Test:
    description: str
    clauses: tuple[str, ...]
    step: Step
    then: tuple[Step, ...]
    line: int


@dataclass(frozen=True)
class Case:
    path: Path
    line: int
    description: str
    clauses: tuple[str, ...]
    api: str
    caller: str
    formats: tuple[str, ...]
    suppress: tuple[bool, ...]
    soap: tuple[str, ...]
    requires: tuple[str, ...]
    strict: str | None
    setup: tuple[SetupStep, ...]
    tests: tuple[Test, ...]

    @property
    def writes(self) -> bool:
        """Whether running the case may create or change data on the target.

        Every step counts (setup steps, tests and their ``then`` read-backs), and the
        answer errs towards "yes", because ``writes: forbidden`` guards a live site:
        a write method in any letter case (a lax target may take ``loginteraction``),
        set through ``params`` or named in a hand-written body, and any Kognitiv step
        but a WSDL fetch (RecordInteraction is the only operation).
        """
        if any(s.kind in ("constituent", "interaction") for s in self.setup):
            return True
        steps = [s.step for s in self.setup if s.step] + [t.step for t in self.tests]
        steps += [s for t in self.tests for s in t.then]
        return any(_step_writes(self.api, s.request) for s in steps)


_WRITE_NAMES = tuple(m.lower() for m in sorted(WRITE_METHODS))


def _step_writes(case_api: str, request: Mapping[str, Any]) -> bool:
    if request.get("api", case_api) == "kognitiv":
        return not request.get("wsdl")
    named = [request.get("method"), (request.get("params") or {}).get("method"), request.get("raw_body")]
    for value in named:
        if value is None:
            continue
        # A generator ({concat: [...]}, {upper: ...}) is searched through its parts.
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if any(name in text.lower() for name in _WRITE_NAMES):
            return True
    return False


@cache
def _case_validator() -> Any:
    import jsonschema

    schema = json.loads((schema_dir() / "case.schema.json").read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def _best_error(errors: Iterable[Any]) -> Any:
    import jsonschema

    found = list(errors)
    # A test is ``allOf: [stepBase]`` + ``unevaluatedProperties: false``: when anything
    # inside ``request`` or ``expect`` is wrong, those keys count as "unevaluated" too,
    # and that (shallower) error would hide the real one.  It is only the best error
    # when it is the only one.
    specific = [e for e in found if e.validator != "unevaluatedProperties"]
    return jsonschema.exceptions.best_match(specific or found)


def load_case_file(path: Path, known_clauses: Iterable[str] | None = None) -> list[Case]:
    """Load and check one case file; every problem is a one-line DataFileError."""
    loaded = load_yaml(path)
    if loaded.data is None:
        raise DataFileError(path, 1, "the file is empty", "a case file is a mapping with a 'cases' list")
    if not isinstance(loaded.data, dict):
        kind = type(loaded.data).__name__
        raise DataFileError(path, 1, f"a case file is a mapping with a 'cases' list, not a {kind}")
    validator = _case_validator()
    errors = list(validator.iter_errors(loaded.data))
    if errors:
        raise schema_error(loaded, _best_error(errors), validator.schema)
    clause_ids = frozenset(known_clauses) if known_clauses is not None else None
    cases = [_case(loaded, raw, clause_ids) for raw in loaded.data["cases"]]
    seen: dict[str, int] = {}
    for case in cases:
        for test in case.tests:
            key = f"{case.description} / {test.description}"
            if key in seen:
                raise DataFileError(
                    path,
                    test.line,
                    f"test description '{test.description}' repeats line {seen[key]}",
                    "descriptions say what is, and are unique within a case",
                )
            seen[key] = test.line
    return cases


def _case(loaded: LoadedYaml, raw: Mapping[str, Any], clause_ids: frozenset[str] | None) -> Case:
    line = loaded.line_of(raw)
    api = raw["api"]
    for cid in raw["clauses"]:
        _check_clause(loaded, raw["clauses"], cid, clause_ids)
    caller = raw.get("caller", "constituent" if api == "CRConsAPI" else "admin")
    bound = set(PROFILE_NAMES)
    setup: list[SetupStep] = []
    for item in raw.get("setup", []):
        setup.append(_setup_step(loaded, item, bound))
    tests = []
    for traw in raw["tests"]:
        for cid in traw.get("clauses", []):
            _check_clause(loaded, traw["clauses"], cid, clause_ids)
        local = set(bound)
        step = _step(loaded, traw, local)
        then = tuple(_step(loaded, s, local) for s in traw.get("then", []))
        tests.append(
            Test(
                description=traw["description"],
                clauses=tuple(dict.fromkeys([*raw["clauses"], *traw.get("clauses", [])])),
                step=step,
                then=then,
                line=loaded.line_of(traw),
            )
        )
    if api == "kognitiv":
        formats: tuple[str, ...] = ("soap",)
    else:
        formats = tuple(raw.get("formats", ["xml", "json"]))
    return Case(
        path=loaded.path,
        line=line,
        description=raw["description"],
        clauses=tuple(raw["clauses"]),
        api=api,
        caller=caller,
        formats=formats,
        suppress=tuple(raw.get("suppress", [False])),
        soap=tuple(raw.get("soap", ["1.1"])) if api == "kognitiv" else ("",),
        requires=tuple(raw.get("requires", [])),
        strict=raw.get("strict"),
        setup=tuple(setup),
        tests=tuple(tests),
    )


def _check_clause(loaded: LoadedYaml, node: object, cid: str, clause_ids: frozenset[str] | None) -> None:
    if clause_ids is not None and cid not in clause_ids:
        close = difflib.get_close_matches(cid, sorted(clause_ids), n=1)
        raise DataFileError(
            loaded.path,
            loaded.line_of(node),
            f"unknown clause '{cid}'",
            f"did you mean '{close[0]}'?" if close else "see `conformance clauses`",
        )


def _ref_line(loaded: LoadedYaml, node: Any, name: str, line: int) -> int:
    """The line of the innermost key whose value refers to ``${name}``."""
    line = loaded.line_of(node, line)
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if name in references(value):
            inner = loaded.line_of_key(node, key, line) if isinstance(node, dict) else line
            return _ref_line(loaded, value, name, inner)
    return line


def _check_refs(loaded: LoadedYaml, node: Any, bound: set[str], line: int = 1) -> None:
    for name in sorted(references(node)):
        if name not in bound:
            close = difflib.get_close_matches(name, sorted(bound), n=1)
            raise DataFileError(
                loaded.path,
                _ref_line(loaded, node, name, line),
                f"'${{{name}}}' is not bound here",
                f"did you mean '${{{close[0]}}}'?" if close else "bind it in setup or with capture",
            )


def _step(loaded: LoadedYaml, raw: Mapping[str, Any], bound: set[str]) -> Step:
    # Only request and expect: ``then`` steps see this step's captures, checked below.
    _check_refs(loaded, {k: raw[k] for k in ("request", "expect") if k in raw}, bound, loaded.line_of(raw))
    capture = dict(raw.get("capture", {}))
    bound.update(capture)
    return Step(
        request=raw["request"],
        expect=raw.get("expect", {}),
        capture=capture,
        line=loaded.line_of(raw),
        description=raw.get("description", ""),
    )


def _setup_step(loaded: LoadedYaml, raw: Mapping[str, Any], bound: set[str]) -> SetupStep:
    line = loaded.line_of(raw)
    if "step" in raw:
        step = _step(loaded, raw["step"], bound)
        return SetupStep("step", "", raw, line, step)
    kinds = [k for k in SETUP_BINDS if k in raw]
    if len(kinds) != 1:
        raise DataFileError(
            loaded.path,
            line,
            f"a setup step is one of {', '.join(SETUP_BINDS)} or step, not {' and '.join(kinds) or 'none'}",
            "split it into one step per item",
        )
    kind = kinds[0]
    name = raw[kind]
    _check_refs(loaded, {k: v for k, v in raw.items() if k != kind}, bound, line)
    bound.update(f"{name}.{field}" for field in SETUP_BINDS[kind])
    return SetupStep(kind, name, raw, line)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Case files under the given files or directories, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.yaml") if not p.name.startswith(".")))
        elif path.suffix in (".yaml", ".yml"):
            found.append(path)
    return found

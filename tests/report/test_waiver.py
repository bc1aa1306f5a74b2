"""Waiver files: what they hold, and one exact ``file:line: message`` for each mistake."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from conformance.catalogue import load_catalogue
from conformance.resources import schema_dir
from conformance.waiver import Waiver, load_waivers
from conformance.yamlfile import DataFileError

IDS = load_catalogue().ids()


def _load(tmp_path: Path, text: str) -> tuple[Waiver, ...]:
    path = tmp_path / "waivers.yaml"
    path.write_text(text, encoding="utf-8")
    return load_waivers(path, IDS)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(DataFileError) as info:
        _load(tmp_path, text)
    return str(info.value).replace(str(tmp_path) + "/", "")


def test_the_waiver_schema_is_a_valid_json_schema() -> None:
    schema = json.loads((schema_dir() / "waivers.schema.json").read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_a_clause_waiver_and_a_case_waiver_load_with_their_lines(tmp_path: Path) -> None:
    waivers = _load(tmp_path, (
        "# known problems of the staging site\n"
        "- clause: L-L2\n  reason: vendor ticket 123\n  owner: alice\n  expires: 2026-03-31\n"
        "- case: \"subject length limit\"\n  reason: flaky\n  owner: bob\n  expires: '2026-01-01'\n"
    ))
    assert [(w.clause, w.case, w.owner, w.expires) for w in waivers] == [
        ("L-L2", None, "alice", date(2026, 3, 31)), (None, "subject length limit", "bob", date(2026, 1, 1))]
    assert waivers[0].where.endswith("waivers.yaml:2")
    assert waivers[1].where.endswith("waivers.yaml:6")


def test_a_waiver_lasts_through_its_expiry_day(tmp_path: Path) -> None:
    (waiver,) = _load(tmp_path, "- clause: L-L2\n  reason: r\n  owner: o\n  expires: 2026-03-31\n")
    assert not waiver.expired(date(2026, 3, 31))
    assert waiver.expired(date(2026, 4, 1))


def test_an_empty_file_waives_nothing(tmp_path: Path) -> None:
    assert _load(tmp_path, "# nothing waived\n") == ()


@pytest.mark.parametrize(("text", "message"), [
    ("clause: L-L2\n",
     "waivers.yaml:1: (top level): {'clause': 'L-L2'} is not a list of waivers "
     "(hint: each entry: {clause: L-L2, reason: ..., owner: ..., expires: YYYY-MM-DD})"),
    ("- clause: L-L2\n  owner: o\n  expires: 2026-03-31\n",
     "waivers.yaml:1: 0: 'reason' is a required property"),
    ("- clause: L-L2\n  reasn: r\n  owner: o\n  expires: 2026-03-31\n",
     "waivers.yaml:2: 0: unknown key 'reasn' (hint: did you mean 'reason'?)"),
    ("- reason: r\n  owner: o\n  expires: 2026-03-31\n",
     "waivers.yaml:1: 0: {'reason': 'r', 'owner': 'o', 'expires': '2026-03-31'} is not allowed here "
     "(hint: a waiver names exactly one of `clause` or `case`, plus `reason`, `owner` and `expires`)"),
    ("- clause: L-L2\n  reason: r\n  owner: o\n  expires: 2026-02-30\n",
     "waivers.yaml:4: 0.expires: '2026-02-30' is not a date (expected YYYY-MM-DD)"),
    ("- clause: L-L2\n  reason: r\n  owner: o\n  expires: 'next week'\n",
     "waivers.yaml:4: 0.expires: 'next week' is not a date (expected YYYY-MM-DD)"),
    ("- clause: L-L2\n  reason: r\n  owner: o\n  expires: '2026-13-01'\n",
     "waivers.yaml:4: 0.expires: '2026-13-01' is not a date (expected YYYY-MM-DD)"),
    ("- clause: LL2\n  reason: r\n  owner: o\n  expires: 2026-03-31\n",
     "waivers.yaml:1: 0.clause: 'LL2' is not a clause id (e.g. L-L2)"),
    ("- clause: L-L2\n  reason: [a, b]\n  owner: o\n  expires: 2026-03-31\n",
     "waivers.yaml:2: 0.reason: ['a', 'b'] is not of type 'string'"),
    ("- clause: L-L22\n  reason: r\n  owner: o\n  expires: 2026-03-31\n",
     "waivers.yaml:1: 0.clause: 'L-L22' is not a clause of the catalogue (hint: did you mean 'L-L2'?)"),
])
def test_a_broken_waiver_file_is_one_line_naming_the_fix(tmp_path: Path, text: str, message: str) -> None:
    assert _error(tmp_path, text) == message


def test_a_duplicate_key_is_refused_at_its_line(tmp_path: Path) -> None:
    # The wording after the line is the YAML loader's, shared by every data file.
    message = _error(tmp_path, "- clause: L-L2\n  reason: r\n  owner: o\n  owner: p\n  expires: 2026-03-31\n")
    assert message.startswith("waivers.yaml:4: duplicate key 'owner'")

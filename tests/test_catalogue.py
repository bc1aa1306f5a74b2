"""The clause catalogue against the contract, the vendor pages and its own schema.

The contract, the five seed pages and vendor-facts.md are copied into ``tests/fixtures/``
(``contract.md``, ``seeds/pages/``, ``vendor-facts.md``) so these tests run from the
repository alone; ``test_fixture_copies_match_the_shared_folder`` says when a copy has
fallen behind the shared original.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conformance.catalogue import (
    Catalogue,
    CatalogueError,
    UnknownClauseError,
    load_catalogue,
)
from conformance.resources import schema_dir
from conformance.yamlfile import DataFileError

FIXTURES = Path(__file__).parent / "fixtures"
CONTRACT = FIXTURES / "contract.md"
SEED_PAGES = FIXTURES / "seeds" / "pages"
VENDOR_FACTS = FIXTURES / "vendor-facts.md"
SHARED = Path(__file__).resolve().parents[2] / "shared"

# A clause row of the contract's tables: | ID | Level | Clause |
_ROW = re.compile(r"^\| ((?:L|K)-[A-Z]+[0-9]+) \| ([A-Z]+) \| (.+) \|$", re.MULTILINE)


def _contract_rows() -> list[tuple[str, str, str]]:
    return _ROW.findall(CONTRACT.read_text(encoding="utf-8"))


CONTRACT_ROWS = _contract_rows()


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _raw_catalogue() -> list[dict[str, Any]]:
    # Read without the loader, so data checks do not depend on what the loader enforces.
    data: list[dict[str, Any]] = yaml.safe_load((schema_dir() / "clauses.yaml").read_text(encoding="utf-8"))
    return data


def _vendor_fact_bullets() -> list[str]:
    """Each top-level bullet of vendor-facts.md with its continuation lines, whitespace collapsed."""
    bullets: list[list[str]] = []
    inside = False  # a blank line or a heading ends a bullet; indented lines continue it
    for line in VENDOR_FACTS.read_text(encoding="utf-8").splitlines():
        if line.startswith("- "):
            bullets.append([line[2:]])
            inside = True
        elif inside and line.startswith("  "):
            bullets[-1].append(line)
        else:
            inside = False
    return [_collapse(" ".join(lines)) for lines in bullets]


def _pages_named(bullet: str) -> set[str]:
    """The pages a bullet's ``[doc: a, b; c]`` tags name (``[doc]`` alone names none)."""
    return {
        page.strip() for tag in re.findall(r"\[doc: ([^\]]+)\]", bullet) for page in re.split(r"[,;]", tag)
    }


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


# --------------------------------------------------------------------------- the bundled file


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads((schema_dir() / "clauses.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_bundled_catalogue_loads_and_validates(catalogue: Catalogue) -> None:
    schema = json.loads((schema_dir() / "clauses.schema.json").read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(_raw_catalogue())]
    assert errors == []
    assert len(catalogue) == len(CONTRACT_ROWS)


def test_no_two_entries_share_an_id() -> None:
    counts = Counter(entry["id"] for entry in _raw_catalogue())
    assert [cid for cid, n in counts.items() if n > 1] == []


def test_every_contract_row_is_parsed() -> None:
    # A row the regex misses (a stray pipe, a new level) would silently drop a clause.
    text = CONTRACT.read_text(encoding="utf-8")
    table_rows = re.findall(r"^\| [LK]-", text, re.MULTILINE)
    assert len(CONTRACT_ROWS) == len(table_rows)
    assert {level for _, level, _ in CONTRACT_ROWS} == {"MUST", "DECIDED", "OBSERVE"}


def test_ids_are_exactly_the_contracts_in_its_order(catalogue: Catalogue) -> None:
    contract_ids = [cid for cid, _, _ in CONTRACT_ROWS]
    assert set(catalogue.ids()) == set(contract_ids)
    assert list(catalogue.ids()) == contract_ids


@pytest.mark.parametrize(("cid", "level", "statement"), CONTRACT_ROWS, ids=[r[0] for r in CONTRACT_ROWS])
def test_clause_matches_the_contract(catalogue: Catalogue, cid: str, level: str, statement: str) -> None:
    clause = catalogue.get(cid)
    assert clause.level == level
    assert clause.statement == statement
    assert clause.part == cid[0]
    assert re.fullmatch(re.escape(clause.group) + r"[0-9]+", cid), f"{cid} is not in group {clause.group}"


def test_seed_quotes_appear_verbatim_in_their_seed_page(catalogue: Catalogue) -> None:
    pages = {path.name: _collapse(path.read_text(encoding="utf-8")) for path in SEED_PAGES.glob("*.txt")}
    assert len(pages) == 5
    quoted = [(c.id, s.seed, s.quote) for c in catalogue for s in c.sources if s.seed]
    missing = [q for q in quoted if q[1] not in pages or _collapse(q[2] or "") not in pages[q[1]]]
    assert missing == []
    # The task asks for the seed pages as sources wherever they support a clause: all five are used.
    assert {seed for _, seed, _ in quoted} == set(pages)


def test_vendor_doc_quotes_come_from_the_bullet_naming_that_page(catalogue: Catalogue) -> None:
    bullets = _vendor_fact_bullets()
    wrong = []
    for clause in catalogue:
        for source in clause.sources:
            if source.vendor_doc is None:
                continue
            quote = _collapse(source.quote or "")
            homes = [b for b in bullets if quote in b]
            named = set().union(*(_pages_named(b) for b in homes)) if homes else set()
            # vendor-facts.md stands for the page only where the bullet names none.
            expected = named or {"vendor-facts.md"}
            if not homes or source.vendor_doc not in expected:
                wrong.append((clause.id, source.vendor_doc, source.quote, sorted(named)))
    assert wrong == []


def test_observe_clauses_name_the_observation_their_statement_names(catalogue: Catalogue) -> None:
    for clause in catalogue:
        named = re.findall(r"observation: `(\w+)`", clause.statement)
        if clause.level == "OBSERVE":
            assert [clause.observation] == named, clause.id
        else:
            assert (clause.observation, named) == (None, []), clause.id


def test_every_decision_is_labelled_and_explained(catalogue: Catalogue) -> None:
    for clause in catalogue:
        decides = clause.level == "DECIDED" or "DECIDED" in clause.statement
        assert (clause.decision is not None) == decides, clause.id
        if decides:
            assert any(s.decision for s in clause.sources), f"{clause.id} cites no decision source"


def test_every_codes_accept_excludes_its_code(catalogue: Catalogue) -> None:
    clashes = [(c.id, code) for c in catalogue for code in c.codes if code.code in code.accept]
    assert clashes == []


def test_codes_are_the_ones_the_statement_names(catalogue: Catalogue) -> None:
    for clause in catalogue:
        listed = {n for code in clause.codes for n in (code.code, *code.accept) if n is not None}
        # Every listed code is written in the statement (not as part of "1.0" or "1000").
        absent = [n for n in listed if not re.search(rf"(?<![\d.]){n}(?!\d|\.\d)", clause.statement)]
        assert absent == [], clause.id
        # Every "code N" and "also accept N or M" of the statement is listed.
        said = {
            int(n)
            for match in re.finditer(r"\bcode (\d+)|also accept (\d+)(?: or (\d+))?", clause.statement)
            for n in match.groups()
            if n
        }
        assert said <= listed, clause.id
        assert ("any code" in clause.statement) == any(code.any_code for code in clause.codes), clause.id


def test_methods_belong_to_the_clauses_part(catalogue: Catalogue) -> None:
    for clause in catalogue.by_part("K"):
        assert clause.methods == ("RecordInteraction",), clause.id
    for clause in catalogue.by_part("L"):
        assert "RecordInteraction" not in clause.methods, clause.id


def test_fixture_copies_match_the_shared_folder() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"no shared folder at {SHARED} to compare the fixture copies with")
    pairs = [(CONTRACT, SHARED / "contract.md"), (VENDOR_FACTS, SHARED / "vendor-facts.md")]
    pairs += [(page, SHARED / "seeds" / page.name) for page in sorted(SEED_PAGES.glob("*.txt"))]
    stale = [str(copy) for copy, original in pairs if copy.read_bytes() != original.read_bytes()]
    assert stale == []


# --------------------------------------------------------------------------- the Catalogue API


def test_lookup_order_and_parts(catalogue: Catalogue) -> None:
    assert catalogue.get("L-T3").title == "method is required and case-sensitive"
    assert "K-F1" in catalogue
    assert "L-T33" not in catalogue
    assert [c.id for c in catalogue] == list(catalogue.ids())
    parts = catalogue.by_part("L") + catalogue.by_part("K")
    assert sorted(c.id for c in parts) == sorted(catalogue.ids())
    assert {c.part for c in catalogue.by_part("K")} == {"K"}


def test_the_structured_codes_of_a_clause(catalogue: Catalogue) -> None:
    (code,) = catalogue.get("L-T3").codes
    assert (code.code, code.accept, code.any_code) == (6, (17,), False)
    (code,) = catalogue.get("L-L2").codes
    assert (code.code, code.accept, code.any_code) == (23, (), True)
    assert catalogue.get("L-C11").observation == "getUserInteractions"


def test_unknown_id_suggests_the_nearest(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownClauseError) as excinfo:
        catalogue.get("L-T33")
    assert str(excinfo.value) == "unknown clause 'L-T33' (did you mean 'L-T3'?)"
    with pytest.raises(UnknownClauseError) as excinfo:
        catalogue.get("nothing-like-it")
    assert str(excinfo.value) == "unknown clause 'nothing-like-it'"


# --------------------------------------------------------------------------- broken catalogues

# Two valid entries; each broken variant below changes one thing. Entry 1 starts on line 1,
# entry 2 on line 12.
_VALID = textwrap.dedent(
    """\
    - id: L-T1
      part: L
      group: L-T
      level: MUST
      title: endpoints
      methods: [any]
      statement: The Client API is a servlet.
      sources:
        - seed: 000_b6a26528ca0cb58e.txt
          quote: CRConsAPI SRConsAPI POST Server.

    - id: L-T2
      part: L
      group: L-T
      level: MUST
      title: POST only
      methods: [any]
      statement: Any other HTTP method gets HTTP 405.
      sources:
        - vendor_doc: apidoc/general/http_status.html
          quote: 405 the request was not a POST.
    """
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clauses.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_valid_base_of_the_broken_variants_loads(tmp_path: Path) -> None:
    # Each variant must fail for the reason it names, not because the base is broken.
    assert load_catalogue(_write(tmp_path, _VALID)).ids() == ("L-T1", "L-T2")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "id: L-T2", "id: L-T1", "12: duplicate clause id 'L-T1' (first at line 1)", id="duplicate-id"
        ),
        pytest.param(
            "level: MUST\n  title: POST",
            "level: SHOULD\n  title: POST",
            "12: 1.level: 'SHOULD' is not one of ['MUST', 'DECIDED', 'OBSERVE']"
            " (hint: one of: 'MUST', 'DECIDED', 'OBSERVE')",
            id="bad-level",
        ),
        pytest.param(
            "  sources:\n    - vendor_doc: apidoc/general/http_status.html\n"
            "      quote: 405 the request was not a POST.\n",
            "",
            "12: 1: 'sources' is a required property",
            id="missing-sources",
        ),
        pytest.param(
            "  title: POST only\n",
            "  title: POST only\n  obervation: getUser\n",
            "12: 1: unknown key 'obervation' (hint: did you mean 'observation'?)",
            id="unknown-key",
        ),
        pytest.param(
            "level: MUST\n  title: POST",
            "level: OBSERVE\n  title: POST",
            "12: 1: 'observation' is a required property",
            id="observe-without-observation",
        ),
        pytest.param(
            "level: MUST\n  title: POST",
            "level: DECIDED\n  title: POST",
            "12: 1: 'decision' is a required property",
            id="decided-without-decision",
        ),
        pytest.param(
            "      quote: CRConsAPI SRConsAPI POST Server.\n",
            "",
            "9: 0.sources.0: {'seed': '000_b6a26528ca0cb58e.txt'}"
            " is not allowed here (hint: a source is exactly one of {seed, quote},"
            " {vendor_doc, quote} or {decision})",
            id="seed-without-quote",
        ),
        pytest.param(
            "  methods: [any]\n  statement: Any",
            "  methods: [any]\n  codes:\n    - when: a GET\n      accept: []\n      any_code: false\n"
            "  statement: Any",
            "19: 1.codes.0: 'code' is a required property",
            id="code-missing-without-any-code",
        ),
        pytest.param(
            "title: POST only",
            "title: [POST only",
            "17: invalid YAML: while parsing a flow sequence expected ',' or ']', but got ':'",
            id="yaml-syntax",
        ),
        pytest.param(
            "  title: POST only\n",
            "  title: POST only\n  title: again\n",
            "17: duplicate key 'title'",
            id="duplicate-key",
        ),
    ],
)
def test_a_broken_catalogue_is_one_line_at_the_right_place(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert _VALID.count(old) == 1, "the variant must change exactly one place"
    path = _write(tmp_path, _VALID.replace(old, new))
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(path)
    assert str(excinfo.value) == f"{path}:{message}"
    assert "\n" not in str(excinfo.value)
    assert isinstance(excinfo.value, DataFileError)

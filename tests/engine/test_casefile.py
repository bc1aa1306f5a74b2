"""Case files: a broken file is exactly one line, ``file:line: what is wrong (hint: ...)``.

Every broken variant below changes one place of a valid file, so each fails for the
reason it names; the valid base is loaded too, with its defaults spelled out.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance.casefile import load_case_file
from conformance.yamlfile import DataFileError
from tests.engine.conftest import Write

VALID = textwrap.dedent(
    """\
    description: logInteraction, subject length
    cases:
      - description: subject length limit
        clauses: [L-L2]
        api: SRConsAPI
        setup:
          - constituent: alice
        tests:
          - description: a subject of 81 characters is refused
            request:
              method: logInteraction
              params:
                cons_id: ${alice.cons_id}
                interaction_subject: {repeat: "s", count: 81}
            expect:
              error: {code: 23, any: true}
    """
)


def _load(write: Write, text: str, clause_ids: tuple[str, ...]) -> Path:
    path = write("case.yaml", text)
    load_case_file(path, clause_ids)
    return path


def test_the_valid_base_loads_with_its_defaults(write: Write, clause_ids: tuple[str, ...]) -> None:
    path = write("case.yaml", VALID)
    [case] = load_case_file(path, clause_ids)
    assert case.caller == "admin"  # the default on SRConsAPI
    assert case.formats == ("xml", "json")
    assert case.suppress == (False,)
    assert case.soap == ("",)
    assert case.requires == ()
    assert case.writes is True  # it creates a constituent (and logs an interaction)
    assert case.line == 3
    [test] = case.tests
    assert test.clauses == ("L-L2",)
    assert test.line == 9
    assert test.step.expect == {"error": {"code": 23, "any": True}}
    assert [(s.kind, s.name) for s in case.setup] == [("constituent", "alice")]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "    api: SRConsAPI\n",
            "    api: SRConsAPI\n    calller: admin\n",
            "3: cases.0: unknown key 'calller' (hint: did you mean 'caller'?)",
            id="unknown-key",
        ),
        pytest.param(
            "        expect:\n",
            "        expct: {}\n        expect:\n",
            "9: cases.0.tests.0: unknown key 'expct' (hint: did you mean 'expect'?)",
            id="unknown-key-of-a-test",
        ),
        pytest.param(
            "          params:\n",
            "          parms: {}\n          params:\n",
            "11: cases.0.tests.0.request: unknown key 'parms' (hint: did you mean 'params'?)",
            id="unknown-key-of-a-request",
        ),
        pytest.param(
            "clauses: [L-L2]",
            "clauses: L-L2",
            "3: cases.0.clauses: 'L-L2' is not of type 'array'",
            id="wrong-type",
        ),
        pytest.param(
            "    api: SRConsAPI\n",
            "    api: SRConsAPI\n    suppress: [yes please]\n",
            "6: cases.0.suppress.0: 'yes please' is not of type 'boolean'",
            id="wrong-type-in-a-list",
        ),
        pytest.param(
            "api: SRConsAPI",
            "api: SRConsApi",
            "3: cases.0.api: 'SRConsApi' is not one of ['SRConsAPI', 'CRConsAPI', 'kognitiv']"
            " (hint: one of: 'SRConsAPI', 'CRConsAPI', 'kognitiv')",
            id="not-in-enum",
        ),
        pytest.param(
            "error: {code: 23, any: true}",
            "root: updateConsResponse\n          fields: {message: {absnt: true}}",
            "17: cases.0.tests.0.expect.fields.message: {'absnt': True} is not allowed here"
            " (hint: What a field must be: a literal (compared as text), null (nil), or a rule.)",
            id="unknown-matcher",
        ),
        pytest.param(
            VALID[VALID.index("    tests:\n") :],
            "",
            "3: cases.0: 'tests' is a required property",
            id="missing-tests",
        ),
        pytest.param(
            "clauses: [L-L2]",
            "clauses: [L-L22]",
            "4: unknown clause 'L-L22' (hint: did you mean 'L-L2'?)",
            id="unknown-clause",
        ),
        pytest.param(
            "cons_id: ${alice.cons_id}",
            "cons_id: ${alce.cons_id}",
            "13: '${alce.cons_id}' is not bound here (hint: did you mean '${alice.cons_id}'?)",
            id="unbound-name-near-a-bound-one",
        ),
        pytest.param(
            "cons_id: ${alice.cons_id}",
            "cons_id: ${zebra}",
            "13: '${zebra}' is not bound here (hint: bind it in setup or with capture)",
            id="unbound-name",
        ),
        pytest.param(
            "    api: SRConsAPI\n",
            "    api: SRConsAPI\n    api: CRConsAPI\n",
            "6: duplicate key 'api'",
            id="duplicate-key",
        ),
        pytest.param(
            "        expect:\n          error: {code: 23, any: true}\n",
            "        expect:\n          error: {code: 23, any: true}\n"
            + VALID[VALID.index("      - description: a subject") :],
            "17: test description 'a subject of 81 characters is refused' repeats line 9"
            " (hint: descriptions say what is, and are unique within a case)",
            id="repeated-test-description",
        ),
        pytest.param(
            "method: logInteraction",
            "method: [logInteraction",
            "12: invalid YAML: while parsing a flow sequence expected ',' or ']', but got ':'",
            id="invalid-yaml",
        ),
        pytest.param(
            "method: logInteraction",
            "method: !python/object:os.system logInteraction",
            "11: invalid YAML: the tag '!python/object:os.system' is not allowed"
            " (hint: plain YAML only: no custom tags)",
            id="custom-tag",
        ),
        pytest.param(
            "      - constituent: alice\n",
            "      - constituent: alice\n        session: bob\n",
            "7: a setup step is one of constituent, interaction, session or step, not constituent and session"
            " (hint: split it into one step per item)",
            id="two-setup-kinds-in-one-step",
        ),
    ],
)
def test_a_broken_case_file_is_one_line_at_the_right_place(
    write: Write, clause_ids: tuple[str, ...], old: str, new: str, message: str
) -> None:
    assert VALID.count(old) == 1, "the variant must change exactly one place"
    path = write("case.yaml", VALID.replace(old, new))
    with pytest.raises(DataFileError) as excinfo:
        load_case_file(path, clause_ids)
    assert str(excinfo.value) == f"{path}:{message}"
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "", "1: the file is empty (hint: a case file is a mapping with a 'cases' list)", id="empty"
        ),
        pytest.param(
            "# only a comment\n",
            "1: the file is empty (hint: a case file is a mapping with a 'cases' list)",
            id="only-a-comment",
        ),
        pytest.param(
            "- a\n- b\n", "1: a case file is a mapping with a 'cases' list, not a list", id="a-list"
        ),
        pytest.param(
            "cases: !!python/object/apply:os.system ['echo pwned']\n",
            "1: invalid YAML: the tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"
            " (hint: plain YAML only: no custom tags)",
            id="python-tag",
        ),
    ],
)
def test_a_file_that_is_no_case_file_is_one_line(
    write: Write, clause_ids: tuple[str, ...], text: str, message: str
) -> None:
    path = write("case.yaml", text)
    with pytest.raises(DataFileError) as excinfo:
        load_case_file(path, clause_ids)
    assert str(excinfo.value) == f"{path}:{message}"


def test_a_python_tag_is_never_constructed(write: Write, clause_ids: tuple[str, ...], tmp_path: Path) -> None:
    # SafeLoader must refuse the tag outright: had it been constructed, the file would exist.
    marker = tmp_path / "constructed"
    path = write("case.yaml", f"cases: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(DataFileError, match="is not allowed"):
        load_case_file(path, clause_ids)
    assert not marker.exists()


def test_an_unreadable_file_is_one_line(tmp_path: Path, clause_ids: tuple[str, ...]) -> None:
    path = tmp_path / "case.yaml"
    path.write_bytes(b"cases: \xff\xfe\n")
    with pytest.raises(DataFileError) as excinfo:
        load_case_file(path, clause_ids)
    assert str(excinfo.value).startswith(f"{path}: cannot read file:")
    assert "\n" not in str(excinfo.value)


def test_names_bound_by_setup_capture_and_the_profile_load(write: Write, clause_ids: tuple[str, ...]) -> None:
    path = write(
        "case.yaml",
        """\
        cases:
          - description: read-back after logging
            clauses: [L-G1]
            api: SRConsAPI
            formats: [json]
            suppress: [false, true]
            setup:
              - constituent: alice
              - interaction: first
                for: ${alice.cons_id}
            tests:
              - description: the logged interaction reads back
                request:
                  method: logInteraction
                  params: {cons_id: "${alice.cons_id}", interaction_subject: "${check.uid}"}
                expect: {root: updateConsResponse}
                capture: {iid: interaction_id}
                then:
                  - request:
                      method: getInteraction
                      params: {cons_id: "${alice.cons_id}", interaction_id: "${iid}"}
                    expect:
                      root: getInteractionResponse
                      fields:
                        interaction/subject: ${check.uid}
                        interaction/createdBy: ${profile.admin.account_id}
        """,
    )
    [case] = load_case_file(path, clause_ids)
    assert case.formats == ("json",)
    assert case.suppress == (False, True)
    assert [(s.kind, s.name) for s in case.setup] == [("constituent", "alice"), ("interaction", "first")]
    [test] = case.tests
    assert test.step.capture == {"iid": "interaction_id"}
    assert len(test.then) == 1


def test_a_capture_binds_only_after_its_step(write: Write, clause_ids: tuple[str, ...]) -> None:
    path = write(
        "case.yaml",
        """\
        cases:
          - description: capture order
            clauses: [L-G1]
            api: SRConsAPI
            tests:
              - description: a name used before it is captured
                request:
                  method: getInteraction
                  params: {interaction_id: "${iid}"}
                expect: {}
                capture: {iid: interaction_id}
        """,
    )
    with pytest.raises(DataFileError) as excinfo:
        load_case_file(path, clause_ids)
    assert (
        str(excinfo.value)
        == f"{path}:9: '${{iid}}' is not bound here (hint: bind it in setup or with capture)"
    )


@pytest.mark.parametrize(
    ("api", "caller", "expected_caller", "formats"),
    [
        pytest.param("SRConsAPI", None, "admin", ("xml", "json"), id="server-api"),
        pytest.param("CRConsAPI", None, "constituent", ("xml", "json"), id="client-api"),
        pytest.param("CRConsAPI", "anonymous", "anonymous", ("xml", "json"), id="client-api-anonymous"),
        pytest.param("kognitiv", None, "admin", ("soap",), id="kognitiv"),
    ],
)
def test_the_caller_and_formats_default_by_api(
    write: Write,
    clause_ids: tuple[str, ...],
    api: str,
    caller: str | None,
    expected_caller: str,
    formats: tuple[str, ...],
) -> None:
    line = f"    caller: {caller}\n" if caller else ""
    path = write(
        "case.yaml",
        f"cases:\n  - description: defaults\n    clauses: [L-T1]\n    api: {api}\n{line}"
        "    tests:\n      - description: a call\n        request: {method: getUser}\n        expect: {}\n",
    )
    [case] = load_case_file(path, clause_ids)
    assert case.caller == expected_caller
    assert case.formats == formats
    assert case.soap == (("1.1",) if api == "kognitiv" else ("",))


WRITES = [
    pytest.param("", "method: getInteraction", False, id="a-read-only-call"),
    pytest.param("", "method: logInteraction", True, id="a-logging-call"),
    pytest.param("", "method: createOrUpdate", True, id="a-create-call"),
    pytest.param("", "method: LOGINTERACTION", True, id="a-logging-call-in-capitals"),
    pytest.param("", "params: {method: logInteraction}", True, id="a-logging-call-as-a-parameter"),
    pytest.param(
        "setup:\n      - constituent: alice\n    ", "method: getInteraction", True, id="constituent-setup"
    ),
    pytest.param("setup:\n      - session: me\n    ", "method: getInteraction", False, id="session-setup"),
    pytest.param(
        "setup:\n      - step: {request: {method: logInteraction}}\n    ",
        "method: getUser",
        True,
        id="a-logging-setup-step",
    ),
]


@pytest.mark.parametrize(("setup", "request_line", "writes"), WRITES)
def test_writes_says_whether_a_case_changes_data(
    write: Write, clause_ids: tuple[str, ...], setup: str, request_line: str, writes: bool
) -> None:
    path = write(
        "case.yaml",
        f"cases:\n  - description: writes\n    clauses: [L-T1]\n    api: SRConsAPI\n    {setup}"
        f"tests:\n      - description: a call\n        request: {{{request_line}}}\n        expect: {{}}\n",
    )
    [case] = load_case_file(path, clause_ids)
    assert case.writes is writes


def test_a_read_back_step_that_logs_makes_the_case_write(write: Write, clause_ids: tuple[str, ...]) -> None:
    path = write(
        "case.yaml",
        """\
        cases:
          - description: writes in then
            clauses: [L-T1]
            api: SRConsAPI
            tests:
              - description: a read, then a write
                request: {method: getInteraction}
                expect: {}
                then:
                  - request: {method: logInteraction}
        """,
    )
    [case] = load_case_file(path, clause_ids)
    assert case.writes is True


@pytest.mark.parametrize(
    ("request_line", "writes"),
    [pytest.param("{wsdl: true}", False, id="wsdl-only"), pytest.param("{}", True, id="record-interaction")],
)
def test_a_kognitiv_case_writes_unless_it_only_reads_the_wsdl(
    write: Write, clause_ids: tuple[str, ...], request_line: str, writes: bool
) -> None:
    path = write(
        "case.yaml",
        "cases:\n  - description: kognitiv\n    clauses: [K-T1]\n    api: kognitiv\n"
        f"    tests:\n      - description: a call\n        request: {request_line}\n        expect: {{}}\n",
    )
    [case] = load_case_file(path, clause_ids)
    assert case.writes is writes


def test_every_bundled_case_file_loads(clause_ids: tuple[str, ...]) -> None:
    from conformance.casefile import discover
    from conformance.resources import cases_dir

    files = discover([cases_dir()])
    assert files
    for path in files:
        assert load_case_file(path, clause_ids)

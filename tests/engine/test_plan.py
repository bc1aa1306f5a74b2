"""Expanding cases into checks: the matrix, readable ids, skip reasons, --clause selection."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conformance.casefile import Case, load_case_file
from conformance.plan import expand, skip_reason
from conformance.profile import Profile
from tests.engine.conftest import RunPytest, Write


def _case(write: Write, clause_ids: tuple[str, ...], body: str, name: str = "case.yaml") -> Case:
    [case] = load_case_file(write(name, body), clause_ids)
    return case


def _luminate_case(head: str = "", clauses: str = "L-L2", method: str = "logInteraction") -> str:
    return (
        f"cases:\n  - description: subject length limit\n    clauses: [{clauses}]\n    api: SRConsAPI\n{head}"
        f"    tests:\n      - description: a long subject is refused\n"
        f"        request: {{method: {method}}}\n        expect: {{error: 23}}\n"
        f"      - description: a short subject is accepted\n"
        f"        request: {{method: {method}}}\n        expect: {{root: updateConsResponse}}\n"
    )


def test_formats_times_suppress_is_one_check_each(write: Write, clause_ids: tuple[str, ...]) -> None:
    case = _case(
        write, clause_ids, _luminate_case("    formats: [xml, json, pair]\n    suppress: [false, true]\n")
    )
    checks = expand(case)
    assert [(c.test.description, c.format, c.suppress) for c in checks[:6]] == [
        ("a long subject is refused", "xml", False),
        ("a long subject is refused", "xml", True),
        ("a long subject is refused", "json", False),
        ("a long subject is refused", "json", True),
        ("a long subject is refused", "pair", False),
        ("a long subject is refused", "pair", True),
    ]
    assert len(checks) == 12
    assert [c.name for c in checks[:6]] == [
        "a long subject is refused [xml]",
        "a long subject is refused [xml-suppressed]",
        "a long subject is refused [json]",
        "a long subject is refused [json-suppressed]",
        "a long subject is refused [pair]",
        "a long subject is refused [pair-suppressed]",
    ]
    assert len({c.name for c in checks}) == len(checks)


def test_the_default_matrix_is_xml_and_json_unsuppressed(write: Write, clause_ids: tuple[str, ...]) -> None:
    checks = expand(_case(write, clause_ids, _luminate_case()))
    assert [c.name for c in checks] == [
        "a long subject is refused [xml]",
        "a long subject is refused [json]",
        "a short subject is accepted [xml]",
        "a short subject is accepted [json]",
    ]


def test_a_check_label_names_the_call_clauses_and_cell(write: Write, clause_ids: tuple[str, ...]) -> None:
    case = _case(
        write, clause_ids, _luminate_case("    formats: [json]\n    suppress: [true]\n", "L-L2, L-T7")
    )
    [check, _] = expand(case)
    assert check.label == "POST SRConsAPI logInteraction [L-L2, L-T7] json-suppressed"
    assert check.method == "logInteraction"
    assert check.clauses == ("L-L2", "L-T7")


def test_soap_versions_are_one_check_each(write: Write, clause_ids: tuple[str, ...]) -> None:
    case = _case(
        write,
        clause_ids,
        "cases:\n  - description: RecordInteraction\n    clauses: [K-R1]\n    api: kognitiv\n"
        "    soap: ['1.1', '1.2']\n    tests:\n      - description: a valid call is recorded\n"
        "        request: {}\n        expect: {return_code: 0}\n",
    )
    checks = expand(case)
    assert [c.name for c in checks] == [
        "a valid call is recorded [soap1.1]",
        "a valid call is recorded [soap1.2]",
    ]
    assert checks[0].label == "POST Interaction.asmx RecordInteraction [K-R1] soap1.1"


# -- skip reasons -----------------------------------------------------------------


def _only(profile: Profile, **luminate: Any) -> Profile:
    assert profile.luminate is not None
    return replace(profile, luminate=replace(profile.luminate, **luminate))


def test_a_runnable_check_has_no_skip_reason(
    write: Write, clause_ids: tuple[str, ...], reference_profile: Profile
) -> None:
    [check, *_] = expand(_case(write, clause_ids, _luminate_case("    requires: [observation:getUser]\n")))
    assert skip_reason(check, reference_profile, host_allowed=True) is None


@pytest.mark.parametrize(
    ("head", "change", "host_allowed", "expected"),
    [
        pytest.param(
            "",
            {"writes": "forbidden"},
            True,
            ("policy", "writes: forbidden in the profile (this case creates or changes data)"),
            id="writes-forbidden",
        ),
        pytest.param(
            "",
            {},
            False,
            ("policy", "the target's host is not in the profile's hosts list (write cases are guarded)"),
            id="host-not-listed",
        ),
        pytest.param(
            "    strict: only\n",
            {},
            True,
            ("not-applicable", "runs only with a strict profile"),
            id="strict-only",
        ),
        pytest.param(
            "    strict: never\n",
            {"strict": True},
            True,
            ("not-applicable", "the strict profile demands the reference's choice instead"),
            id="strict-never",
        ),
        pytest.param(
            "",
            {"luminate": None},
            True,
            ("not-applicable", "the profile has no luminate section"),
            id="no-luminate-section",
        ),
    ],
)
def test_a_check_the_profile_rules_out_is_skipped_with_its_kind(
    write: Write,
    clause_ids: tuple[str, ...],
    reference_profile: Profile,
    head: str,
    change: dict[str, object],
    host_allowed: bool,
    expected: tuple[str, str],
) -> None:
    [check, *_] = expand(_case(write, clause_ids, _luminate_case(head)))
    profile = replace(reference_profile, **change)  # type: ignore[arg-type]
    assert skip_reason(check, profile, host_allowed=host_allowed) == expected


def test_a_read_only_check_runs_where_writes_are_forbidden(
    write: Write, clause_ids: tuple[str, ...], reference_profile: Profile
) -> None:
    [check, *_] = expand(_case(write, clause_ids, _luminate_case(method="getInteraction")))
    assert not check.case.writes
    profile = replace(reference_profile, writes="forbidden")
    assert skip_reason(check, profile, host_allowed=False) is None


@pytest.mark.parametrize(
    ("requirement", "luminate", "expected"),
    [
        pytest.param(
            "observation:getUserInteractions",
            {"observations": frozenset({"getUser"})},
            ("unobservable", "not observable: the profile does not offer getUserInteractions"),
            id="missing-observation",
        ),
        pytest.param(
            "shared_member_id",
            {"shared_member_id": None},
            ("not-applicable", "the profile names no shared member_id fixture"),
            id="missing-fixture",
        ),
        pytest.param(
            "other_admin",
            {"other_admin": None},
            ("not-applicable", "the profile names no non-API administrator"),
            id="missing-account",
        ),
        pytest.param(
            "secret_key",
            {"secret_key": None},
            ("not-applicable", "the profile does not know the site's secret key"),
            id="missing-secret-key",
        ),
    ],
)
def test_an_unmet_requirement_is_skipped_with_its_kind(
    write: Write,
    clause_ids: tuple[str, ...],
    reference_profile: Profile,
    requirement: str,
    luminate: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    [check, *_] = expand(_case(write, clause_ids, _luminate_case(f"    requires: [{requirement}]\n")))
    assert skip_reason(check, reference_profile, host_allowed=True) is None
    assert skip_reason(check, _only(reference_profile, **luminate), host_allowed=True) == expected


def test_a_site_setting_requirement_follows_the_profile(
    write: Write, clause_ids: tuple[str, ...], reference_profile: Profile
) -> None:
    [check, *_] = expand(_case(write, clause_ids, _luminate_case("    requires: [no_unique_email]\n")))
    assert skip_reason(check, reference_profile, host_allowed=True) == (
        "not-applicable",
        "the site enforces unique email",
    )
    assert reference_profile.luminate is not None
    settings = replace(reference_profile.luminate.settings, unique_email=False)
    assert skip_reason(check, _only(reference_profile, settings=settings), host_allowed=True) is None


def test_a_client_api_case_needs_a_constituent_login(
    write: Write, clause_ids: tuple[str, ...], reference_profile: Profile
) -> None:
    case = _case(
        write,
        clause_ids,
        "cases:\n  - description: my interactions\n    clauses: [L-A2]\n    api: CRConsAPI\n"
        "    tests:\n      - description: a logged-in call\n        request: {method: getUser}\n"
        "        expect: {}\n",
    )
    [check, *_] = expand(case)
    assert skip_reason(check, reference_profile, host_allowed=True) is None
    assert skip_reason(check, _only(reference_profile, constituent=None), host_allowed=True) == (
        "not-applicable",
        "the profile names no constituent login (Client API sessions)",
    )


def test_a_kognitiv_case_needs_a_kognitiv_section(
    write: Write, clause_ids: tuple[str, ...], reference_profile: Profile
) -> None:
    case = _case(
        write,
        clause_ids,
        "cases:\n  - description: RecordInteraction\n    clauses: [K-R1]\n    api: kognitiv\n"
        "    requires: ['kognitiv:inactive_account']\n"
        "    tests:\n      - description: a valid call is recorded\n        request: {}\n"
        "        expect: {return_code: 0}\n",
    )
    [check] = expand(case)
    assert skip_reason(check, reference_profile, host_allowed=True) is None
    assert skip_reason(check, replace(reference_profile, kognitiv=None), host_allowed=True) == (
        "not-applicable",
        "the profile has no kognitiv section",
    )
    assert reference_profile.kognitiv is not None
    no_inactive = replace(reference_profile.kognitiv, inactive_account=None)
    assert skip_reason(check, replace(reference_profile, kognitiv=no_inactive), host_allowed=True) == (
        "not-applicable",
        "the profile's kognitiv section lacks inactive_account",
    )


# -- through the plugin -------------------------------------------------------------


def _collected(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if "::" in line]


def test_pytest_items_carry_readable_ids_and_clause_selects(write: Write, run_pytest: RunPytest) -> None:
    write("subject.yaml", _luminate_case("    suppress: [false, true]\n"))
    write(
        "order.yaml",
        _luminate_case(clauses="L-G4", method="getInteraction").replace(
            "subject length limit", "element order"
        ),
    )

    everything = run_pytest("subject.yaml", "order.yaml", "--conformance", "--collect-only", "-q")
    assert everything.returncode == 0, everything.stdout + everything.stderr
    ids = _collected(everything.stdout)
    assert "subject.yaml::subject length limit / a long subject is refused [json-suppressed]" in ids
    assert "order.yaml::element order / a short subject is accepted [xml]" in ids
    assert len(ids) == 8 + 4

    chosen = run_pytest(
        "subject.yaml", "order.yaml", "--conformance", "--collect-only", "-q", "--clause", "L-G4"
    )
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert _collected(chosen.stdout) == [i for i in ids if i.startswith("order.yaml::")]


def test_the_clause_markers_select_too(write: Write, run_pytest: RunPytest) -> None:
    write("subject.yaml", _luminate_case())
    write("order.yaml", _luminate_case(clauses="L-G4", method="getInteraction"))
    result = run_pytest(".", "--conformance", "--collect-only", "-q", "-m", "L_G4")
    assert result.returncode == 0, result.stdout + result.stderr
    ids = _collected(result.stdout)
    assert ids and all(i.startswith("order.yaml::") for i in ids)


def test_an_unknown_clause_option_is_a_usage_error(
    tmp_path: Path, write: Write, run_pytest: RunPytest
) -> None:
    write("subject.yaml", _luminate_case())
    result = run_pytest("subject.yaml", "--conformance", "--collect-only", "-q", "--clause", "L-L22")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "L-L22" in result.stderr and "L-L2" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout

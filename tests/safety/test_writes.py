"""``writes: forbidden`` and the hosts guard: no write reaches a target they protect.

The bundled cases run against the embedded reference with a profile that forbids
writes (or that does not list the reference's host); the probe counts what reached
the server by API method.  Not one createOrUpdate, logInteraction or
RecordInteraction may arrive, and every write case is reported as skipped by policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.casefile import Case, load_case_file
from conformance.catalogue import load_catalogue
from conformance.plan import expand, skip_reason
from conformance.profile import load_profile
from conformance.resources import cases_dir
from tests.safety.run import SuiteRun, run_suite, write_profile

WRITES = ("createOrUpdate", "logInteraction", "RecordInteraction")


def _bundled_cases() -> list[Case]:
    ids = load_catalogue().ids()
    return [case for path in sorted(cases_dir().glob("*.yaml")) for case in load_case_file(path, ids)]


def _writes_reached(run: SuiteRun) -> dict[str, int]:
    # A write method in another letter case counts: a lax target might execute it.
    lowered = {w.lower() for w in WRITES}
    return {name: n for name, n in run.received().items() if name.lower() in lowered}


#: Every bundled case with xdist; then, for the hosts guard, the case files that write
#: most and the properties (whose writes only the transport's guard stops).
ALL = ["-n", "2"]
WRITERS = [
    str(cases_dir() / "createOrUpdate.yaml"),
    str(cases_dir() / "kognitiv-record.yaml"),
    str(cases_dir() / "properties"),
    "-p",
    "no:xdist",
]


@pytest.mark.parametrize(
    ("changes", "reason", "args"),
    [
        ({"writes": "forbidden"}, "writes: forbidden", ALL),
        ({"hosts": ["staging.example.org"]}, "not in the profile's hosts list", WRITERS),
    ],
    ids=["writes-forbidden", "host-not-listed"],
)
def test_no_write_reaches_a_protected_target(
    tmp_path: Path, changes: dict[str, Any], reason: str, args: list[str]
) -> None:
    profile = write_profile(tmp_path, "guarded", **changes)
    run = run_suite(tmp_path, profile, *args, probe=True)
    received = run.received()
    policy = [e for e in run.checks if e.get("skip_kind") == "policy"]
    print(f"{changes}: {len(run.checks)} checks, {len(policy)} skipped by policy; received {received}")
    assert run.footer["exit_status"] in (0, 1), run.output[-3000:]
    assert received, "the read-only checks reached the server"
    assert _writes_reached(run) == {}
    assert policy, "no check was skipped by policy"
    assert all(reason in e["reason"] and e["verdict"] == "skipped" for e in policy)
    assert reason in run.junit  # the skipped items say why, in the JUnit XML too
    assert run.footer["created"] == []
    assert "created or changed 0 records" in run.stdout
    # Every check of a case that writes is skipped: by policy, unless the profile
    # rules it out anyway (a strict-only case, a missing fixture).
    writers = {(c.path.name, c.description) for c in _bundled_cases() if c.writes}
    ran = [e["id"] for e in run.checks if (e["file"], e.get("case")) in writers and e["verdict"] != "skipped"]
    assert ran == []


def test_every_runnable_writing_check_is_skipped_by_policy(tmp_path: Path) -> None:
    allowed = load_profile(write_profile(tmp_path, "allowed"))
    forbidden = load_profile(write_profile(tmp_path, "forbidden", writes="forbidden"))
    for case in _bundled_cases():
        for check in expand(case):
            if skip_reason(check, allowed, host_allowed=True) is not None:
                continue  # not runnable against this profile at all
            for profile, host_allowed in ((forbidden, True), (allowed, False)):
                skip = skip_reason(check, profile, host_allowed)
                assert (skip is not None and skip[0] == "policy") == case.writes, check.name


# -- what counts as a write (casefile.Case.writes) ----------------------------------

_READ = {"method": "getInteraction", "params": {"cons_id": "1", "interaction_id": "1"}}


def _case(tmp_path: Path, **parts: Any) -> Case:
    """One case with one test; ``parts`` sets its api, setup, requires, request or then-steps."""
    test: dict[str, Any] = {"description": "a test", "request": parts.pop("request", _READ), "expect": {}}
    if "then" in parts:
        test["then"] = [{"request": r, "expect": {}} for r in parts.pop("then")]
    case = {"description": "a case", "clauses": ["L-T1"], "api": "SRConsAPI", "tests": [test], **parts}
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump({"description": "d", "cases": [case]}), encoding="utf-8")
    return load_case_file(path)[0]


def test_a_read_only_case_does_not_write(tmp_path: Path) -> None:
    assert not _case(tmp_path).writes
    assert not _case(tmp_path, api="kognitiv", request={"wsdl": True}).writes


@pytest.mark.parametrize(
    "parts",
    [
        {"setup": [{"constituent": "alice"}]},
        {"setup": [{"step": {"request": {"method": "logInteraction"}, "expect": {"root": "x"}}}]},
        {"then": [{"method": "createOrUpdate"}]},
        {"request": {"method": "logInteraction"}},
        {"request": {"method": "loginteraction"}},
        {"request": {"method": "getUser", "params": {"method": "createOrUpdate"}}},
        {"request": {"raw_body": "method=logInteraction&v=1.0"}},
        {"request": {"method": "getUser", "api": "kognitiv"}},
        {"then": [{"api": "kognitiv"}]},
    ],
    ids=[
        "setup-constituent",
        "setup-step",
        "then-step",
        "method",
        "method-other-case",
        "method-in-params",
        "raw-body",
        "kognitiv-step",
        "kognitiv-then",
    ],
)
def test_a_case_writes_when_any_step_may_write(tmp_path: Path, parts: dict[str, Any]) -> None:
    assert _case(tmp_path, **parts).writes


def test_recordinteraction_writes(tmp_path: Path) -> None:
    assert _case(tmp_path, api="kognitiv", request={"fields": {"InteractionNote": "n"}}).writes


def test_requires_writes_is_skipped_by_policy(tmp_path: Path) -> None:
    case = _case(tmp_path, requires=["writes"])
    forbidden = load_profile(write_profile(tmp_path, "forbidden", writes="forbidden"))
    assert skip_reason(expand(case)[0], forbidden, host_allowed=True) == (
        "policy",
        "writes: forbidden in the profile (this case creates or changes data)",
    )

"""The fault registry: one fault per MUST clause at least, every fault wired to a hook.

These run in well under a second; the end-to-end selftest (which runs the suite once
per fault) is in test_selftest.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import pytest

from conformance import selftest
from conformance.catalogue import load_catalogue
from conformance.cli import main
from conformance.profile import bundled_profile_path, load_profile, resolve_secrets
from conformance.reference.database import Database
from conformance.reference.fault import (
    CONTROLS,
    FAULTS,
    NO_FAULTS,
    REGISTRY,
    FaultSet,
    UnknownFaultError,
)
from conformance.reference.luminate import LuminateService
from conformance.reference.reply import Reply

REFERENCE = Path(selftest.__file__).resolve().parent / "reference"
# A hook is a call with the fault's name as a literal: site.fault("x"), fault("x"),
# self.faults("x").
_HOOK = re.compile(r"""\bfaults?\(\s*["']([a-z0-9-]+)["']\s*\)""")


def _hooked_names() -> set[str]:
    names: set[str] = set()
    for path in REFERENCE.glob("*.py"):
        if path.name != "fault.py":
            names |= set(_HOOK.findall(path.read_text(encoding="utf-8")))
    return names


def test_every_must_clause_has_a_fault() -> None:
    must = {c.id for c in load_catalogue() if c.level == "MUST"}
    covered = {f.clause for f in FAULTS}
    assert sorted(must - covered) == []


def test_every_fault_names_one_clause_of_the_catalogue() -> None:
    ids = set(load_catalogue().ids())
    assert [f.name for f in FAULTS if f.clause not in ids] == []
    assert all(c.clause is None for c in CONTROLS)


def test_names_are_unique_kebab_case_and_mistakes_one_line() -> None:
    names = [f.name for f in FAULTS + CONTROLS]
    assert len(names) == len(set(names))
    assert [n for n in names if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n)] == []
    assert [f.name for f in FAULTS + CONTROLS if not f.mistake or "\n" in f.mistake] == []


def test_every_registered_fault_has_a_hook_and_every_hook_a_fault() -> None:
    hooked = _hooked_names()
    assert sorted(set(REGISTRY) - hooked) == []
    assert sorted(hooked - set(REGISTRY)) == []


def test_the_default_selection_is_every_fault_but_the_controls() -> None:
    assert selftest.select([]) == list(FAULTS)
    assert selftest.select(["control-help-page-title"]) == list(CONTROLS)
    assert [f.name for f in selftest.select(["subject-bytes", "subject-bytes"])] == ["subject-bytes"]


def test_an_unknown_fault_name_is_refused_with_the_nearest_one() -> None:
    with pytest.raises(UnknownFaultError, match="did you mean 'subject-bytes'"):
        FaultSet(["subject-byte"])


def test_a_hook_naming_an_unregistered_fault_is_an_error_when_faults_are_on() -> None:
    assert NO_FAULTS("no-such-fault") is False  # the clean reference never looks names up
    with pytest.raises(UnknownFaultError, match="unregistered"):
        FaultSet(["subject-bytes"])("no-such-fault")


def test_serve_refuses_an_unknown_fault_before_binding(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--fault", "subject-byte", "--port", "1"]) == 2
    assert "did you mean 'subject-bytes'" in capsys.readouterr().err


# ---- a fault changes exactly what it says, in the service itself ----------------------


def _service(*faults: str) -> tuple[LuminateService, dict[str, str]]:
    profile = load_profile(bundled_profile_path())
    profile = replace(profile, faults=faults)
    secrets = resolve_secrets(profile, {}, generate_missing=True)
    service = LuminateService(profile, secrets, Database())
    lo = profile.luminate
    assert lo is not None
    admin = {
        "api_key": secrets[lo.api_key],
        "v": "1.0",
        "login_name": secrets[lo.api_admin.login_name],
        "login_password": secrets[lo.api_admin.login_password],
    }
    return service, admin


def _log(service: LuminateService, params: dict[str, str]) -> Reply:
    body = urlencode({"method": "logInteraction", "cons_id": "1000010", **params}).encode()
    return service.handle("SRConsAPI", "POST", "application/x-www-form-urlencoded", body, "")


@pytest.mark.parametrize("subject", ["é" * 80, "😀" * 80])
def test_subject_bytes_refuses_what_the_clean_reference_accepts(subject: str) -> None:
    clean, admin = _service()
    broken, admin_b = _service("subject-bytes")
    assert _log(clean, {**admin, "interaction_subject": subject}).status == 200
    refused = _log(broken, {**admin_b, "interaction_subject": subject})
    assert refused.status == 403 and b"<code>23</code>" in refused.body


def test_error_status_200_answers_errors_with_200() -> None:
    broken, admin = _service("error-status-200")
    reply = _log(broken, {**admin, "api_key": "wrong", "interaction_subject": "x"})
    assert reply.status == 200 and b"<code>2</code>" in reply.body


def test_half_write_keeps_the_email_of_a_refused_call() -> None:
    broken, admin = _service("half-write-email")

    def call(**params: str) -> Reply:
        body = urlencode({"method": "createOrUpdate", **admin, **params}).encode()
        return broken.handle("SRConsAPI", "POST", "application/x-www-form-urlencoded", body, "")

    created = call(primary_email="half.write@example.org")
    cons_id = created.body.split(b"<cons_id>")[1].split(b"<")[0].decode()
    refused = call(cons_id=cons_id, primary_email="changed@example.org", interaction_subject="x" * 81)
    assert refused.status == 403 and b"<code>23</code>" in refused.body
    body = urlencode({"method": "getUser", **admin, "cons_id": cons_id}).encode()
    user = broken.handle("SRConsAPI", "POST", "application/x-www-form-urlencoded", body, "")
    assert b"changed@example.org" in user.body  # what the clean reference never does


# ---- reading a run's events ------------------------------------------------------------


def test_events_are_read_into_verdicts_and_failed_clauses(tmp_path: Path) -> None:
    events = tmp_path / "run.jsonl"
    lines = [
        {"event": "header"},
        {"event": "check", "id": "cases/a.yaml::x / y [xml]", "verdict": "passed", "clauses": ["L-L2"]},
        {"event": "check", "id": "cases/a.yaml::x / z [xml]", "verdict": "failed",
         "clauses": ["L-L2"], "failed_clauses": ["L-L2", "L-T9"]},
        {"event": "check", "id": "cases/a.yaml::x / w [xml]", "verdict": "errored", "clauses": ["L-L2"]},
        {"event": "footer"},
    ]  # fmt: skip
    events.write_text("\n".join(json.dumps(line) for line in lines) + "\n{broken", encoding="utf-8")
    run = selftest.Run("clause")
    selftest._read_events(events, run)
    assert run.counts == {"passed": 1, "failed": 1, "errored": 1, "skipped": 0}
    assert run.failed == [selftest.FailedCheck("cases/a.yaml::x / z [xml]", ("L-L2", "L-T9"))]
    assert run.errored == ["cases/a.yaml::x / w [xml]"] and run.problem is None


def test_a_run_without_a_footer_tells_nothing(tmp_path: Path) -> None:
    events = tmp_path / "run.jsonl"
    events.write_text(json.dumps({"event": "header"}) + "\n", encoding="utf-8")
    run = selftest.Run("full")
    selftest._read_events(events, run)
    assert run.problem == "the run did not finish (no footer event)"
    missing = selftest.Run("full")
    selftest._read_events(tmp_path / "absent.jsonl", missing)
    assert missing.problem == "no events were written"


def test_only_a_failed_check_kills_a_fault() -> None:
    fault = REGISTRY["subject-bytes"]
    errored = selftest.Outcome(fault, [selftest.Run("clause", errored=["x"], counts={"errored": 1})])
    assert not errored.killed
    failed = selftest.Outcome(
        fault, [selftest.Run("full", failed=[selftest.FailedCheck("c", ("L-L2",))], counts={"failed": 1})]
    )
    assert failed.killed and failed.killed_at == "full" and failed.caught_clauses() == ["L-L2"]

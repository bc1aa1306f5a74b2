"""``conformance gate``: the exit code CI acts on, and the summary it prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from tests.report.runs import check, failed_code_check, write_run

FUTURE, PAST = "2999-12-31", "2000-01-01"


def gate(tmp_path: Path, capsys: pytest.CaptureFixture[str], checks: list[dict[str, Any]],
         waivers: str | None = None, **kwargs: Any) -> tuple[int, str]:
    run = write_run(tmp_path / "run.jsonl", checks, **kwargs)
    argv = ["gate", str(run)]
    if waivers is not None:
        (tmp_path / "waivers.yaml").write_text(waivers, encoding="utf-8")
        argv += ["--waivers", str(tmp_path / "waivers.yaml")]
    code = main(argv)
    out = capsys.readouterr()
    return code, (out.out + out.err).replace(str(tmp_path) + "/", "")


def clause_waiver(clause: str = "L-L2", expires: str = FUTURE) -> str:
    return f"- clause: {clause}\n  reason: vendor ticket 4711\n  owner: alice\n  expires: {expires}\n"


def test_a_passing_run_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = gate(tmp_path, capsys, [check("a"), check("b", "skipped", skip_kind="policy", reason="r")])
    assert code == 0
    assert out.splitlines()[0] == "conformance gate: conforms: 1 passed, 0 failed, 0 errored, 1 skipped"


def test_a_failure_exits_1_and_names_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = gate(tmp_path, capsys, [check("a"), failed_code_check()])
    assert code == 1
    assert out.splitlines() == [
        "conformance gate: does not conform: 1 passed, 1 failed, 0 errored, 0 skipped",
        "  1 failed check on 1 clause (MUST 1)",
        "  failed [L-L2] logInteraction.yaml::subject length limit / "
        "a subject of 81 characters is refused [xml]",
        "exit 1",
    ]


def test_errored_checks_alone_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = gate(tmp_path, capsys, [check("a"), check("b", "errored", reason="connection refused")])
    assert code == 3
    assert "incomplete: 1 check errored" in out
    assert "errored logInteraction.yaml::subject length limit / b [xml]: connection refused" in out


def test_a_failure_outranks_errored_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = gate(tmp_path, capsys, [failed_code_check(), check("b", "errored", reason="timeout")])
    assert code == 1


@pytest.mark.parametrize(("checks", "kwargs"), [
    ([], {}),
    ([check("a")], {"with_footer": False}),
])
def test_nothing_checked_or_an_unfinished_run_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], checks: list[dict[str, Any]], kwargs: dict[str, Any]
) -> None:
    assert gate(tmp_path, capsys, checks, **kwargs)[0] == 3


def test_a_broken_case_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run.jsonl", [check("a")], exit_status=2)
    lines = run.read_text().splitlines()
    broken = '{"event": "collect-error", "file": "bad.yaml", "message": "bad.yaml:3: unknown key"}'
    run.write_text("\n".join([lines[0], broken, *lines[1:]]) + "\n")
    assert main(["gate", str(run)]) == 1
    assert "  broken case file bad.yaml: bad.yaml:3: unknown key" in capsys.readouterr().out.splitlines()


def test_a_waived_failure_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = gate(tmp_path, capsys, [check("a"), failed_code_check()], clause_waiver())
    assert code == 0
    assert out.splitlines()[0] == ("conformance gate: conforms: 1 passed, 1 failed (1 waived), "
                                   "0 errored, 0 skipped")


def test_a_waived_failure_with_errored_checks_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checks = [failed_code_check(), check("b", "errored", reason="t")]
    code, _ = gate(tmp_path, capsys, checks, clause_waiver())
    assert code == 3


def test_an_expired_waiver_that_still_matches_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = gate(tmp_path, capsys, [failed_code_check()], clause_waiver(expires=PAST))
    assert code == 1
    assert ("  waivers.yaml:1: waiver of clause L-L2 expired on 2000-01-01 (owner alice); "
            "1 failure(s) no longer waived") in out.splitlines()


def test_a_stale_waiver_is_a_warning_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waivers = clause_waiver("L-L3", PAST) + clause_waiver("L-L5")
    code, out = gate(tmp_path, capsys, [check("a")], waivers)
    assert code == 0
    assert ("  warning: waivers.yaml:1: stale waiver of clause L-L3 "
            "(expired on 2000-01-01, matches no failure; remove it)") in out.splitlines()
    assert ("  warning: waivers.yaml:5: stale waiver of clause L-L5 "
            "(matches no failure; remove it)") in out.splitlines()


def test_a_broken_waiver_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waivers = "- clause: L-L2\n  reason: r\n  owner: o\n  expires: soon\n"
    code, out = gate(tmp_path, capsys, [check("a")], waivers)
    assert code == 2
    assert out == "conformance: waivers.yaml:4: 0.expires: 'soon' is not a date (expected YYYY-MM-DD)\n"


def test_a_missing_event_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gate", str(tmp_path / "nowhere.jsonl")]) == 2
    assert "nowhere.jsonl" in capsys.readouterr().err

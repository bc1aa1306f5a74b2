"""A suite run against a hostile target: every hostile answer is *errored*, with its
reason, the run goes on to the next check, and it ends in bounded time.

The run is a real one (``python -m pytest --target hostile.yaml`` in a subprocess)
over the case files in ``tests/hostile/cases``; the server is tests/hostile/server.py.
A merely malformed answer is the target *failing* its clause (L-T9, L-T10, K-T1).
"""

from __future__ import annotations

from pathlib import Path

from tests.hostile.conftest import hostile_profile
from tests.hostile.server import HostileServer
from tests.safety.run import SuiteRun, credentials_env, run_suite

CASES = Path(__file__).parent / "cases"

#: test description -> the words its errored reason must contain.
ERRORED = {
    "billion laughs": "declares entities in a DTD; refused to parse it",
    "an external entity naming a local file": "external reference ('file:///etc/passwd')",
    "an external entity naming a loopback URL": "/leak'); refused to parse it",
    "an external DTD at a loopback URL": "/leak.dtd'); refused to parse it",
    "a Content-Length far over the cap": "announced a 50,000,000-byte answer",
    "a chunked body without end": "sent more than the cap of 1,048,576 bytes",
    "a body without length that never closes": "sent more than the cap of 1,048,576 bytes",
    "a gzip bomb": "more than the cap of 1,048,576 bytes once decompressed",
    "half an answer and then silence": "stalled mid-answer: nothing for 1 s",
    "a body trickling a byte at a time": "did not finish its answer within the 2 s deadline",
    "a redirect to the same URL": "redirect loop",
    "JSON nested a hundred thousand levels deep": "nests arrays or objects too deeply",
    "a WSDL that redirects to itself": "redirect loop",
    "billion laughs in a SOAP answer": "the SOAP answer declares entities in a DTD",
    "an external entity in a SOAP answer": "external reference ('file:///etc/passwd')",
    "a loopback external entity in a SOAP answer": "/leak'); refused to parse it",
    "a SOAP answer far over the cap": "sent more than the cap of 1,048,576 bytes",
    "half a SOAP answer and then silence": "stalled mid-answer",
    "a SOAP answer redirecting to the same URL": "redirect loop",
}
#: test description -> (clause failed, words of the failure).
FAILED = {
    "XML that is not well-formed": ("L-T9", "not well-formed XML"),
    "XML that is not UTF-8": ("L-T9", "the body is not UTF-8"),
    "XML labelled text/html": ("L-T9", "'text/html' is not text/xml or application/xml"),
    "JSON labelled text/xml": ("L-T10", "'text/xml' is not application/json"),
    "a SOAP answer that is not well-formed": ("K-T1", "not well-formed XML"),
}
PASSED = (
    "an ordinary answer after the hostile ones",
    "an ordinary JSON answer after it",
    "an ordinary SOAP answer after the hostile ones",
)


def test_a_run_against_a_hostile_target(tmp_path: Path) -> None:
    """One run (so one xdist worker runs it), every expectation checked, all mismatches listed."""
    with HostileServer() as server:
        profile = hostile_profile(tmp_path, server)
        cases = [str(CASES / "luminate-hostile.yaml"), str(CASES / "kognitiv-hostile.yaml")]
        # run_suite's timeout is the time bound: a run that hangs fails here (TimeoutExpired).
        run = run_suite(tmp_path, profile, *cases, "-p", "no:xdist", env=credentials_env(profile, "hostile"))
        hits = dict(server.hits)
    problems = _errored(run) + _failed(run) + _went_on(run) + _sent_once(hits) + _evidence(run)
    assert problems == [], "\n".join(problems) + "\n" + run.output[-3000:]


def _errored(run: SuiteRun) -> list[str]:
    """Each hostile answer is errored, its reason in the events and on the terminal."""
    problems = []
    for test, words in ERRORED.items():
        event = run.check(test)
        if event["verdict"] != "errored" or words not in event.get("reason", ""):
            problems.append(f"{test}: {event['verdict']} {event.get('reason') or event.get('message')!r}")
        elif words not in run.stdout:
            problems.append(f"{test}: the reason is not on the terminal")
    return problems


def _failed(run: SuiteRun) -> list[str]:
    """Each malformed answer is the target failing its clause."""
    problems = []
    for test, (clause, words) in FAILED.items():
        event = run.check(test)
        named = [f for f in event.get("failures", []) if f["clause"] == clause and words in f["message"]]
        if event["verdict"] != "failed" or clause not in event["failed_clauses"] or not named:
            problems.append(f"{test}: {event['verdict']} {event.get('failures') or event.get('reason')}")
    return problems


def _went_on(run: SuiteRun) -> list[str]:
    """Every check ran, in order, and the ordinary ones after the hostile ones passed."""
    problems = [
        f"{test}: {run.check(test)['verdict']}" for test in PASSED if run.check(test)["verdict"] != "passed"
    ]
    expected = {"passed": len(PASSED), "failed": len(FAILED), "errored": len(ERRORED), "skipped": 0}
    if run.footer["counts"] != expected:
        problems.append(f"counts {run.footer['counts']} (expected {expected})")
    if run.returncode != 1:  # failures: the target does not conform
        problems.append(f"exit status {run.returncode}")
    return problems


def _sent_once(hits: dict[str, int]) -> list[str]:
    """No external entity was fetched; no hostile answer was asked for twice."""
    problems = [f"the external entity was fetched {hits['leak']} times"] if hits.get("leak") else []
    once = ["stall", "trickle", "redirect-loop", "declared-huge", "chunked-huge", "gzip-bomb", "wsdl-loop"]
    once += ["soap-redirect-loop", "soap-stall"]
    problems += [f"{s} was asked {hits.get(s, 0)} times" for s in once if hits.get(s, 0) != 1]
    return problems


def _evidence(run: SuiteRun) -> list[str]:
    """An errored check keeps what was sent and what arrived before it broke."""
    loop = run.check("a redirect to the same URL")["exchanges"][-1]
    stall = run.check("half an answer and then silence")["exchanges"][-1]
    problems = []
    if loop["status"] != 302 or not loop["response_headers"].get("location", "").endswith("/site/SRConsAPI"):
        problems.append(f"redirect loop exchange: {loop}")
    if stall["status"] != 200 or not stall["response_body"].startswith("<?xml"):  # the half that came
        problems.append(f"stall exchange: {stall}")
    return problems

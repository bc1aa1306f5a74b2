"""Against a deliberately wrong server, the matching cases fail with readable messages and
unrelated ones still pass; an unreachable server makes checks *errored*, not failed.

The wrong server is the reference app behind a few lines of middleware that break three
clauses the way real implementations do: a wrong error code, elements out of order, and
numbers where the JSON form has strings.  The suite sees it only over HTTP, through a
profile of its own (not embedded), exactly as it would see an implementer's build.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from conformance.profile import bundled_profile_path, load_profile, resolve_secrets
from conformance.reference.app import ReferenceApp
from conformance.reference.server import bind
from tests.engine.conftest import profile_copy, run_pytest_in


def wrong(request: bytes, body: bytes) -> bytes:
    """The three mistakes, applied to an answer of the reference."""
    if b"method=logInteraction" in request:  # L-L2: subject too long is code 23, not 30
        body = body.replace(b"<code>23</code>", b"<code>30</code>").replace(b'"code":"23"', b'"code":"30"')
    if b"<getInteractionResponse" in body:  # L-G4: <subject> comes after <note>
        body = re.sub(rb"(<note>.*</note>)(\s*)(<subject>[^<]*</subject>)", rb"\3\2\1", body, flags=re.S)
    if body.startswith(b'{"createOrUpdateConsResponse"'):  # L-C9: every JSON scalar is a string
        body = re.sub(rb'"cons_id":"(\d+)"', rb'"cons_id":\1', body)
    return body


class WrongApp:
    """ASGI middleware: the reference's answer, passed through :func:`wrong`."""

    def __init__(self, app: ReferenceApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request: list[bytes] = []
        start: dict[str, Any] = {}

        async def receive_and_keep() -> MutableMapping[str, Any]:
            message: MutableMapping[str, Any] = await receive()
            request.append(message.get("body", b""))
            return message

        async def send_wrong(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body = wrong(b"".join(request), message.get("body", b""))
            headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({**message, "body": body})

        await self.app(scope, receive_and_keep, send_wrong)


def test_the_middleware_breaks_exactly_what_it_says() -> None:
    note = b"<interaction><note><subject>s</subject><text>t</text></note>\n    <subject>s</subject><count>1"
    answer = b"<getInteractionResponse>" + note
    assert wrong(b"method=getInteraction", answer) == (
        b"<getInteractionResponse><interaction><subject>s</subject>\n    "
        b"<note><subject>s</subject><text>t</text></note><count>1"
    )
    assert (
        wrong(b"method=logInteraction", b'{"errorResponse":{"code":"23"}}')
        == b'{"errorResponse":{"code":"30"}}'
    )
    assert (
        wrong(b"method=logInteraction", b'{"errorResponse":{"code":"2"}}')
        == b'{"errorResponse":{"code":"2"}}'
    )
    assert wrong(b"", b'{"createOrUpdateConsResponse":{"cons_id":"7","message":"m"}}') == (
        b'{"createOrUpdateConsResponse":{"cons_id":7,"message":"m"}}'
    )
    assert wrong(b"", b'{"updateConsResponse":{"cons_id":"7"}}') == b'{"updateConsResponse":{"cons_id":"7"}}'


CASES = {
    "subject.yaml": """\
        cases:
          - description: subject length limit
            clauses: [L-L2]
            api: SRConsAPI
            setup:
              - constituent: alice
            tests:
              - description: a subject of 81 characters is refused with code 23
                request:
                  method: logInteraction
                  params:
                    cons_id: ${alice.cons_id}
                    interaction_subject: {repeat: "s", count: 81}
                expect:
                  error: 23
        """,
    "readback.yaml": """\
        cases:
          - description: getInteraction answer
            clauses: [L-G4]
            api: SRConsAPI
            formats: [xml]
            setup:
              - constituent: alice
              - interaction: first
                for: ${alice.cons_id}
                body: a body
            tests:
              - description: a logged interaction reads back
                request:
                  method: getInteraction
                  params: {cons_id: "${alice.cons_id}", interaction_id: "${first.interaction_id}"}
                expect:
                  root: getInteractionResponse
                  fields:
                    interaction/subject: ${first.subject}
        """,
    "create.yaml": """\
        cases:
          - description: createOrUpdate answer
            clauses: [L-C9]
            api: SRConsAPI
            formats: [json]
            tests:
              - description: a new email creates a record
                request:
                  method: createOrUpdate
                  params: {primary_email: "${check.email}"}
                expect:
                  root: createOrUpdateConsResponse
        """,
    "unrelated.yaml": """\
        cases:
          - description: subject at the limit
            clauses: [L-L2]
            api: SRConsAPI
            setup:
              - constituent: alice
            tests:
              - description: a subject of 80 characters is accepted
                request:
                  method: logInteraction
                  params:
                    cons_id: ${alice.cons_id}
                    interaction_subject: {repeat: "s", count: 80}
                expect:
                  root: updateConsResponse
                  fields:
                    cons_id: ${alice.cons_id}
        """,
}
FILES = list(CASES)


class Served:
    """An ASGI app on uvicorn, on a free loopback port, in a daemon thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self._sock = bind("127.0.0.1", 0)
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> Served:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "the wrong server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


class Run:
    def __init__(self, result: subprocess.CompletedProcess[str], events: Path) -> None:
        self.result = result
        self.output = result.stdout + result.stderr
        lines = events.read_text(encoding="utf-8").splitlines()
        self.checks = {e["id"]: e for e in map(json.loads, lines) if e["event"] == "check"}

    def verdicts(self) -> dict[str, str]:
        return {nodeid: e["verdict"] for nodeid, e in self.checks.items()}

    def headline(self, start: str) -> str:
        """The one failure line that starts with ``start`` (how a failure is named)."""
        found = [line for line in self.output.splitlines() if line.startswith(start)]
        assert len(found) == 1, f"no single line starts with {start!r}:\n{self.output}"
        return found[0]


def _write_cases(directory: Path) -> None:
    import textwrap

    for name, text in CASES.items():
        (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture(scope="module")
def against_wrong_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    directory = tmp_path_factory.mktemp("wrong")
    _write_cases(directory)
    profile = load_profile(bundled_profile_path())
    secrets = resolve_secrets(profile, {}, generate_missing=True)
    app = ReferenceApp(profile, secrets)
    try:
        with Served(WrongApp(app)) as served:
            target = profile_copy(directory / "wrong.yaml", base=served.base_url, embedded=False)
            events = directory / "events.jsonl"
            result = run_pytest_in(
                directory,
                *FILES,
                "--target",
                str(target),
                "-q",
                "-rA",
                f"--events={events}",
                env=secrets.environ(),
            )
    finally:
        app.db.close()
    yield Run(result, events)


def test_the_wrong_server_fails_the_run(against_wrong_server: Run) -> None:
    assert against_wrong_server.result.returncode == 1, against_wrong_server.output


def test_each_matching_case_fails_and_the_unrelated_one_passes(against_wrong_server: Run) -> None:
    subject = "subject.yaml::subject length limit / a subject of 81 characters is refused with code 23"
    unrelated = "unrelated.yaml::subject at the limit / a subject of 80 characters is accepted"
    assert against_wrong_server.verdicts() == {
        f"{subject} [xml]": "failed",
        f"{subject} [json]": "failed",
        "readback.yaml::getInteraction answer / a logged interaction reads back [xml]": "failed",
        "create.yaml::createOrUpdate answer / a new email creates a record [json]": "failed",
        f"{unrelated} [xml]": "passed",
        f"{unrelated} [json]": "passed",
    }
    summary = [
        line for line in against_wrong_server.output.splitlines() if line.startswith(("PASSED", "FAILED"))
    ]
    assert sorted(line.split()[0] for line in summary) == ["FAILED"] * 4 + ["PASSED"] * 2
    assert all(("PASSED" in line) == line.startswith("PASSED unrelated.yaml::") for line in summary)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_wrong_error_code_fails_naming_the_code(against_wrong_server: Run, fmt: str) -> None:
    start = f"POST SRConsAPI logInteraction [L-L2] {fmt}: "
    assert against_wrong_server.headline(start) == f"{start}/errorResponse/code: '30' is not code 23"


def test_a_wrong_element_order_fails_naming_the_element(against_wrong_server: Run) -> None:
    headline = against_wrong_server.headline("POST SRConsAPI getInteraction [L-G4] xml: ")
    assert headline == (
        "POST SRConsAPI getInteraction [L-G4] xml: /getInteractionResponse/interaction/note:"
        " 'note' is out of order (expected 'count')"
    )
    event = against_wrong_server.checks[
        "readback.yaml::getInteraction answer / a logged interaction reads back [xml]"
    ]
    assert {"L-G4", "L-T9"} <= set(event["failed_clauses"])


def test_a_number_in_json_fails_naming_the_json_path(against_wrong_server: Run) -> None:
    headline = against_wrong_server.headline("POST SRConsAPI createOrUpdate [L-C9] json: ")
    assert headline.startswith(
        "POST SRConsAPI createOrUpdate [L-C9] json: $.createOrUpdateConsResponse.cons_id: "
    )
    assert re.search(r"cons_id: [1-9][0-9]* is not of type 'string'", headline), headline
    event = against_wrong_server.checks[
        "create.yaml::createOrUpdate answer / a new email creates a record [json]"
    ]
    assert {"L-C9", "L-T10"} <= set(event["failed_clauses"])


def test_the_same_cases_pass_against_the_reference(tmp_path: Path) -> None:
    # The control: the failures above are the wrong server's, not the cases'.
    _write_cases(tmp_path)
    result = run_pytest_in(tmp_path, *FILES, "--conformance", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_an_unreachable_target_is_errored_not_failed(tmp_path: Path) -> None:
    _write_cases(tmp_path)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: connections are refused at once
    target = profile_copy(tmp_path / "closed.yaml", base=f"http://127.0.0.1:{port}")
    profile = load_profile(target)
    secrets = resolve_secrets(profile, {}, generate_missing=True)
    events = tmp_path / "events.jsonl"

    result = run_pytest_in(
        tmp_path,
        "create.yaml",
        "unrelated.yaml",
        "--target",
        str(target),
        "-v",
        f"--events={events}",
        env=secrets.environ(),
    )

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    statuses = re.findall(r"\.yaml::.* (PASSED|FAILED|ERRORED) +\[", result.stdout)
    assert statuses == ["ERRORED"] * 3, output
    assert "FAILED" not in output and "3 errored" in output
    run = Run(result, events)
    assert set(run.verdicts().values()) == {"errored"}
    reason = f"cannot connect to 127.0.0.1:{port}: connection refused"
    for nodeid, event in run.checks.items():
        assert event["reason"].startswith(reason)
        # The reason is on screen too, not only in the event stream.
        assert f"ERRORED {nodeid} - {reason}" in output

"""Each property catches a server that breaks it.

A wrong server is the reference behind a small ASGI middleware that makes one mistake
(truncates subjects, reverses the identifier precedence, drops a JSON field, answers
errors with HTTP 200, ...).  It is served with uvicorn on a free port, described by a
profile file (not embedded, the secrets it was built with in environment variables),
and the property module runs against it in a subprocess, exactly as a user would run it
against their own build.  The run must fail and print hypothesis's shrunk example.

All wrong servers start together and their subprocesses run in parallel (one module
fixture).  Each run uses the quick budget and a fixed seed, so it is reproducible.
The quick budget finds a mistake with high odds, not certainty: with seeds 1 to 5,
49 of the 50 runs caught theirs (seed 2 did not meet an unknown account together with
a wrong location in the Kognitiv property's 30 examples); seed 1 catches all ten.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import yaml

from conformance.profile import Profile, Secrets, bundled_profile_path, load_profile, resolve_secrets
from conformance.reference.app import ReferenceApp
from conformance.reference.server import bind

REPO = Path(__file__).resolve().parents[2]
PROPERTIES = REPO / "cases" / "properties"
SEED = 1
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Pairs = list[tuple[str, str]]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


# ---- the mistakes ------------------------------------------------------------------


def _truncate_subject(pairs: Pairs) -> Pairs:
    # Stores at most 60 characters and still refuses 81 or more: only read-back shows it.
    return [(k, v[:60] if k == "interaction_subject" and len(v) <= 80 else v) for k, v in pairs]


def _lowest_identifier_decides(pairs: Pairs) -> Pairs:
    if dict(pairs).get("method") not in ("logInteraction", "getInteraction"):
        return pairs
    names = [n for n in ("cons_id", "member_id", "primary_email") if any(k == n and v for k, v in pairs)]
    return [(k, v) for k, v in pairs if k not in names[:-1]]


def _email_searched_first(pairs: Pairs) -> Pairs:
    given = dict(pairs)
    if given.get("method") == "createOrUpdate" and given.get("primary_email"):
        return [(k, v) for k, v in pairs if k not in ("cons_id", "member_id")]
    return pairs


def _strip_forbidden(pairs: Pairs) -> Pairs:
    return [(k, FORBIDDEN.sub("", v)) for k, v in pairs]


def _unparsable_numbers_ignored(pairs: Pairs) -> Pairs:
    numeric = ("interaction_type_id", "interaction_cat_id", "interaction_count")
    return [(k, v) for k, v in pairs if not (k in numeric and not v.isdigit())]


def _logout_keeps_token(pairs: Pairs) -> Pairs:
    if dict(pairs).get("method") == "logout":
        return [(k, v) for k, v in pairs if k != "auth"]
    return pairs


def _drop_json_field(status: int, body: bytes, content_type: str) -> tuple[int, bytes]:
    """The first object with two or more members loses its last one."""
    if not content_type.startswith("application/json"):
        return status, body
    doc = json.loads(body)

    def prune(node: Any) -> bool:
        if isinstance(node, dict):
            if len(node) >= 2:
                node.pop(list(node)[-1])
                return True
            return any(prune(v) for v in node.values())
        if isinstance(node, list):
            return any(prune(v) for v in node)
        return False

    prune(doc)
    return status, json.dumps(doc).encode()


def _errors_200(status: int, body: bytes, content_type: str) -> tuple[int, bytes]:
    return (200 if status == 403 else status), body


def _failure_id_0(status: int, body: bytes, content_type: str) -> tuple[int, bytes]:
    return status, body.replace(b"<InteractionId>-1</InteractionId>", b"<InteractionId>0</InteractionId>")


@dataclass(frozen=True)
class Mistake:
    name: str
    module: str
    select: str  # pytest -k expression: the property that must catch it
    request: Callable[[Pairs], Pairs] | None = None
    response: Callable[[int, bytes, str], tuple[int, bytes]] | None = None
    location_before_account: bool = False


MISTAKES = (
    Mistake("subject truncated", "interaction", "texts_read_back", request=_truncate_subject),
    Mistake("unparsable numbers ignored", "interaction", "numeric", request=_unparsable_numbers_ignored),
    Mistake("forbidden characters stored", "interaction", "forbidden", request=_strip_forbidden),
    Mistake("precedence reversed", "lookup", "identifiers_decide", request=_lowest_identifier_decides),
    Mistake("email searched first", "lookup", "create_or_update", request=_email_searched_first),
    Mistake("JSON field dropped", "transport", "same_data", response=_drop_json_field),
    Mistake("errors with HTTP 200", "transport", "error_response", response=_errors_200),
    Mistake("InteractionId 0 on failure", "kognitiv", "check_order", response=_failure_id_0),
    Mistake("location checked before account", "kognitiv", "check_order", location_before_account=True),
    Mistake("logout keeps the token", "stateful", "ApiModel", request=_logout_keeps_token),
)


class WrongServer:
    """The reference with one mistake, on uvicorn in a thread (port 0)."""

    def __init__(self, mistake: Mistake, profile: Profile, secrets: Secrets) -> None:
        import uvicorn

        self.mistake = mistake
        self.inner = ReferenceApp(profile, secrets)
        self.location = profile.kognitiv.location if profile.kognitiv else ""
        self._sock = bind("127.0.0.1", 0)
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(self, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> WrongServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the wrong server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        self.inner.db.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if self.mistake.request is not None and body:
            pairs = parse_qsl(body.decode("utf-8", "surrogateescape"), keep_blank_values=True)
            body = urlencode(self.mistake.request(pairs)).encode("ascii")
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.inner(scope, replay, capture)
        status, answer = start["status"], b"".join(chunks)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        content_type = dict(headers).get(b"content-type", b"").decode("latin-1")
        if self.mistake.response is not None:
            status, answer = self.mistake.response(status, answer, content_type)
        if self.mistake.location_before_account:
            answer = self._location_first(body, answer)
        headers.append((b"content-length", str(len(answer)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    def _location_first(self, request: bytes, answer: bytes) -> bytes:
        """An unknown account with a wrong location is reported as the location (503)."""
        wrong_account = b"<ReturnCode>300</ReturnCode>" in answer
        right_location = f"<LocationExternalReference>{self.location}<".encode() in request
        if wrong_account and not right_location:
            return answer.replace(b"<ReturnCode>300</ReturnCode>", b"<ReturnCode>503</ReturnCode>")
        return answer


# ---- running a property module against a wrong server ------------------------------------


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str


def _profile_file(server: WrongServer, directory: Path) -> Path:
    data = yaml.safe_load(bundled_profile_path().read_text(encoding="utf-8"))
    data["name"] = "wrong-" + re.sub("[^a-z0-9]+", "-", server.mistake.name)
    data["description"] = f"The reference with one mistake: {server.mistake.name}."
    data["embedded"] = False
    data["luminate"]["site"] = server.base_url + "/site"
    data["kognitiv"]["service"] = server.base_url + "/Services/Interaction.asmx"
    path = directory / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _run(mistake: Mistake, profile: Path, env: dict[str, str]) -> Run:
    command = [
        sys.executable, "-m", "pytest", str(PROPERTIES / f"test_properties_{mistake.module}.py"),
        "--target", str(profile), "-p", "no:cacheprovider", "-p", "no:xdist", "--budget", "quick",
        f"--hypothesis-seed={SEED}", "-k", mistake.select, "-q", "--no-header",
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=REPO, timeout=300, check=False
    )
    return Run(done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    profile = load_profile(bundled_profile_path())
    secrets = resolve_secrets(profile, {}, generate_missing=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CONFORMANCE_"))}
    env.update(secrets.environ())
    directory = tmp_path_factory.mktemp("wrong-servers")
    servers = [WrongServer(m, profile, secrets).start() for m in MISTAKES]
    try:
        with ThreadPoolExecutor(max_workers=len(MISTAKES)) as pool:
            profiles = [_profile_file(server, directory) for server in servers]
            futures = {
                s.mistake.name: pool.submit(_run, s.mistake, path, env)
                for s, path in zip(servers, profiles, strict=True)
            }
            yield {name: future.result() for name, future in futures.items()}
    finally:
        for server in servers:
            server.stop()


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_property_catches(mistake: Mistake, runs: dict[str, Run]) -> None:
    run = runs[mistake.name]
    tail = run.output[-3000:]
    assert run.returncode == 1, f"the property passed against a server with {mistake.name!r}:\n{tail}"
    # Hypothesis calls the shrunk example "Falsifying example" up to 6.15x and
    # "Failing test case" in later releases; either is the minimal example.
    shrunk = ("Falsifying example", "Failing test case")
    assert any(s in run.output for s in shrunk), f"no shrunk example in the output:\n{tail}"
    assert "--hypothesis-seed=" in run.output, f"no replay command in the output:\n{tail}"

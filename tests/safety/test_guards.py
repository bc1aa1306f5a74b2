"""The guards around every request: budget, rate, hosts, writes, timeouts, retries.

In-process, against the hostile fake target (tests/hostile/server.py) and with a fake
clock for the rate: what is asserted is counts and order, never how long anything took.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3.util.connection

from conformance.outcome import CheckErrored, CheckSkipped
from conformance.plan import HOST_NOT_LISTED, WRITES_FORBIDDEN
from conformance.profile import load_profile, resolve_secrets
from conformance.redaction import Redactor
from conformance.target import WORKER_SPAN, Target, worker_share
from conformance.transport import CONNECT_RETRIES, HttpClient, RequestBudget, write_named
from tests.hostile.server import HostileServer
from tests.safety.run import write_profile

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class FakeClock:
    """A monotonic clock that moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


def client(**kwargs: Any) -> HttpClient:
    return HttpClient(Redactor(), connect_timeout=1, read_timeout=1, **kwargs)


def post(http: HttpClient, server: HostileServer, scenario: str, method: str = "getUser") -> int:
    body = f"method={method}&scenario={scenario}".encode()
    return http.send("POST", f"{server.base_url}/site/SRConsAPI", body, FORM).status


# -- the rate ------------------------------------------------------------------------


def test_the_rate_spaces_requests_one_interval_apart() -> None:
    clock = FakeClock()
    budget = RequestBudget(None, 4.0, clock=clock.clock, sleep=clock.sleep)
    slots = [budget.take("getUser") for _ in range(5)]
    assert slots == [100.0, 100.25, 100.5, 100.75, 101.0]
    assert clock.slept == [0.25, 0.5, 0.75, 1.0]  # each waits for its own slot


def test_the_rate_spaces_concurrent_requests_too() -> None:
    clock = FakeClock()
    budget = RequestBudget(None, 10.0, clock=clock.clock, sleep=clock.sleep)
    slots: list[float] = []
    lock = threading.Lock()

    def send_four() -> None:
        for _ in range(4):
            slot = budget.take("logInteraction")
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=send_four) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 64 requests, 64 distinct slots a tenth of a second apart, whatever the order.
    assert sorted(round((s - 100.0) * 10, 6) for s in slots) == list(range(64))
    assert budget.by_method == {"logInteraction": 64}


def test_an_idle_client_does_not_burst_to_catch_up() -> None:
    clock = FakeClock()
    budget = RequestBudget(None, 1.0, clock=clock.clock, sleep=clock.sleep)
    budget.take("a")
    clock.now = 500.0
    assert budget.take("b") == 500.0
    assert budget.take("c") == 501.0


def test_without_a_rate_nothing_waits() -> None:
    clock = FakeClock()
    budget = RequestBudget(None, None, clock=clock.clock, sleep=clock.sleep)
    assert [budget.take("x") for _ in range(3)] == [100.0, 100.0, 100.0]
    assert clock.slept == []


# -- the budget ----------------------------------------------------------------------


def test_the_budget_stops_further_requests(server: HostileServer) -> None:
    http = client(budget=RequestBudget(2, None))
    assert post(http, server, "ok") == 403
    assert post(http, server, "ok") == 403
    with pytest.raises(CheckErrored, match=r"request budget of 2 requests is spent"):
        post(http, server, "ok")
    assert server.count("ok") == 2  # the third never left


def test_xdist_workers_share_the_budget_and_the_rate(tmp_path: Path) -> None:
    profile = load_profile(write_profile(tmp_path, "shared", request_budget=10, rate_limit_per_second=6))
    secrets = resolve_secrets(profile, {}, generate_missing=True)
    targets = [Target(profile, secrets, "run", worker=i, workers=3) for i in range(3)]
    assert [t.budget.budget for t in targets] == [4, 3, 3]
    assert sum(worker_share(10, i, 3) or 0 for i in range(3)) == 10
    assert all(t.budget.interval == pytest.approx(0.5) for t in targets)  # 6/s in all
    assert [t.unique() for t in targets] == [1, WORKER_SPAN + 1, 2 * WORKER_SPAN + 1]


def test_a_budget_smaller_than_the_workers_is_not_exceeded() -> None:
    assert [worker_share(2, i, 4) for i in range(4)] == [1, 1, 0, 0]
    assert worker_share(None, 0, 4) is None


# -- hosts and writes ----------------------------------------------------------------


def _target(tmp_path: Path, **changes: Any) -> Target:
    profile = load_profile(write_profile(tmp_path, "guarded", **changes))
    return Target(profile, resolve_secrets(profile, {}, generate_missing=True), "run")


def test_writes_go_only_to_declared_hosts(tmp_path: Path) -> None:
    assert _target(tmp_path).host_allowed()  # 127.0.0.1 is listed
    assert _target(tmp_path, hosts=["LOCALHOST", "127.0.0.1"]).host_allowed()
    assert not _target(tmp_path, hosts=["staging.example.org"]).host_allowed()
    assert not _target(tmp_path, hosts=[]).host_allowed()
    assert _target(tmp_path).write_refusal() is None
    assert _target(tmp_path, hosts=["staging.example.org"]).write_refusal() == HOST_NOT_LISTED
    assert _target(tmp_path, writes="forbidden").write_refusal() == WRITES_FORBIDDEN


@pytest.mark.parametrize(
    ("url", "body", "headers", "write"),
    [
        ("http://h/site/SRConsAPI", b"method=logInteraction&v=1.0", {}, "logInteraction"),
        ("http://h/site/SRConsAPI", b"v=1.0&method=CREATEORUPDATE", {}, "CREATEORUPDATE"),
        ("http://h/site/CRConsAPI?method=logInteraction", b"", {}, "logInteraction"),
        ("http://h/Services/Interaction.asmx", b"<RecordInteraction xmlns='x'/>", {}, "RecordInteraction"),
        (
            "http://h/Services/Interaction.asmx",
            b"<x/>",
            {"SOAPAction": '"x/RecordInteraction"'},
            "RecordInteraction",
        ),
        ("http://h/site/SRConsAPI", b"method=getUser&cons_id=1", {}, None),
        ("http://h/Services/Interaction.asmx?WSDL", b"", {}, None),
    ],
)
def test_what_counts_as_a_write(url: str, body: bytes, headers: dict[str, str], write: str | None) -> None:
    assert write_named(url, body, headers) == write


def test_a_refused_write_never_leaves_the_process(server: HostileServer) -> None:
    http = client(refuse_writes=WRITES_FORBIDDEN)
    with pytest.raises(CheckSkipped, match="writes: forbidden") as skipped:
        post(http, server, "ok", method="logInteraction")
    assert skipped.value.policy
    assert post(http, server, "ok", method="getUser") == 403  # reads still go
    assert server.count("ok") == 1


# -- timeouts and retries ------------------------------------------------------------


def test_every_request_carries_both_timeouts(server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    http = client()
    seen: list[Any] = []
    original: Callable[..., Any] = http.session.request

    def request(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("timeout"))
        return original(*args, **kwargs)

    monkeypatch.setattr(http.session, "request", request)
    post(http, server, "ok")
    http.send("GET", f"{server.base_url}/Services/Interaction.asmx?scenario=ok")
    assert seen == [(1, 1), (1, 1)]


def test_a_silent_target_is_errored_by_the_read_timeout(server: HostileServer) -> None:
    with pytest.raises(CheckErrored, match=r"sent no answer within 1 s \(read timeout\)"):
        post(client(), server, "silent")


def test_an_answer_is_never_retried(server: HostileServer) -> None:
    http = client()
    assert post(http, server, "500-once") == 500
    assert server.count("500-once") == 1
    assert post(http, server, "500-once") == 403  # the next request is a new one


def test_a_connection_broken_after_the_request_is_not_retried(server: HostileServer) -> None:
    # The target may have acted on the request (a write): sending it again could
    # write twice, so a read error is errored at once.
    with pytest.raises(CheckErrored, match="closed the connection without an answer"):
        post(client(), server, "hang-up", method="logInteraction")
    assert server.count("hang-up") == 1


def test_a_closed_port_is_retried_then_errored(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    attempts: list[object] = []
    original = urllib3.util.connection.create_connection

    def counted(*args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counted)
    # Bound but not listening: connections are refused, and no one else gets the port.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with pytest.raises(CheckErrored, match=rf"cannot connect to 127.0.0.1:{port}: connection refused"):
            client().send("POST", f"http://127.0.0.1:{port}/site/SRConsAPI", b"method=getUser", FORM)
    assert len(attempts) == CONNECT_RETRIES + 1


# -- the budget in a real run --------------------------------------------------------


def test_a_run_stops_at_its_request_budget_across_workers(tmp_path: Path) -> None:
    """Two xdist workers share a budget of 6: at most 6 requests reach the target."""
    from conformance.resources import cases_dir
    from tests.safety.run import run_suite

    profile = write_profile(tmp_path, "budgeted", request_budget=6)
    run = run_suite(tmp_path, profile, str(cases_dir() / "logInteraction.yaml"), "-n", "2", probe=True)
    spent = [e for e in run.checks if "request budget of" in e.get("reason", "")]
    received = run.received()
    print(f"budget 6: {len(run.checks)} checks, {len(spent)} errored on the budget; received {received}")
    assert sum(received.values()) <= 6
    assert spent and all(e["verdict"] == "errored" for e in spent)
    assert all("requests is spent (profile request_budget)" in e["reason"] for e in spent)
    assert "requests is spent (profile request_budget)" in run.stdout
    counts = run.footer["counts"]
    assert counts["passed"] + counts["failed"] <= 6  # a check that ran to its end sent a request

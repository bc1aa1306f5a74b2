"""The suite's own cost, side by side in one run:

* harness overhead: the full suite against the embedded reference beside a plain
  ``requests`` loop that sends exactly the requests the suite sent (captured inside the
  reference by bench_recorder.py, before redaction), to a fresh reference in the same
  process layout (server thread beside the client); the ratio is the figure;
* full-suite wall time, serial and with ``-n 2`` (pytest-xdist);
* start-up: from the moment the pytest process is started to the moment the reference
  receives its first request (collection, profile, server start, first setup call).

Figures are printed, never asserted: they depend on the machine and on what else runs.

    python bench/suite.py [--skip-parallel]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets as random_secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from conformance.profile import Secrets, bundled_profile_path, load_profile
from conformance.reference.server import ReferenceServer
from conformance.resources import cases_dir

BENCH = Path(__file__).resolve().parent
#: Headers the replay leaves to requests itself: they describe the connection, not the call.
HOP_HEADERS = frozenset({"host", "content-length", "connection", "accept-encoding", "user-agent", "accept"})
_TOKEN = re.compile(r'<token>([^<]+)</token>|"token"\s*:\s*"([^"]+)"')


@dataclass
class SuiteRun:
    wall_s: float
    started: float  # time.time() just before the process was started
    exit_status: int
    summary: str


def generated_secrets() -> dict[str, str]:
    """One value per credential of the bundled profile, shared by suite and replay."""
    profile = load_profile(bundled_profile_path())
    return {cred.env: random_secrets.token_urlsafe(18) for cred in profile.credentials()}


def run_suite(env: dict[str, str], extra: list[str]) -> SuiteRun:
    command = [
        sys.executable, "-m", "pytest", str(cases_dir()), "--target", "reference",
        "-q", "-p", "no:cacheprovider", "--rootdir", str(cases_dir().parent), "-c", os.devnull, *extra,
    ]  # fmt: skip
    started = time.time()
    t0 = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    lines = done.stdout.strip().splitlines()
    return SuiteRun(wall, started, done.returncode, lines[-1] if lines else done.stderr.strip()[-200:])


def load_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _tokens(text: str | None) -> list[str]:
    if not text:
        return []
    return [a or b for a, b in _TOKEN.findall(text)]


def replay(
    records: list[dict[str, Any]], values: dict[str, str], transport: bool = False
) -> tuple[float, int]:
    """Send the recorded requests to a fresh reference; (seconds, answers that differ).

    ``transport`` sends them through the suite's own HTTP client (deadline, budget, body
    cap, exchange record) instead of a bare ``requests`` session, which splits the
    harness overhead into what the transport costs and what the rest of the run costs.

    Session tokens are random per server: a token the suite learnt from a login answer
    is replaced by the one the replayed login answered, so later calls authenticate the
    same way.  Everything else (run ids, emails, cons_ids) replays verbatim against the
    fresh database, which hands out the same ids in the same order.
    """
    from conformance.redaction import Redactor
    from conformance.transport import HttpClient

    profile = load_profile(bundled_profile_path())
    with ReferenceServer(profile, Secrets(values)) as server:
        session = requests.Session()
        client = HttpClient(Redactor(list(values.values())))
        prepared = []
        for record in records:
            headers = {k: v for k, v in record["headers"] if k.lower() not in HOP_HEADERS}
            query = f"?{record['query']}" if record["query"] else ""
            body = base64.b64decode(record["body"])
            prepared.append((record, server.base_url + record["path"] + query, headers, body))
        mapping: dict[str, str] = {}
        differ = 0
        t0 = time.perf_counter()
        for record, recorded_url, headers, recorded_body in prepared:
            url, body = recorded_url, recorded_body
            for old, new in mapping.items():
                url, body = url.replace(old, new), body.replace(old.encode(), new.encode())
            if transport:
                answer = client.send(record["method"], url, body, headers)
                status, text = answer.status, answer.body.decode("utf-8", "replace")
            else:
                response = session.request(
                    record["method"], url, data=body, headers=headers, allow_redirects=False
                )
                status, text = response.status_code, response.text
            if status != record["status"]:
                differ += 1
            if record["answer"]:
                for old, new in zip(_tokens(record["answer"]), _tokens(text), strict=False):
                    mapping[old] = new
        seconds = time.perf_counter() - t0
    return seconds, differ


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--skip-parallel", action="store_true", help="leave out the -n 2 run")
    args = parser.parse_args()

    values = generated_secrets()
    env = {**os.environ, **values}
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        record = Path(tmp) / "requests.jsonl"
        recorded_env = {
            **env,
            "BENCH_RECORD": str(record),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH", "")])),
        }
        print("full suite with the request recorder ...", flush=True)
        recorded = run_suite(recorded_env, ["-p", "bench_recorder"])
        records = load_records(record)
        print(f"replaying {len(records)} requests with a plain requests loop ...", flush=True)
        loop_s, differ = replay(records, values)
        transport_s, _ = replay(records, values, transport=True)
    print("full suite, serial ...", flush=True)
    serial = run_suite(env, [])
    parallel = None if args.skip_parallel else run_suite(env, ["-n", "2"])

    first, last = records[0]["t"], records[-1]["t"]
    active = last - first
    rows = [
        ("suite, serial (recorded run)", f"{recorded.wall_s:7.1f} s", recorded.summary),
        ("  of which requests in flight", f"{active:7.1f} s", "first to last request at the reference"),
        ("plain requests loop, same requests", f"{loop_s:7.1f} s",
         f"{len(records)} requests; {differ} answered another status than in the suite"),
        ("the suite's HTTP client, same requests", f"{transport_s:7.1f} s",
         f"transport alone: {transport_s / loop_s:.2f} x the plain loop"),
        ("harness overhead (whole run)", f"{recorded.wall_s / loop_s:7.2f} x", "suite wall time / loop time"),
        ("harness overhead (requests phase)", f"{active / loop_s:7.2f} x", "aim: 1.3 or less"),
        ("suite, serial", f"{serial.wall_s:7.1f} s", serial.summary),
    ]  # fmt: skip
    if parallel is not None:
        rows.append(("suite, -n 2", f"{parallel.wall_s:7.1f} s", parallel.summary))
    startup = first - recorded.started
    rows.append(("start-up to first request", f"{startup:7.2f} s", "process start to the reference"))
    print()
    print(f"{'figure':40} {'value':>9}  note")
    for name, value, note in rows:
        print(f"{name:40} {value:>9}  {note}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n(load average at the end: {load:.1f} on {os.cpu_count()} CPUs; other work skews every figure)")


if __name__ == "__main__":
    main()

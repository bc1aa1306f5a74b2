"""Throughput of the reference server: logInteraction and getInteraction beside a bare
"hello" endpoint of the same stack (uvicorn + the same ASGI app), measured in one run.

The ratio is the figure (absolute numbers drift from machine to machine): the issue
asks for the API calls to reach at least half of the bare endpoint's rate. Clients
are stdlib ``http.client`` keep-alive connections in separate processes, because a
``requests`` session in this process costs about 0.8 ms per call (measurements.md)
and would measure the client instead of the server.

    python bench/reference_throughput.py [--seconds 3] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import time
from urllib.parse import urlencode, urlsplit

import requests

from conformance.profile import bundled_profile_path, load_profile, resolve_secrets
from conformance.reference.server import ReferenceServer


def _client(url: str, body: bytes, seconds: float, out: multiprocessing.Queue[int]) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    count = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        conn.request("POST", parts.path, body, headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")
        count += 1
    conn.close()
    out.put(count)


def measure(url: str, body: bytes, seconds: float, clients: int) -> float:
    """Calls per second from ``clients`` keep-alive client processes."""
    out: multiprocessing.Queue[int] = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_client, args=(url, body, seconds, out)) for _ in range(clients)]
    for p in procs:
        p.start()
    total = sum(out.get(timeout=seconds + 30) for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()

    profile = load_profile(bundled_profile_path())
    secrets = resolve_secrets(profile, {}, generate_missing=True)
    with ReferenceServer(profile, secrets) as server:
        lo = server.profile.luminate
        assert lo is not None
        url = lo.servlet_url("SRConsAPI")
        base = {
            "api_key": secrets[lo.api_key], "v": "1.0",
            "login_name": secrets[lo.api_admin.login_name],
            "login_password": secrets[lo.api_admin.login_password],
        }
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        cons_id = lo.constituent.cons_id if lo.constituent else "1000010"
        log_body = urlencode({**base, "method": "logInteraction", "cons_id": cons_id,
                              "interaction_subject": "bench", "interaction_body": "b" * 200})
        first = requests.post(url, data=log_body, headers=form, timeout=10)
        first.raise_for_status()
        iid = first.text.split("<interaction_id>")[1].split("<")[0]
        get_body = urlencode({**base, "method": "getInteraction", "cons_id": cons_id, "interaction_id": iid})
        hello = server.base_url + "/hello"
        rows = []
        for name, target, body in (("hello (bare endpoint)", hello, b"x"),
                                   ("logInteraction", url, log_body.encode()),
                                   ("getInteraction", url, get_body.encode())):
            rows.append((name, measure(target, body, args.seconds, args.clients)))
    bare = rows[0][1]
    print(f"reference throughput, {args.clients} keep-alive client processes x {args.seconds:g} s each")
    print(f"{'endpoint':24} {'calls/s':>9} {'vs bare':>8}")
    for name, rate in rows:
        print(f"{name:24} {rate:9.0f} {rate / bare:8.2f}")


if __name__ == "__main__":
    main()

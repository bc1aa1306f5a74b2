"""The embedded reference under load: many clients at once, malformed calls among them.

16 threads start together (a barrier) and each, over its own keep-alive connection:
creates-or-updates every one of a few shared emails (so creates of one new email race
each other), logs interactions on the records it got, and slips in malformed calls
(a body that is not UTF-8, a body over the size cap, a subject with a character XML
forbids) aimed at the same records.  Afterwards the records must say exactly what the
well-formed calls did: one record per email, every interaction there once, ids unique,
and nothing from the malformed calls.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from lxml import etree

from conformance.reference.server import ReferenceServer

NS = "http://convio.com/crm/v1.0"
THREADS = 16
EMAILS = 6  # shared by every thread: each is created by whichever thread comes first
LOGS_PER_THREAD = 12
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
OVERSIZE = 1_048_576 + 4096  # over the reference's body cap


@dataclass
class Tally:
    """What the well-formed calls of one thread did, and how every call was answered."""

    cons_ids: dict[str, list[str]] = field(default_factory=dict)  # email -> cons_id per call
    logged: list[tuple[str, str]] = field(default_factory=list)  # (cons_id, interaction_id)
    answers: Counter[str] = field(default_factory=Counter)  # "kind status root/code"
    calls: int = 0


class Caller:
    def __init__(self, reference: ReferenceServer) -> None:
        lo = reference.profile.luminate
        assert lo is not None
        secrets = reference.secrets
        self.url = lo.servlet_url("SRConsAPI")
        self.admin = {
            "api_key": secrets[lo.api_key],
            "v": "1.0",
            "login_name": secrets[lo.api_admin.login_name],
            "login_password": secrets[lo.api_admin.login_password],
        }

    def post(self, http: requests.Session, body: bytes) -> tuple[int, Any]:
        response = http.post(self.url, data=body, headers=FORM, timeout=60)
        return response.status_code, etree.fromstring(response.content)

    def form(self, method: str, **params: str) -> bytes:
        return urlencode({**self.admin, "method": method, **params}).encode()


def text(root: Any, name: str) -> str:
    found = root.findtext(f"{{{NS}}}{name}")
    assert found is not None, etree.tostring(root)
    return str(found)


def local(root: Any) -> str:
    return str(etree.QName(root).localname)


@pytest.fixture(scope="module")
def emails() -> list[str]:
    run = uuid.uuid4().hex[:10]
    return [f"load.{run}.{n}@example.org" for n in range(EMAILS)]


def _work(caller: Caller, emails: list[str], number: int, start: threading.Barrier) -> Tally:
    tally = Tally()
    order = random.Random(number).sample(emails, len(emails))  # each thread its own order
    with requests.Session() as http:
        start.wait()
        for email in order:
            status, root = caller.post(http, caller.form("createOrUpdate", primary_email=email))
            tally.calls += 1
            tally.answers[f"createOrUpdate {status} {local(root)}"] += 1
            if local(root) == "createOrUpdateConsResponse":
                tally.cons_ids.setdefault(email, []).append(text(root, "cons_id"))
        targets = [ids[0] for ids in tally.cons_ids.values()]
        for i in range(LOGS_PER_THREAD):
            cons_id = targets[i % len(targets)]
            subject = f"load {number}.{i}"
            status, root = caller.post(
                http, caller.form("logInteraction", cons_id=cons_id, interaction_subject=subject)
            )
            tally.calls += 1
            tally.answers[f"logInteraction {status} {local(root)}"] += 1
            if local(root) == "updateConsResponse":
                tally.logged.append((cons_id, text(root, "interaction_id")))
            if i % 4 == 1:
                _malformed(caller, http, cons_id, i // 4, tally)
    return tally


def _malformed(caller: Caller, http: requests.Session, cons_id: str, which: int, tally: Tally) -> None:
    """One malformed logInteraction on a shared record: it must store nothing."""
    if which == 0:  # a body that is not UTF-8
        body = caller.form("logInteraction", cons_id=cons_id) + b"&interaction_subject=bad%FF%FEbody"
        kind = "not-utf8"
    elif which == 1:  # a body over the cap
        body = caller.form("logInteraction", cons_id=cons_id, interaction_subject="big", pad="x" * OVERSIZE)
        kind = "oversize"
    else:  # a character XML 1.0 does not allow
        body = caller.form("logInteraction", cons_id=cons_id, interaction_subject="back\bspace")
        kind = "forbidden-character"
    status, root = caller.post(http, body)
    tally.calls += 1
    code = text(root, "code") if local(root) == "errorResponse" else local(root)
    tally.answers[f"{kind} {status} {code}"] += 1


@pytest.fixture(scope="module")
def tallies(reference: ReferenceServer, emails: list[str]) -> Iterator[list[Tally]]:
    caller = Caller(reference)
    start = threading.Barrier(THREADS, timeout=60)
    results: list[Tally | BaseException] = [RuntimeError("did not finish")] * THREADS

    def run(number: int) -> None:
        try:
            results[number] = _work(caller, emails, number, start)
        except BaseException as exc:  # reported by the test, with the others' results
            results[number] = exc

    threads = [threading.Thread(target=run, args=(n,), name=f"load-{n}") for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[0]
    yield [r for r in results if isinstance(r, Tally)]


def _interactions(caller: Caller, cons_id: str) -> list[tuple[str, str]]:
    """(interaction id, subject) of every interaction stored on a record."""
    with requests.Session() as http:
        _, root = caller.post(
            http, caller.form("getUserInteractions", cons_id=cons_id, list_page_size="10000")
        )
    assert local(root) == "getUserInteractionsResponse", etree.tostring(root)
    found = root.findall(f"{{{NS}}}interaction")
    return [(text(i, "interactionId"), text(i, "subject")) for i in found]


def test_the_reference_keeps_every_call_apart_under_load(
    reference: ReferenceServer, emails: list[str], tallies: list[Tally]
) -> None:
    caller = Caller(reference)
    answers = sum((t.answers for t in tallies), Counter[str]())
    calls = sum(t.calls for t in tallies)

    # Every well-formed call succeeded; every malformed one was refused, never a 5xx.
    assert answers["createOrUpdate 200 createOrUpdateConsResponse"] == THREADS * EMAILS
    assert answers["logInteraction 200 updateConsResponse"] == THREADS * LOGS_PER_THREAD
    malformed = {k: n for k, n in answers.items() if k.split()[0] not in ("createOrUpdate", "logInteraction")}
    assert malformed == {
        "not-utf8 403 35": THREADS,
        "oversize 403 23": THREADS,
        "forbidden-character 403 35": THREADS,
    }

    # No duplicate records: every call with one email got the same record.
    records = {email: {c for t in tallies for c in t.cons_ids.get(email, [])} for email in emails}
    assert all(len(ids) == 1 for ids in records.values()), records
    assert len({next(iter(ids)) for ids in records.values()}) == EMAILS

    # No lost interactions, unique ids, nothing from the malformed calls.
    logged = [pair for t in tallies for pair in t.logged]
    assert len({iid for _, iid in logged}) == len(logged)
    checked = read_back = 0
    for ids in records.values():
        cons_id = next(iter(ids))
        stored = _interactions(caller, cons_id)
        checked += 1
        read_back += len(stored)
        stored_ids = [iid for iid, _ in stored]
        assert len(set(stored_ids)) == len(stored_ids)
        mine = {iid for c, iid in logged if c == cons_id}
        assert mine <= set(stored_ids)
        # One per logInteraction, plus the one every createOrUpdate logs (L-C11).
        assert len(stored) == len(mine) + THREADS
        assert not [s for _, s in stored if s in ("big", "back\bspace") or s.startswith("bad")]
    print(
        f"\nload: {THREADS} threads, {calls} calls ({THREADS * EMAILS} createOrUpdate on {EMAILS} shared "
        f"emails, {len(logged)} logInteraction, {sum(malformed.values())} malformed); "
        f"{checked} records checked, {read_back} interactions read back"
    )

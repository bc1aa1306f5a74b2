"""Locating the constituent as properties: any identifier combination, the predicted record.

Identifiers are drawn over records A and B (one match each), fresh values (no match),
the profile's shared fixtures (several matches), empty values (absent, L-K1) and A's
email in another letter case (L-C17).  The model's precedence table says which record
the call acts on or which error it gets; the target must agree.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.client import Client, Sent
from conformance.model import (
    Accepted,
    Codes,
    Directory,
    Fault,
    InteractionInput,
    Pool,
    Record,
    Stage,
    StoredInteraction,
    Text,
)
from conformance.strategy import identifiers
from conformance.target import Target


@pytest.mark.parametrize(
    "method",
    [
        pytest.param(
            "logInteraction",
            marks=[pytest.mark.clauses("L-K1", "L-K2", "L-K3", "L-K4", "L-C17"), pytest.mark.logInteraction],
        ),
        pytest.param(
            "getInteraction",
            marks=[
                pytest.mark.clauses("L-K1", "L-K2", "L-K3", "L-K4", "L-C17", "L-G3"),
                pytest.mark.getInteraction,
            ],
        ),
    ],
)
@given(data=st.data())
def test_identifiers_decide_the_record(
    method: str,
    writable: Target,
    pool: Pool,
    codes: Codes,
    request: pytest.FixtureRequest,
    data: st.DataObject,
) -> None:
    """The highest-precedence identifier present alone decides: one match is the record,
    none is 16, several is 15; none present is 9.  getInteraction of A's interaction
    located on another record is 27."""
    lo = writable.profile.luminate
    assert lo is not None
    client = Client(writable, request.node.nodeid)
    directory = client.directory(pool.a, pool.b)
    ids = data.draw(identifiers(lo), label="identifiers")
    params = directory.resolve(ids, pool.records, client.fresh())
    located = directory.locate(params, codes)
    if method == "logInteraction":
        _log(client, params, located, codes)
    else:
        _get(client, params, located, codes, pool)


def _log(client: Client, params: dict[str, str], located: Record | Fault, codes: Codes) -> None:
    subject = Text(f"located {client.target.unique()}")
    sent = client.call("logInteraction", {**params, "interaction_subject": subject.value})
    if isinstance(located, Fault):
        client.check(client.refusal_problems(sent, codes.refused(located)), sent)
        return
    problems = client.success_problems(sent, "updateConsResponse")
    if not problems and sent.text("cons_id") != located.cons_id:
        problems.append(f"logged for cons_id {sent.text('cons_id')!r}; the identifiers name {located!r}")
    client.check(problems, sent)
    iid = sent.text("interaction_id") or ""
    client.created("interaction", iid, f"cons_id {located.cons_id}")
    # The interaction belongs to the located record: it reads back through it.
    stored = StoredInteraction.of(iid, located.cons_id, client.admin_account_id, InteractionInput(subject))
    back = client.call("getInteraction", {"cons_id": located.cons_id, "interaction_id": iid})
    problems = client.success_problems(back, "getInteractionResponse")
    client.check(problems or [f"read back: {d}" for d in stored.differences(back.answer.tree)], sent, back)


def _get(client: Client, params: dict[str, str], located: Record | Fault, codes: Codes, pool: Pool) -> None:
    stored = pool.interactions["A"]
    sent = client.call("getInteraction", {**params, "interaction_id": stored.interaction_id})
    if isinstance(located, Record) and located.cons_id != stored.cons_id:
        what = f"A's interaction, but the identifiers name {located!r}"
        located = codes.fault("L-G3", Stage.OPERATION, what)
    if isinstance(located, Fault):
        client.check(client.refusal_problems(sent, codes.refused(located)), sent)
        return
    problems = client.success_problems(sent, "getInteractionResponse")
    client.check(problems or [f"read back: {d}" for d in stored.differences(sent.answer.tree)], sent)


@pytest.mark.clauses("L-C1", "L-C2", "L-C3", "L-C4", "L-C5", "L-C6", "L-C7", "L-C8", "L-C10", "L-C17")
@pytest.mark.createOrUpdate
@given(data=st.data())
def test_create_or_update_follows_the_lookup_table(
    writable: Target, codes: Codes, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    """cons_id, then member_id, then primary_email: found is updated (taking the given
    email, unless another record has it on a unique-email site), cons_id not found is
    16, several member_id matches 15, no match by member_id goes on by email, nobody by
    email creates (which needs an email), several by email is an error on a unique-email
    site and a create otherwise.  A refused call changes nothing."""
    lo = writable.profile.luminate
    assert lo is not None
    client = Client(writable, request.node.nodeid)
    # Fresh A and B for every example: an update changes them.
    a, b = client.create_constituent("A"), client.create_constituent("B")
    directory = client.directory(a, b)
    ids = data.draw(identifiers(lo), label="identifiers")
    params = directory.resolve(ids, {"A": a, "B": b}, client.fresh())
    predicted = directory.locate_for_update(params, lo.settings.unique_email, codes)
    sent = client.call("createOrUpdate", params)
    observe = client.offers("getUser")
    if not isinstance(predicted, Accepted):
        problems = client.refusal_problems(sent, predicted)
        client.check(problems + (_unchanged(client, directory, params) if observe else []), sent)
        return
    problems = client.success_problems(sent, "createOrUpdateConsResponse")
    cons_id = sent.text("cons_id") or ""
    if not problems and predicted.record is not None and cons_id != predicted.record.cons_id:
        problems.append(f"updated cons_id {cons_id!r}; the table names {predicted.record!r}")
    if not problems and predicted.record is None and cons_id in (a.cons_id, b.cons_id):
        problems.append(f"updated cons_id {cons_id!r}; the table says a new record is created")
    client.check(problems, sent)
    if predicted.record is None:
        client.created("constituent", cons_id, params.get("primary_email", ""))
    record = directory.apply_create_or_update(params, predicted, cons_id)
    if observe:
        client.check(_observed_differences(client, record), sent)


def _user(client: Client, cons_id: str) -> Sent:
    return client.call("getUser", {"cons_id": cons_id})


def _observed_differences(client: Client, record: Record) -> list[str]:
    """getUser shows the record as the model has it (email, and member_id once created)."""
    seen = _user(client, record.cons_id)
    problems = client.success_problems(seen, "getConsResponse")
    if problems:
        return [f"getUser of {record!r}: {p}" for p in problems]
    email = seen.text("email/primary_address")
    # Compared ignoring case: the contract says how addresses match (L-C17), not whether
    # a record found by its address in another case takes that spelling.
    if record.email is not None and (email or "").lower() != record.email.lower():
        problems.append(f"getUser of {record!r}: primary email {email!r} (expected {record.email!r}) [L-C10]")
    member_id = seen.text("member_id")
    if record.member_id is not None and member_id != record.member_id:
        problems.append(f"getUser of {record!r}: member_id {member_id!r} (expected {record.member_id!r})")
    return problems


def _unchanged(client: Client, directory: Directory, params: dict[str, str]) -> list[str]:
    """A refused createOrUpdate changed no record and created none."""
    problems = []
    for record in directory:
        problems += _observed_differences(client, record)
    email = params.get("primary_email")
    if email and directory.match("primary_email", email).kind == "none":
        seen = client.call("getUser", {"primary_email": email})
        if not seen.answer.is_error:
            problems.append(f"a record with primary_email {email!r} exists after the refused call")
    return problems

"""Kognitiv RecordInteraction as a property: any combination of faults, the predicted code.

Each field is drawn valid or faulty in every way the contract names (a wrong, empty,
missing or other-case token, one without permission; an unknown, inactive, empty,
missing, other-case or 61-character account; unknown, other-case or missing
references; notes within and beyond 256 characters).  The ReturnCode must be the first
fault's in K-O1's order, and InteractionId -1 exactly when the code is not 0 (K-R2).
With writes forbidden, every drawn call has at least one fault, so nothing is recorded.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.client import Client
from conformance.model import KognitivModel
from conformance.strategy import record_requests
from conformance.target import Target

pytestmark = pytest.mark.RecordInteraction


@pytest.mark.clauses("K-O1", "K-R2")
# Three times the budget's examples: one request each and no setup, so cheap, and an
# order between two checks shows only when both fields are faulty and every earlier
# one is valid, which takes more draws to meet than a single fault does.
@settings(max_examples=3 * settings().max_examples)
@given(data=st.data())
def test_return_code_follows_the_check_order(
    kognitiv: Target, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    """token (100), permission (101), account (300, 301), location (503), interaction
    type (1200), note (1), else 0 with a new positive InteractionId; -1 with any error."""
    kg = kognitiv.profile.kognitiv
    assert kg is not None
    wanted = data.draw(record_requests(kg, writes=kognitiv.profile.writes_allowed), label="request")
    version = data.draw(st.sampled_from(["1.1", "1.2"] if kg.soap12 else ["1.1"]), label="SOAP version")
    client = Client(kognitiv, request.node.nodeid)
    model = KognitivModel(kg, kognitiv.secrets)
    code, why = model.return_code(wanted)
    sent = client.record_interaction(model.fields(wanted, f"{kognitiv.run_id}-{kognitiv.unique()}"), version)
    answer = sent.answer
    problems = []
    if answer.fault or answer.return_code is None:
        problems.append(f"expected ReturnCode {code} ({why}), got no RecordInteractionResult")
    else:
        if answer.return_code != str(code):
            problems.append(f"ReturnCode {answer.return_code} (expected {code}: {why}) [K-O1]")
        iid = answer.interaction_id or ""
        if answer.return_code == "0":
            if not (iid.isdigit() and int(iid) > 0):
                problems.append(f"InteractionId {iid!r} with ReturnCode 0 (expected a positive id) [K-R2]")
            elif iid in kognitiv.kognitiv_ids:
                problems.append(f"InteractionId {iid} was already given to another call [K-R2]")
            kognitiv.kognitiv_ids.add(iid)
        elif iid != "-1":
            rc = answer.return_code
            problems.append(f"InteractionId {iid!r} with ReturnCode {rc} (expected -1) [K-R2]")
    if problems:
        raise AssertionError("\n".join([*problems, client.describe_soap(sent)]))

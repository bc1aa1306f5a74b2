"""logInteraction and getInteraction as properties: what is stored reads back unchanged.

Texts are drawn from every Unicode category, within and beyond each limit (L-L2, L-L3),
with the characters that need escaping (L-T14) and those XML forbids (L-T15); numeric
parameters are drawn as integers and non-integers (L-L4 to L-L7).  A call the model
accepts must read back unchanged through getInteraction (L-L9); a call it refuses must
get an accepted code and store nothing (counted on a scratch record that receives only
refused calls, when the profile offers getUserInteractions).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.client import Client
from conformance.model import Codes, InteractionInput, Pool, StoredInteraction, interaction_faults
from conformance.strategy import forbidden_inputs, numeric_inputs, oversized_inputs, text_inputs
from conformance.target import Target

pytestmark = pytest.mark.logInteraction

FORMATS = st.sampled_from(["xml", "json"])


def _log_and_read_back(client: Client, pool: Pool, codes: Codes, given_: InteractionInput, fmt: str) -> None:
    """The shared body: refused with nothing stored, or stored and read back unchanged."""
    lo = client.target.profile.luminate
    assert lo is not None
    faults = interaction_faults(given_, lo.settings, codes)
    if faults:
        scratch = pool.scratch.cons_id
        before = client.interaction_count(scratch) if client.offers("getUserInteractions") else None
        sent = client.call("logInteraction", {"cons_id": scratch, **given_.params()}, fmt=fmt)
        problems = client.refusal_problems(sent, codes.refused(*faults)) + client.format_problems(sent)
        client.check(problems + client.unchanged_count(scratch, before), sent)
        return
    record = pool.a
    sent = client.call("logInteraction", {"cons_id": record.cons_id, **given_.params()}, fmt=fmt)
    problems = client.success_problems(sent, "updateConsResponse") + client.format_problems(sent)
    iid = sent.text("interaction_id")
    if sent.text("cons_id") != record.cons_id:
        problems.append(f"cons_id {sent.text('cons_id')!r} (expected {record.cons_id!r}, the located record)")
    if not iid:
        problems.append("no interaction_id in the answer")
    client.check(problems, sent)
    assert iid is not None
    client.created("interaction", iid, f"cons_id {record.cons_id}")
    stored = StoredInteraction.of(iid, record.cons_id, client.admin_account_id, given_)
    back = client.call("getInteraction", {"cons_id": record.cons_id, "interaction_id": iid}, fmt=fmt)
    problems = client.success_problems(back, "getInteractionResponse") + client.format_problems(back)
    if not problems:
        problems = [f"read back: {d}" for d in stored.differences(back.answer.tree)]
    client.check(problems, sent, back)


@pytest.mark.clauses("L-L2", "L-L3", "L-L9", "L-T14")
@given(data=st.data())
def test_logged_texts_read_back_unchanged(
    writable: Target, pool: Pool, codes: Codes, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    """Subjects up to 80 and bodies up to 1500 characters of any legal character read back
    unchanged in XML and JSON; longer ones are refused and store nothing."""
    given_ = data.draw(st.one_of(text_inputs(), oversized_inputs()), label="interaction")
    fmt = data.draw(FORMATS, label="response_format")
    _log_and_read_back(Client(writable, request.node.nodeid), pool, codes, given_, fmt)


@pytest.mark.clauses("L-L4", "L-L5", "L-L6", "L-L7")
@given(data=st.data())
def test_numeric_parameters_are_checked_and_stored(
    writable: Target, pool: Pool, codes: Codes, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    """Type, category and count: absent gives the defaults, a valid value reads back, an
    invalid one (another type, a missing category, a negative or non-integer) is refused."""
    lo = writable.profile.luminate
    assert lo is not None
    given_ = data.draw(numeric_inputs(lo.settings), label="interaction")
    fmt = data.draw(FORMATS, label="response_format")
    _log_and_read_back(Client(writable, request.node.nodeid), pool, codes, given_, fmt)


@pytest.mark.clauses("L-T15")
@given(data=st.data())
def test_forbidden_character_is_refused_and_nothing_stored(
    writable: Target, pool: Pool, codes: Codes, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    """A character XML 1.0 forbids, in a subject or body otherwise within its limit, is
    code 35; the answer is well-formed and nothing is stored."""
    given_ = data.draw(forbidden_inputs(), label="interaction")
    fmt = data.draw(FORMATS, label="response_format")
    _log_and_read_back(Client(writable, request.node.nodeid), pool, codes, given_, fmt)

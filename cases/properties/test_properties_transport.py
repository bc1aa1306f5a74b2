"""Transport clauses as properties: XML and JSON agree (L-T11); every error is an
errorResponse with the right HTTP status in both suppress modes (L-T7, L-T8)."""

from __future__ import annotations

import difflib
import json
import secrets
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.answer import normalise
from conformance.client import ADMIN, NOBODY, NOBODY_CONS_ID, Caller, Client, Sent
from conformance.model import Pool
from conformance.strategy import ErrorCall, error_calls, read_calls
from conformance.target import Target


def _comparable(tree: Any) -> Any:
    """The normalised tree, with an element of no children and no text as ``""``.

    XML cannot tell an empty element from an empty text (``<getConsGroupsResponse/>``
    reads as ``""``) while JSON writes an empty object (``{}``): both carry no data.
    """
    tree = normalise(tree)
    if isinstance(tree, dict):
        return {k: _comparable(v) for k, v in tree.items()} or ""
    if isinstance(tree, list):
        return [_comparable(v) for v in tree]
    return tree


def _tree_lines(sent: Sent) -> list[str]:
    return json.dumps(_comparable(sent.answer.tree), ensure_ascii=False, indent=1).splitlines()


@pytest.mark.clauses("L-T11")
@given(data=st.data())
def test_xml_and_json_carry_the_same_data(
    writable: Target, pool: Pool, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    """The same call (one that changes nothing: getInteraction, the observations) answers
    the same fields, values and list order in XML and in JSON, found or refused."""
    lo = writable.profile.luminate
    assert lo is not None
    client = Client(writable, request.node.nodeid)
    call = data.draw(read_calls(lo), label="call")
    params = client.directory(pool.a, pool.b).resolve(call.ids, pool.records, client.fresh())
    if call.method == "getInteraction":
        of = pool.interactions.get(call.interaction_of)
        params["interaction_id"] = of.interaction_id if of is not None else NOBODY_CONS_ID
    if call.method == "getUserInteractions":
        params["list_page_size"] = "100"
    xml = client.call(call.method, params, fmt="xml")
    json_ = client.call(call.method, params, fmt="json")
    problems = []
    if (xml.answer.status, xml.answer.root) != (json_.answer.status, json_.answer.root):
        problems.append(
            f"XML is HTTP {xml.answer.status} {xml.answer.root}, JSON is HTTP {json_.answer.status} "
            f"{json_.answer.root}"
        )
    elif _comparable(xml.answer.tree) != _comparable(json_.answer.tree):
        diff = difflib.unified_diff(_tree_lines(xml), _tree_lines(json_), "XML", "JSON", n=1, lineterm="")
        problems.append("the XML and JSON answers carry different data:\n" + "\n".join(list(diff)[:40]))
    client.check(problems, xml, json_)


#: Base parameters per call: each is refused by itself too (a cons_id of nobody, a
#: negative count, no subject in a session), so no call here can write anything even
#: where a target ignored the fault under test.
def _base(call: ErrorCall) -> dict[str, str]:
    if call.method == "logInteraction":
        if call.api == "CRConsAPI":
            return {}
        return {"cons_id": NOBODY_CONS_ID, "interaction_subject": "refused"}
    if call.method == "getInteraction":
        return {"cons_id": NOBODY_CONS_ID, "interaction_id": NOBODY_CONS_ID}
    if call.method == "createOrUpdate":
        # No primary_email: in a session it would be an update value for the caller's record.
        return {"cons_id": NOBODY_CONS_ID, "interaction_count": "-1"}
    return {}


def _wrong() -> str:
    """A password no account has (random, so no fixed credential sits in the suite)."""
    return "not-" + secrets.token_hex(6)


def _faulty(
    call: ErrorCall, client: Client, sessions: tuple[Caller, Caller] | None
) -> tuple[dict[str, str], Caller]:
    """The parameters and caller of ``call``: its base, then its fault."""
    lo = client.target.profile.luminate
    assert lo is not None
    caller = ADMIN if call.api == "SRConsAPI" else (sessions[0] if sessions else NOBODY)
    params = _base(call)
    fault = call.fault
    if call.method == "login":
        caller = NOBODY
        params = {"user_name": client.target.secrets[lo.constituent.user_name]} if lo.constituent else {}
        params["password"] = _wrong() if fault == "wrong password" else "x"
        if fault == "no user_name":
            params.pop("user_name", None)
    elif fault == "wrong api_key":
        params["api_key"] = "wrong-api-key"
    elif fault == "no api_key":
        params["api_key"] = ""
    elif fault == "no v":
        params["v"] = ""
    elif fault == "v 2.0":
        params["v"] = "2.0"
    elif fault == "no credentials":
        caller = NOBODY
    elif fault == "wrong password":
        params["login_password"] = _wrong()
    elif fault == "no identifier":
        params.pop("cons_id", None)
    elif fault == "no subject":
        params.pop("interaction_subject", None)
    elif fault == "subject of 81 characters":
        params["interaction_subject"] = "s" * 81
    elif fault == "forbidden character":
        params["interaction_subject"] = "bell \x07"
    elif fault == "no interaction_id":
        params.pop("interaction_id", None)
    elif fault == "interaction_id not a number":
        params["interaction_id"] = "one"
    elif fault == "revoked token":
        caller = sessions[1] if sessions else NOBODY
    if call.suppress is not None:
        params["suppress_response_codes"] = call.suppress
    return params, caller


@pytest.mark.clauses("L-T7", "L-T8")
@given(call=error_calls())
def test_every_error_is_an_error_response(
    luminate: Target,
    sessions: tuple[Caller, Caller] | None,
    request: pytest.FixtureRequest,
    call: ErrorCall,
) -> None:
    """Whatever the fault and servlet, in XML or JSON: an errorResponse holding exactly a
    non-negative integer code and a non-empty message, HTTP 403, or HTTP 200 when
    suppress_response_codes is true in any letter case."""
    client = Client(luminate, request.node.nodeid)
    if sessions is None and call.fault == "revoked token":
        return  # no constituent login in the profile: the fault cannot be made
    method = {"unknown method": "noSuchMethod", "method in lower case": call.method.lower()}.get(
        call.fault, call.method
    )
    params, caller = _faulty(call, client, sessions)
    sent = client.call(method, params, caller=caller, api=call.api, fmt=call.fmt)
    answer = sent.answer
    problems = []
    status = 200 if call.suppressed else 403
    if answer.status != status:
        mode = f"suppress_response_codes={call.suppress}" if call.suppress is not None else "no suppress"
        problems.append(f"HTTP {answer.status} for an error with {mode} (expected {status}) [L-T7]")
    if not answer.is_error:
        problems.append(f"expected an errorResponse, got {answer.root or 'no readable answer'} [L-T7]")
    elif not isinstance(answer.tree, dict) or list(answer.tree) != ["code", "message"]:
        shape = list(answer.tree) if isinstance(answer.tree, dict) else answer.tree
        problems.append(f"errorResponse holds {shape!r} (expected exactly code, message) [L-T8]")
    else:
        code, message = answer.tree["code"], answer.tree["message"]
        if not (isinstance(code, str) and code.isascii() and code.isdigit()):
            problems.append(f"{code!r} is not a non-negative integer code [L-T8]")
        if not (isinstance(message, str) and message.strip()):
            problems.append(f"{message!r} is not a non-empty message [L-T8]")
    problems += [f.line() for f in answer.failures if f.clause in ("L-T8", "L-T9", "L-T10")]
    client.check(problems, sent)

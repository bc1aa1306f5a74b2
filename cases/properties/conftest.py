"""What the property modules share: fixtures.

``@pytest.mark.clauses("L-L2", ...)`` ties a property to contract clauses; the plugin
registers the marker, selects properties with ``--clause``, turns the outcome into an
event carrying the clauses, and reports a property ending in CheckErrored as errored.
Fixtures skip, with the reason, when the profile lacks what a property needs.

Properties reach the target only through ``conformance_target`` (the plugin's fixture),
so they run against whatever target the run has.
"""

from __future__ import annotations

import pytest

from conformance.catalogue import Catalogue, load_catalogue
from conformance.client import NOBODY, Caller, Client
from conformance.model import Codes, InteractionInput, Pool, StoredInteraction, Text
from conformance.outcome import CheckErrored
from conformance.target import Target

# ---- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def codes(conformance_target: Target, catalogue: Catalogue) -> Codes:
    return Codes(catalogue, conformance_target.profile.strict)


@pytest.fixture(scope="session")
def luminate(conformance_target: Target) -> Target:
    """The target, which has a Luminate section (else the property is skipped)."""
    if conformance_target.profile.luminate is None:
        pytest.skip("the profile has no luminate section")
    return conformance_target


@pytest.fixture(scope="session")
def kognitiv(conformance_target: Target) -> Target:
    if conformance_target.profile.kognitiv is None:
        pytest.skip("the profile has no kognitiv section")
    return conformance_target


@pytest.fixture(scope="session")
def writable(luminate: Target) -> Target:
    """The target, where the profile lets properties create and change records."""
    if not luminate.profile.writes_allowed:
        pytest.skip("writes: forbidden in the profile (this property creates or changes data)")
    if not luminate.host_allowed():
        pytest.skip("the target's host is not in the profile's hosts list (writing properties are guarded)")
    return luminate


@pytest.fixture(scope="session")
def pool(writable: Target) -> Pool:
    """Records A and B with one interaction each (with a body), and a scratch record."""
    client = Client(writable, "properties: pool")
    a, b, scratch = (client.create_constituent(label) for label in ("A", "B", "scratch"))
    interactions = {}
    for record in (a, b):
        subject = Text(f"property pool {record.label} {writable.run_id}")
        body = Text("pool <&> body\r\n", "é", 3)
        sent = client.call(
            "logInteraction",
            {"cons_id": record.cons_id, "interaction_subject": subject.value, "interaction_body": body.value},
        )
        iid = sent.text("interaction_id")
        if not sent.succeeded("updateConsResponse") or not iid:
            raise CheckErrored(f"setup: logInteraction failed\n{client.describe(sent)}")
        client.created("interaction", iid, f"cons_id {record.cons_id}")
        given = InteractionInput(subject=subject, body=body)
        interactions[record.label] = StoredInteraction.of(iid, record.cons_id, client.admin_account_id, given)
    return Pool(a, b, scratch, interactions)


@pytest.fixture(scope="session")
def sessions(luminate: Target) -> tuple[Caller, Caller] | None:
    """A live constituent session and a logged-out one, or None without a constituent login."""
    lo = luminate.profile.luminate
    assert lo is not None
    if lo.constituent is None:
        return None
    client = Client(luminate, "properties: sessions")
    live, revoked = client.session(), client.session()
    sent = client.call("logout", {"auth": revoked.token or ""}, caller=NOBODY)
    if not sent.succeeded("loginResponse"):
        raise CheckErrored(f"setup: logout failed\n{client.describe(sent)}")
    return live, revoked

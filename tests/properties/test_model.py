"""The model and the strategies on their own: no target, no network.

The properties are only as right as the model's predictions and as strong as the
strategies' reach, so both are checked here against the contract: the limits against
the catalogue's statements, the codes against its ``codes``, the precedence tables
clause by clause, and the strategies for staying on the side of each limit they claim.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.catalogue import Catalogue, load_catalogue
from conformance.model import (
    ACCOUNT_LIMIT,
    LIMITS,
    NOTE_LIMIT,
    XML_FORBIDDEN,
    Accepted,
    AccountChoice,
    Codes,
    Directory,
    Fault,
    Identifiers,
    InteractionInput,
    KognitivModel,
    Record,
    RecordRequest,
    ReferenceChoice,
    Refused,
    Sessions,
    SessionState,
    Slot,
    Stage,
    StoredInteraction,
    Text,
    TokenChoice,
    interaction_faults,
)
from conformance.profile import LuminateSettings, bundled_profile_path, load_profile
from conformance.strategy import (
    identifiers,
    invalid_category_ids,
    invalid_type_ids,
    non_integers,
    numeric_inputs,
    record_requests,
    texts_beyond,
    texts_with_forbidden,
    texts_within,
    valid_category_ids,
    valid_type_ids,
)

PROFILE = load_profile(bundled_profile_path())
assert PROFILE.luminate is not None and PROFILE.kognitiv is not None
LUMINATE = PROFILE.luminate
SETTINGS: LuminateSettings = LUMINATE.settings
FAST = settings(max_examples=60, deadline=None)
# Loaded once: a hypothesis test body runs once per example.
CODES = Codes(load_catalogue(), strict=False)

A = Record("A", "101", "MEMBER-A", "a@example.org")
B = Record("B", "102", "MEMBER-B", "b@example.org")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return CODES.catalogue


@pytest.fixture(scope="module")
def codes() -> Codes:
    return CODES


def _directory() -> Directory:
    directory = Directory("MEMBER-SHARED", "shared@example.org")
    directory.add(A)
    directory.add(B)
    return directory


# ---- limits and codes come from the catalogue ---------------------------------------


@pytest.mark.parametrize(
    ("clause", "limit"),
    [("L-L2", LIMITS["L-L2"]), ("L-L3", LIMITS["L-L3"]), ("K-V2", NOTE_LIMIT), ("K-V1", ACCOUNT_LIMIT)],
)
def test_each_limit_is_the_one_its_clause_states(catalogue: Catalogue, clause: str, limit: int) -> None:
    assert re.search(rf"\b{limit}\b", catalogue.get(clause).statement), catalogue.get(clause).statement


def test_default_codes_accept_the_also_accepted_ones(catalogue: Catalogue) -> None:
    loose, strict = Codes(catalogue, strict=False), Codes(catalogue, strict=True)
    assert loose.fault("L-K4", Stage.LOOKUP, "x").codes == frozenset({15, 8})
    assert strict.fault("L-K4", Stage.LOOKUP, "x").codes == frozenset({15})
    assert loose.fault("L-L2", Stage.VALUES, "x").codes is None  # any code
    assert strict.fault("L-L2", Stage.VALUES, "x").codes == frozenset({23})
    assert loose.fault("L-L7", Stage.VALUES, "x", when="interaction_count").codes is None


def test_a_clause_with_several_codes_needs_the_condition(codes: Codes) -> None:
    with pytest.raises(LookupError, match="L-L7"):
        codes.fault("L-L7", Stage.VALUES, "x")


def test_several_faults_accept_any_of_their_codes_unless_strict(catalogue: Catalogue) -> None:
    faults = (
        Fault("L-L1", "no subject", Stage.REQUIRED, frozenset({9, 10})),
        Fault("L-L3", "long body", Stage.VALUES, frozenset({30})),
    )
    assert Refused(faults, strict=False).codes == frozenset({9, 10, 30})
    assert Refused(faults, strict=True).codes == frozenset({9, 10})  # L-T16: the first stage decides
    assert not Refused(faults, strict=True).accepts(30)
    assert not Refused(faults, strict=False).accepts(None)


# ---- L-K: the record an administrator's call acts on -------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cons_id": "101", "member_id": "MEMBER-B"}, "A"),  # L-K2: cons_id alone decides
        ({"cons_id": "", "member_id": "MEMBER-B"}, "B"),  # L-K1: empty counts as absent
        ({"member_id": "MEMBER-A", "primary_email": "nobody@example.org"}, "A"),
        ({"primary_email": "B@EXAMPLE.ORG"}, "B"),  # L-C17
        ({"cons_id": "999", "member_id": "MEMBER-A"}, "L-K3"),
        ({"member_id": "MEMBER-SHARED", "primary_email": "a@example.org"}, "L-K4"),
        ({"primary_email": "Shared@Example.org"}, "L-K4"),
        ({"primary_email": ""}, "L-K1"),
        ({}, "L-K1"),
    ],
)
def test_locate_follows_the_precedence_table(codes: Codes, params: dict[str, str], expected: str) -> None:
    found = _directory().locate(params, codes)
    assert (found.label if isinstance(found, Record) else found.clause) == expected


# ---- L-C: what createOrUpdate does -----------------------------------------------------


@pytest.mark.parametrize(
    ("params", "unique", "expected"),
    [
        ({"cons_id": "101", "member_id": "MEMBER-B"}, True, "A"),  # L-C1
        ({"cons_id": "999", "primary_email": "new@example.org"}, True, "L-C2"),
        ({"member_id": "MEMBER-B", "primary_email": "a@example.org"}, False, "B"),  # L-C3
        ({"member_id": "MEMBER-SHARED"}, True, "L-C4"),
        ({"member_id": "NOBODY", "primary_email": "A@example.org"}, True, "A"),  # L-C5, then L-C6
        ({"member_id": "NOBODY", "primary_email": "new@example.org"}, True, "create"),  # L-C5
        ({"primary_email": "shared@example.org"}, True, "L-C7"),
        ({"primary_email": "shared@example.org"}, False, "create"),
        ({"member_id": "NOBODY"}, True, "L-C8"),
        ({"cons_id": "101", "primary_email": "b@example.org"}, True, "L-C10"),
        ({"cons_id": "101", "primary_email": "b@example.org"}, False, "A"),
        ({"cons_id": "101", "primary_email": "A@EXAMPLE.ORG"}, True, "A"),  # its own address
    ],
)
def test_create_or_update_follows_the_lookup_table(
    codes: Codes, params: dict[str, str], unique: bool, expected: str
) -> None:
    outcome = _directory().locate_for_update(params, unique, codes)
    if isinstance(outcome, Accepted):
        got = "create" if outcome.record is None else outcome.record.label
    else:
        got = outcome.faults[0].clause
    assert got == expected


def test_an_update_takes_the_given_email_and_a_create_joins_the_directory(codes: Codes) -> None:
    directory = _directory()
    directory.apply_create_or_update(
        {"cons_id": "101", "primary_email": "A2@example.org"}, Accepted(A), "101"
    )
    assert directory.match("primary_email", "a2@example.org").record == Record(
        "A", "101", "MEMBER-A", "A2@example.org"
    )
    directory.apply_create_or_update(
        {"member_id": "NEW", "primary_email": "c@example.org"}, Accepted(None), "103"
    )
    assert directory.match("member_id", "NEW").kind == "one"


def test_identifiers_resolve_to_the_pool_and_to_fresh_values() -> None:
    from conformance.model import Fresh

    fresh = Fresh(lambda: "fresh@example.org", lambda: "FRESH", "999")
    ids = Identifiers(Slot.NOBODY, Slot.SEVERAL, Slot.A_OTHER_CASE)
    params = _directory().resolve(ids, {"A": A, "B": B}, fresh)
    assert params == {"cons_id": "999", "member_id": "MEMBER-SHARED", "primary_email": "A@EXAMPLE.ORG"}
    assert repr(Identifiers(member_id=Slot.B)) == "Identifiers(member_id=B)"


# ---- interactions (L-L) ----------------------------------------------------------------


def test_interaction_faults_name_their_clauses(codes: Codes) -> None:
    given = InteractionInput(
        subject=Text("s", "x", 80),  # 81 characters
        body=Text("", "é", 1500),
        type_id=str(SETTINGS.standard_interaction_type),
        cat_id="-1",
        count="1.5",
    )
    clauses = [f.clause for f in interaction_faults(given, SETTINGS, codes)]
    assert clauses == ["L-L2", "L-L5", "L-L7", "L-L7"]
    assert [f.clause for f in interaction_faults(InteractionInput(), SETTINGS, codes)] == ["L-L1"]
    forbidden = InteractionInput(subject=Text("a\x08b"))
    assert [f.clause for f in interaction_faults(forbidden, SETTINGS, codes)] == ["L-T15"]


def test_a_stored_interaction_has_the_defaults_and_finds_differences() -> None:
    stored = StoredInteraction.of("7", "101", "1000001", InteractionInput(subject=Text("hello")))
    assert (stored.type_id, stored.cat_id, stored.count, stored.body) == ("0", "0", "1", None)  # L-L4
    tree = {
        "interaction": {
            "interactionId": "7",
            "consId": "101",
            "createdBy": "1000001",
            "subject": "hellO",
            "interactionTypeId": "0",
            "categoryId": "0",
            "count": "1",
            "note": {"text": None},  # L-G6: a nil text is no body
        }
    }
    assert stored.differences(tree) == [
        "interaction/subject: 'hellO' (expected 'hello');"
        " first difference at character 4: sent 'o', read back 'O'"
    ]


def test_sessions_revoke_the_token_and_make_its_siblings_unsure() -> None:
    sessions = Sessions()
    sessions.open("t1", "101")
    sessions.open("t2", "101")
    sessions.close("t1")
    assert sessions.state == {"t1": SessionState.REVOKED, "t2": SessionState.UNSURE}
    sessions.settle("t2", authenticated=True)
    assert sessions.state["t2"] is SessionState.LIVE


# ---- Kognitiv (K-O1) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (RecordRequest(), 0),
        (RecordRequest(token=TokenChoice.MISSING, account=AccountChoice.UNKNOWN), 100),
        (RecordRequest(token=TokenChoice.NO_PERMISSION, account=AccountChoice.INACTIVE), 101),
        (RecordRequest(account=AccountChoice.OF_61, location=ReferenceChoice.UNKNOWN), 300),
        (RecordRequest(account=AccountChoice.INACTIVE, location=ReferenceChoice.MISSING), 301),
        (RecordRequest(location=ReferenceChoice.OTHER_CASE, interaction_type=ReferenceChoice.MISSING), 503),
        (RecordRequest(interaction_type=ReferenceChoice.UNKNOWN, note=Text("", "n", 257)), 1200),
        (RecordRequest(note=Text("", "n", 257)), 1),
        (RecordRequest(note=Text("", "n", 256)), 0),
    ],
)
def test_the_first_fault_in_the_check_order_decides(request_: RecordRequest, code: int) -> None:
    assert KognitivModel.return_code(request_)[0] == code


def test_kognitiv_fields_make_each_choice_what_it_says() -> None:
    from conformance.profile import Secrets

    assert PROFILE.kognitiv is not None
    kg = PROFILE.kognitiv
    secrets = Secrets({c.env: f"secret-{c.env}" for c in PROFILE.credentials()})
    model = KognitivModel(kg, secrets)
    fields = model.fields(
        RecordRequest(token=TokenChoice.OTHER_CASE, account=AccountChoice.UNKNOWN_OF_60), "run-1"
    )
    assert fields["SecurityToken"] == secrets[kg.token].swapcase()
    assert len(fields["AccountId"] or "") == ACCOUNT_LIMIT and fields["AccountId"] != kg.active_account
    assert len(model.fields(RecordRequest(account=AccountChoice.OF_61), "x")["AccountId"] or "") == 61
    clash = RecordRequest(account=AccountChoice.UNKNOWN_TEXT, account_text=Text(kg.active_account))
    assert model.fields(clash, "x")["AccountId"] != kg.active_account
    assert "secret" not in repr(model)


# ---- the strategies stay on their side of each line --------------------------------------


@FAST
@given(st.integers(1, 1600).flatmap(lambda n: st.tuples(st.just(n), texts_within(n))))
def test_texts_within_a_limit_are_legal_and_within_it(drawn: tuple[int, Text]) -> None:
    limit, text = drawn
    assert 1 <= len(text.value) == len(text) <= limit
    assert not set(text.value) & XML_FORBIDDEN


@FAST
@given(st.integers(1, 1600).flatmap(lambda n: st.tuples(st.just(n), texts_beyond(n, carriage_return=False))))
def test_texts_beyond_a_limit_are_longer_and_without_cr_when_asked(drawn: tuple[int, Text]) -> None:
    limit, text = drawn
    assert len(text.value) > limit
    assert "\r" not in text.value


@FAST
@given(texts_with_forbidden(80))
def test_a_forbidden_text_holds_one_forbidden_character_within_the_limit(text: Text) -> None:
    assert len(text.value) <= 80
    assert len([c for c in text.value if c in XML_FORBIDDEN]) == 1


@FAST
@given(non_integers())
def test_non_integers_are_never_non_negative_integers(value: str) -> None:
    assert not re.fullmatch("[0-9]+", value)


@FAST
@given(
    valid_type_ids(SETTINGS),
    invalid_type_ids(SETTINGS),
    valid_category_ids(SETTINGS),
    invalid_category_ids(SETTINGS),
)
def test_numeric_values_are_valid_or_not_as_the_profile_says(
    valid_type: str, invalid_type: str, valid_cat: str, invalid_cat: str
) -> None:
    assert int(valid_type) in {0, *SETTINGS.custom_interaction_types}
    assert invalid_type not in {str(t) for t in (0, *SETTINGS.custom_interaction_types)}
    assert int(valid_cat) in {0, *SETTINGS.security_categories}
    assert invalid_cat not in {str(c) for c in (0, *SETTINGS.security_categories)}


@FAST
@given(numeric_inputs(SETTINGS))
def test_numeric_inputs_always_carry_a_legal_subject(given_: InteractionInput) -> None:
    clauses = {f.clause for f in interaction_faults(given_, SETTINGS, CODES)}
    assert clauses <= {"L-L5", "L-L6", "L-L7"}


@FAST
@given(record_requests(PROFILE.kognitiv, writes=False))
def test_without_writes_every_kognitiv_request_has_a_fault(request_: RecordRequest) -> None:
    assert KognitivModel.return_code(request_)[0] != 0


def test_several_is_drawn_only_where_the_profile_has_the_fixture() -> None:
    from dataclasses import replace

    bare = replace(LUMINATE, shared_member_id=None, shared_email=None)

    @FAST
    @given(identifiers(bare))
    def never_several(ids: Identifiers) -> None:
        assert Slot.SEVERAL not in (ids.member_id, ids.primary_email)

    never_several()

"""Which constituent a call acts on: L-K for logInteraction and friends, L-C for createOrUpdate.

Precedence is ``cons_id``, then ``member_id``, then ``primary_email`` (L-K2): the highest
present identifier alone decides, lower ones are ignored even when they name someone
else.  createOrUpdate differs in one way (L-C5): a ``member_id`` that matches nobody
hands the search on to ``primary_email``, and nobody found there means "create".
Email matching ignores letter case (L-C17).
"""

from __future__ import annotations

from conformance.reference.call import Call
from conformance.reference.checks import non_negative
from conformance.reference.refusal import Refusal
from conformance.reference.store import MAX_ROW_ID, Store


def _by_cons_id(store: Store, text: str) -> int | None:
    # cons_id is documented as a string: one that is not a number names nobody (16),
    # it is not a validation error.
    number = non_negative(text)
    if number is None or number > MAX_ROW_ID:
        return None
    return number if store.constituent(number) is not None else None


def _one(matches: list[int], what: str) -> int:
    if not matches:
        raise Refusal(16, f"No record has this {what}.")
    if len(matches) > 1:
        raise Refusal(15, f"More than one record has this {what}.")
    return matches[0]


def locate(call: Call) -> int:
    """L-K: the located record for an administrator, the caller's own for a constituent.

    A constituent session ignores every identifier parameter (L-A5).  For an
    administrator :func:`~conformance.reference.checks.require_identifier` has already
    made sure one is present.
    """
    caller = call.acting
    if not caller.admin:
        return caller.account_id
    params, store = call.params, call.store
    cons_id = params.first("cons_id")
    if cons_id is not None:
        found = _by_cons_id(store, cons_id)
        if found is None:
            raise Refusal(16, "No record has this cons_id.")
        return found
    member_id = params.first("member_id")
    if member_id is not None:
        return _one(store.ids_by_member_id(member_id), "member_id")
    email = params.first("primary_email")
    assert email is not None  # require_identifier ran first
    return _one(store.ids_by_email(email), "primary_email")


def locate_for_update(call: Call) -> int | None:
    """L-C1 to L-C7: the record createOrUpdate updates, or None when it creates one."""
    caller = call.acting
    if not caller.admin:
        return caller.account_id  # L-C13: never another record, never a new one
    params, store = call.params, call.store
    cons_id = params.first("cons_id")
    if cons_id is not None:
        found = _by_cons_id(store, cons_id)
        if found is None:
            raise Refusal(16, "No record has this cons_id; none was created.")  # L-C2
        return found
    member_id = params.first("member_id")
    if member_id is not None:
        matches = store.ids_by_member_id(member_id)
        if len(matches) > 1:
            raise Refusal(15, "More than one record has this member_id.")  # L-C4
        if matches:
            return matches[0]  # L-C3
        # L-C5: no match by member_id, the search goes on by primary_email.
    email = params.first("primary_email")
    if email is None:
        return None  # the create then needs primary_email (L-C8, code 10)
    matches = store.ids_by_email(email)
    if len(matches) == 1:
        return matches[0]  # L-C6
    if len(matches) > 1 and call.site.unique_email:
        raise Refusal(15, "More than one record has this primary_email.")  # L-C7
    return None  # nobody, or several on a site that allows shared emails: create (L-C7)

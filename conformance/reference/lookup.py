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


def _by_cons_id(call: Call, text: str) -> int | None:
    # cons_id is documented as a string: one that is not a number names nobody (16),
    # it is not a validation error.
    number = non_negative(text)
    if number is None and call.site.fault("cons-id-not-number-code-22"):
        raise Refusal(22, "cons_id is not a number.")
    if number is None or number > MAX_ROW_ID:
        return None
    return number if call.store.constituent(number) is not None else None


def _by_email(call: Call, email: str) -> list[int]:
    matches = call.store.ids_by_email(email)  # L-C17: letter case ignored
    if call.site.fault("email-case-sensitive"):
        return [m for m in matches if _email_of(call.store, m) == email]
    return matches


def _email_of(store: Store, cons_id: int) -> str | None:
    record = store.constituent(cons_id)
    return None if record is None else record.primary_email


def _not_found(call: Call, what: str) -> Refusal:
    return Refusal(17 if call.site.fault("not-found-code-17") else 16, f"No record has this {what}.")


def _one(call: Call, matches: list[int], what: str) -> int:
    if not matches:
        raise _not_found(call, what)
    if len(matches) > 1 and not call.site.fault("duplicate-takes-first"):
        raise Refusal(15, f"More than one record has this {what}.")
    return matches[0]


def locate(call: Call) -> int:
    """L-K: the located record for an administrator, the caller's own for a constituent.

    A constituent session ignores every identifier parameter (L-A5).  For an
    administrator :func:`~conformance.reference.checks.require_identifier` has already
    made sure one is present.
    """
    caller, params, store, fault = call.acting, call.params, call.store, call.site.fault
    cons_id, member_id = params.first("cons_id"), params.first("member_id")
    email = params.first("primary_email")
    if not caller.admin:
        if cons_id is not None and fault("session-honours-cons-id"):
            return _by_cons_id(call, cons_id) or caller.account_id
        return caller.account_id
    if member_id is not None and fault("precedence-member-first"):
        return _one(call, store.ids_by_member_id(member_id), "member_id")
    if cons_id is not None:
        found = _by_cons_id(call, cons_id)
        if found is not None:
            return found
        if not fault("precedence-falls-through"):
            raise _not_found(call, "cons_id")
    if email is not None and fault("precedence-email-over-member"):
        return _one(call, _by_email(call, email), "primary_email")
    if member_id is not None:
        return _one(call, store.ids_by_member_id(member_id), "member_id")
    if email is None:  # only after falling through from a cons_id (a deliberate mistake)
        raise _not_found(call, "cons_id")
    return _one(call, _by_email(call, email), "primary_email")


def locate_for_update(call: Call) -> int | None:
    """L-C1 to L-C7: the record createOrUpdate updates, or None when it creates one."""
    caller, params, store, fault = call.acting, call.params, call.store, call.site.fault
    cons_id, member_id = params.first("cons_id"), params.first("member_id")
    email = params.first("primary_email")
    if not caller.admin:
        if cons_id is not None and fault("session-update-by-cons-id"):
            return _by_cons_id(call, cons_id) or caller.account_id
        return caller.account_id  # L-C13: never another record, never a new one
    if email is not None and fault("update-by-email-first"):
        matches = _by_email(call, email)
        if len(matches) == 1:
            return matches[0]
    if cons_id is not None:
        found = _by_cons_id(call, cons_id)
        if found is None and fault("missing-cons-id-creates"):
            return None
        if found is None:
            raise Refusal(16, "No record has this cons_id; none was created.")  # L-C2
        return found
    if member_id is not None and not fault("member-id-not-key"):
        matches = store.ids_by_member_id(member_id)
        if len(matches) > 1 and not fault("member-duplicate-first"):
            raise Refusal(15, "More than one record has this member_id.")  # L-C4
        if matches:
            return matches[0]  # L-C3
        if fault("member-miss-code-16"):
            raise Refusal(16, "No record has this member_id.")
        # L-C5: no match by member_id, the search goes on by primary_email.
    if email is None:
        return None  # the create then needs primary_email (L-C8, code 10)
    matches = _by_email(call, email)
    if len(matches) == 1 and not fault("email-match-creates"):
        return matches[0]  # L-C6
    if len(matches) > 1 and call.site.unique_email and not fault("duplicate-email-creates"):
        raise Refusal(15, "More than one record has this primary_email.")  # L-C7
    return None  # nobody, or several on a site that allows shared emails: create (L-C7)

"""createOrUpdate (L-C) and the getUser / getUserGroups observations."""

from __future__ import annotations

from conformance.reference import checks
from conformance.reference.answer import Element, leaf, node
from conformance.reference.call import Call
from conformance.reference.lookup import locate, locate_for_update
from conformance.reference.refusal import Refusal

UPDATED = "User updated."
CREATED = "User created."
# L-C11 leaves the subject of the automatic interaction open; these say what happened.
SUBJECT_UPDATED = "Constituent record updated"
SUBJECT_CREATED = "Constituent record created"
ADMIN_ONLY = ("add_group_ids", "remove_group_ids")
UPDATE_ONLY = ("remove_group_ids", "remove_interest_ids")


def create_or_update(call: Call) -> Element:
    params, store, site, caller = call.params, call.store, call.site, call.acting
    # What the caller may do (14): group changes are for administrators only (L-C14).
    if not caller.admin:
        for name in ADMIN_ONLY:
            if params.has(name):
                raise Refusal(14, f"{name} is for administrators only.")
    # No required parameters: a create without primary_email is decided at lookup (L-C8).
    checks.screen(params)
    checks.center_id(params)
    wanted = checks.interaction_input(params, site)  # L-C12: before anything changes
    add = checks.group_ids(params, "add_group_ids")
    remove = checks.group_ids(params, "remove_group_ids")

    target = locate_for_update(call)
    email = params.first("primary_email")
    first, last = params.first("name.first"), params.first("name.last")
    if target is None:
        if email is None:
            raise Refusal(10, "primary_email is required to create a record.")
        for name in UPDATE_ONLY:
            if params.has(name):
                raise Refusal(22, f"{name} is only valid when updating a record.")
        no_welcome = (params.first("no_welcome") or "true").lower()
        target = store.create_constituent(
            member_id=params.first("member_id"),  # L-C10: written only on create
            primary_email=email,
            first_name=first,
            last_name=last,
            welcome_sent=no_welcome in ("f", "false") and site.welcome_mail,  # L-C15
            source=params.first("source"),
            sub_source=params.first("sub_source"),
        )
        message, subject = CREATED, SUBJECT_CREATED
    else:
        # L-C10: the given primary_email becomes the record's, unless another record
        # already has it on a site that enforces unique email.
        if email is not None and site.unique_email and store.email_used_by_other(email, target):
            raise Refusal(13)
        store.update_constituent(target, primary_email=email, first_name=first, last_name=last)
        message, subject = UPDATED, SUBJECT_UPDATED

    # Additions first, then removals: an id in both lists ends up removed.
    store.add_to_groups(target, add)
    store.remove_from_groups(target, remove)
    store.log_interaction(target, wanted.stored(subject), caller.account_id, call.now)  # L-C11
    return node("createOrUpdateConsResponse", leaf("cons_id", target), leaf("message", message))


def _observed(call: Call) -> int:
    if call.acting.admin:
        checks.require_identifier(call.params)
    checks.screen(call.params)
    checks.center_id(call.params)
    return locate(call)


def get_user(call: Call) -> Element:
    cons_id = _observed(call)
    rec = call.store.constituent(cons_id)
    assert rec is not None  # located within this transaction
    return node(
        "getConsResponse",
        leaf("cons_id", rec.cons_id),
        leaf("member_id", rec.member_id),
        node("name", leaf("first", rec.first_name), leaf("last", rec.last_name)),
        node("email", leaf("primary_address", rec.primary_email)),
        leaf("origin", rec.origin),
        leaf("active", rec.active),
        leaf("active_detail", rec.active_detail),
        leaf("donor_status", rec.donor_status),
    )


def get_user_groups(call: Call) -> Element:
    cons_id = _observed(call)
    groups = call.store.groups_of(cons_id)
    return node(
        "getConsGroupsResponse", *(node("group", leaf("id", g.id), leaf("name", g.name)) for g in groups)
    )

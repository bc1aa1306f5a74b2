"""createOrUpdate (L-C) and the getUser / getUserGroups observations."""

from __future__ import annotations

from conformance.reference import checks
from conformance.reference.answer import Element, error_tree, leaf, node
from conformance.reference.call import Call
from conformance.reference.lookup import locate, locate_for_update
from conformance.reference.refusal import Refusal
from conformance.reference.store import ORIGIN_CONSTITUENT_API

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
    if not caller.admin and not site.fault("groups-for-constituent"):
        for name in ADMIN_ONLY:
            if params.has(name):
                raise Refusal(14, f"{name} is for administrators only.")
    # No required parameters: a create without primary_email is decided at lookup (L-C8).
    checks.screen(params, site)
    checks.center_id(params)
    try:
        # L-C12: before anything changes
        limit = not site.fault("createorupdate-subject-unchecked")
        wanted = checks.interaction_input(params, site, subject_limit=limit)
    except Refusal as refusal:
        if not site.fault("half-write-email"):
            raise
        return _half_write(call, refusal)
    add = checks.group_ids(params, "add_group_ids", site)
    remove = checks.group_ids(params, "remove_group_ids", site)

    target = locate_for_update(call)
    email = params.first("primary_email")
    first, last = params.first("name.first"), params.first("name.last")
    if target is None:
        if email is None and not site.fault("create-without-email"):
            raise Refusal(10, "primary_email is required to create a record.")
        for name in UPDATE_ONLY:
            if params.has(name) and not site.fault("remove-on-create-accepted"):
                raise Refusal(22, f"{name} is only valid when updating a record.")
        no_welcome = (params.first("no_welcome") or "true").lower()
        welcome_asked = no_welcome in ("f", "false")
        if site.fault("welcome-inverted"):
            welcome_asked = not welcome_asked
        target = store.create_constituent(
            member_id=params.first("member_id"),  # L-C10: written only on create
            primary_email=email,
            first_name=first,
            last_name=last,
            welcome_sent=welcome_asked and site.welcome_mail,  # L-C15
            source=params.first("source"),
            sub_source=params.first("sub_source"),
            origin=1 if site.fault("origin-wrong") else ORIGIN_CONSTITUENT_API,
        )
        message, subject = CREATED, SUBJECT_CREATED
    else:
        # L-C10: the given primary_email becomes the record's, unless another record
        # already has it on a site that enforces unique email.
        unique = site.unique_email and not site.fault("update-email-not-unique")
        if email is not None and unique and store.email_used_by_other(email, target):
            raise Refusal(13)
        member_id = params.first("member_id") if site.fault("member-id-written-on-update") else None
        store.update_constituent(
            target, primary_email=email, first_name=first, last_name=last, member_id=member_id
        )
        message, subject = UPDATED, SUBJECT_UPDATED
        if site.fault("update-message-created"):
            message = CREATED

    # Additions first, then removals: an id in both lists ends up removed.
    if not site.fault("groups-not-added"):
        store.add_to_groups(target, add)
    store.remove_from_groups(target, remove)
    if not site.fault("no-automatic-interaction"):
        store.log_interaction(target, wanted.stored(subject), caller.account_id, call.now)  # L-C11
    if site.fault("cons-response-order"):
        return node("createOrUpdateConsResponse", leaf("message", message), leaf("cons_id", target))
    return node("createOrUpdateConsResponse", leaf("cons_id", target), leaf("message", message))


def _half_write(call: Call, refusal: Refusal) -> Element:
    """The deliberate mistake "half-write-email": the record's email is written before
    the interaction parameters are checked, and the error is answered without rolling
    the write back (the service commits an operation that answers an errorResponse)."""
    email = call.params.first("primary_email")
    target = locate_for_update(call)
    if target is not None and email is not None:
        call.store.update_constituent(target, primary_email=email, first_name=None, last_name=None)
    return error_tree(refusal.code, refusal.message)


def _observed(call: Call) -> int:
    if call.acting.admin:
        checks.require_identifier(call.params, call.site)
    checks.screen(call.params, call.site)
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

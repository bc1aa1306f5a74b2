"""logInteraction, getInteraction and the getUserInteractions observation (L-L, L-G).

Each operation runs the stages of L-T16 after authentication in order: required
parameters, characters, parameter values, lookup, then its own rules.
"""

from __future__ import annotations

from dataclasses import replace

from conformance.reference import checks
from conformance.reference.answer import Element, leaf, node
from conformance.reference.call import Call
from conformance.reference.lookup import locate
from conformance.reference.refusal import Refusal
from conformance.reference.store import MAX_ROW_ID, InteractionRecord

LOGGED = "Interaction logged successfully."


def _require_identifier_if_admin(call: Call) -> None:
    # L-A5: a constituent session acts on its own record, identifiers are not needed.
    if call.acting.admin:
        checks.require_identifier(call.params, call.site)


def interaction_element(rec: InteractionRecord, call: Call) -> Element:
    """L-G4 and L-G7: ``note`` repeats the interaction's facts; never updated, so
    modifiedBy/modifiedDate are createdBy/creationDate; no body, no note (L-G6)."""
    fault = call.site.fault
    if rec.note_id is None and fault("note-text-none"):
        rec = replace(rec, note_id=rec.interaction_id, note_text=str(None))
    children = [
        leaf("interactionId", rec.interaction_id),
        leaf("interactionTypeId", rec.type_id),
        leaf("categoryId", rec.category_id),
        leaf("referenceId", 0),
        leaf("consId", rec.cons_id),
        leaf("createdBy", rec.created_by),
        leaf("creationDate", rec.creation_date),
    ]
    if rec.note_id is not None:
        capitalised = fault("note-type-capitalised")
        children.append(
            node(
                "note",
                leaf("categoryId", rec.category_id),
                leaf("typeOfConsNote", "Normal" if capitalised else "normal"),
                leaf("consId", rec.cons_id),
                leaf("createdBy", rec.created_by),
                leaf("creationDate", rec.creation_date),
                leaf("interactionId", rec.interaction_id),
                leaf("modifiedBy", rec.created_by),
                leaf("modifiedDate", call.now if fault("note-modified-now") else rec.creation_date),
                leaf("noteId", rec.note_id),
                leaf("subject", rec.subject),
                leaf("text", rec.note_text),
                leaf("type", "Comment" if capitalised else "comment"),
            )
        )
    if fault("subject-before-note"):
        children.insert(7, leaf("subject", rec.subject))
        children.append(leaf("count", rec.count))
    else:
        children += [leaf("subject", rec.subject), leaf("count", rec.count)]
    return node("interaction", *children)


def log_interaction(call: Call) -> Element:
    params, fault = call.params, call.site.fault
    if not fault("subject-optional"):
        checks.require(params, "interaction_subject")  # L-L1
    _require_identifier_if_admin(call)
    checks.screen(params, call.site)
    checks.center_id(params)
    wanted = checks.interaction_input(params, call.site)
    cons_id = locate(call)
    # The subject is required above, so the default is never used here.
    new = wanted.stored(default_subject="")
    if fault("note-text-lost") and new.body is not None:
        new = replace(new, body="")
    if fault("count-not-stored"):
        new = replace(new, count=1)
    created_by = cons_id if fault("created-by-record") else call.acting.account_id
    interaction_id = call.store.log_interaction(cons_id, new, created_by, call.now)
    if fault("interaction-id-per-record"):
        interaction_id = len(call.store.interactions_of(cons_id, MAX_ROW_ID, 0))
    answer_id = leaf("interaction_id", interaction_id)
    if fault("log-answer-order"):
        return node("updateConsResponse", leaf("cons_id", cons_id), answer_id, leaf("message", LOGGED))
    return node("updateConsResponse", leaf("cons_id", cons_id), leaf("message", LOGGED), answer_id)


def get_interaction(call: Call) -> Element:
    params, fault = call.params, call.site.fault
    if not params.has("interaction_id") and fault("interaction-id-missing-code-27"):
        raise Refusal(27, "No such interaction for this constituent.")
    checks.require(params, "interaction_id")  # L-G1
    _require_identifier_if_admin(call)
    checks.screen(params, call.site)
    checks.center_id(params)
    wanted = checks.interaction_id(params)
    cons_id = locate(call)
    rec = call.store.interaction(wanted) if wanted <= MAX_ROW_ID else None
    if rec is None and fault("unknown-interaction-empty"):
        return node("getInteractionResponse")
    # A constituent reading another's interaction is L-A5, an administrator L-G3.
    mistaken = fault("any-owner") if call.acting.admin else fault("session-reads-others")
    # L-G2 and L-G3 answer alike, so the error tells an outsider nothing about which
    # interaction ids exist for other constituents.
    if rec is None or (rec.cons_id != cons_id and not mistaken):
        raise Refusal(27, "No such interaction for this constituent.")
    return node("getInteractionResponse", interaction_element(rec, call))


def get_user_interactions(call: Call) -> Element:
    params = call.params
    _require_identifier_if_admin(call)
    checks.screen(params, call.site)
    checks.center_id(params)
    size, offset = checks.page(params)
    cons_id = locate(call)
    records = call.store.interactions_of(cons_id, size, offset * size)
    return node("getUserInteractionsResponse", *(interaction_element(r, call) for r in records))

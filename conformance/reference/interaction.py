"""logInteraction, getInteraction and the getUserInteractions observation (L-L, L-G).

Each operation runs the stages of L-T16 after authentication in order: required
parameters, characters, parameter values, lookup, then its own rules.
"""

from __future__ import annotations

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
        checks.require_identifier(call.params)


def interaction_element(rec: InteractionRecord) -> Element:
    """L-G4 and L-G7: ``note`` repeats the interaction's facts; never updated, so
    modifiedBy/modifiedDate are createdBy/creationDate; no body, no note (L-G6)."""
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
        children.append(
            node(
                "note",
                leaf("categoryId", rec.category_id),
                leaf("typeOfConsNote", "normal"),
                leaf("consId", rec.cons_id),
                leaf("createdBy", rec.created_by),
                leaf("creationDate", rec.creation_date),
                leaf("interactionId", rec.interaction_id),
                leaf("modifiedBy", rec.created_by),
                leaf("modifiedDate", rec.creation_date),
                leaf("noteId", rec.note_id),
                leaf("subject", rec.subject),
                leaf("text", rec.note_text),
                leaf("type", "comment"),
            )
        )
    children += [leaf("subject", rec.subject), leaf("count", rec.count)]
    return node("interaction", *children)


def log_interaction(call: Call) -> Element:
    params = call.params
    checks.require(params, "interaction_subject")  # L-L1
    _require_identifier_if_admin(call)
    checks.screen(params)
    checks.center_id(params)
    wanted = checks.interaction_input(params, call.site)
    cons_id = locate(call)
    # The subject is required above, so the default is never used here.
    interaction_id = call.store.log_interaction(
        cons_id, wanted.stored(default_subject=""), call.acting.account_id, call.now
    )
    return node(
        "updateConsResponse",
        leaf("cons_id", cons_id),
        leaf("message", LOGGED),
        leaf("interaction_id", interaction_id),
    )


def get_interaction(call: Call) -> Element:
    params = call.params
    checks.require(params, "interaction_id")  # L-G1
    _require_identifier_if_admin(call)
    checks.screen(params)
    checks.center_id(params)
    wanted = checks.interaction_id(params)
    cons_id = locate(call)
    rec = call.store.interaction(wanted) if wanted <= MAX_ROW_ID else None
    # L-G2 and L-G3 answer alike, so the error tells an outsider nothing about which
    # interaction ids exist for other constituents.
    if rec is None or rec.cons_id != cons_id:
        raise Refusal(27, "No such interaction for this constituent.")
    return node("getInteractionResponse", interaction_element(rec))


def get_user_interactions(call: Call) -> Element:
    params = call.params
    _require_identifier_if_admin(call)
    checks.screen(params)
    checks.center_id(params)
    size, offset = checks.page(params)
    cons_id = locate(call)
    records = call.store.interactions_of(cons_id, size, offset * size)
    return node("getUserInteractionsResponse", *(interaction_element(r) for r in records))

"""Parameter checks of a Luminate call, one function per stage of L-T16.

Each function raises :class:`~conformance.reference.refusal.Refusal` with the code the
contract gives (the reference's choice where it offers several) and returns the parsed
values otherwise.  The operations call them in the L-T16 order: required parameters,
characters XML forbids, parameter values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conformance.reference.answer import FORBIDDEN_XML
from conformance.reference.params import Params
from conformance.reference.refusal import Refusal
from conformance.reference.site import LuminateSite
from conformance.reference.store import NewInteraction

MAX_SUBJECT = 80  # L-L2, in code points
MAX_BODY = 1500  # L-L3, in code points
MAX_GROUP_IDS = 1000  # L-C14, per parameter, repeats included
FIRST_USER_GROUP = 1000  # L-C14: lower ids are the vendor's pre-defined groups
# Counts and page numbers beyond a signed 32-bit int are refused as validation errors
# rather than overflowing storage; no real call logs two billion repetitions.
MAX_SMALL_INT = 2**31 - 1
IDENTIFIERS = ("cons_id", "member_id", "primary_email")

_DIGITS = re.compile("[0-9]+")


def non_negative(text: str) -> int | None:
    """``text`` as a non-negative integer: ASCII digits only (no sign, no blanks)."""
    return int(text) if _DIGITS.fullmatch(text) else None


# ---- required parameters (9) ----


def require(params: Params, *names: str) -> None:
    for name in names:
        if not params.has(name):
            raise Refusal(9, f"Missing: {name}.")


def require_identifier(params: Params, site: LuminateSite) -> None:
    """L-K1: an administrator names the constituent by at least one identifier."""
    if not any(params.has(name) for name in IDENTIFIERS):
        code = 16 if site.fault("no-identifier-code-16") else 9
        raise Refusal(code, "One of cons_id, member_id or primary_email is required.")


# ---- characters XML forbids (35), then repeated parameters (22) ----


def screen(params: Params, site: LuminateSite) -> None:
    """The two checks every operation makes between its required and value stages.

    Names are screened as well as values: undecodable bytes anywhere in the body are
    refused (code 35), and a name is echoed in the code-22 message for repeats, which
    must stay well-formed.
    """
    for name, value in params.pairs:
        if FORBIDDEN_XML.search(name) or FORBIDDEN_XML.search(value):
            if site.fault("forbidden-chars-stored"):
                break
            raise Refusal(22 if site.fault("forbidden-chars-code-22") else 35)
    repeated = params.repeated()
    if repeated is not None:
        raise Refusal(22, f"Parameter {repeated} was given more than once.")


# ---- parameter values ----


@dataclass(frozen=True)
class InteractionInput:
    """The validated ``interaction_*`` parameters; the subject may still be defaulted."""

    subject: str | None
    body: str | None
    type_id: int
    category_id: int
    count: int

    def stored(self, default_subject: str) -> NewInteraction:
        return NewInteraction(
            subject=self.subject if self.subject is not None else default_subject,
            body=self.body,
            type_id=self.type_id,
            category_id=self.category_id,
            count=self.count,
        )


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def interaction_input(params: Params, site: LuminateSite, *, subject_limit: bool = True) -> InteractionInput:
    """L-L2 to L-L7 (and L-C12 for createOrUpdate): defaults type 0, category 0, count 1.

    ``subject_limit`` is False only for the deliberate mistake of a createOrUpdate that
    forgets the subject limit (fault ``createorupdate-subject-unchecked``).
    """
    subject = params.first("interaction_subject")
    body = params.first("interaction_body")
    if site.fault("text-trimmed"):
        subject, body = (None if t is None else t.strip() for t in (subject, body))
    if subject is not None and subject_limit:
        length = len(subject)
        if site.fault("subject-bytes"):
            length = _utf8_length(subject)
        if site.fault("subject-utf16"):
            length = len(subject.encode("utf-16-le", "surrogatepass")) // 2
        if length > MAX_SUBJECT + (1 if site.fault("subject-81-accepted") else 0):
            if not site.fault("subject-truncated"):
                raise Refusal(23, f"interaction_subject is longer than {MAX_SUBJECT} characters.")
            subject = subject[:MAX_SUBJECT]
    if body is not None:
        length = _utf8_length(body) if site.fault("body-bytes") else len(body)
        if length > MAX_BODY + (1 if site.fault("body-1501-accepted") else 0):
            code = 23 if site.fault("body-code-23") else 30
            raise Refusal(code, f"interaction_body is longer than {MAX_BODY} characters.")

    type_id = min(site.custom_interaction_types, default=0) if site.fault("default-type-custom") else 0
    text = params.first("interaction_type_id")
    if text is not None:
        parsed = non_negative(text)
        # L-L5: only 0 ("Other") and the site's custom types may be logged through the
        # API; the standard, non-custom types are refused like unknown ones.
        known = parsed == 0 or parsed in site.custom_interaction_types or site.fault("type-unchecked")
        if parsed is None or not known:
            code = 29 if site.fault("type-code-29") else 26
            raise Refusal(code, "interaction_type_id is not 0 or a custom interaction type of this site.")
        type_id = parsed

    category_id = 0
    text = params.first("interaction_cat_id")
    if text is not None:
        parsed = non_negative(text)
        known = parsed in site.security_categories or site.fault("category-unchecked")
        if parsed is None or not known:
            code = 26 if site.fault("category-code-26") else 29
            raise Refusal(code, "interaction_cat_id names no security category of this site.")
        category_id = parsed

    count = 0 if site.fault("default-count-0") else 1
    text = params.first("interaction_count")
    if text is not None:
        parsed = non_negative(text)
        if site.fault("count-negative-accepted") and re.fullmatch("-[0-9]+", text):
            parsed = int(text)
        if parsed is None or parsed > MAX_SMALL_INT or (parsed == 0 and site.fault("count-zero-refused")):
            raise Refusal(22, "interaction_count is not a non-negative integer.")
        count = parsed

    return InteractionInput(subject, body, type_id, category_id, count)


def group_ids(params: Params, name: str, site: LuminateSite) -> tuple[int, ...]:
    """L-C14: a comma-separated list of at most 1000 ids, each 1000 or more."""
    text = params.first(name)
    if text is None:
        return ()
    entries = text.split(",")
    if len(entries) > MAX_GROUP_IDS + (1 if site.fault("groups-1001-accepted") else 0):
        raise Refusal(23, f"{name} holds more than {MAX_GROUP_IDS} ids.")
    lowest = 0 if site.fault("groups-below-1000-accepted") else FIRST_USER_GROUP
    ids: list[int] = []
    for entry in entries:
        # Blanks around an entry ("1001, 1002") are forgiven; an empty entry is not.
        parsed = non_negative(entry.strip())
        if parsed is None or parsed < lowest:
            raise Refusal(22, f"{name} holds an entry that is not a group id of {FIRST_USER_GROUP} or more.")
        ids.append(parsed)
    return tuple(ids)


def interaction_id(params: Params) -> int:
    """L-G1: a non-negative integer (required beforehand)."""
    text = params.first("interaction_id")
    parsed = None if text is None else non_negative(text)
    if parsed is None:
        raise Refusal(22, "interaction_id is not a non-negative integer.")
    return parsed


def center_id(params: Params) -> None:
    """The common parameter ``center_id`` is a non-negative integer (vendor-facts.md)."""
    text = params.first("center_id")
    if text is not None and non_negative(text) is None:
        raise Refusal(22, "center_id is not a non-negative integer.")


def page(params: Params) -> tuple[int, int]:
    """``list_page_size`` (1 or more, default 25) and ``list_page_offset`` (a page number from 0)."""
    size, offset = 25, 0
    text = params.first("list_page_size")
    if text is not None:
        parsed = non_negative(text)
        if parsed is None or parsed == 0 or parsed > MAX_SMALL_INT:
            raise Refusal(22, "list_page_size is not a positive integer.")
        size = parsed
    text = params.first("list_page_offset")
    if text is not None:
        parsed = non_negative(text)
        if parsed is None or parsed > MAX_SMALL_INT:
            raise Refusal(22, "list_page_offset is not a non-negative integer.")
        offset = parsed
    return size, offset

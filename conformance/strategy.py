"""Hypothesis strategies derived from the clause catalogue and the target profile.

Every strategy draws the *vocabulary* of :mod:`conformance.model` (texts, identifier
slots, interaction parameters, Kognitiv field choices), never raw requests: the model
predicts from the same values the request is built from, and a shrunk example reads
as what it means (``Identifiers(cons_id=nobody, member_id=A)``) rather than as a form
body.  What is drawn comes from the profile (custom interaction types, security
categories, which fixtures exist); the limits are the clauses' own (L-L2, L-L3, K-V1,
K-V2; ``tests/properties`` checks they match the catalogue's statements).

Imports hypothesis, so only property modules import this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

from hypothesis import strategies as st

from conformance.model import (
    ACCOUNT_LIMIT,
    LIMITS,
    NOTE_LIMIT,
    XML_FORBIDDEN,
    AccountChoice,
    Identifiers,
    InteractionInput,
    KognitivModel,
    RecordRequest,
    ReferenceChoice,
    Slot,
    Text,
    TokenChoice,
)
from conformance.profile import Kognitiv, Luminate, LuminateSettings

T = TypeVar("T")

SUBJECT_LIMIT = LIMITS["L-L2"]
BODY_LIMIT = LIMITS["L-L3"]
#: Counts beyond a signed 32-bit integer are outside what any real site stores; the
#: contract names no upper bound, so the properties stay below one.
COUNT_MAX = 2**31 - 1

#: Characters that must survive escaping (L-T14): markup, quotes, white space that XML
#: parsers normalise (CR, tab), a non-breaking space, non-ASCII letters and emoji
#: outside the Basic Multilingual Plane (two UTF-16 units, one code point).
SPECIALS = (
    "&",
    "<",
    ">",
    '"',
    "'",
    "\r",
    "\t",
    "\n",
    " ",
    "\u00a0",
    "é",
    "ß",
    "中",
    "😀",
    "\U0001f9d1",
    "\u2028",
)


#: Lone surrogates cannot be encoded in UTF-8, so no request can carry one.
_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)


def xml_characters(*, carriage_return: bool = True) -> st.SearchStrategy[str]:
    """One character legal in XML 1.0, from every Unicode category, specials favoured."""
    excluded = set(XML_FORBIDDEN)
    if not carriage_return:
        excluded.add("\r")
    specials = [c for c in SPECIALS if c not in excluded]
    return st.one_of(
        st.sampled_from(specials),
        st.characters(codec="utf-8", exclude_categories=_SURROGATES, exclude_characters="".join(excluded)),
    )


def forbidden_characters() -> st.SearchStrategy[str]:
    """One character XML 1.0 forbids (L-T15): C0 controls but tab, LF, CR; U+FFFE, U+FFFF."""
    return st.sampled_from(sorted(XML_FORBIDDEN))


@st.composite
def texts(
    draw: st.DrawFn, lengths: st.SearchStrategy[int], alphabet: st.SearchStrategy[str] | None = None
) -> Text:
    """A :class:`Text` of a drawn length: drawn head and tail around a run of one character."""
    chars = alphabet if alphabet is not None else xml_characters()
    length = draw(lengths)
    head = draw(st.text(chars, max_size=min(length, 16)))
    tail = draw(st.text(chars, max_size=min(length - len(head), 4)))
    fill = draw(chars)
    return Text(head, fill, length - len(head) - len(tail), tail)


def lengths_within(limit: int, minimum: int = 1) -> st.SearchStrategy[int]:
    # The limit itself is one branch on its own: uniform lengths would rarely hit it.
    # It is the second branch, so examples shrink towards short texts.
    return st.one_of(st.integers(minimum, limit), st.just(limit))


def lengths_beyond(limit: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(limit + 1, limit + 40), st.just(limit + 1))


def texts_within(limit: int, minimum: int = 1, *, carriage_return: bool = True) -> st.SearchStrategy[Text]:
    return texts(lengths_within(limit, minimum), xml_characters(carriage_return=carriage_return))


def texts_beyond(limit: int, *, carriage_return: bool = True) -> st.SearchStrategy[Text]:
    return texts(lengths_beyond(limit), xml_characters(carriage_return=carriage_return))


@st.composite
def texts_with_forbidden(draw: st.DrawFn, limit: int) -> Text:
    """A text within ``limit`` holding one character XML forbids, in its head or tail."""
    text = draw(texts_within(limit - 1, minimum=0))
    bad = draw(forbidden_characters())
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text.head)))
        return Text(text.head[:at] + bad + text.head[at:], text.fill, text.repeat, text.tail)
    return Text(text.head, text.fill, text.repeat, text.tail + bad)


# ---- numeric parameters (L-L5 to L-L7) ------------------------------------------


def non_integers() -> st.SearchStrategy[str]:
    """Values that are not non-negative integers: negatives, fractions, words, mixtures.

    Forms a target may fairly read either way (``+1``, `` 1``, ``1e3``, ``2.0``,
    leading zeros) are left out: the contract does not decide them.
    """
    return st.one_of(
        st.integers(1, COUNT_MAX).map(lambda n: f"-{n}"),
        st.tuples(st.integers(0, 999), st.integers(1, 9)).map(lambda t: f"{t[0]}.{t[1]}"),
        st.text("abcxyzXYZ", min_size=1, max_size=6),
        st.tuples(st.integers(0, 99), st.text("abc", min_size=1, max_size=3)).map(lambda t: f"{t[0]}{t[1]}"),
    )


def _absent_or(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), valid)


def valid_type_ids(settings: LuminateSettings) -> st.SearchStrategy[str]:
    return st.sampled_from([0, *settings.custom_interaction_types]).map(str)


def invalid_type_ids(settings: LuminateSettings) -> st.SearchStrategy[str]:
    taken = {0, settings.standard_interaction_type, *settings.custom_interaction_types}
    return st.one_of(
        st.just(str(settings.standard_interaction_type)),  # L-L5: standard types are refused too
        st.integers(0, COUNT_MAX).filter(lambda n: n not in taken).map(str),
        non_integers(),
    )


def valid_category_ids(settings: LuminateSettings) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted({0, *settings.security_categories})).map(str)


def invalid_category_ids(settings: LuminateSettings) -> st.SearchStrategy[str]:
    taken = {0, *settings.security_categories}
    return st.one_of(
        st.integers(0, COUNT_MAX).filter(lambda n: n not in taken).map(str),
        non_integers(),
    )


def valid_counts() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(0, 20), st.integers(0, COUNT_MAX)).map(str)


# ---- interaction parameters -----------------------------------------------------


def text_inputs() -> st.SearchStrategy[InteractionInput]:
    """A subject and maybe a body within their limits (an empty body counts as absent)."""
    return st.builds(
        InteractionInput,
        subject=texts_within(SUBJECT_LIMIT),
        body=st.one_of(st.none(), texts_within(BODY_LIMIT, minimum=0)),
    )


def oversized_inputs() -> st.SearchStrategy[InteractionInput]:
    """A subject beyond 80 characters or a body beyond 1500 (L-L2, L-L3), or both."""
    over = st.sampled_from(["subject", "body", "both"])
    return over.flatmap(
        lambda which: st.builds(
            InteractionInput,
            subject=texts_beyond(SUBJECT_LIMIT) if which != "body" else texts_within(SUBJECT_LIMIT),
            body=texts_beyond(BODY_LIMIT)
            if which != "subject"
            else st.one_of(st.none(), texts_within(BODY_LIMIT)),
        )
    )


def numeric_inputs(settings: LuminateSettings) -> st.SearchStrategy[InteractionInput]:
    """Type, category and count each absent, valid or not; a short valid subject."""
    return st.builds(
        InteractionInput,
        subject=texts_within(SUBJECT_LIMIT),
        type_id=_absent_or(st.one_of(valid_type_ids(settings), invalid_type_ids(settings))),
        cat_id=_absent_or(st.one_of(valid_category_ids(settings), invalid_category_ids(settings))),
        count=_absent_or(st.one_of(valid_counts(), non_integers())),
    )


def forbidden_inputs() -> st.SearchStrategy[InteractionInput]:
    """A character XML forbids in the subject or the body, both within their limits (L-T15)."""
    in_subject = st.builds(InteractionInput, subject=texts_with_forbidden(SUBJECT_LIMIT))
    in_body = st.builds(
        InteractionInput, subject=texts_within(SUBJECT_LIMIT), body=texts_with_forbidden(BODY_LIMIT)
    )
    return st.one_of(in_subject, in_body)


# ---- identifiers (L-K, L-C) -----------------------------------------------------

# Absent is listed several times so that lower-precedence identifiers decide often
# enough; it comes first, so examples shrink towards fewer identifiers.
_SLOTS = (Slot.ABSENT, Slot.ABSENT, Slot.EMPTY, Slot.A, Slot.B, Slot.NOBODY)


def identifiers(lo: Luminate) -> st.SearchStrategy[Identifiers]:
    """Any combination of the three identifiers over records A and B, nobody, several
    (the profile's shared fixtures, when it names them) and A's email in other case."""
    members = [*_SLOTS, *([Slot.SEVERAL] if lo.shared_member_id else [])]
    emails = [*_SLOTS, Slot.A_OTHER_CASE, *([Slot.SEVERAL] if lo.shared_email else [])]
    return st.builds(
        Identifiers,
        cons_id=st.sampled_from(_SLOTS),
        member_id=st.sampled_from(members),
        primary_email=st.sampled_from(emails),
    )


# ---- transport (L-T7, L-T8, L-T11) ----------------------------------------------

Api = Literal["SRConsAPI", "CRConsAPI"]


@dataclass(frozen=True)
class ErrorCall:
    """A call with one fault that every servlet refuses with an errorResponse."""

    api: Api
    method: str
    fault: str
    fmt: str
    suppress: str | None  # the suppress_response_codes value sent; None: not sent

    @property
    def suppressed(self) -> bool:
        return self.suppress is not None and self.suppress.lower() == "true"


#: (servlet, method, fault) triples that each make an errorResponse (any code) under the
#: contract, whichever identifiers the target holds; no triple can write anything.
ERROR_FAULTS: tuple[tuple[Api, str, str], ...] = tuple(
    [
        (api, method, fault)
        for api in ("SRConsAPI", "CRConsAPI")
        for method in ("logInteraction", "getInteraction", "createOrUpdate")
        for fault in (
            "wrong api_key",
            "no api_key",
            "no v",
            "v 2.0",
            "unknown method",
            "method in lower case",
            "no credentials",
        )
    ]
    + [
        ("SRConsAPI", "logInteraction", "wrong password"),
        ("SRConsAPI", "logInteraction", "no identifier"),
        ("SRConsAPI", "logInteraction", "no subject"),
        ("SRConsAPI", "logInteraction", "subject of 81 characters"),
        ("SRConsAPI", "logInteraction", "forbidden character"),
        ("SRConsAPI", "logInteraction", "cons_id of nobody"),
        ("SRConsAPI", "getInteraction", "no interaction_id"),
        ("SRConsAPI", "getInteraction", "interaction_id not a number"),
        ("CRConsAPI", "logInteraction", "revoked token"),
        ("CRConsAPI", "getInteraction", "revoked token"),
        ("CRConsAPI", "login", "wrong password"),
        ("CRConsAPI", "login", "no user_name"),
    ]
)


def suppress_values() -> st.SearchStrategy[str | None]:
    """Not sent, ``false``, or ``true`` in any letter case (L-T7)."""
    true_any_case = st.lists(st.booleans(), min_size=4, max_size=4).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip("true", upper, strict=True))
    )
    return st.one_of(st.none(), st.just("false"), true_any_case)


def error_calls() -> st.SearchStrategy[ErrorCall]:
    return st.builds(
        lambda triple, fmt, suppress: ErrorCall(triple[0], triple[1], triple[2], fmt, suppress),
        st.sampled_from(ERROR_FAULTS),
        st.sampled_from(["xml", "json"]),
        suppress_values(),
    )


@dataclass(frozen=True)
class ReadCall:
    """A call that changes nothing, to send in XML and in JSON (L-T11)."""

    method: str
    ids: Identifiers
    interaction_of: Literal["A", "B", "nobody"]


def read_calls(lo: Luminate) -> st.SearchStrategy[ReadCall]:
    methods = [
        "getInteraction",
        *sorted(lo.observations & {"getUser", "getUserInteractions", "getUserGroups"}),
    ]
    return st.builds(
        ReadCall,
        method=st.sampled_from(methods),
        ids=identifiers(lo),
        interaction_of=st.sampled_from(["A", "B", "nobody"]),
    )


# ---- Kognitiv (Part K) ----------------------------------------------------------


def _valid_or(valid: T, faults: list[T]) -> st.SearchStrategy[T]:
    """The valid value or one of the faults, even odds; shrinks towards valid.

    A coin per field rather than the valid value repeated in ``sampled_from``: the odds
    stay even however many kinds of fault a field has, so a later check in an order
    (K-O1) is reached as often as an earlier one.
    """
    return st.booleans().flatmap(lambda faulty: st.sampled_from(faults) if faulty else st.just(valid))


def record_requests(kg: Kognitiv, *, writes: bool) -> st.SearchStrategy[RecordRequest]:
    """Any combination of valid and faulty fields; with writes forbidden, at least one fault."""
    tokens = [TokenChoice.INVALID, TokenChoice.OTHER_CASE, TokenChoice.EMPTY, TokenChoice.MISSING]
    if kg.no_permission_token is not None:
        tokens.append(TokenChoice.NO_PERMISSION)
    accounts = [
        AccountChoice.UNKNOWN,
        AccountChoice.UNKNOWN_OF_60,
        AccountChoice.UNKNOWN_TEXT,
        AccountChoice.OF_61,
        AccountChoice.LONG_TEXT,
        AccountChoice.OTHER_CASE,
        AccountChoice.EMPTY,
        AccountChoice.MISSING,
    ]
    if kg.inactive_account is not None:
        accounts.append(AccountChoice.INACTIVE)
    references = [ReferenceChoice.UNKNOWN, ReferenceChoice.OTHER_CASE, ReferenceChoice.MISSING]
    # Notes go into an envelope as element text, where a parser turns a raw CR into LF:
    # the target would count other characters than the ones drawn, so CR is left out.
    notes = st.one_of(
        st.none(),
        texts_within(NOTE_LIMIT, minimum=0, carriage_return=False),
        texts_beyond(NOTE_LIMIT, carriage_return=False),
    )
    # Account ids of any characters (K-V1 counts characters, and K-E1 compares them exactly).
    account_texts = {
        AccountChoice.UNKNOWN_TEXT: texts_within(ACCOUNT_LIMIT, carriage_return=False),
        AccountChoice.LONG_TEXT: texts_beyond(ACCOUNT_LIMIT, carriage_return=False),
    }
    requests = _valid_or(AccountChoice.ACTIVE, accounts).flatmap(
        lambda account: st.builds(
            RecordRequest,
            token=_valid_or(TokenChoice.VALID, tokens),
            account=st.just(account),
            location=_valid_or(ReferenceChoice.VALID, references),
            interaction_type=_valid_or(ReferenceChoice.VALID, references),
            note=notes,
            account_text=account_texts.get(account, st.none()),
        )
    )
    if writes:
        return requests
    return requests.filter(lambda r: KognitivModel.return_code(r)[0] != 0)

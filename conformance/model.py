"""An in-memory model of the API under test: what a conforming target answers.

The properties and the state machine send each call to the target and ask this model
what the contract makes of the same call, then demand that the two agree.  The model
knows the contract and what the suite itself did: the records it created (and the
profile's fixtures), the interactions it logged, the sessions it opened and closed.
It never guesses about data it has not seen: an identifier it does not know is a fresh
value the suite made up, which names nobody by construction.

Error codes come from the clause catalogue, so the default profile accepts every code a
clause accepts and a strict profile demands the reference's.  When one call has several
faults, L-T16 fixes which is answered for a strict profile only; otherwise any of their
codes passes.  Kognitiv's check order (K-O1) is asserted for every profile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum, StrEnum
from typing import Any, Literal

from conformance.answer import lookup
from conformance.catalogue import Catalogue
from conformance.profile import Kognitiv, LuminateSettings, Secrets


class Shown:
    """Prints as its ``repr`` in hypothesis's falsifying examples.

    Hypothesis pretty-prints a dataclass field by field, ignoring ``__repr__``; the
    IPython-style ``_repr_pretty_`` hook is how an object keeps its own short form.
    """

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


# ---- text values --------------------------------------------------------------------


@dataclass(frozen=True)
class Text(Shown):
    """A text parameter: some drawn characters, a run of one character, more drawn ones.

    Exact lengths at and beyond a limit need long texts; drawing 1500 characters one by
    one would make every example slow and every shrunk example unreadable.  ``repr``
    shows the structure: ``Text('a&<' + 'é' * 77 + ' ', 81 characters)``.
    """

    head: str
    fill: str = ""
    repeat: int = 0
    tail: str = ""

    @property
    def value(self) -> str:
        return self.head + self.fill * self.repeat + self.tail

    def __len__(self) -> int:
        return len(self.head) + len(self.fill) * self.repeat + len(self.tail)

    def __repr__(self) -> str:
        parts = [repr(self.head)] if self.head or not (self.repeat and self.fill) else []
        if self.repeat and self.fill:
            parts.append(f"{self.fill!r} * {self.repeat}")
        if self.tail:
            parts.append(repr(self.tail))
        return f"Text({' + '.join(parts)}, {len(self)} characters)"


#: Characters XML 1.0 does not allow (its ``Char`` production), surrogates aside: they
#: cannot travel in UTF-8 at all.  L-T15 refuses them with code 35.
XML_FORBIDDEN = frozenset(
    chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]
)


def has_forbidden(text: str) -> bool:
    return any(ch in XML_FORBIDDEN for ch in text)


# ---- what a call gets: accepted, or refused with one of some codes ------------------


class Stage(IntEnum):
    """The order of L-T16: a call with several faults is answered for the first."""

    API_KEY = 1
    VERSION = 2
    METHOD = 3
    AUTHENTICATION = 4
    PERMISSION = 5
    REQUIRED = 6
    CHARACTERS = 7
    VALUES = 8
    LOOKUP = 9
    OPERATION = 10


@dataclass(frozen=True)
class Fault:
    """One thing wrong with a call, the clause that names it and the codes it accepts."""

    clause: str
    what: str
    stage: Stage
    codes: frozenset[int] | None  # None: any errorResponse

    def __str__(self) -> str:
        return f"{self.what} [{self.clause}: {_said(self.codes)}]"


def _said(codes: frozenset[int] | None) -> str:
    return "any code" if codes is None else "code " + " or ".join(str(c) for c in sorted(codes))


@dataclass(frozen=True)
class Refused:
    """The call must be refused with an errorResponse whose code is accepted."""

    faults: tuple[Fault, ...]
    strict: bool

    @property
    def deciding(self) -> tuple[Fault, ...]:
        """The faults whose codes count: all of them, or the first stage's for a strict profile."""
        if not self.strict:
            return self.faults
        first = min(f.stage for f in self.faults)
        return tuple(f for f in self.faults if f.stage == first)

    @property
    def codes(self) -> frozenset[int] | None:
        accepted: set[int] = set()
        for fault in self.deciding:
            if fault.codes is None:
                return None
            accepted |= fault.codes
        return frozenset(accepted)

    @property
    def clauses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.clause for f in self.faults))

    def accepts(self, code: int | None) -> bool:
        codes = self.codes
        return code is not None and (codes is None or code in codes)

    def __str__(self) -> str:
        return f"an errorResponse with {_said(self.codes)} ({'; '.join(map(str, self.faults))})"


@dataclass(frozen=True)
class Accepted:
    """The call must succeed, acting on ``record`` (None: on a record it creates)."""

    record: Record | None

    def __str__(self) -> str:
        return "a new record" if self.record is None else f"success on {self.record!r}"


Prediction = Accepted | Refused


class Codes:
    """The codes each clause names (catalogue ``codes``), under the profile's strictness."""

    def __init__(self, catalogue: Catalogue, strict: bool) -> None:
        self.catalogue = catalogue
        self.strict = strict

    def fault(self, clause_id: str, stage: Stage, what: str, when: str | None = None) -> Fault:
        """The fault of ``clause_id``; ``when`` picks one of several codes by its condition."""
        options = self.catalogue.get(clause_id).codes
        chosen = [c for c in options if when is None or when in c.when]
        if len(chosen) != 1:
            raise LookupError(f"{clause_id}: {len(chosen)} codes match {when!r} in the catalogue")
        code = chosen[0]
        if self.strict:
            codes = None if code.code is None else frozenset({code.code})
        elif code.any_code or code.code is None:
            codes = None
        else:
            codes = frozenset({code.code, *code.accept})
        return Fault(clause_id, what, stage, codes)

    def refused(self, *faults: Fault) -> Refused:
        return Refused(tuple(faults), self.strict)


# ---- records and how identifiers find them (L-K, L-C) -------------------------------

IDENTIFIERS = ("cons_id", "member_id", "primary_email")


@dataclass(frozen=True)
class Record(Shown):
    """A constituent the model knows: created by the suite, or the profile's own."""

    label: str
    cons_id: str
    member_id: str | None
    email: str | None

    def __repr__(self) -> str:
        return f"{self.label}(cons_id={self.cons_id})"


class Slot(StrEnum):
    """What one identifier parameter holds, relative to a pool of two records A and B."""

    ABSENT = "absent"
    EMPTY = "empty"  # sent with an empty value, which counts as absent (L-K1)
    A = "A"
    B = "B"
    A_OTHER_CASE = "A in other letter case"  # primary_email only (L-C17)
    NOBODY = "nobody"
    SEVERAL = "several"  # the profile's shared fixture (member_id, primary_email)

    def __repr__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Identifiers(Shown):
    """Which records ``cons_id``, ``member_id`` and ``primary_email`` name."""

    cons_id: Slot = Slot.ABSENT
    member_id: Slot = Slot.ABSENT
    primary_email: Slot = Slot.ABSENT

    def __repr__(self) -> str:
        given = [f"{name}={getattr(self, name).value}" for name in IDENTIFIERS]
        shown = [g for g in given if not g.endswith("=absent")]
        return f"Identifiers({', '.join(shown) or 'none'})"


@dataclass(frozen=True)
class Match:
    kind: Literal["one", "none", "several"]
    record: Record | None = None


class Fresh:
    """Makes identifiers that name nobody (the client's fresh email and member_id)."""

    def __init__(self, email: Callable[[], str], member_id: Callable[[], str], cons_id: str) -> None:
        self.email, self.member_id, self.cons_id = email, member_id, cons_id


class Directory:
    """The records the model knows, and the fixtures that match several records."""

    def __init__(self, shared_member_id: str | None, shared_email: str | None) -> None:
        self.shared_member_id = shared_member_id
        self.shared_email = shared_email
        self._records: dict[str, Record] = {}

    def add(self, record: Record) -> None:
        self._records[record.cons_id] = record

    def get(self, cons_id: str) -> Record | None:
        return self._records.get(cons_id)

    def __iter__(self) -> Iterator[Record]:
        return iter(self._records.values())

    def set_email(self, cons_id: str, email: str) -> Record:
        record = replace(self._records[cons_id], email=email)
        self._records[cons_id] = record
        return record

    def match(self, name: str, value: str) -> Match:
        if name == "cons_id":
            found = self._records.get(value)
            return Match("one", found) if found else Match("none")
        if name == "member_id":
            if value == self.shared_member_id:
                return Match("several")
            hits = [r for r in self if r.member_id == value]
        else:
            key = value.lower()  # L-C17: email matching ignores letter case
            if self.shared_email is not None and key == self.shared_email.lower():
                return Match("several")
            hits = [r for r in self if r.email is not None and r.email.lower() == key]
        if not hits:
            return Match("none")
        return Match("one", hits[0]) if len(hits) == 1 else Match("several")

    def email_used_by_other(self, email: str, cons_id: str) -> bool:
        found = self.match("primary_email", email)
        return found.kind == "several" or (
            found.kind == "one" and found.record is not None and found.record.cons_id != cons_id
        )

    def resolve(self, ids: Identifiers, pool: Mapping[str, Record], fresh: Fresh) -> dict[str, str]:
        """The parameters that ``ids`` stands for, against records A and B of ``pool``."""
        params: dict[str, str] = {}
        for name in IDENTIFIERS:
            slot: Slot = getattr(ids, name)
            if slot is Slot.ABSENT:
                continue
            params[name] = self._value(name, slot, pool, fresh)
        return params

    def _value(self, name: str, slot: Slot, pool: Mapping[str, Record], fresh: Fresh) -> str:
        if slot is Slot.EMPTY:
            return ""
        if slot is Slot.NOBODY:
            return {"cons_id": fresh.cons_id, "member_id": fresh.member_id(), "primary_email": fresh.email()}[
                name
            ]
        if slot is Slot.SEVERAL:
            shared = self.shared_member_id if name == "member_id" else self.shared_email
            if name == "cons_id" or shared is None:
                raise ValueError(f"no fixture for {name}={slot.value}")
            return shared
        record = pool["A" if slot in (Slot.A, Slot.A_OTHER_CASE) else "B"]
        value = {"cons_id": record.cons_id, "member_id": record.member_id, "primary_email": record.email}[
            name
        ]
        if value is None:
            raise ValueError(f"{record!r} has no {name}")
        if slot is Slot.A_OTHER_CASE:
            # swapcase, not upper: the result differs from the stored address whatever
            # case it was created in, as long as it holds a letter (ours always do).
            return value.swapcase()
        return value

    # -- predictions ----------------------------------------------------------------

    def locate(self, params: Mapping[str, str], codes: Codes) -> Record | Fault:
        """L-K1 to L-K4: the record an administrator's logInteraction/getInteraction acts on."""
        deciding = next(((n, params[n]) for n in IDENTIFIERS if params.get(n)), None)
        if deciding is None:
            return codes.fault("L-K1", Stage.REQUIRED, "no cons_id, member_id or primary_email")
        name, value = deciding
        found = self.match(name, value)
        if found.kind == "one":
            assert found.record is not None
            return found.record
        if found.kind == "none":
            return codes.fault("L-K3", Stage.LOOKUP, f"{name} {value!r} matches no record")
        return codes.fault("L-K4", Stage.LOOKUP, f"{name} {value!r} matches several records")

    def locate_for_update(self, params: Mapping[str, str], unique_email: bool, codes: Codes) -> Prediction:
        """L-C1 to L-C8, L-C10 and L-C17: what an administrator's createOrUpdate does."""
        record: Record | None = None
        cons_id, member_id, email = (params.get(n) or None for n in IDENTIFIERS)
        if cons_id is not None:
            found = self.match("cons_id", cons_id)
            if found.record is None:
                return codes.refused(
                    codes.fault("L-C2", Stage.LOOKUP, f"cons_id {cons_id!r} matches no record")
                )
            record = found.record
        elif member_id is not None:
            found = self.match("member_id", member_id)
            if found.kind == "several":
                what = f"member_id {member_id!r} matches several records"
                return codes.refused(codes.fault("L-C4", Stage.LOOKUP, what))
            record = found.record  # None: the search goes on by primary_email (L-C5)
        if record is None and email is not None:
            found = self.match("primary_email", email)
            if found.kind == "several" and unique_email:
                what = f"primary_email {email!r} matches several records"
                return codes.refused(codes.fault("L-C7", Stage.LOOKUP, what))
            record = found.record if found.kind == "one" else None
            if record is not None:
                return Accepted(record)  # L-C6: the address found it, so no other record has it
        if record is None:
            if email is None:
                return codes.refused(codes.fault("L-C8", Stage.OPERATION, "a create without primary_email"))
            return Accepted(None)
        if email is not None and unique_email and self.email_used_by_other(email, record.cons_id):
            what = f"primary_email {email!r} belongs to another record"
            return codes.refused(codes.fault("L-C10", Stage.OPERATION, what))
        return Accepted(record)

    def apply_create_or_update(self, params: Mapping[str, str], outcome: Accepted, cons_id: str) -> Record:
        """The model's side of a createOrUpdate that succeeded as predicted (L-C10)."""
        email = params.get("primary_email") or None
        if outcome.record is None:
            record = Record(f"C{cons_id}", cons_id, params.get("member_id") or None, email)
            self.add(record)
            return record
        if email is not None:
            return self.set_email(outcome.record.cons_id, email)
        return outcome.record


@dataclass(frozen=True)
class Pool(Shown):
    """Records A and B that identifiers are drawn over, each with one interaction, and a
    scratch record that only ever receives calls that must be refused (so "nothing was
    stored" is a count that must not change)."""

    a: Record
    b: Record
    scratch: Record
    interactions: Mapping[str, StoredInteraction]  # by record label, "A" and "B"

    @property
    def records(self) -> dict[str, Record]:
        return {"A": self.a, "B": self.b}

    def __repr__(self) -> str:
        # Hypothesis prints fixtures with a falsifying example: keep it to one line.
        return f"Pool({self.a!r}, {self.b!r}, {self.scratch!r})"


# ---- interactions (L-L, L-G) -----------------------------------------------------------

_NON_NEGATIVE = re.compile("[0-9]+")


def non_negative(text: str) -> int | None:
    """An ASCII-digit, non-negative integer, or None (signs, points and letters are not)."""
    return int(text) if _NON_NEGATIVE.fullmatch(text) else None


@dataclass(frozen=True)
class InteractionInput(Shown):
    """The ``interaction_*`` parameters of one call; None is absent."""

    subject: Text | None = None
    body: Text | None = None
    type_id: str | None = None
    cat_id: str | None = None
    count: str | None = None

    def params(self) -> dict[str, str]:
        given = {
            "interaction_subject": self.subject.value if self.subject is not None else None,
            "interaction_body": self.body.value if self.body is not None else None,
            "interaction_type_id": self.type_id,
            "interaction_cat_id": self.cat_id,
            "interaction_count": self.count,
        }
        return {name: value for name, value in given.items() if value is not None}

    def __repr__(self) -> str:
        given = {name: getattr(self, name) for name in ("subject", "body", "type_id", "cat_id", "count")}
        return "InteractionInput(" + ", ".join(f"{k}={v!r}" for k, v in given.items() if v is not None) + ")"


LIMITS = {"L-L2": 80, "L-L3": 1500}  # subject and body, in characters (code points)


def interaction_faults(
    given: InteractionInput, settings: LuminateSettings, codes: Codes, subject_required: bool = True
) -> list[Fault]:
    """Everything wrong with the ``interaction_*`` parameters (L-L1 to L-L7, L-T15)."""
    faults: list[Fault] = []
    subject = given.subject.value if given.subject is not None else ""
    body = given.body.value if given.body is not None else ""
    if subject_required and not subject:
        faults.append(codes.fault("L-L1", Stage.REQUIRED, "no interaction_subject"))
    if has_forbidden(subject) or has_forbidden(body):
        faults.append(codes.fault("L-T15", Stage.CHARACTERS, "a character XML 1.0 forbids"))
    if len(subject) > LIMITS["L-L2"]:
        faults.append(codes.fault("L-L2", Stage.VALUES, f"a subject of {len(subject)} characters"))
    if len(body) > LIMITS["L-L3"]:
        faults.append(codes.fault("L-L3", Stage.VALUES, f"a body of {len(body)} characters"))
    if given.type_id:
        number = non_negative(given.type_id)
        what = f"interaction_type_id {given.type_id!r}"
        if number is None:
            faults.append(codes.fault("L-L7", Stage.VALUES, what, when="interaction_type_id"))
        elif number != 0 and number not in settings.custom_interaction_types:
            faults.append(codes.fault("L-L5", Stage.VALUES, what))
    if given.cat_id:
        number = non_negative(given.cat_id)
        what = f"interaction_cat_id {given.cat_id!r}"
        if number is None:
            faults.append(codes.fault("L-L7", Stage.VALUES, what, when="interaction_cat_id"))
        elif number not in settings.security_categories:
            faults.append(codes.fault("L-L6", Stage.VALUES, what))
    if given.count and non_negative(given.count) is None:
        what = f"interaction_count {given.count!r}"
        faults.append(codes.fault("L-L7", Stage.VALUES, what, when="interaction_count"))
    return faults


@dataclass(frozen=True)
class StoredInteraction(Shown):
    """An interaction as a conforming target stores it (L-L4 defaults, L-L9)."""

    interaction_id: str
    cons_id: str
    created_by: str
    subject: str
    body: str | None  # None: logged without a body (L-G6)
    type_id: str
    cat_id: str
    count: str

    def __repr__(self) -> str:
        return f"Interaction({self.interaction_id}, cons_id={self.cons_id})"

    @classmethod
    def of(
        cls, interaction_id: str, cons_id: str, created_by: str, given: InteractionInput
    ) -> StoredInteraction:
        body = given.body.value if given.body is not None and given.body.value else None
        return cls(
            interaction_id=interaction_id,
            cons_id=cons_id,
            created_by=created_by,
            subject=given.subject.value if given.subject is not None else "",
            body=body,
            # L-L4: type 0, category 0, count 1 when absent (an empty value is absent).
            type_id=str(int(given.type_id)) if given.type_id else "0",
            cat_id=str(int(given.cat_id)) if given.cat_id else "0",
            count=str(int(given.count)) if given.count else "1",
        )

    def differences(self, tree: Any) -> list[str]:
        """How a getInteraction answer's tree differs from this (empty: it reads back)."""
        wanted = {
            "interaction/interactionId": self.interaction_id,
            "interaction/consId": self.cons_id,
            "interaction/createdBy": self.created_by,
            "interaction/subject": self.subject,
            "interaction/interactionTypeId": self.type_id,
            "interaction/categoryId": self.cat_id,
            "interaction/count": self.count,
        }
        out = [_difference(path, want, tree) for path, want in wanted.items()]
        found, text = lookup(tree, "interaction/note/text")
        if self.body is not None:
            out.append(_difference("interaction/note/text", self.body, tree))
        elif found and text not in (None, ""):
            # L-G6: without a body the note is absent, or its text empty or nil.
            out.append(
                f"interaction/note/text: {_shown(text)}, but the interaction was logged without a body"
            )
        return [d for d in out if d]


def _difference(path: str, want: str, tree: Any) -> str:
    found, got = lookup(tree, path)
    if not found:
        return f"{path}: absent (expected {_shown(want)})"
    if got != want:
        return f"{path}: {_shown(got)} (expected {_shown(want)}){_where_differs(want, got)}"
    return ""


def _shown(value: Any) -> str:
    if isinstance(value, str) and len(value) > 60:
        return f"{value[:60]!r}… ({len(value)} characters)"
    return repr(value)


def _where_differs(want: str, got: Any) -> str:
    if not isinstance(got, str):
        return ""
    at = next(
        (i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b), min(len(want), len(got))
    )
    sent = want[at : at + 1]
    back = got[at : at + 1]
    return f"; first difference at character {at}: sent {sent!r}, read back {back!r}"


# ---- sessions (L-A2 to L-A5) -------------------------------------------------------


class SessionState(Enum):
    LIVE = "live"
    REVOKED = "revoked"  # logged out: the token no longer authenticates (L-A4)
    UNSURE = "unsure"  # another session of the same constituent was logged out


@dataclass
class Sessions:
    """Tokens the suite opened, whose they are and what logout did to them.

    The contract says that a logged-out token stops authenticating; it says nothing of
    the constituent's other sessions, so those become *unsure*: either answer passes,
    and the first one seen settles it.
    """

    owner: dict[str, str] = field(default_factory=dict, repr=False)
    state: dict[str, SessionState] = field(default_factory=dict, repr=False)

    def open(self, token: str, cons_id: str) -> None:
        self.owner[token] = cons_id
        self.state[token] = SessionState.LIVE

    def close(self, token: str) -> None:
        cons_id = self.owner.get(token)
        for other, owner in self.owner.items():
            if owner == cons_id and self.state[other] is SessionState.LIVE:
                self.state[other] = SessionState.UNSURE
        self.state[token] = SessionState.REVOKED

    def settle(self, token: str, authenticated: bool) -> None:
        if self.state.get(token) is SessionState.UNSURE:
            self.state[token] = SessionState.LIVE if authenticated else SessionState.REVOKED


# ---- Kognitiv RecordInteraction (Part K) ------------------------------------------


class TokenChoice(StrEnum):
    VALID = "valid"
    NO_PERMISSION = "valid, without permission"
    INVALID = "invalid"
    OTHER_CASE = "valid, in other letter case"
    EMPTY = "empty"
    MISSING = "missing"

    def __repr__(self) -> str:
        return self.value


class AccountChoice(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    UNKNOWN = "unknown"
    UNKNOWN_OF_60 = "unknown, 60 characters"
    UNKNOWN_TEXT = "unknown, drawn text within 60 characters"  # the text is account_text
    OF_61 = "active, padded to 61 characters"
    LONG_TEXT = "drawn text beyond 60 characters"  # the text is account_text
    OTHER_CASE = "active, in other letter case"
    EMPTY = "empty"
    MISSING = "missing"

    def __repr__(self) -> str:
        return self.value


class ReferenceChoice(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    OTHER_CASE = "valid, in other letter case"
    MISSING = "missing"

    def __repr__(self) -> str:
        return self.value


@dataclass(frozen=True)
class RecordRequest(Shown):
    """One RecordInteraction, each field chosen valid or faulty."""

    token: TokenChoice = TokenChoice.VALID
    account: AccountChoice = AccountChoice.ACTIVE
    location: ReferenceChoice = ReferenceChoice.VALID
    interaction_type: ReferenceChoice = ReferenceChoice.VALID
    note: Text | None = None
    account_text: Text | None = None

    def __repr__(self) -> str:
        given = [
            f"{name}={getattr(self, name)!r}"
            for name in ("token", "account", "account_text", "location", "interaction_type", "note")
            if getattr(self, name)
            not in (TokenChoice.VALID, AccountChoice.ACTIVE, ReferenceChoice.VALID, None)
        ]
        return f"RecordRequest({', '.join(given) or 'all valid'})"


NOTE_LIMIT = 256  # K-V2
ACCOUNT_LIMIT = 60  # K-V1


def _other_case(value: str) -> str:
    # K-E1 compares exactly: a value in another letter case names nothing.  A value
    # without letters has no other case, so something is appended instead.
    changed = value.swapcase()
    return changed if changed != value else value + "x"


class KognitivModel:
    """What RecordInteraction answers: the first fault in K-O1's order, or 0."""

    def __init__(self, kg: Kognitiv, secrets: Secrets) -> None:
        self.kg = kg
        self._token = secrets[kg.token]
        self._no_permission = secrets.get(kg.no_permission_token)

    def __repr__(self) -> str:
        return f"KognitivModel({self.kg.service!r})"

    def fields(self, request: RecordRequest, unique: str) -> dict[str, str | None]:
        """The five fields ``request`` stands for; ``unique`` makes unknown values unknown."""
        kg = self.kg
        token = {
            TokenChoice.VALID: self._token,
            TokenChoice.NO_PERMISSION: self._no_permission,
            TokenChoice.INVALID: f"not-a-token-{unique}",
            TokenChoice.OTHER_CASE: _other_case(self._token),
            TokenChoice.EMPTY: "",
            TokenChoice.MISSING: None,
        }[request.token]
        account = {
            AccountChoice.ACTIVE: kg.active_account,
            AccountChoice.INACTIVE: kg.inactive_account,
            AccountChoice.UNKNOWN: f"NO-SUCH-ACCOUNT-{unique}",
            AccountChoice.UNKNOWN_OF_60: f"NO-SUCH-{unique}-".ljust(ACCOUNT_LIMIT, "A")[:ACCOUNT_LIMIT],
            AccountChoice.UNKNOWN_TEXT: self._unknown(request.account_text),
            AccountChoice.OF_61: kg.active_account.ljust(ACCOUNT_LIMIT + 1, "A"),
            AccountChoice.LONG_TEXT: request.account_text.value if request.account_text else "A" * 61,
            AccountChoice.OTHER_CASE: _other_case(kg.active_account),
            AccountChoice.EMPTY: "",
            AccountChoice.MISSING: None,
        }[request.account]

        def reference(choice: ReferenceChoice, valid: str) -> str | None:
            return {
                ReferenceChoice.VALID: valid,
                ReferenceChoice.UNKNOWN: f"NO-SUCH-REFERENCE-{unique}",
                ReferenceChoice.OTHER_CASE: _other_case(valid),
                ReferenceChoice.MISSING: None,
            }[choice]

        return {
            "SecurityToken": token,
            "AccountId": account,
            "LocationExternalReference": reference(request.location, kg.location),
            "InteractionTypeExternalReference": reference(request.interaction_type, kg.interaction_type),
            "InteractionNote": request.note.value if request.note is not None else None,
        }

    def _unknown(self, text: Text | None) -> str:
        """A drawn account id, which names no account (the odds it is a real one are nil,
        but a clash would make the prediction wrong, so it is ruled out)."""
        value = text.value if text is not None else "unknown"
        known = {self.kg.active_account, self.kg.inactive_account}
        return value if value not in known else value[:-1] + ("y" if value[-1:] != "y" else "z")

    @staticmethod
    def return_code(request: RecordRequest) -> tuple[int, str]:
        """K-O1: token (100), permission (101), account (300, 301), location (503),
        interaction type (1200), note (1); the code and the fault that decides it."""
        if request.token is not TokenChoice.VALID:
            if request.token is TokenChoice.NO_PERMISSION:
                return 101, "a token without permission [K-E2]"
            return 100, f"a token that is {request.token.value} [K-E1]"
        if request.account is AccountChoice.INACTIVE:
            return 301, "an inactive account [K-E3]"
        if request.account is not AccountChoice.ACTIVE:
            return 300, f"an account that is {request.account.value} [K-E3, K-V1]"
        if request.location is not ReferenceChoice.VALID:
            return 503, f"a location that is {request.location.value} [K-E4, K-V3]"
        if request.interaction_type is not ReferenceChoice.VALID:
            return 1200, f"an interaction type that is {request.interaction_type.value} [K-E5, K-V3]"
        if request.note is not None and len(request.note) > NOTE_LIMIT:
            return 1, f"a note of {len(request.note)} characters [K-V2]"
        return 0, "no fault"

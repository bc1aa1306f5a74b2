"""RecordInteraction's request and its rules (contract Part K), free of HTTP and SOAP.

:func:`read_request` turns the operation element into an :class:`InteractionRequest`;
:class:`InteractionRules` decides its ReturnCode in the order K-O1 fixes.  Keeping the
decision pure makes the order of checks testable on its own and keeps the service
module about transport and storage.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import IntEnum

from lxml import etree

from conformance.reference.envelope import XSI_NS
from conformance.reference.fault import NO_FAULTS, FaultSet

#: Limits of the seed page, in characters (code points): K-V1 and K-V2.
ACCOUNT_ID_MAX = 60
NOTE_MAX = 256

OPERATION = "RecordInteraction"
WRAPPER = "preqRecordInteraction"


class ReturnCode(IntEnum):
    """The RecordInteraction page's list of return codes (K-R3)."""

    SUCCESS = 0
    UNDEFINED_ERROR = 1
    INVALID_TOKEN = 100
    NO_PERMISSION = 101
    INVALID_ACCOUNT = 300
    INACTIVE_ACCOUNT = 301
    INVALID_LOCATION = 503
    INVALID_INTERACTION_TYPE = 1200


@dataclass(frozen=True)
class InteractionRequest:
    """The five request fields; ``None`` means absent (K-F1's sense of absent)."""

    # repr=False: a request may be logged or shown in a failing assertion, the token never.
    token: str | None = field(repr=False)
    account_id: str | None
    location: str | None
    interaction_type: str | None
    note: str | None


def read_request(operation: etree._Element, namespace: str) -> InteractionRequest:
    """The fields under ``preqRecordInteraction``, all in ``namespace`` (K-F1 DECIDED).

    A field in another namespace (or none) is absent, and every field is absent when
    the wrapper is: the WSDL's schema is ``elementFormDefault="qualified"``, so such
    elements are not the documented fields, only look-alikes.  Of repeated fields the
    first counts; ``xsi:nil="true"`` is absent, as a serializer writes nil for None.
    """
    wrapper = operation.find(f"{{{namespace}}}{WRAPPER}")

    def value(name: str) -> str | None:
        if wrapper is None:
            return None
        element = wrapper.find(f"{{{namespace}}}{name}")
        if element is None or element.get(f"{{{XSI_NS}}}nil", "").strip() in ("true", "1"):
            return None
        # The XPath string value: text split by comments or CDATA sections still counts.
        return str(element.xpath("string()"))

    return InteractionRequest(
        token=value("SecurityToken"),
        account_id=value("AccountId"),
        location=value("LocationExternalReference"),
        interaction_type=value("InteractionTypeExternalReference"),
        note=value("InteractionNote"),
    )


def _same(given: str, expected: str | None) -> bool:
    # Constant-time, so response timing does not reveal how much of a token was right;
    # compare_digest wants ASCII for str, hence bytes.
    return expected is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass(frozen=True)
class InteractionRules:
    """What the target knows: its tokens, accounts, location and interaction type."""

    token: str = field(repr=False)
    no_permission_token: str | None = field(repr=False)
    active_accounts: Collection[str]
    inactive_accounts: Collection[str]
    location: str
    interaction_type: str
    # Deliberate mistakes switched on for `conformance selftest` (fault.py).
    faults: FaultSet = NO_FAULTS

    def judge(self, request: InteractionRequest) -> int:
        """The first fault in K-O1's order, or SUCCESS.  Comparisons are exact (K-E1).

        The answer is a :class:`ReturnCode` except under the deliberate mistake
        "note-code-400", which answers a code the vendor's page does not list.
        """
        fault = self.faults
        token = request.token
        if token is not None and fault("token-trimmed"):
            token = token.strip()
        if token and fault("token-case-insensitive"):
            token = self.token if token.lower() == self.token.lower() else token
        if not token:
            return ReturnCode.INVALID_TOKEN
        # Both comparisons always run, so the timing does not tell the two tokens apart.
        valid, unpermitted = _same(token, self.token), _same(token, self.no_permission_token)
        if not (valid or unpermitted):
            return ReturnCode.INVALID_TOKEN
        if not valid and not fault("permission-unchecked"):
            return ReturnCode.NO_PERMISSION
        if fault("location-before-account") and request.location != self.location:
            return ReturnCode.INVALID_LOCATION
        account = request.account_id
        if account is None and fault("account-missing-code-1"):
            return ReturnCode.UNDEFINED_ERROR
        if account is not None and len(account) > ACCOUNT_ID_MAX and fault("account-length-code-1"):
            return ReturnCode.UNDEFINED_ERROR
        if not account or len(account) > ACCOUNT_ID_MAX:
            return ReturnCode.INVALID_ACCOUNT  # K-V1 DECIDED: 300
        if account in self.inactive_accounts and not fault("inactive-accepted"):
            return ReturnCode.INVALID_ACCOUNT if fault("inactive-code-300") else ReturnCode.INACTIVE_ACCOUNT
        if account not in self.active_accounts and account not in self.inactive_accounts:
            return ReturnCode.INVALID_ACCOUNT
        if request.location is None and fault("missing-location-code-1"):
            return ReturnCode.UNDEFINED_ERROR
        if request.location != self.location and not fault("location-unchecked"):
            return ReturnCode.INVALID_LOCATION  # missing too (K-V3)
        if request.interaction_type != self.interaction_type and not fault("interaction-type-unchecked"):
            return ReturnCode.INVALID_INTERACTION_TYPE  # missing too (K-V3)
        if request.note is not None and _note_length(request.note, fault) > NOTE_MAX:
            return 400 if fault("note-code-400") else ReturnCode.UNDEFINED_ERROR  # K-V2 DECIDED: 1
        return ReturnCode.SUCCESS


def _note_length(note: str, fault: FaultSet) -> int:
    """K-V2 counts characters (code points); the faults count what real services count."""
    if fault("note-bytes"):
        return len(note.encode("utf-8"))
    if fault("note-utf16"):
        return len(note.encode("utf-16-le")) // 2
    return len(note) - (1 if fault("note-257-accepted") else 0)

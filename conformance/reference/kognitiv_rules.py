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

    def judge(self, request: InteractionRequest) -> ReturnCode:
        """The first fault in K-O1's order, or SUCCESS.  Comparisons are exact (K-E1)."""
        token = request.token
        if not token:
            return ReturnCode.INVALID_TOKEN
        # Both comparisons always run, so the timing does not tell the two tokens apart.
        valid, unpermitted = _same(token, self.token), _same(token, self.no_permission_token)
        if not (valid or unpermitted):
            return ReturnCode.INVALID_TOKEN
        if not valid:
            return ReturnCode.NO_PERMISSION
        account = request.account_id
        if not account or len(account) > ACCOUNT_ID_MAX:
            return ReturnCode.INVALID_ACCOUNT  # K-V1 DECIDED: 300
        if account in self.inactive_accounts:
            return ReturnCode.INACTIVE_ACCOUNT
        if account not in self.active_accounts:
            return ReturnCode.INVALID_ACCOUNT
        if request.location != self.location:
            return ReturnCode.INVALID_LOCATION  # missing too (K-V3)
        if request.interaction_type != self.interaction_type:
            return ReturnCode.INVALID_INTERACTION_TYPE  # missing too (K-V3)
        if request.note is not None and len(request.note) > NOTE_MAX:
            return ReturnCode.UNDEFINED_ERROR  # K-V2 DECIDED: 1
        return ReturnCode.SUCCESS

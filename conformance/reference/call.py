"""One Luminate call as the operations see it, once transport and authentication passed."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.reference.params import Params
from conformance.reference.site import LuminateSite
from conformance.reference.store import Store


@dataclass(frozen=True)
class Caller:
    """Who acts: an API administrator (Server API) or a constituent session (Client API).

    ``account_id`` is what interactions record as ``createdBy`` (L-L9): the
    administrator's account id, or the constituent's own cons_id.
    """

    account_id: int
    admin: bool


@dataclass(frozen=True)
class Call:
    site: LuminateSite
    store: Store
    params: Params
    caller: Caller | None  # None for login and logout, which need no session
    now: str  # this call's moment as an xsd:dateTime with milliseconds and offset (L-G5)

    @property
    def acting(self) -> Caller:
        assert self.caller is not None, "only session-bound methods ask who acts"
        return self.caller

"""The Luminate Online Constituent API of the reference server (contract.md, Part L).

:meth:`LuminateService.handle` takes what the ASGI app read from the request and
returns a :class:`~conformance.reference.reply.Reply`.  A call passes the stages of
L-T16 in order and is answered for the first that fails:

    HTTP method (405) -> api_key (2) -> v (9/22) -> method (6) -> authentication (3/5)
    -> caller permission (14) -> required parameters (9/10) -> characters (35)
    -> parameter values (22, 23, 26, 29, 30) -> lookup (16/15) -> operation rules

The first four and authentication are here; the rest belong to each operation
(:mod:`.interaction`, :mod:`.constituent`, :mod:`.session`), which calls the shared
checks in that order.  Everything after the HTTP method runs inside one database
transaction, so a refused or crashed call changes nothing, and no exception ever
becomes an HTTP 500: an unexpected one is errorResponse code 1.
"""

from __future__ import annotations

import hmac
import logging
import time
import traceback
from collections.abc import Callable
from datetime import datetime

from conformance.profile import Profile, Secrets
from conformance.reference import constituent, interaction, session
from conformance.reference.answer import Element, error_tree, render
from conformance.reference.call import Call, Caller
from conformance.reference.database import Database
from conformance.reference.params import Params, parse
from conformance.reference.redirect import location, target
from conformance.reference.refusal import Refusal
from conformance.reference.reply import Reply
from conformance.reference.site import LuminateSite
from conformance.reference.store import Store, install

log = logging.getLogger(__name__)

CLIENT = "CRConsAPI"
SERVER = "SRConsAPI"

Operation = Callable[[Call], Element]

# Methods that need an authenticated caller: an API administrator on the Server API,
# a constituent session on the Client API.
_OPERATIONS: dict[str, Operation] = {
    "logInteraction": interaction.log_interaction,
    "getInteraction": interaction.get_interaction,
    "createOrUpdate": constituent.create_or_update,
    "getUser": constituent.get_user,
    "getUserInteractions": interaction.get_user_interactions,
    "getUserGroups": constituent.get_user_groups,
}
OBSERVATIONS = frozenset({"getUser", "getUserInteractions", "getUserGroups"})
# Client API only, and no session needed (login makes one, logout ends one).
_SESSION_METHODS: dict[str, Operation] = {"login": session.login, "logout": session.logout}


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that also takes non-ASCII and undecodable input."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def _now() -> str:
    """Local time with its UTC offset and milliseconds, e.g. 2026-11-22T16:43:35.159+00:00."""
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


class LuminateService:
    def __init__(self, profile: Profile, secrets: Secrets, db: Database) -> None:
        self.site = LuminateSite.from_profile(profile, secrets)
        self._db = db
        install(db, self.site)

    def __repr__(self) -> str:
        return f"LuminateService({self.site!r})"

    def handle(  # noqa: PLR0917 (the ASGI app's calling convention, fixed by the brief)
        self,
        servlet: str,
        http_method: str,
        content_type: str | None,
        body: bytes,
        query: str,
        oversize: bool = False,
    ) -> Reply:
        # An oversize body was cut short: its parameters cannot be trusted, so only the
        # query string is read (it may still ask for JSON or a redirect).
        params = parse(None if oversize else content_type, b"" if oversize else body, query)
        try:
            return self._handle(servlet, http_method, params, oversize)
        except Exception as exc:
            # Never an HTTP 500 (and never a secret in the log: the exception's message
            # may quote input, so only its type and where it was raised are logged).
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f"{frame.filename}:{frame.lineno}" if frame else "?"
            log.error("luminate %s: unexpected %s at %s", servlet, type(exc).__name__, where)
            return self._answer(servlet, params, error_tree(1, "Unable to process request."), ok=False)

    def _handle(self, servlet: str, http_method: str, params: Params, oversize: bool) -> Reply:
        if servlet not in (CLIENT, SERVER):
            body, ctype = render(error_tree(1, "Unknown servlet."), params.first("response_format") == "json")
            return Reply(404, body, ctype)
        if http_method != "POST":  # L-T2: 405 whatever else is wrong, and never redirected
            body, ctype = render(
                error_tree(1, "Unable to process request: only POST is allowed."),
                params.first("response_format") == "json",
            )
            return Reply(405, body, ctype, (("Allow", "POST"),))
        try:
            if oversize:
                raise Refusal(23, "The request body is larger than the server accepts.")
            with self._db.transaction() as conn:
                tree = self._call(servlet, params, Store(conn))
        except Refusal as refusal:
            return self._answer(servlet, params, error_tree(refusal.code, refusal.message), ok=False)
        return self._answer(servlet, params, tree, ok=True)

    def _call(self, servlet: str, params: Params, store: Store) -> Element:
        site = self.site
        api_key = params.first("api_key")
        if api_key is None or not _same(api_key, site.api_key):
            raise Refusal(2)  # L-T4
        version = params.first("v")
        if version is None:
            raise Refusal(9, "Missing: v.")  # L-T5
        if version != "1.0":
            raise Refusal(22, "v must be 1.0.")
        name = params.first("method")
        operation = self._operation(servlet, name)
        if operation is None:
            raise Refusal(6)  # L-T3: names are case-sensitive
        caller = None if name in _SESSION_METHODS else self._authenticate(servlet, params, store)
        return operation(Call(site, store, params, caller, _now()))

    def _operation(self, servlet: str, name: str | None) -> Operation | None:
        if name is None:
            return None
        if servlet == CLIENT and name in _SESSION_METHODS:
            return _SESSION_METHODS[name]
        if name in OBSERVATIONS and name not in self.site.observations:
            return None  # the profile says this target does not offer it
        return _OPERATIONS.get(name)

    def _authenticate(self, servlet: str, params: Params, store: Store) -> Caller:
        if servlet == SERVER:
            # L-A1, L-A6: only an API administrator; other admins and constituents get 3.
            login_name, password = params.first("login_name"), params.first("login_password")
            if login_name is None or password is None:
                raise Refusal(3, "login_name and login_password of an API administrator are required.")
            account = store.authenticate(login_name, password, "api_admin")
            if account is None:
                raise Refusal(3)
            return Caller(account, admin=True)
        # L-A3: a live constituent session; ``auth`` decides when both tokens are given.
        token = params.first("auth") or params.first("sso_auth_token")
        owner = None if token is None else store.session_owner(token)
        if owner is None:
            raise Refusal(5)
        return Caller(owner, admin=False)

    def _answer(self, servlet: str, params: Params, tree: Element, ok: bool) -> Reply:
        if servlet == CLIENT:  # L-T12: the Server API ignores redirect parameters
            url = target(params, success=ok)
            if url is not None:
                where = location(url, params.flag("sign_redirects"), self.site.secret_key, int(time.time()))
                return Reply(302, b"", None, (("Location", where),))
        # L-T6: exactly "json" asks for JSON; anything else gets the XML default.
        body, ctype = render(tree, params.first("response_format") == "json")
        status = 200 if ok or params.flag("suppress_response_codes") else 403  # L-T7
        return Reply(status, body, ctype)

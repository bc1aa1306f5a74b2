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
from datetime import UTC, datetime

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


def _now(site: LuminateSite) -> str:
    """Local time with its UTC offset and milliseconds, e.g. 2026-11-22T16:43:35.159+00:00."""
    if site.fault("creation-date-no-offset"):
        return datetime.now().isoformat(timespec="milliseconds")
    if site.fault("creation-date-wrong-zone"):
        return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "-06:00"
    if site.fault("creation-date-no-millis"):
        return datetime.now().astimezone().isoformat(timespec="seconds")
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class LuminateService:
    def __init__(self, profile: Profile, secrets: Secrets, db: Database) -> None:
        self.site = LuminateSite.from_profile(profile, secrets)
        self._db = db
        install(db, self.site)

    def __repr__(self) -> str:
        return f"LuminateService({self.site!r})"

    def handle(  # the ASGI app's calling convention
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
        params = parse(None if oversize else content_type, b"" if oversize else body, query, self.site.fault)
        try:
            return self._handle(servlet, http_method, params, oversize)
        except Exception as exc:
            # Never an HTTP 500 (and never a secret in the log: the exception's message
            # may quote input, so only its type and where it was raised are logged).
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f"{frame.filename}:{frame.lineno}" if frame else "?"
            log.error("luminate %s: unexpected %s at %s", servlet, type(exc).__name__, where)
            return self._answer(servlet, params, self._error(1, "Unable to process request."), ok=False)

    def _handle(self, servlet: str, http_method: str, params: Params, oversize: bool) -> Reply:
        if servlet not in (CLIENT, SERVER):
            body, ctype = render(error_tree(1, "Unknown servlet."), params.first("response_format") == "json")
            return Reply(404, body, ctype)
        site = self.site
        # L-T2: 405 whatever else is wrong, and never redirected
        if http_method != "POST" and not (http_method == "GET" and site.fault("get-allowed")):
            tree = self._error(1, "Unable to process request: only POST is allowed.")
            if site.fault("non-post-403"):
                return self._answer(servlet, params, tree, ok=False)
            if site.fault("redirect-405") and servlet == CLIENT and target(params, False, site.fault):
                return self._answer(servlet, params, tree, ok=False)
            body, ctype = render(tree, params.first("response_format") == "json", site.fault)
            return Reply(405, body, ctype, (("Allow", "POST"),))
        try:
            if oversize:
                raise Refusal(23, "The request body is larger than the server accepts.")
            with self._db.transaction() as conn:
                tree = self._call(servlet, params, Store(conn))
        except Refusal as refusal:
            return self._answer(servlet, params, self._error(refusal.code, refusal.message), ok=False)
        # An operation answers an errorResponse itself only when a deliberate mistake
        # (fault "half-write-email") keeps what it wrote; it is an error all the same.
        return self._answer(servlet, params, tree, ok=tree.name != "errorResponse")

    def _error(self, code: int, message: str) -> Element:
        return error_tree(code, message, self.site.fault)

    def _call(self, servlet: str, params: Params, store: Store) -> Element:
        site = self.site
        api_key = params.first("api_key")
        if api_key is None and site.fault("api-key-optional"):
            api_key = site.api_key
        if api_key is not None and site.fault("api-key-case-insensitive"):
            api_key = site.api_key if api_key.lower() == site.api_key.lower() else api_key
        if api_key is None or not _same(api_key, site.api_key):
            raise Refusal(2)  # L-T4
        if site.fault("method-before-v") and self._operation(servlet, params.first("method")) is None:
            raise Refusal(6)
        version = params.first("v")
        if site.fault("v-not-checked"):
            version = "1.0"
        if version is None:
            raise Refusal(22 if site.fault("v-missing-code-22") else 9, "Missing: v.")  # L-T5
        if version != "1.0" and not (site.fault("v-numeric") and _as_number(version) == 1.0):
            raise Refusal(22, "v must be 1.0.")
        name = params.first("method")
        if name is None and site.fault("missing-method-code-9"):
            raise Refusal(9, "Missing: method.")
        operation = self._operation(servlet, name)
        if operation is None:
            # L-T3: names are case-sensitive
            raise Refusal(1 if name is not None and site.fault("unknown-method-code-1") else 6)
        caller = None if name in _SESSION_METHODS else self._authenticate(servlet, params, store)
        return operation(Call(site, store, params, caller, _now(site)))

    def _operation(self, servlet: str, name: str | None) -> Operation | None:
        if name is None:
            return None
        if self.site.fault("method-case-insensitive"):
            known = [*_SESSION_METHODS, *_OPERATIONS]
            name = next((m for m in known if m.lower() == name.lower()), name)
        if servlet == CLIENT and name in _SESSION_METHODS:
            return _SESSION_METHODS[name]
        if name in OBSERVATIONS and name not in self.site.observations:
            return None  # the profile says this target does not offer it
        return _OPERATIONS.get(name)

    def _authenticate(self, servlet: str, params: Params, store: Store) -> Caller:
        if servlet == SERVER:
            # L-A1, L-A6: only an API administrator; other admins and constituents get 3.
            site = self.site
            login_name, password = params.first("login_name"), params.first("login_password")
            if login_name is None and site.fault("admin-login-optional"):
                return Caller(site.api_admin.cons_id, admin=True)
            if login_name is None or password is None:
                raise Refusal(3, "login_name and login_password of an API administrator are required.")
            account = store.authenticate(login_name, password, "api_admin")
            if account is None and site.fault("admin-password-unchecked"):
                account = site.api_admin.cons_id if login_name == site.api_admin.user_name else None
            if account is None and site.fault("server-accepts-any-admin"):
                account = store.authenticate(login_name, password, "admin")
            if account is None and site.fault("server-accepts-constituent"):
                account = store.authenticate(login_name, password, "constituent")
            if account is None:
                raise Refusal(3)
            return Caller(account, admin=True)
        # L-A3: a live constituent session; ``auth`` decides when both tokens are given.
        token = params.first("auth")
        if token is None and not self.site.fault("sso-token-ignored"):
            token = params.first("sso_auth_token")
        owner = None if token is None else store.session_owner(token)
        if owner is None and token is not None and self.site.fault("auth-any-token"):
            owner = self.site.constituent.cons_id if self.site.constituent else None
        if owner is None:
            raise Refusal(5)
        return Caller(owner, admin=False)

    def _answer(self, servlet: str, params: Params, tree: Element, ok: bool) -> Reply:
        site = self.site
        # L-T12: the Server API ignores redirect parameters
        redirects = servlet == CLIENT or site.fault("redirect-on-server")
        if redirects and not site.fault("redirect-ignored"):
            url = target(params, ok, site.fault)
            if url is not None:
                sign = params.flag("sign_redirects")
                where = location(url, sign, site.secret_key, int(time.time()), site.fault)
                return Reply(302, b"", None, (("Location", where),))
        # L-T6: exactly "json" asks for JSON; anything else gets the XML default.
        response_format = params.first("response_format")
        if response_format not in (None, "xml", "json") and site.fault("format-unknown-500"):
            return Reply(500, b"Internal Server Error: unsupported response_format\n", "text/plain")
        json_format = response_format == "json" and not site.fault("json-ignored")
        body, ctype = render(tree, json_format, site.fault)
        return Reply(self._status(servlet, params, ok), body, ctype)

    def _status(self, servlet: str, params: Params, ok: bool) -> int:
        """L-T7: 200 for a success, 403 for an error unless suppress_response_codes."""
        site = self.site
        suppress = params.flag("suppress_response_codes")
        if site.fault("suppress-lowercase-only"):
            suppress = params.first("suppress_response_codes") == "true"
        if site.fault("suppress-ignored") or (site.fault("suppress-client-only") and servlet == SERVER):
            suppress = False
        if ok or suppress or site.fault("error-status-200"):
            return 200
        return 400 if site.fault("error-status-400") else 403

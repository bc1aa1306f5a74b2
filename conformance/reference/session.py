"""Client API ``login`` and ``logout`` (L-A2, L-A4).

Sessions are constituent sessions only: administrators act through the Server API, so
an administrator's credentials are refused here like wrong ones (L-A2, DECIDED).
"""

from __future__ import annotations

from conformance.reference import checks
from conformance.reference.answer import Element, leaf, node
from conformance.reference.call import Call
from conformance.reference.refusal import Refusal

LOGGED_OUT = "User logged out successfully."
# The documented optional login fields, in the order of schemas/luminate/crm.public.v1.xsd.
# The reference has no single sign-on machinery behind them, so they are nil.
OPTIONAL_LOGIN_FIELDS = ("timestamp", "signature", "login_test_url", "nonce", "JSESSIONID", "routing_id")


def login(call: Call) -> Element:
    params, store, site = call.params, call.store, call.site
    user_name, password = params.first("user_name"), params.first("password")
    # Authentication comes before required parameters in L-T16: credentials that are
    # present and wrong are code 3, whatever else is missing or malformed.
    cons_id = None
    if user_name is not None and password is not None:
        cons_id = store.authenticate(user_name, password, "constituent")
        if cons_id is None and site.fault("login-accepts-admin"):
            cons_id = store.authenticate(user_name, password, "api_admin")
        if cons_id is None:
            raise Refusal(3, "Invalid user name or password.")
    checks.require(params, "user_name", "password")
    checks.screen(params, site)
    checks.center_id(params)
    assert cons_id is not None  # both credentials were present and right
    token = store.open_session(cons_id)
    if site.fault("login-token-nil"):
        optional = (leaf(n, token if n == "JSESSIONID" else None) for n in OPTIONAL_LOGIN_FIELDS)
        return node("loginResponse", leaf("cons_id", cons_id), leaf("token", None), *optional)
    return node(
        "loginResponse",
        leaf("cons_id", cons_id),
        leaf("token", token),
        *(leaf(name, None) for name in OPTIONAL_LOGIN_FIELDS),
    )


def logout(call: Call) -> Element:
    params, store, site = call.params, call.store, call.site
    checks.screen(params, site)
    checks.center_id(params)
    # With or without a (live) session the answer is the same (L-A4); a given token
    # stops authenticating.
    tokens = [t for t in map(params.first, ("auth", "sso_auth_token")) if t is not None]
    if site.fault("logout-needs-session") and not any(store.session_owner(t) for t in tokens):
        raise Refusal(5)
    for token in tokens:
        if not site.fault("logout-keeps-token"):
            store.close_session(token)
    return node("loginResponse", leaf("message", LOGGED_OUT))

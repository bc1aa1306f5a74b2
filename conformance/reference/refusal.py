"""A Luminate errorResponse as an exception: raised at the failing stage, rendered once.

Raising inside the call's transaction rolls it back, so a refused call changes nothing
whatever stage refused it.  Messages name parameters, never their values: a value may
be a credential the caller put in the wrong field.
"""

from __future__ import annotations

# The vendor's wording where it is documented (vendor-facts.md), a short description
# of the documented meaning otherwise.
MESSAGES: dict[int, str] = {
    1: "Unable to process request.",
    2: "Incorrect API key.",
    3: "Authorization failed.",
    5: "Method requires an authenticated user session (auth or sso_auth_token).",
    6: "No method or an unknown method was specified.",
    9: "Required parameters are missing.",
    10: "Required constituent fields are missing.",
    13: "Duplicate e-mail address: the site does not allow two records with one e-mail address.",
    14: "This method or parameter is not allowed for this caller.",
    15: "The request matched more than one constituent record.",
    16: "Constituent record not found.",
    22: "Validation error.",
    23: "Input size error.",
    26: "Invalid interaction type.",
    27: "Invalid interaction.",
    29: "Invalid category id.",
    30: "Interaction body too large.",
    35: "Input contains invalid characters.",
}


class Refusal(Exception):
    """An errorResponse with ``code``; ``detail`` is appended to the standard message."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        base = MESSAGES.get(code, "Unable to process request.")
        self.message = f"{base} {detail}".strip() if detail else base
        super().__init__(f"code {code}: {self.message}")

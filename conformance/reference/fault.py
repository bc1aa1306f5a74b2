"""Named faults: the reference made wrong on purpose, one clause at a time.

The suite is only as good as the mistakes it catches.  Each entry here is a mistake a
real implementation makes (a limit off by one, bytes counted instead of characters, a
precedence reversed, a half-written record), switched on by name through a profile's
``faults: [...]`` or ``conformance serve --fault NAME``.  ``conformance selftest`` runs
the suite against the reference with each fault on and expects at least one failed
check every time (:mod:`conformance.selftest`).

A fault lives in the reference as one guarded line at the place a real implementation
would go wrong (``if site.fault("subject-bytes"): ...``), so reading the hooks shows
exactly how small a mistake the suite must catch.  With no fault switched on every hook
is one set-membership test that answers False: the clean reference pays nothing.

Invariants (checked by tests/selftest):
- every MUST clause of the catalogue has at least one fault;
- every fault names exactly one clause (``CONTROLS`` name none: see there);
- every registered name is used by a hook, and every hook names a registered fault.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One deliberate mistake: its name, the clause it breaks and what goes wrong."""

    name: str
    #: The one clause the mistake breaks; None only for a control (see ``CONTROLS``).
    clause: str | None
    #: The real-world mistake, in one line.
    mistake: str
    #: Only a strict profile can see it (the clause is asserted under ``strict: true``
    #: only, like L-T16); the selftest then judges it with a strict profile.
    strict: bool = False


def _f(name: str, clause: str, mistake: str, *, strict: bool = False) -> Fault:
    return Fault(name, clause, mistake, strict)


FAULTS: tuple[Fault, ...] = (
    # ---- L-T: transport and common parameters ----
    _f("form-charset-refused", "L-T1",
       "the content type is compared as a whole string, so a form with '; charset=UTF-8' is not read"),
    _f("form-plus-kept", "L-T1",
       "the form body is decoded with unquote instead of unquote_plus, so '+' is not a space"),
    _f("get-allowed", "L-T2", "GET is served like POST, as a route that accepts any method does"),
    _f("non-post-403", "L-T2", "other HTTP methods get an errorResponse with HTTP 403 instead of 405"),
    _f("method-case-insensitive", "L-T3", "method names are looked up case-insensitively"),
    _f("unknown-method-code-1", "L-T3", "an unknown method falls into the generic handler: code 1"),
    _f("missing-method-code-9", "L-T3", "a missing method is reported as a missing parameter: code 9"),
    _f("api-key-optional", "L-T4", "api_key is checked only when it is present"),
    _f("api-key-case-insensitive", "L-T4", "api_key is compared ignoring letter case"),
    _f("v-not-checked", "L-T5", "v is never read"),
    _f("v-numeric", "L-T5", "v is compared as a number, so 1 and 1.00 pass as 1.0"),
    _f("v-missing-code-22", "L-T5", "a missing v is refused like a wrong one: code 22 instead of 9"),
    _f("json-ignored", "L-T6", "response_format is ignored: JSON is never written"),
    _f("format-unknown-500", "L-T6",
       "an unknown response_format raises: HTTP 500 with a plain-text error page"),
    _f("error-status-200", "L-T7", "every answer is HTTP 200, errors included"),
    _f("error-status-400", "L-T7", "errors are HTTP 400, the REST habit, instead of 403"),
    _f("suppress-ignored", "L-T7", "suppress_response_codes is never read: errors stay HTTP 403"),
    _f("suppress-lowercase-only", "L-T7", "suppress_response_codes counts only when exactly 'true'"),
    _f("suppress-client-only", "L-T7", "suppress_response_codes is honoured on the Client API only"),
    _f("error-message-empty", "L-T8", "errorResponse carries an empty message"),
    _f("error-extra-field", "L-T8", "errorResponse carries an undocumented extra 'detail' element"),
    _f("xml-namespace-missing", "L-T9", "the XML root is written without the crm v1.0 namespace"),
    _f("xml-schema-location-missing", "L-T9", "the XML root lacks xsi:schemaLocation"),
    _f("xml-content-type-html", "L-T9", "XML answers are labelled text/html"),
    _f("xml-encoding-latin1", "L-T9", "XML answers are written and declared as ISO-8859-1 (a JVM default)"),
    _f("json-numbers", "L-T10", "JSON scalars that look numeric are written as numbers, not strings"),
    _f("json-nil-empty", "L-T10", "a nil element is an empty string in JSON instead of null"),
    _f("json-content-type-text", "L-T10", "JSON answers are labelled text/plain"),
    _f("json-list-reversed", "L-T11", "JSON lists come out newest first while XML is oldest first"),
    _f("json-list-last-only", "L-T11",
       "repeated elements overwrite each other in the JSON dict: only the last item survives"),
    _f("redirect-ignored", "L-T12", "the Client API never redirects"),
    _f("redirect-on-server", "L-T12", "the Server API honours redirect parameters too"),
    _f("redirect-no-fallback", "L-T12", "redirect is not used when the outcome's own parameter is absent"),
    _f("redirect-any-outcome", "L-T12", "whichever redirect parameter is given is used for either outcome"),
    _f("redirect-405", "L-T12", "a non-POST request is redirected to error_redirect instead of HTTP 405"),
    _f("sign-without-ts", "L-T13", "the redirect signature hashes the query without the ts parameter"),
    _f("sign-uppercase-hex", "L-T13", "the redirect signature is upper-case hex"),
    _f("amp-unescaped", "L-T14", "'&' in text is written raw into the XML"),
    _f("cr-not-escaped", "L-T14", "a carriage return is written raw, so XML parsers read a line feed"),
    _f("text-trimmed", "L-T14", "text parameters are stripped of leading and trailing blanks"),
    _f("forbidden-chars-stored", "L-T15", "characters XML forbids are stored (and answered as U+FFFD)"),
    _f("forbidden-chars-code-22", "L-T15", "characters XML forbids are a validation error 22, not 35"),
    _f("method-before-v", "L-T16", "the method is looked up before v is checked", strict=True),
    # ---- L-A: authentication ----
    _f("admin-password-unchecked", "L-A1", "the Server API checks login_name but not login_password"),
    _f("admin-login-optional", "L-A1",
       "without login_name the Server API acts as the first API administrator"),
    _f("login-accepts-admin", "L-A2", "Client API login accepts an administrator's credentials"),
    _f("login-token-nil", "L-A2", "loginResponse carries the session in JSESSIONID and a nil token"),
    _f("sso-token-ignored", "L-A3", "sso_auth_token is not accepted where auth is"),
    _f("auth-any-token", "L-A3", "any non-empty auth token opens the profile constituent's session"),
    _f("logout-keeps-token", "L-A4", "logout answers success but does not revoke the token"),
    _f("logout-needs-session", "L-A4", "logout without a session is an error (code 5)"),
    _f("session-honours-cons-id", "L-A5", "a constituent session's cons_id names the record it acts on"),
    _f("session-reads-others", "L-A5", "a session's getInteraction shows another constituent's interaction"),
    _f("server-accepts-any-admin", "L-A6", "the Server API accepts any administrator, not only API ones"),
    _f("server-accepts-constituent", "L-A6", "the Server API accepts a constituent's login"),
    # ---- L-K: locating the constituent ----
    _f("no-identifier-code-16", "L-K1", "a call naming nobody looks up nobody: code 16 instead of 9"),
    _f("empty-identifier-counts", "L-K1", "an empty cons_id counts as given (and matches nobody)"),
    _f("precedence-member-first", "L-K2", "member_id is looked up before cons_id"),
    _f("precedence-email-over-member", "L-K2", "primary_email is looked up before member_id"),
    _f("precedence-falls-through", "L-K2", "a cons_id that matches nobody hands the search on to member_id"),
    _f("not-found-code-17", "L-K3", "a record not found is code 17 instead of 16"),
    _f("cons-id-not-number-code-22", "L-K3", "a non-numeric cons_id is a validation error 22, not 16"),
    _f("duplicate-takes-first", "L-K4", "an identifier matching several records picks the first"),
    # ---- L-L: logInteraction ----
    _f("subject-optional", "L-L1", "a missing subject is stored as an empty one"),
    _f("subject-81-accepted", "L-L2", "the subject limit is off by one: 81 characters pass"),
    _f("subject-bytes", "L-L2", "the subject limit counts UTF-8 bytes instead of characters"),
    _f("subject-utf16", "L-L2", "the subject limit counts UTF-16 code units (emoji count twice)"),
    _f("subject-truncated", "L-L2", "a long subject is cut to 80 characters and stored"),
    _f("body-1501-accepted", "L-L3", "the body limit is off by one: 1501 characters pass"),
    _f("body-bytes", "L-L3", "the body limit counts UTF-8 bytes instead of characters"),
    _f("body-code-23", "L-L3", "an oversize body is the generic size error 23, not 30"),
    _f("default-count-0", "L-L4", "interaction_count defaults to 0"),
    _f("default-type-custom", "L-L4", "interaction_type_id defaults to the site's first custom type"),
    _f("type-unchecked", "L-L5", "interaction_type_id is stored without checking it is 0 or a custom type"),
    _f("type-code-29", "L-L5", "an invalid interaction type is answered with the category code 29"),
    _f("category-unchecked", "L-L6", "interaction_cat_id is stored without checking it exists"),
    _f("category-code-26", "L-L6", "an unknown category is answered with the type code 26"),
    _f("count-negative-accepted", "L-L7", "interaction_count is parsed as a signed integer"),
    _f("count-zero-refused", "L-L7", "interaction_count 0 is refused"),
    _f("interaction-id-per-record", "L-L8",
       "interaction_id counts per constituent (1, 2, ...), not globally"),
    _f("log-answer-order", "L-L8", "updateConsResponse writes interaction_id before message"),
    _f("note-text-lost", "L-L9", "the body is not stored: the note's text reads back empty"),
    _f("created-by-record", "L-L9", "createdBy is the located constituent, not the caller"),
    _f("count-not-stored", "L-L9", "interaction_count is validated but not stored (reads back 1)"),
    # ---- L-G: getInteraction ----
    _f("interaction-id-missing-code-27", "L-G1", "a missing interaction_id is looked up as 'none': code 27"),
    _f("unknown-interaction-empty", "L-G2",
       "an unknown interaction id answers an empty getInteractionResponse"),
    _f("any-owner", "L-G3", "getInteraction does not check the interaction belongs to the located record"),
    _f("subject-before-note", "L-G4", "getInteraction writes subject before note"),
    _f("note-type-capitalised", "L-G4", "note/typeOfConsNote is 'Normal' and note/type 'Comment'"),
    _f("creation-date-no-offset", "L-G5", "creationDate is written without a UTC offset"),
    _f("creation-date-wrong-zone", "L-G5", "creationDate is UTC wall time labelled with the offset -06:00"),
    _f("creation-date-no-millis", "L-G5", "creationDate is written without milliseconds"),
    _f("note-text-none", "L-G6", "an interaction logged without a body has a note whose text is 'None'"),
    _f("note-modified-now", "L-G7", "note/modifiedDate is the time of reading, not the creation time"),
    # ---- L-C: createOrUpdate ----
    _f("update-by-email-first", "L-C1", "createOrUpdate looks up primary_email before cons_id"),
    _f("missing-cons-id-creates", "L-C2", "a cons_id that matches nobody creates a new record"),
    _f("member-id-not-key", "L-C3", "member_id is not a lookup key: the record is found by email or created"),
    _f("member-duplicate-first", "L-C4", "a member_id matching several records updates the first"),
    _f("member-miss-code-16", "L-C5", "a member_id matching nobody is code 16, without trying primary_email"),
    _f("email-match-creates", "L-C6", "primary_email alone always creates, even when it finds a record"),
    _f("duplicate-email-creates", "L-C7", "a shared primary_email creates a record on a unique-email site"),
    _f("create-without-email", "L-C8", "a record is created without primary_email"),
    _f("update-message-created", "L-C9", "an update answers 'User created.'"),
    _f("cons-response-order", "L-C9", "createOrUpdateConsResponse writes message before cons_id"),
    _f("update-email-not-unique", "L-C10", "unique email is enforced on create only, not on update"),
    _f("member-id-written-on-update", "L-C10", "member_id overwrites the updated record's member_id"),
    _f("email-case-sensitive", "L-C17", "primary_email is matched case-sensitively"),
    _f("no-automatic-interaction", "L-C11", "createOrUpdate logs no interaction"),
    _f("half-write-email", "L-C12",
       "the email is updated before the interaction_* parameters are checked, and kept when they fail"),
    _f("createorupdate-subject-unchecked", "L-C12",
       "createOrUpdate does not apply the 80-character subject limit"),
    _f("session-update-by-cons-id", "L-C13", "a constituent session's createOrUpdate honours cons_id"),
    _f("groups-below-1000-accepted", "L-C14", "group ids below 1000 (the vendor's own groups) are accepted"),
    _f("groups-1001-accepted", "L-C14", "the 1000-id limit is off by one: 1001 ids pass"),
    _f("groups-for-constituent", "L-C14", "a constituent session may add and remove groups"),
    _f("remove-on-create-accepted", "L-C14", "remove_group_ids on a create is ignored instead of refused"),
    _f("welcome-inverted", "L-C15", "no_welcome is read the wrong way round: active_detail is inverted"),
    _f("origin-wrong", "L-C15", "a created record gets origin 1 (web) instead of 35 (Constituent API)"),
    _f("groups-not-added", "L-C16", "add_group_ids is validated but never applied"),
    # ---- Part K: Kognitiv RecordInteraction ----
    _f("wsdl-input-renamed", "K-T1",
       "the WSDL, generated from code, calls the input 'request' instead of preqRecordInteraction"),
    _f("soap12-refused", "K-T1", "SOAP 1.2 requests get a Fault: only SOAP 1.1 is bound"),
    _f("result-renamed", "K-T2",
       "the result element is RecordInteractionReturn, not RecordInteractionResult"),
    _f("interaction-id-omitted", "K-R1", "InteractionId is left out of a result that is not a success"),
    _f("failure-id-zero", "K-R2", "InteractionId is 0 (the int default) on failure instead of -1"),
    _f("interaction-id-repeats", "K-R2", "InteractionId is the account's first interaction, not a new one"),
    _f("note-code-400", "K-R3", "a note that is too long is ReturnCode 400, a code the page does not list"),
    _f("token-case-insensitive", "K-E1", "SecurityToken is compared ignoring letter case"),
    _f("token-trimmed", "K-E1", "SecurityToken is stripped of blanks before comparing"),
    _f("permission-unchecked", "K-E2", "a valid token without permission for RecordInteraction records"),
    _f("inactive-accepted", "K-E3", "an inactive account records like an active one"),
    _f("inactive-code-300", "K-E3", "an inactive account is reported as unknown (300, not 301)"),
    _f("location-unchecked", "K-E4", "LocationExternalReference is stored without checking it"),
    _f("interaction-type-unchecked", "K-E5",
       "InteractionTypeExternalReference is stored without checking it"),
    _f("account-missing-code-1", "K-V1", "a missing AccountId is a null-reference error: ReturnCode 1"),
    _f("account-length-code-1", "K-V1", "an AccountId over 60 characters is a generic error: ReturnCode 1"),
    _f("note-257-accepted", "K-V2", "the note limit is off by one: 257 characters pass"),
    _f("note-bytes", "K-V2", "the note limit counts UTF-8 bytes instead of characters"),
    _f("note-utf16", "K-V2", "the note limit counts UTF-16 code units, as .NET string length does"),
    _f("missing-location-code-1", "K-V3", "a missing LocationExternalReference is ReturnCode 1"),
    _f("location-before-account", "K-O1", "the location is checked before the account"),
    _f("business-error-fault", "K-F1", "a business error is answered as a SOAP Fault"),
    _f("unknown-operation-recorded", "K-F1",
       "any operation element in the Body is taken as RecordInteraction"),
    _f("malformed-envelope-200", "K-F1", "a body that is not well-formed XML is HTTP 200 with ReturnCode 1"),
)

#: Faults that break no clause.  They exist to prove that ``conformance selftest`` can
#: fail: a control must *survive* every run, and selftest reports it as a surviving
#: fault with a non-zero exit.  They are never part of the default selection.
CONTROLS: tuple[Fault, ...] = (
    Fault(
        "control-help-page-title",
        None,
        "control: the Kognitiv help page (GET without ?WSDL) has another title; no clause covers it",
    ),
)

REGISTRY: dict[str, Fault] = {fault.name: fault for fault in FAULTS + CONTROLS}


class UnknownFaultError(ValueError):
    """A fault name the registry does not hold; the message names the nearest one."""


def lookup(name: str) -> Fault:
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, REGISTRY, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UnknownFaultError(f"unknown fault '{name}'{hint}") from None


class FaultSet:
    """The faults switched on for one reference; called by the hooks."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._on = frozenset(lookup(name).name for name in names)

    def __call__(self, name: str) -> bool:
        if not self._on:
            return False  # the clean reference: one test, no lookup
        if name not in REGISTRY:
            # A hook naming an unregistered fault is a bug in the reference; never let
            # it pass silently as "off".
            raise UnknownFaultError(f"hook names unregistered fault '{name}'")
        return name in self._on

    def __bool__(self) -> bool:
        return bool(self._on)

    def __repr__(self) -> str:
        return f"FaultSet({sorted(self._on)!r})"

    @property
    def names(self) -> frozenset[str]:
        return self._on


NO_FAULTS = FaultSet()

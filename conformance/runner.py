"""Running one check against a target: setup, the request, read-back, verdict.

A check ends in exactly one way: it returns (passed), or raises CheckFailed (the
target broke a clause), CheckErrored (the suite, a setup step or the connection
broke) or CheckSkipped.  Setup steps that the target answers wrongly make the check
*errored*, not failed: the clause under test was never reached; the cases of the
method the setup used will show the failure where it belongs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape as xml_escape

from conformance.answer import Answer, lookup, normalise, read_luminate
from conformance.casefile import SetupStep, Step
from conformance.expectation import Context, check_luminate
from conformance.outcome import CheckErrored, CheckFailed, CheckSkipped, Exchange, Failure
from conformance.plan import Check, skip_reason
from conformance.soap import (
    SoapAnswer,
    check_fault,
    check_result,
    check_wsdl,
    envelope,
    headers_for,
    read_answer,
)
from conformance.substitution import UnboundName, render
from conformance.target import Created, Target
from conformance.transport import TransportErrored

FORM = "application/x-www-form-urlencoded"


@dataclass
class Run:
    """The state of one check while it runs."""

    check: Check
    target: Target
    bindings: dict[str, str]
    exchanges: list[Exchange] = field(default_factory=list)
    created: list[dict[str, str]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    token: str | None = None

    def record(self, kind: str, ident: str, detail: str = "") -> None:
        """Note a record the suite created on the target (the run ledger)."""
        self.created.append({"kind": kind, "id": ident, "detail": detail})
        self.target.ledger.add(Created(kind, ident, self.check.name, detail, by_case=True))


def run_check(check: Check, target: Target) -> Run:
    """Run one check; return its record or raise CheckFailed/Errored/Skipped.

    The exception carries the record too (``exc.run``), so a failed check's
    exchanges reach the report.
    """
    skip = skip_reason(check, target.profile, target.host_allowed())
    if skip is not None:
        kind, reason = skip
        raise CheckSkipped(reason, policy=kind == "policy", unobservable=kind == "unobservable")
    bindings = target.bindings()
    uid = f"{target.run_id}-{target.unique()}"
    bindings["check.uid"] = uid
    bindings["check.email"] = f"conf.{uid}@example.org"
    bindings["check.email_2"] = f"conf.{uid}.b@example.org"
    bindings["check.member_id"] = f"CONF-{uid}"
    run = Run(check, target, bindings)
    try:
        _execute(run)
    except UnboundName as exc:
        if exc.name.split(".")[0] in ("profile", "secret", "kognitiv", "obs"):
            # The case needs a fact this profile does not give: not applicable here.
            raise CheckSkipped(f"the profile does not give ${{{exc.name}}}") from None
        raise CheckErrored(f"case error: {exc}") from None
    except (CheckFailed, CheckErrored, CheckSkipped) as exc:
        if isinstance(exc, TransportErrored):
            run.exchanges.append(exc.exchange)  # what was sent, and what arrived before it broke
        exc.run = run
        raise
    return run


def _execute(run: Run) -> None:
    check = run.check
    if check.case.api != "kognitiv" and check.case.caller == "constituent":
        run.token = _login(run)
    for setup in check.case.setup:
        _setup(run, setup)
    failures = _step(run, check.test.step)
    for step in check.test.then:
        try:
            failures += _step(run, step)
        except UnboundName:
            if not failures:
                raise
            # The read-back needs a value the failed step never answered (its capture
            # did not happen): the check has failed already; it cannot become errored.
            break
    if failures:
        headline = _headline(check, failures)
        raise CheckFailed(headline, failures)


def _headline(check: Check, failures: list[Failure]) -> str:
    first = failures[0]
    return f"{check.label}: {first.where + ': ' if first.where else ''}{first.message}"


# -- Luminate ---------------------------------------------------------------------


def _luminate_params(run: Run, request: Mapping[str, Any], fmt: str) -> dict[str, str]:
    target, check = run.target, run.check
    lo = target.profile.luminate
    assert lo is not None
    caller = request.get("caller", check.case.caller)
    params: dict[str, str] = {}
    if "method" in request:
        params["method"] = str(request["method"])
    params["api_key"] = target.secrets[lo.api_key]
    params["v"] = "1.0"
    if fmt == "json":
        params["response_format"] = "json"
    if check.suppress:
        params["suppress_response_codes"] = "true"
    if caller == "admin":
        params["login_name"] = target.secrets[lo.api_admin.login_name]
        params["login_password"] = target.secrets[lo.api_admin.login_password]
    elif caller == "constituent":
        token = run.token or _login(run)
        run.token = token
        params["auth"] = token
    if "auth" in request:
        params["auth"] = render(request["auth"], run.bindings)
    for name, value in (request.get("params") or {}).items():
        params[name] = render(value, run.bindings)
    for name in request.get("omit", []):
        params.pop(name, None)
    return params


def _send_luminate(run: Run, request: Mapping[str, Any], fmt: str, read_as: str) -> tuple[Answer, float]:
    target, check = run.target, run.check
    lo = target.profile.luminate
    assert lo is not None
    api = request.get("api", check.case.api)
    url = lo.servlet_url(api)
    if request.get("query"):
        # The vendor's URL syntax shows parameters in the query string too.
        query = {k: render(v, run.bindings) for k, v in request["query"].items()}
        url += "?" + urlencode(query)
    if "raw_body" in request:
        body = render(request["raw_body"], run.bindings).encode("utf-8")
    else:
        body = urlencode(_luminate_params(run, request, fmt)).encode("ascii")
    headers = {"Content-Type": request.get("content_type", FORM)}
    headers.update(request.get("headers") or {})
    started = time.time()
    http = target.http.send(
        request.get("http_method", "POST"), url, body, headers, what=str(request.get("method", ""))
    )
    run.exchanges.append(http.exchange)
    return read_luminate(http, read_as), started


def _context(run: Run, started: float) -> Context:
    lo = run.target.profile.luminate
    secret = run.target.secrets.get(lo.secret_key) if lo else None
    return Context(
        run.bindings,
        run.target.profile.strict,
        run.check.suppress,
        run.target.profile.clock_tolerance_seconds,
        secret,
        started,
    )


def _step(run: Run, step: Step, setup: bool = False) -> list[Failure]:
    request = step.request
    if run.check.case.api == "kognitiv" or request.get("api") == "kognitiv":
        return _soap_step(run, step)
    # A setup step prepares, it is not the call under test: in a pair cell it is sent
    # once (a write sent twice would not even give comparable answers).
    pair = ["xml"] if setup else ["xml", "json"]
    formats = pair if run.check.format == "pair" else [run.check.format]
    failures: list[Failure] = []
    answers = []
    for fmt in formats:
        # For "well_formed" any format is fine (L-T6): read the answer as what it is.
        answer, started = _send_luminate(run, request, fmt, "auto" if step.expect.get("well_formed") else fmt)
        _ledger(run, answer)
        answers.append(answer)
        found = check_luminate(step.expect, answer, _context(run, started))
        failures += [f for f in found if f not in failures]
        if not found:
            _capture(run, step, answer)
    if len(answers) == 2 and answers[0].root and answers[1].root:
        failures += _compare_formats(answers[0], answers[1])
    return failures


def _ledger(run: Run, answer: Answer) -> None:
    """Note what a successful write made on the target, whatever the case expected of it.

    Records are listed even when the check fails: a target that accepts what it should
    refuse still holds the record.  An update is listed too, as a changed record:
    createOrUpdate logs an interaction on the record it updates (L-C11), and the target
    does not say that interaction's id.
    """
    if answer.root == "updateConsResponse":  # logInteraction (L-L8)
        found, iid = lookup(answer.tree, "interaction_id")
        if found and isinstance(iid, str) and iid:
            run.record("interaction", iid, f"cons_id {lookup(answer.tree, 'cons_id')[1]}")
        return
    if answer.root != "createOrUpdateConsResponse":
        return
    found, cons_id = lookup(answer.tree, "cons_id")
    if not found or not isinstance(cons_id, str) or not cons_id:
        return
    if any(c["id"] == cons_id and c["kind"].startswith("constituent") for c in run.created):
        return  # made or changed earlier in this check: listed already
    lo = run.target.profile.luminate
    fixture = lo is not None and lo.constituent is not None and cons_id == lo.constituent.cons_id
    # L-C9 fixes the update's message; anything else is a create.
    if fixture or lookup(answer.tree, "message")[1] == "User updated.":
        run.record("constituent-changed", cons_id, "updated by createOrUpdate, with an interaction logged")
    else:
        sent = dict(parse_qsl(answer.http.exchange.request_body, keep_blank_values=True))
        run.record("constituent", cons_id, sent.get("primary_email", ""))


def _compare_formats(xml: Answer, json_: Answer) -> list[Failure]:
    """L-T11: the same call carries the same data in XML and in JSON."""
    if xml.root != json_.root:
        return [Failure("L-T11", "/", f"XML root {xml.root!r} but JSON root {json_.root!r}")]
    a, b = normalise(xml.tree), normalise(json_.tree)
    if a == b:
        return []
    path = _first_difference(a, b, f"/{xml.root}")
    return [Failure("L-T11", path[0], f"XML has {path[1]!r} but JSON has {path[2]!r}")]


def _first_difference(a: Any, b: Any, where: str) -> tuple[str, Any, Any]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key, "<absent>") != b.get(key, "<absent>"):
                return _first_difference(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{where}/{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
    return where, a, b


def _capture(run: Run, step: Step, answer: Answer) -> None:
    for name, path in step.capture.items():
        found, value = lookup(answer.tree, path)
        if not found or not isinstance(value, str):
            raise CheckErrored(
                f"cannot capture {name!r}: {path} is {'absent' if not found else 'not text'} in the answer"
            )
        run.bindings[name] = value


def _login(run: Run) -> str:
    lo = run.target.profile.luminate
    if lo is None or lo.constituent is None:
        raise CheckSkipped("the profile names no constituent login (Client API sessions)")
    params = {
        "method": "login",
        "api_key": run.target.secrets[lo.api_key],
        "v": "1.0",
        "user_name": run.target.secrets[lo.constituent.user_name],
        "password": run.target.secrets[lo.constituent.password],
    }
    answer = _setup_call(run, "CRConsAPI", params, "login")
    found, token = lookup(answer.tree, "token")
    if not found or not isinstance(token, str) or not token:
        raise CheckErrored("setup: login answered no token")
    run.secrets.append(token)  # redacted in this check's output (Redactor.with_values)
    return token


def _setup_call(run: Run, servlet: str, params: dict[str, str], what: str) -> Answer:
    lo = run.target.profile.luminate
    assert lo is not None
    http = run.target.http.send(
        "POST", lo.servlet_url(servlet), urlencode(params).encode("ascii"), {"Content-Type": FORM}, what=what
    )
    run.exchanges.append(http.exchange)
    answer = read_luminate(http, "xml")
    if answer.status != 200 or answer.root is None or answer.is_error:
        got = f"errorResponse code {answer.error_code()}" if answer.is_error else f"HTTP {answer.status}"
        raise CheckErrored(f"setup: {what} failed ({got})")
    return answer


def _admin_params(run: Run, method: str) -> dict[str, str]:
    lo = run.target.profile.luminate
    assert lo is not None
    s = run.target.secrets
    return {
        "method": method,
        "api_key": s[lo.api_key],
        "v": "1.0",
        "login_name": s[lo.api_admin.login_name],
        "login_password": s[lo.api_admin.login_password],
    }


def _setup(run: Run, setup: SetupStep) -> None:
    target = run.target
    if setup.kind == "session":
        token = _login(run)
        run.bindings[f"{setup.name}.token"] = token
        lo = target.profile.luminate
        assert lo is not None and lo.constituent is not None
        run.bindings[f"{setup.name}.cons_id"] = lo.constituent.cons_id
        return
    if setup.kind == "constituent":
        n = target.unique()
        uid = f"{target.run_id}-{n}"
        email, member = f"conf.{uid}@example.org", f"CONF-{uid}"
        params = _admin_params(run, "createOrUpdate")
        params.update(
            {
                "primary_email": email,
                "member_id": member,
                "name.first": "Conformance",
                "name.last": f"Run {target.run_id}",
                "source": f"conformance {target.run_id}",
                "sub_source": run.check.case.path.stem,
            }
        )
        answer = _setup_call(run, "SRConsAPI", params, "createOrUpdate")
        found, cons_id = lookup(answer.tree, "cons_id")
        if not found or not isinstance(cons_id, str):
            raise CheckErrored("setup: createOrUpdate answered no cons_id")
        run.record("constituent", cons_id, email)
        run.bindings.update(
            {
                f"{setup.name}.cons_id": cons_id,
                f"{setup.name}.primary_email": email,
                f"{setup.name}.member_id": member,
            }
        )
        return
    if setup.kind == "interaction":
        params = _admin_params(run, "logInteraction")
        subject = f"conformance {target.run_id} setup {target.unique()}"
        params.update({"cons_id": render(setup.data["for"], run.bindings), "interaction_subject": subject})
        if "body" in setup.data:
            params["interaction_body"] = render(setup.data["body"], run.bindings)
        answer = _setup_call(run, "SRConsAPI", params, "logInteraction")
        found, iid = lookup(answer.tree, "interaction_id")
        if not found or not isinstance(iid, str):
            raise CheckErrored("setup: logInteraction answered no interaction_id")
        run.record("interaction", iid, f"cons_id {params['cons_id']}")
        run.bindings.update({f"{setup.name}.interaction_id": iid, f"{setup.name}.subject": subject})
        return
    assert setup.step is not None
    failures = _step(run, setup.step, setup=True)
    if failures:
        raise CheckErrored(f"setup step (line {setup.line}) failed: {failures[0].line()}")


# -- Kognitiv ---------------------------------------------------------------------


def _soap_step(run: Run, step: Step) -> list[Failure]:
    target, check = run.target, run.check
    kg = target.profile.kognitiv
    assert kg is not None
    request, expect = step.request, step.expect
    if request.get("wsdl"):
        http = target.http.send("GET", kg.service + "?WSDL", what="WSDL")
        run.exchanges.append(http.exchange)
        return check_wsdl(http, kg.namespace)
    version = check.soap or "1.1"
    if "raw_body" in request:
        # Values inserted into a hand-written envelope are XML-escaped, so a token
        # holding '&' or '<' cannot break the envelope the case meant to send.
        body = render(request["raw_body"], run.bindings, xml_escape).encode("utf-8")
    else:
        fields: dict[str, str | None] = {
            "SecurityToken": target.secrets[kg.token],
            "AccountId": kg.active_account,
            "LocationExternalReference": kg.location,
            "InteractionTypeExternalReference": kg.interaction_type,
        }
        for name, value in (request.get("fields") or {}).items():
            fields[name] = render(value, run.bindings)
        for name in request.get("omit", []):
            fields[name] = None
        body = envelope(kg.namespace, fields, version)
    headers = headers_for(
        version,
        kg.namespace,
        render(request["soap_action"], run.bindings) if "soap_action" in request else None,
    )
    if "content_type" in request:
        headers["Content-Type"] = request["content_type"]
    http = target.http.send(
        request.get("http_method", "POST"), kg.service, body, headers, what="RecordInteraction"
    )
    run.exchanges.append(http.exchange)
    answer = read_answer(http, version, kg.namespace)
    failures = list(answer.failures)
    if answer.return_code == "0" and answer.interaction_id:
        run.record("kognitiv-interaction", answer.interaction_id)
    if expect.get("fault"):
        return failures + check_fault(answer, version)
    if "return_code" in expect:
        failures += check_result(answer, expect["return_code"], target.profile.strict, target.kognitiv_ids)
    for name, path in step.capture.items():
        value = answer.interaction_id if path == "InteractionId" else answer.return_code
        if value is None:
            raise CheckErrored(f"cannot capture {name!r}: no {path} in the answer")
        run.bindings[name] = value
    return failures


# -- single calls outside a case (hypothesis properties, the state machine) ---------


def call_luminate(
    target: Target, api: str, params: Mapping[str, str], fmt: str = "xml", suppress: bool = False
) -> Answer:
    """One Luminate call: ``api_key`` and ``v=1.0`` first, then ``params`` as given.

    ``fmt="json"`` adds ``response_format=json`` and ``suppress`` adds
    ``suppress_response_codes=true``, as a case's matrix cell does; a name in
    ``params`` overrides any of these (an empty value counts as absent, L-K1).
    Credentials are the caller's business: pass ``login_name``/``login_password`` or
    ``auth`` in ``params``.
    """
    lo = target.profile.luminate
    assert lo is not None, "call_luminate needs a profile with a luminate section"
    sent = {"api_key": target.secrets[lo.api_key], "v": "1.0"}
    if fmt == "json":
        sent["response_format"] = "json"
    if suppress:
        sent["suppress_response_codes"] = "true"
    sent.update(params)
    http = target.http.send(
        "POST",
        lo.servlet_url(api),
        urlencode(sent).encode("ascii"),
        {"Content-Type": FORM},
        what=sent.get("method", ""),
    )
    return read_luminate(http, fmt)


def call_kognitiv(target: Target, fields: Mapping[str, str | None], version: str = "1.1") -> SoapAnswer:
    """One RecordInteraction with exactly ``fields`` (None leaves a field out)."""
    kg = target.profile.kognitiv
    assert kg is not None, "call_kognitiv needs a profile with a kognitiv section"
    body = envelope(kg.namespace, fields, version)
    headers = headers_for(version, kg.namespace)
    http = target.http.send("POST", kg.service, body, headers, what="RecordInteraction")
    return read_answer(http, version, kg.namespace)

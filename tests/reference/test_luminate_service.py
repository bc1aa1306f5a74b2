"""The reference Luminate service called directly (no server): every clause of Part L.

Each test builds a fresh service on its own in-memory database, so tests are
independent and fast.  Every answer with a body is validated against the project's XSD
or JSON Schema on the way in (L-T9, L-T10), so each test also checks the shape of what
it receives.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from conformance.profile import Profile, Secrets, bundled_profile_path, load_profile, resolve_secrets
from conformance.reference.database import Database
from conformance.reference.luminate import LuminateService
from conformance.reference.reply import Reply
from conformance.reference.store import Store
from conformance.validation import luminate_schemas

NS = "http://convio.com/crm/v1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = "http://convio.com/crm/v1.0 http://service.convio.net/xmlschema/crm.public.v1.xsd"
FORM = "application/x-www-form-urlencoded"
CONSTITUENT = 1000010
API_ADMIN = 1000001
Params = Mapping[str, str] | Sequence[tuple[str, str]]


# ---------------------------------------------------------------------------------------
# Harness


def xml_as_json(elem: etree._Element, root: bool = False) -> Any:
    """The JSON form L-T10 prescribes, computed independently from an XML element.

    A root is always an object (an empty list leaves it with no keys).
    """
    if elem.get(f"{{{XSI}}}nil") == "true":
        return None
    children = list(elem)
    if not children and not root:
        return elem.text or ""
    grouped: dict[str, list[Any]] = {}
    for child in children:
        grouped.setdefault(etree.QName(child).localname, []).append(xml_as_json(child))
    return {k: v[0] if len(v) == 1 else v for k, v in grouped.items()}


@dataclass
class Answer:
    reply: Reply

    def __post_init__(self) -> None:
        body = self.reply.body
        self.root: etree._Element | None = None
        self.json: Any = None
        if not body:
            return
        ctype = self.reply.content_type or ""
        if ctype.startswith("application/json"):
            assert ctype == "application/json;charset=UTF-8"
            self.json = json.loads(body.decode("utf-8"))
            errors = [str(v) for v in luminate_schemas().iter_json_errors(self.json)]
        else:
            assert ctype == "text/xml;charset=UTF-8"
            assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
            self.root = etree.fromstring(body)
            assert self.root.get(f"{{{XSI}}}schemaLocation") == SCHEMA_LOCATION
            errors = [str(v) for v in luminate_schemas().iter_xml_errors(body)]
        assert errors == [], errors

    @property
    def status(self) -> int:
        return self.reply.status

    @property
    def headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.reply.headers}

    @property
    def name(self) -> str:
        if self.json is not None:
            (key,) = self.json
            return str(key)
        assert self.root is not None
        return str(etree.QName(self.root).localname)

    def find(self, path: str) -> etree._Element:
        assert self.root is not None
        found = self.root.find("/".join(f"{{{NS}}}{p}" for p in path.split("/")))
        assert found is not None, f"no {path} in {self.reply.body.decode()}"
        return found

    def has(self, path: str) -> bool:
        assert self.root is not None
        return self.root.find("/".join(f"{{{NS}}}{p}" for p in path.split("/"))) is not None

    def text(self, path: str) -> str | None:
        elem = self.find(path)
        return None if elem.get(f"{{{XSI}}}nil") == "true" else (elem.text or "")

    def children(self, path: str | None = None) -> list[str]:
        elem = self.root if path is None else self.find(path)
        assert elem is not None
        return [etree.QName(c).localname for c in elem]

    def all(self, path: str) -> list[etree._Element]:
        assert self.root is not None
        return list(self.root.iterfind("/".join(f"{{{NS}}}{p}" for p in path.split("/"))))

    @property
    def code(self) -> int:
        """The errorResponse code; fails when the answer is not an error."""
        if self.json is not None:
            return int(self.json["errorResponse"]["code"])
        assert self.name == "errorResponse", self.reply.body.decode()
        return int(self.text("code") or "")

    @property
    def message(self) -> str:
        return self.text("message") or ""

    def as_json(self) -> Any:
        assert self.root is not None
        return {self.name: xml_as_json(self.root, root=True)}


class Site:
    """A fresh reference service with the credentials to call it."""

    def __init__(self, profile: Profile | None = None) -> None:
        self.profile = profile or load_profile(bundled_profile_path())
        self.secrets: Secrets = resolve_secrets(self.profile, {}, generate_missing=True)
        self.db = Database()
        self.service = LuminateService(self.profile, self.secrets, self.db)
        lo = self.profile.luminate
        assert lo is not None and lo.constituent is not None and lo.other_admin is not None
        self.lo = lo
        self.api_key = self.secrets[lo.api_key]
        self.secret_key = self.secrets[lo.secret_key] if lo.secret_key else ""
        self.admin_login = (self.secrets[lo.api_admin.login_name], self.secrets[lo.api_admin.login_password])
        self.other_login = (
            self.secrets[lo.other_admin.login_name],
            self.secrets[lo.other_admin.login_password],
        )
        self.cons_login = (self.secrets[lo.constituent.user_name], self.secrets[lo.constituent.password])

    def post(
        self,
        servlet: str,
        params: Params,
        *,
        http_method: str = "POST",
        content_type: str | None = FORM,
        query: str = "",
        body: bytes | None = None,
        oversize: bool = False,
    ) -> Answer:
        raw = urlencode(params).encode() if body is None else body
        return Answer(self.service.handle(servlet, http_method, content_type, raw, query, oversize))

    def admin_params(self, method: str, **params: str) -> dict[str, str]:
        name, password = self.admin_login
        return {
            "api_key": self.api_key,
            "v": "1.0",
            "login_name": name,
            "login_password": password,
            "method": method,
            **params,
        }

    def server(self, method: str, **params: str) -> Answer:
        return self.post("SRConsAPI", self.admin_params(method, **params))

    def client(self, method: str, **params: str) -> Answer:
        return self.post("CRConsAPI", {"api_key": self.api_key, "v": "1.0", "method": method, **params})

    def login(self) -> str:
        user, password = self.cons_login
        answer = self.client("login", user_name=user, password=password)
        assert answer.status == 200
        return answer.text("token") or ""

    def session(self, method: str, token: str | None = None, **params: str) -> Answer:
        return self.client(method, auth=token or self.login(), **params)

    def log(self, **params: str) -> Answer:
        params.setdefault("interaction_subject", "A subject")
        if not any(k in params for k in ("cons_id", "member_id", "primary_email")):
            params["cons_id"] = str(CONSTITUENT)
        return self.server("logInteraction", **params)

    def logged(self, **params: str) -> int:
        answer = self.log(**params)
        assert answer.status == 200, answer.reply.body
        return int(answer.text("interaction_id") or "")

    def interaction(self, interaction_id: int, cons_id: int = CONSTITUENT) -> Answer:
        answer = self.server("getInteraction", cons_id=str(cons_id), interaction_id=str(interaction_id))
        assert answer.status == 200, answer.reply.body
        return answer

    def interaction_count(self) -> int:
        with self.db.transaction() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM lo_interaction").fetchone()[0])

    def constituent_count(self) -> int:
        with self.db.transaction() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM lo_constituent").fetchone()[0])

    def user(self, **ident: str) -> Answer:
        answer = self.server("getUser", **ident)
        assert answer.status == 200, answer.reply.body
        return answer

    def create(self, email: str, **params: str) -> int:
        answer = self.server("createOrUpdate", primary_email=email, **params)
        assert answer.status == 200, answer.reply.body
        assert answer.text("message") == "User created."
        return int(answer.text("cons_id") or "")

    def group_ids(self, cons_id: int) -> list[int]:
        answer = self.server("getUserGroups", cons_id=str(cons_id))
        return [int(g.findtext(f"{{{NS}}}id") or "") for g in answer.all("group")]

    def subjects(self, cons_id: int) -> list[str]:
        answer = self.server("getUserInteractions", cons_id=str(cons_id), list_page_size="100")
        return [i.findtext(f"{{{NS}}}subject") or "" for i in answer.all("interaction")]


def with_settings(**changes: Any) -> Profile:
    profile = load_profile(bundled_profile_path())
    lo = profile.luminate
    assert lo is not None
    return replace(profile, luminate=replace(lo, settings=replace(lo.settings, **changes)))


@pytest.fixture
def site() -> Site:
    return Site()


def shared_member_ids(site: Site) -> list[int]:
    assert site.lo.shared_member_id is not None
    with site.db.transaction() as conn:
        return Store(conn).ids_by_member_id(site.lo.shared_member_id)


def shared_email_ids(site: Site) -> list[int]:
    assert site.lo.shared_email is not None
    with site.db.transaction() as conn:
        return Store(conn).ids_by_email(site.lo.shared_email)


# ---------------------------------------------------------------------------------------
# Seed: exactly what the profile names


def test_seed_holds_the_profile_fixtures(site: Site) -> None:
    assert len(shared_member_ids(site)) == 2
    assert len(shared_email_ids(site)) == 2
    assert site.user(cons_id=str(CONSTITUENT)).text("email/primary_address") == "constituent.one@example.org"
    assert site.user(cons_id=str(API_ADMIN)).text("cons_id") == str(API_ADMIN)
    # Seven records: three logins, two pairs; and the named groups exist.
    assert site.constituent_count() == 7
    cons_id = site.create("groups@example.org", add_group_ids="1001,1002")
    assert site.group_ids(cons_id) == [1001, 1002]


def test_a_second_install_on_the_same_database_does_not_seed_again(site: Site) -> None:
    LuminateService(site.profile, site.secrets, site.db)
    assert site.constituent_count() == 7


def test_new_cons_ids_start_at_1001000_and_interaction_ids_are_positive(site: Site) -> None:
    assert site.create("first@example.org") == 1001000
    assert site.create("second@example.org") == 1001001
    assert site.logged() > 0


# ---------------------------------------------------------------------------------------
# L-T: transport and common parameters


def test_t1_parameters_travel_in_a_form_body(site: Site) -> None:
    assert site.log().name == "updateConsResponse"


def test_t1_parameters_in_the_query_string_count_too(site: Site) -> None:
    params = site.admin_params("logInteraction", cons_id=str(CONSTITUENT), interaction_subject="q")
    answer = site.post("SRConsAPI", {}, query=urlencode(params))
    assert answer.status == 200
    half = dict(list(params.items())[:3])
    rest = dict(list(params.items())[3:])
    assert site.post("SRConsAPI", half, query=urlencode(rest)).status == 200


def test_t1_content_type_with_charset_is_a_form(site: Site) -> None:
    params = site.admin_params("getUser", cons_id=str(CONSTITUENT))
    assert site.post("SRConsAPI", params, content_type=f"{FORM}; charset=UTF-8").status == 200


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data", None])
def test_t1_other_content_types_carry_no_parameters(site: Site, content_type: str | None) -> None:
    answer = site.post("SRConsAPI", site.admin_params("getUser", cons_id="1"), content_type=content_type)
    assert (answer.status, answer.code) == (403, 2)


@pytest.mark.parametrize("http_method", ["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "post"])
@pytest.mark.parametrize("servlet", ["CRConsAPI", "SRConsAPI"])
def test_t2_any_method_but_post_is_405(site: Site, servlet: str, http_method: str) -> None:
    params = {
        **site.admin_params("getUser", cons_id=str(CONSTITUENT)),
        "error_redirect": "http://e.example/",
        "suppress_response_codes": "true",
    }
    answer = site.post(servlet, params, http_method=http_method, query=urlencode(params))
    assert answer.status == 405
    assert answer.headers["allow"] == "POST"
    assert answer.name == "errorResponse"
    assert answer.code == 1


def test_t3_method_is_required(site: Site) -> None:
    params = site.admin_params("x")
    del params["method"]
    assert site.post("SRConsAPI", params).code == 6
    assert site.server("").code == 6  # empty counts as absent


@pytest.mark.parametrize(
    "method", ["loginteraction", "LogInteraction", "createorupdate", "nope", "getinteraction"]
)
def test_t3_method_names_are_case_sensitive(site: Site, method: str) -> None:
    answer = site.server(method, cons_id=str(CONSTITUENT), interaction_subject="s")
    assert (answer.status, answer.code) == (403, 6)


@pytest.mark.parametrize("method", ["login", "logout"])
def test_t3_login_and_logout_exist_only_on_the_client_api(site: Site, method: str) -> None:
    user, password = site.cons_login
    assert site.server(method, user_name=user, password=password).code == 6


@pytest.mark.parametrize("api_key", [None, "", "wrong", "ключ", "x" * 500])
def test_t4_api_key_must_match(site: Site, api_key: str | None) -> None:
    params = site.admin_params("getUser", cons_id=str(CONSTITUENT))
    if api_key is None:
        del params["api_key"]
    else:
        params["api_key"] = api_key
    for servlet in ("SRConsAPI", "CRConsAPI"):
        answer = site.post(servlet, params)
        assert (answer.status, answer.code) == (403, 2)


def test_t4_api_key_is_case_sensitive(site: Site) -> None:
    params = site.admin_params("getUser", cons_id=str(CONSTITUENT), api_key=site.api_key.swapcase())
    assert site.post("SRConsAPI", params).code == 2


@pytest.mark.parametrize(("version", "code"), [(None, 9), ("", 9), ("1", 22), ("1.00", 22), ("2.0", 22)])
def test_t5_v_must_be_1_0(site: Site, version: str | None, code: int) -> None:
    params = site.admin_params("getUser", cons_id=str(CONSTITUENT))
    if version is None:
        del params["v"]
    else:
        params["v"] = version
    answer = site.post("SRConsAPI", params)
    assert (answer.status, answer.code) == (403, code)


def test_t6_json_on_request(site: Site) -> None:
    answer = site.server("getUser", cons_id=str(CONSTITUENT), response_format="json")
    assert answer.json["getConsResponse"]["cons_id"] == str(CONSTITUENT)


@pytest.mark.parametrize("fmt", ["JSON", "Json", "yaml", "html", "xml", "XML"])
def test_t6_any_other_format_is_xml(site: Site, fmt: str) -> None:
    answer = site.server("getUser", cons_id=str(CONSTITUENT), response_format=fmt)
    assert answer.status == 200
    assert answer.name == "getConsResponse" and answer.root is not None


def test_t6_errors_follow_the_format_too(site: Site) -> None:
    answer = site.server("getUser", cons_id="1", response_format="json")
    assert answer.json == {
        "errorResponse": {"code": "16", "message": answer.json["errorResponse"]["message"]}
    }


def test_t7_success_is_200_and_an_error_403(site: Site) -> None:
    assert site.server("getUser", cons_id=str(CONSTITUENT)).status == 200
    assert site.server("getUser", cons_id="1").status == 403


@pytest.mark.parametrize("flag", ["true", "TRUE", "True", "tRuE"])
@pytest.mark.parametrize("servlet", ["CRConsAPI", "SRConsAPI"])
def test_t7_suppress_response_codes(site: Site, servlet: str, flag: str) -> None:
    params = site.admin_params("getUser", cons_id="1")
    plain = site.post(servlet, params)
    suppressed = site.post(servlet, {**params, "suppress_response_codes": flag})
    assert plain.status == 403
    assert suppressed.status == 200
    assert suppressed.reply.body == plain.reply.body


@pytest.mark.parametrize("flag", ["false", "1", "yes", "truee"])
def test_t7_other_suppress_values_keep_403(site: Site, flag: str) -> None:
    assert site.server("getUser", cons_id="1", suppress_response_codes=flag).status == 403


def test_t8_error_response_holds_code_and_message(site: Site) -> None:
    answer = site.server("getUser", cons_id="1")
    assert answer.children() == ["code", "message"]
    assert answer.code == 16 and answer.message.strip()
    answer = site.server("getUser", cons_id="1", response_format="json")
    assert list(answer.json["errorResponse"]) == ["code", "message"]
    assert answer.json["errorResponse"]["code"] == "16"


def test_t9_xml_answer_carries_the_vendor_root_attributes(site: Site) -> None:
    answer = site.log()
    assert answer.root is not None
    assert answer.root.tag == f"{{{NS}}}updateConsResponse"
    assert answer.reply.content_type == "text/xml;charset=UTF-8"
    assert b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' in answer.reply.body


def test_t10_json_scalars_are_strings_and_nil_is_null(site: Site) -> None:
    answer = site.server("getUser", cons_id=str(CONSTITUENT), response_format="json")
    user = answer.json["getConsResponse"]
    assert user["cons_id"] == str(CONSTITUENT)
    assert user["member_id"] is None
    assert user["active"] == "1"
    assert answer.reply.content_type == "application/json;charset=UTF-8"


def _both(site: Site, method: str, **params: str) -> tuple[Answer, Answer]:
    return site.server(method, **params), site.server(method, response_format="json", **params)


def test_t11_xml_and_json_carry_the_same_data(site: Site) -> None:
    cons_id = site.create("same@example.org", add_group_ids="1001,1002")
    site.logged(cons_id=str(cons_id), interaction_subject="one", interaction_body="b\r\n&")
    iid = site.logged(cons_id=str(cons_id), interaction_subject="two")
    calls: list[tuple[str, dict[str, str]]] = [
        ("getUser", {"cons_id": str(cons_id)}),
        ("getUserGroups", {"cons_id": str(cons_id)}),
        ("getUserInteractions", {"cons_id": str(cons_id)}),
        ("getInteraction", {"cons_id": str(cons_id), "interaction_id": str(iid)}),
        ("getUserGroups", {"cons_id": str(CONSTITUENT)}),
        ("logInteraction", {"cons_id": str(cons_id), "interaction_subject": "x"}),
        ("getUser", {"cons_id": "1"}),
    ]
    for method, params in calls:
        xml, js = _both(site, method, **params)
        if method == "logInteraction":  # each call logs anew: compare all but the new id
            js.json["updateConsResponse"]["interaction_id"] = xml.text("interaction_id")
        # json.dumps keeps key order, so this compares values and order.
        assert json.dumps(xml.as_json()) == json.dumps(js.json), method


def test_t11_list_rule_one_object_several_array_none_absent(site: Site) -> None:
    cons_id = site.create("lists@example.org")
    answer = site.server("getUserGroups", cons_id=str(cons_id), response_format="json")
    assert answer.json == {"getConsGroupsResponse": {}}
    site.server("createOrUpdate", cons_id=str(cons_id), add_group_ids="1001")
    answer = site.server("getUserGroups", cons_id=str(cons_id), response_format="json")
    assert answer.json == {"getConsGroupsResponse": {"group": {"id": "1001", "name": "Volunteers"}}}
    site.server("createOrUpdate", cons_id=str(cons_id), add_group_ids="1002")
    answer = site.server("getUserGroups", cons_id=str(cons_id), response_format="json")
    assert [g["id"] for g in answer.json["getConsGroupsResponse"]["group"]] == ["1001", "1002"]


# ---- L-T12, L-T13: redirects ----


def test_t12_success_redirect(site: Site) -> None:
    token = site.login()
    answer = site.session(
        "getUser",
        token,
        success_redirect="https://ok.example/done?x=1",
        error_redirect="https://err.example/",
    )
    assert answer.status == 302
    assert answer.headers["location"] == "https://ok.example/done?x=1"
    assert answer.reply.body == b""


def test_t12_error_redirect_on_any_error(site: Site) -> None:
    wrong_key = {
        "api_key": "wrong",
        "v": "1.0",
        "method": "getUser",
        "error_redirect": "https://err.example/",
    }
    answer = site.post("CRConsAPI", wrong_key)
    assert (answer.status, answer.headers["location"]) == (302, "https://err.example/")
    answer = site.client(
        "nope", error_redirect="https://err.example/", success_redirect="https://ok.example/"
    )
    assert (answer.status, answer.headers["location"]) == (302, "https://err.example/")


def test_t12_redirect_serves_both_outcomes(site: Site) -> None:
    token = site.login()
    assert site.session("getUser", token, redirect="https://any.example/").headers["location"] == (
        "https://any.example/"
    )
    assert (
        site.client("getUser", redirect="https://any.example/").headers["location"] == "https://any.example/"
    )


def test_t12_without_a_redirect_for_the_outcome_the_answer_is_ordinary(site: Site) -> None:
    answer = site.client("getUser", success_redirect="https://ok.example/")
    assert (answer.status, answer.code) == (403, 5)
    token = site.login()
    answer = site.session("getUser", token, error_redirect="https://err.example/")
    assert answer.status == 200 and answer.name == "getConsResponse"


def test_t12_server_api_ignores_redirects(site: Site) -> None:
    answer = site.server(
        "getUser",
        cons_id=str(CONSTITUENT),
        redirect="https://any.example/",
        success_redirect="https://ok.example/",
    )
    assert answer.status == 200 and answer.name == "getConsResponse"
    answer = site.server("getUser", cons_id="1", error_redirect="https://err.example/")
    assert (answer.status, answer.code) == (403, 16)


def _check_signature(site: Site, sent: str, location: str, before: int, after: int) -> None:
    assert location.startswith(sent)
    head, _, sig = location.rpartition("&sig=")
    query = urlsplit(head).query
    ts = int(dict(parse_qsl(query))["ts"])
    assert before <= ts <= after
    assert sig == hashlib.sha1((query + site.secret_key).encode(), usedforsecurity=False).hexdigest()


@pytest.mark.parametrize("flag", ["true", "TRUE", "True"])
def test_t13_signed_redirect_with_an_existing_query(site: Site, flag: str) -> None:
    token = site.login()
    before = int(time.time())
    answer = site.session(
        "getUser", token, success_redirect="https://ok.example/a?b=1&c=%20d", sign_redirects=flag
    )
    after = int(time.time())
    location = answer.headers["location"]
    assert location.startswith("https://ok.example/a?b=1&c=%20d&ts=")
    _check_signature(site, "https://ok.example/a?b=1&c=%20d", location, before, after)


def test_t13_signed_redirect_without_a_query_and_on_error(site: Site) -> None:
    before = int(time.time())
    answer = site.client("getUser", error_redirect="https://err.example/path", sign_redirects="true")
    location = answer.headers["location"]
    assert location.startswith("https://err.example/path?ts=")
    _check_signature(site, "https://err.example/path", location, before, int(time.time()))


def test_t13_fragment_stays_at_the_end(site: Site) -> None:
    answer = site.client("getUser", redirect="https://e.example/p?q=1#frag", sign_redirects="true")
    location = answer.headers["location"]
    assert location.startswith("https://e.example/p?q=1&ts=") and location.endswith("#frag")
    query = urlsplit(location).query
    signed, _, sig = query.rpartition("&sig=")
    assert sig == hashlib.sha1((signed + site.secret_key).encode(), usedforsecurity=False).hexdigest()


def test_t13_unsigned_without_the_flag(site: Site) -> None:
    answer = site.client("getUser", redirect="https://e.example/p", sign_redirects="no")
    assert answer.headers["location"] == "https://e.example/p"


def test_redirect_url_cannot_split_headers(site: Site) -> None:
    answer = site.client("getUser", redirect="https://e.example/p?a=1\r\nSet-Cookie: x=1 é")
    location = answer.headers["location"]
    assert "\r" not in location and "\n" not in location and " " not in location
    assert location == "https://e.example/p?a=1%0D%0ASet-Cookie:%20x=1%20%C3%A9"


# ---- L-T14, L-T15: characters ----

ROUND_TRIP = [
    "a & b < c > d",
    "\"quoted\" and 'single'",
    "Grüße aus Köln – ünïcödé",
    "emoji 🎉👍🏽",
    "tab\there",
    "line\nfeed",
    "carriage\rreturn",
    "crlf\r\nend",
    "  leading and trailing  ",
    "]]> <![CDATA[ x",
    "&amp; &#13; literal entities",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_t14_legal_characters_round_trip(site: Site, text: str) -> None:
    iid = site.logged(interaction_subject=text, interaction_body=text)
    answer = site.interaction(iid)
    assert answer.text("interaction/subject") == text
    assert answer.text("interaction/note/text") == text
    assert answer.text("interaction/note/subject") == text
    js = site.server(
        "getInteraction", cons_id=str(CONSTITUENT), interaction_id=str(iid), response_format="json"
    )
    assert js.json["getInteractionResponse"]["interaction"]["subject"] == text
    assert js.json["getInteractionResponse"]["interaction"]["note"]["text"] == text


def test_t14_carriage_return_is_written_as_a_character_reference(site: Site) -> None:
    iid = site.logged(interaction_subject="a\rb")
    assert b"a&#13;b" in site.interaction(iid).reply.body


@pytest.mark.parametrize("bad", ["\x08", "\x00", "\x1f", "\x0b", "\ufffe", "\uffff"])
@pytest.mark.parametrize("field", ["interaction_subject", "interaction_body"])
def test_t15_forbidden_characters_are_refused(site: Site, field: str, bad: str) -> None:
    before = site.interaction_count()
    answer = site.log(**{field: f"x{bad}y"})
    assert (answer.status, answer.code) == (403, 35)
    assert site.interaction_count() == before


def test_t15_forbidden_characters_in_create_store_nothing(site: Site) -> None:
    before = site.constituent_count()
    answer = site.server("createOrUpdate", primary_email="bad\x08@example.org")
    assert answer.code == 35
    answer = site.server("createOrUpdate", primary_email="ok@example.org", **{"name.first": "A\ufffeB"})
    assert answer.code == 35
    assert site.constituent_count() == before


@pytest.mark.parametrize("encoded", ["%ED%A0%80", "%FF", "%C3", "%80abc"])
def test_t15_lone_surrogates_and_bytes_that_are_not_utf8_are_35(site: Site, encoded: str) -> None:
    body = (
        urlencode(site.admin_params("logInteraction", cons_id=str(CONSTITUENT)))
        + "&interaction_subject=a"
        + encoded
    )
    answer = site.post("SRConsAPI", {}, body=body.encode())
    assert answer.code == 35
    assert site.interaction_count() == 0


def test_t15_raw_bytes_that_are_not_utf8_are_35(site: Site) -> None:
    body = urlencode(site.admin_params("logInteraction", cons_id=str(CONSTITUENT))).encode()
    answer = site.post("SRConsAPI", {}, body=body + b"&interaction_subject=caf\xe9")
    assert answer.code == 35
    # Raw UTF-8 is fine.
    answer = site.post("SRConsAPI", {}, body=body + "&interaction_subject=café".encode())
    assert answer.status == 200


# ---- L-T16: the order of faults ----


def test_t16_fault_order(site: Site) -> None:
    full = site.admin_params("logInteraction", cons_id=str(CONSTITUENT), interaction_subject="ok")

    def without(*names: str, **changes: str) -> dict[str, str]:
        return {k: v for k, v in {**full, **changes}.items() if k not in names}

    cases: list[tuple[dict[str, str], int]] = [
        (without("v", api_key="wrong", method="nope"), 2),
        (without("v", method="nope", login_password="wrong"), 9),
        (without(v="2", method="nope"), 22),
        (without(method="nope", login_password="wrong"), 6),
        (without("interaction_subject", login_password="wrong"), 3),
        (without("interaction_subject", interaction_body="\x08"), 9),
        (without("cons_id", interaction_body="\x08"), 9),
        (without(interaction_body="\x08", interaction_subject="s" * 81), 35),
        (without(interaction_subject="s" * 81, cons_id="1"), 23),
        (without(interaction_body="b" * 1501, interaction_type_id="1"), 30),
        (without(interaction_type_id="1", cons_id="1"), 26),
        (without(interaction_cat_id="7", cons_id="1"), 29),
        (without(interaction_count="-1", cons_id="1"), 22),
        (without(cons_id="1"), 16),
    ]
    for params, code in cases:
        assert site.post("SRConsAPI", params).code == code, (params, code)


def test_t16_repeats_come_after_characters_and_before_lookup(site: Site) -> None:
    params = [
        *site.admin_params("logInteraction", cons_id="1").items(),
        ("interaction_subject", "a"),
        ("interaction_subject", "b"),
    ]
    answer = site.post("SRConsAPI", params)
    assert answer.code == 22 and "interaction_subject" in answer.message
    answer = site.post("SRConsAPI", [*params, ("interaction_body", "\x08")])
    assert answer.code == 35


def test_t16_client_fault_order(site: Site) -> None:
    token = site.login()
    # permission (14) before required and values; auth (5) before permission.
    assert site.client("createOrUpdate", add_group_ids="5").code == 5
    answer = site.session("createOrUpdate", token, add_group_ids="5", interaction_subject="s" * 81)
    assert answer.code == 14
    assert site.session("getInteraction", token, interaction_body="\x08").code == 9


# ---- parameter handling decisions ----


def test_empty_values_count_as_absent(site: Site) -> None:
    assert site.log(cons_id="", member_id="", primary_email="").code == 9
    answer = site.log(cons_id="", primary_email="constituent.one@example.org")
    assert answer.text("cons_id") == str(CONSTITUENT)
    # An empty repeat is not a repeat.
    params = [*site.admin_params("getUser", cons_id=str(CONSTITUENT)).items(), ("cons_id", "")]
    assert site.post("SRConsAPI", params).status == 200


def test_a_parameter_in_body_and_query_is_a_repeat(site: Site) -> None:
    params = site.admin_params("getUser", cons_id=str(CONSTITUENT))
    answer = site.post("SRConsAPI", params, query="cons_id=1000010")
    assert answer.code == 22 and "cons_id" in answer.message


def test_oversize_body_is_23(site: Site) -> None:
    answer = site.post("SRConsAPI", site.admin_params("getUser", cons_id=str(CONSTITUENT)), oversize=True)
    assert (answer.status, answer.code) == (403, 23)
    answer = site.post("SRConsAPI", {}, oversize=True, query="response_format=json")
    assert answer.json["errorResponse"]["code"] == "23"


def test_unknown_servlet_is_404(site: Site) -> None:
    answer = site.post("XRConsAPI", site.admin_params("getUser", cons_id=str(CONSTITUENT)))
    assert answer.status == 404 and answer.code == 1


@pytest.mark.parametrize("center", ["-1", "abc", "1.0"])
def test_center_id_is_a_non_negative_integer(site: Site, center: str) -> None:
    assert site.server("getUser", cons_id=str(CONSTITUENT), center_id=center).code == 22
    assert site.server("getUser", cons_id=str(CONSTITUENT), center_id="12").status == 200


def test_unexpected_failure_is_code_1_and_changes_nothing(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError(f"boom {site.api_key}")

    monkeypatch.setattr(Store, "add_to_groups", broken)
    before = site.constituent_count()
    with caplog.at_level(logging.ERROR):
        answer = site.server("createOrUpdate", primary_email="boom@example.org", add_group_ids="1001")
    assert (answer.status, answer.code, answer.message) == (403, 1, "Unable to process request.")
    assert site.constituent_count() == before
    assert "RuntimeError" in caplog.text
    for secret in site.secrets.values():
        assert secret not in caplog.text


def test_secrets_never_appear_in_repr_or_answers(site: Site) -> None:
    shown = repr(site.service) + repr(site.service.site)
    wrong = site.post("SRConsAPI", {**site.admin_params("getUser", cons_id="1"), "login_password": "nope"})
    token = site.login()
    texts = [
        shown,
        wrong.reply.body.decode(),
        site.server("getUser", cons_id=str(CONSTITUENT)).reply.body.decode(),
    ]
    for secret in site.secrets.values():
        for text in texts:
            assert secret not in text
    assert token not in shown


# ---------------------------------------------------------------------------------------
# L-A: authentication


@pytest.mark.parametrize("drop", ["login_name", "login_password"])
def test_a1_server_api_needs_admin_credentials(site: Site, drop: str) -> None:
    params = site.admin_params("getUser", cons_id=str(CONSTITUENT))
    del params[drop]
    assert site.post("SRConsAPI", params).code == 3
    params[drop] = "wrong"
    assert site.post("SRConsAPI", params).code == 3


def test_a1_an_auth_token_does_not_open_the_server_api(site: Site) -> None:
    token = site.login()
    params = {"api_key": site.api_key, "v": "1.0", "method": "getUser", "auth": token}
    assert site.post("SRConsAPI", params).code == 3


def test_a2_login(site: Site) -> None:
    user, password = site.cons_login
    answer = site.client("login", user_name=user, password=password)
    assert answer.name == "loginResponse"
    assert answer.children() == [
        "cons_id",
        "token",
        "timestamp",
        "signature",
        "login_test_url",
        "nonce",
        "JSESSIONID",
        "routing_id",
    ]
    assert answer.text("cons_id") == str(CONSTITUENT)
    token = answer.text("token") or ""
    assert len(token) >= 24
    assert site.client("login", user_name=user, password=password).text("token") != token


@pytest.mark.parametrize("which", ["password", "user_name", "admin", "other_admin"])
def test_a2_wrong_credentials_are_3(site: Site, which: str) -> None:
    user, password = site.cons_login
    creds = {
        "password": (user, password + "x"),
        "user_name": (user + "x", password),
        "admin": site.admin_login,
        "other_admin": site.other_login,
    }[which]
    answer = site.client("login", user_name=creds[0], password=creds[1])
    assert (answer.status, answer.code) == (403, 3)


@pytest.mark.parametrize("drop", ["user_name", "password"])
def test_a2_missing_credentials_are_9(site: Site, drop: str) -> None:
    user, password = site.cons_login
    params = {"user_name": user, "password": password}
    del params[drop]
    assert site.client("login", **params).code == 9


@pytest.mark.parametrize(
    "method",
    ["logInteraction", "getInteraction", "createOrUpdate", "getUser", "getUserInteractions", "getUserGroups"],
)
def test_a3_client_api_needs_a_session(site: Site, method: str) -> None:
    params = {"cons_id": str(CONSTITUENT), "interaction_subject": "s", "interaction_id": "1"}
    assert site.client(method, **params).code == 5
    assert site.client(method, auth="not-a-token", **params).code == 5
    assert site.client(method, sso_auth_token="not-a-token", **params).code == 5


def test_a3_sso_auth_token_is_accepted_like_auth(site: Site) -> None:
    token = site.login()
    answer = site.client("logInteraction", sso_auth_token=token, interaction_subject="via sso")
    assert answer.status == 200 and answer.text("cons_id") == str(CONSTITUENT)


def test_a3_auth_decides_when_both_tokens_are_given(site: Site) -> None:
    token = site.login()
    assert site.client("getUser", auth="stale", sso_auth_token=token).code == 5
    assert site.client("getUser", auth=token, sso_auth_token="stale").status == 200


def test_a4_logout_with_and_without_a_session(site: Site) -> None:
    for answer in (site.client("logout"), site.client("logout", auth="never-issued")):
        assert answer.status == 200
        assert answer.children() == ["message"]
        assert answer.text("message") == "User logged out successfully."


def test_a4_logout_revokes_the_token(site: Site) -> None:
    token, other = site.login(), site.login()
    assert site.session("getUser", token).status == 200
    assert site.client("logout", auth=token).text("message") == "User logged out successfully."
    assert site.session("getUser", token).code == 5
    assert site.session("logInteraction", token, interaction_subject="s").code == 5
    assert site.session("getUser", other).status == 200  # only that token ends


def test_a5_constituent_logs_on_its_own_record(site: Site) -> None:
    token = site.login()
    for ident in (
        {"cons_id": str(API_ADMIN)},
        {"member_id": "MEMBER-SHARED-01"},
        {"primary_email": "shared.address@example.org"},
        {"cons_id": "1"},
    ):
        answer = site.session("logInteraction", token, interaction_subject="mine", **ident)
        assert answer.status == 200, ident
        assert answer.text("cons_id") == str(CONSTITUENT)


def test_a5_constituent_reads_only_its_own_interactions(site: Site) -> None:
    token = site.login()
    mine = int(site.session("logInteraction", token, interaction_subject="mine").text("interaction_id") or "")
    other = site.create("someone@example.org")
    theirs = site.logged(cons_id=str(other), interaction_subject="secret subject")
    answer = site.session("getInteraction", token, interaction_id=str(mine), cons_id=str(other))
    assert answer.text("interaction/consId") == str(CONSTITUENT)
    answer = site.session("getInteraction", token, interaction_id=str(theirs), cons_id=str(other))
    assert answer.code == 27
    assert b"secret subject" not in answer.reply.body


@pytest.mark.parametrize("who", ["other_admin", "constituent"])
def test_a6_other_accounts_fail_on_the_server_api(site: Site, who: str) -> None:
    name, password = site.other_login if who == "other_admin" else site.cons_login
    params = {
        **site.admin_params("getUser", cons_id=str(CONSTITUENT)),
        "login_name": name,
        "login_password": password,
    }
    assert site.post("SRConsAPI", params).code == 3


# ---------------------------------------------------------------------------------------
# L-K: locating the constituent


@pytest.mark.parametrize(
    "method", ["logInteraction", "getInteraction", "getUser", "getUserInteractions", "getUserGroups"]
)
def test_k1_an_identifier_is_required(site: Site, method: str) -> None:
    answer = site.server(method, interaction_subject="s", interaction_id="1")
    assert answer.code == 9


def test_k2_cons_id_decides_over_lower_identifiers(site: Site) -> None:
    answer = site.log(cons_id=str(CONSTITUENT), member_id="nobody", primary_email="nobody@example.org")
    assert answer.text("cons_id") == str(CONSTITUENT)
    answer = site.log(cons_id=str(CONSTITUENT), member_id="MEMBER-SHARED-01")
    assert answer.text("cons_id") == str(CONSTITUENT)


def test_k2_member_id_decides_over_primary_email(site: Site) -> None:
    cons_id = site.create("member.holder@example.org", member_id="M-UNIQUE")
    answer = site.log(member_id="M-UNIQUE", primary_email="constituent.one@example.org")
    assert answer.text("cons_id") == str(cons_id)
    answer = site.log(member_id="M-UNIQUE", primary_email="shared.address@example.org")
    assert answer.text("cons_id") == str(cons_id)


@pytest.mark.parametrize(
    "ident",
    [
        {"cons_id": "1"},
        {"cons_id": "abc"},
        {"cons_id": "99999999999999999999999"},
        {"member_id": "nobody"},
        {"primary_email": "nobody@example.org"},
        {"cons_id": "1", "primary_email": "constituent.one@example.org"},
        {"member_id": "nobody", "primary_email": "constituent.one@example.org"},
    ],
)
def test_k3_no_match_is_16(site: Site, ident: dict[str, str]) -> None:
    answer = site.log(**ident)
    assert (answer.status, answer.code) == (403, 16)
    assert site.interaction_count() == 0


@pytest.mark.parametrize(
    "ident",
    [
        {"member_id": "MEMBER-SHARED-01"},
        {"primary_email": "shared.address@example.org"},
        {"primary_email": "SHARED.Address@Example.ORG"},
    ],
)
def test_k4_several_matches_are_15(site: Site, ident: dict[str, str]) -> None:
    answer = site.log(**ident)
    assert (answer.status, answer.code) == (403, 15)
    for method in ("getUser", "getUserGroups", "getUserInteractions"):
        assert site.server(method, **ident).code == 15


def test_k_email_matching_ignores_case(site: Site) -> None:
    assert site.log(primary_email="Constituent.ONE@example.org").text("cons_id") == str(CONSTITUENT)


# ---------------------------------------------------------------------------------------
# L-L: logInteraction


def test_l1_subject_is_required(site: Site) -> None:
    params = site.admin_params("logInteraction", cons_id=str(CONSTITUENT))
    assert site.post("SRConsAPI", params).code == 9
    assert site.post("SRConsAPI", {**params, "interaction_subject": ""}).code == 9


@pytest.mark.parametrize("letter", ["a", "ü", "🎉", "語"])
def test_l2_subject_up_to_80_characters(site: Site, letter: str) -> None:
    iid = site.logged(interaction_subject=letter * 80)
    assert site.interaction(iid).text("interaction/subject") == letter * 80
    answer = site.log(interaction_subject=letter * 81)
    assert (answer.status, answer.code) == (403, 23)
    assert site.interaction_count() == 1


@pytest.mark.parametrize("letter", ["b", "é", "🎉"])
def test_l3_body_up_to_1500_characters(site: Site, letter: str) -> None:
    iid = site.logged(interaction_body=letter * 1500)
    assert site.interaction(iid).text("interaction/note/text") == letter * 1500
    answer = site.log(interaction_body=letter * 1501)
    assert (answer.status, answer.code) == (403, 30)
    assert site.interaction_count() == 1


def test_l4_defaults(site: Site) -> None:
    answer = site.interaction(site.logged())
    assert answer.text("interaction/interactionTypeId") == "0"
    assert answer.text("interaction/categoryId") == "0"
    assert answer.text("interaction/count") == "1"


@pytest.mark.parametrize("type_id", ["0", "1001", "1002", "01001"])
def test_l5_custom_types_and_0_are_accepted(site: Site, type_id: str) -> None:
    iid = site.logged(interaction_type_id=type_id)
    assert site.interaction(iid).text("interaction/interactionTypeId") == str(int(type_id))


@pytest.mark.parametrize("type_id", ["1", "2", "1000", "1003", "99999999999999999999999"])
def test_l5_other_types_are_26(site: Site, type_id: str) -> None:
    assert site.log(interaction_type_id=type_id).code == 26
    assert site.interaction_count() == 0


@pytest.mark.parametrize("cat", ["0", "1000", "1001"])
def test_l6_existing_categories(site: Site, cat: str) -> None:
    assert site.interaction(site.logged(interaction_cat_id=cat)).text("interaction/categoryId") == cat


@pytest.mark.parametrize("cat", ["1", "999", "1002"])
def test_l6_unknown_categories_are_29(site: Site, cat: str) -> None:
    assert site.log(interaction_cat_id=cat).code == 29


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("interaction_type_id", "-1", 26),
        ("interaction_type_id", "1.5", 26),
        ("interaction_type_id", "x", 26),
        ("interaction_type_id", "+1001", 26),
        ("interaction_type_id", " 1001", 26),
        ("interaction_cat_id", "-1", 29),
        ("interaction_cat_id", "0.0", 29),
        ("interaction_cat_id", "zero", 29),
        ("interaction_count", "-1", 22),
        ("interaction_count", "1.5", 22),
        ("interaction_count", "two", 22),
        ("interaction_count", "99999999999", 22),
    ],
)
def test_l7_negative_or_non_integer_values(site: Site, field: str, value: str, code: int) -> None:
    assert site.log(**{field: value}).code == code
    assert site.interaction_count() == 0


def test_l7_count_0_is_allowed(site: Site) -> None:
    assert site.interaction(site.logged(interaction_count="0")).text("interaction/count") == "0"
    assert site.interaction(site.logged(interaction_count="7")).text("interaction/count") == "7"


def test_l8_answer(site: Site) -> None:
    answer = site.log()
    assert answer.children() == ["cons_id", "message", "interaction_id"]
    assert answer.text("cons_id") == str(CONSTITUENT)
    assert answer.text("message") == "Interaction logged successfully."
    ids = [site.logged() for _ in range(5)]
    assert all(i > 0 for i in ids) and len(set(ids)) == 5


def test_l9_reads_back(site: Site) -> None:
    iid = site.logged(
        interaction_subject="Subj",
        interaction_body="Body",
        interaction_type_id="1001",
        interaction_cat_id="1000",
        interaction_count="3",
    )
    answer = site.interaction(iid)
    assert answer.text("interaction/subject") == "Subj"
    assert answer.text("interaction/note/text") == "Body"
    assert answer.text("interaction/interactionTypeId") == "1001"
    assert answer.text("interaction/categoryId") == "1000"
    assert answer.text("interaction/count") == "3"
    assert answer.text("interaction/consId") == str(CONSTITUENT)
    assert answer.text("interaction/createdBy") == str(API_ADMIN)


def test_l9_created_by_is_the_constituent_in_a_session(site: Site) -> None:
    token = site.login()
    answer = site.session("logInteraction", token, interaction_subject="self")
    iid = answer.text("interaction_id") or ""
    read = site.session("getInteraction", token, interaction_id=iid)
    assert read.text("interaction/createdBy") == str(CONSTITUENT)


# ---------------------------------------------------------------------------------------
# L-G: getInteraction


def test_g1_interaction_id_required(site: Site) -> None:
    assert site.server("getInteraction", cons_id=str(CONSTITUENT)).code == 9


@pytest.mark.parametrize("value", ["abc", "-1", "1.0", "+1", "0x10"])
def test_g1_interaction_id_is_a_non_negative_integer(site: Site, value: str) -> None:
    assert site.server("getInteraction", cons_id=str(CONSTITUENT), interaction_id=value).code == 22


@pytest.mark.parametrize("value", ["0", "424242", "99999999999999999999999"])
def test_g2_unknown_interaction_is_27(site: Site, value: str) -> None:
    site.logged()
    assert site.server("getInteraction", cons_id=str(CONSTITUENT), interaction_id=value).code == 27


def test_g3_interaction_of_someone_else_is_27(site: Site) -> None:
    iid = site.logged(interaction_subject="private matter", interaction_body="private body")
    other = site.create("other@example.org")
    answer = site.server("getInteraction", cons_id=str(other), interaction_id=str(iid))
    assert answer.code == 27
    assert b"private" not in answer.reply.body


def test_g4_children_in_order(site: Site) -> None:
    answer = site.interaction(site.logged(interaction_body="text"))
    assert answer.children() == ["interaction"]
    assert answer.children("interaction") == [
        "interactionId",
        "interactionTypeId",
        "categoryId",
        "referenceId",
        "consId",
        "createdBy",
        "creationDate",
        "note",
        "subject",
        "count",
    ]
    assert answer.children("interaction/note") == [
        "categoryId",
        "typeOfConsNote",
        "consId",
        "createdBy",
        "creationDate",
        "interactionId",
        "modifiedBy",
        "modifiedDate",
        "noteId",
        "subject",
        "text",
        "type",
    ]
    assert answer.text("interaction/note/typeOfConsNote") == "normal"
    assert answer.text("interaction/note/type") == "comment"


def test_g5_creation_date_has_millis_offset_and_is_now(site: Site) -> None:
    before = datetime.now(UTC)
    answer = site.interaction(site.logged(interaction_body="x"))
    after = datetime.now(UTC)
    text = answer.text("interaction/creationDate") or ""
    assert len(text) == len("2016-02-01T09:43:35.159-06:00")
    stamp = datetime.fromisoformat(text)
    assert stamp.utcoffset() is not None
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= stamp <= after
    assert answer.text("interaction/note/modifiedDate") == text


def test_g6_no_body_no_note(site: Site) -> None:
    answer = site.interaction(site.logged())
    assert "note" not in answer.children("interaction")


def test_g7_repeated_facts_agree(site: Site) -> None:
    answer = site.interaction(site.logged(interaction_body="x", interaction_cat_id="1001"))
    for name in ("consId", "interactionId", "categoryId", "subject", "createdBy", "creationDate"):
        assert answer.text(f"interaction/note/{name}") == answer.text(f"interaction/{name}")
    assert answer.text("interaction/note/modifiedBy") == answer.text("interaction/createdBy")
    assert answer.text("interaction/note/modifiedDate") == answer.text("interaction/creationDate")
    assert answer.text("interaction/referenceId") == "0"
    assert int(answer.text("interaction/note/noteId") or "") > 0


# ---------------------------------------------------------------------------------------
# L-C: createOrUpdate


def test_c1_update_by_cons_id(site: Site) -> None:
    answer = site.server(
        "createOrUpdate", cons_id=str(CONSTITUENT), **{"name.first": "Ada", "name.last": "L"}
    )
    assert answer.children() == ["cons_id", "message"]
    assert (answer.text("cons_id"), answer.text("message")) == (str(CONSTITUENT), "User updated.")
    user = site.user(cons_id=str(CONSTITUENT))
    assert (user.text("name/first"), user.text("name/last")) == ("Ada", "L")


def test_c2_unknown_cons_id_is_16_and_creates_nothing(site: Site) -> None:
    before = site.constituent_count()
    answer = site.server("createOrUpdate", cons_id="999", primary_email="fresh@example.org")
    assert answer.code == 16
    assert site.constituent_count() == before


def test_c3_update_by_member_id(site: Site) -> None:
    cons_id = site.create("m1@example.org", member_id="M-1")
    answer = site.server("createOrUpdate", member_id="M-1", primary_email="m1.new@example.org")
    assert (answer.text("cons_id"), answer.text("message")) == (str(cons_id), "User updated.")
    assert site.user(cons_id=str(cons_id)).text("email/primary_address") == "m1.new@example.org"


def test_c4_member_id_with_several_matches_is_15(site: Site) -> None:
    before = site.constituent_count()
    answer = site.server("createOrUpdate", member_id="MEMBER-SHARED-01", primary_email="new.mail@example.org")
    assert answer.code == 15
    assert site.constituent_count() == before
    for cons_id in shared_member_ids(site):
        assert site.user(cons_id=str(cons_id)).text("email/primary_address") is None


def test_c5_member_id_without_match_falls_through_to_email(site: Site) -> None:
    answer = site.server("createOrUpdate", member_id="NOBODY", primary_email="constituent.one@example.org")
    assert (answer.text("cons_id"), answer.text("message")) == (str(CONSTITUENT), "User updated.")
    assert site.user(cons_id=str(CONSTITUENT)).text("member_id") is None  # not written on update
    answer = site.server("createOrUpdate", member_id="NEW-M", primary_email="brand.new@example.org")
    assert answer.text("message") == "User created."
    assert site.user(primary_email="brand.new@example.org").text("member_id") == "NEW-M"


def test_c6_update_by_email(site: Site) -> None:
    answer = site.server("createOrUpdate", primary_email="constituent.one@example.org", **{"name.last": "X"})
    assert (answer.text("cons_id"), answer.text("message")) == (str(CONSTITUENT), "User updated.")


def test_c7_shared_email_with_unique_email_is_15(site: Site) -> None:
    before = site.constituent_count()
    assert site.server("createOrUpdate", primary_email="shared.address@example.org").code == 15
    assert site.constituent_count() == before


def test_c7_shared_email_without_unique_email_creates() -> None:
    site = Site(with_settings(unique_email=False))
    answer = site.server("createOrUpdate", primary_email="shared.address@example.org")
    assert answer.text("message") == "User created."
    assert int(answer.text("cons_id") or "") not in shared_email_ids(site)


@pytest.mark.parametrize("params", [{}, {"member_id": "NOBODY"}, {"name.first": "A"}])
def test_c8_create_without_email_is_10(site: Site, params: dict[str, str]) -> None:
    before = site.constituent_count()
    assert site.server("createOrUpdate", **params).code == 10
    assert site.constituent_count() == before


def test_c9_messages(site: Site) -> None:
    created = site.server("createOrUpdate", primary_email="c9@example.org")
    assert created.children() == ["cons_id", "message"]
    assert created.text("message") == "User created."
    updated = site.server("createOrUpdate", primary_email="c9@example.org")
    assert (updated.text("cons_id"), updated.text("message")) == (created.text("cons_id"), "User updated.")


def test_c10_update_sets_the_primary_email(site: Site) -> None:
    answer = site.server(
        "createOrUpdate",
        cons_id=str(CONSTITUENT),
        primary_email="New.Address@example.org",
        member_id="IGNORED",
    )
    assert answer.text("message") == "User updated."
    user = site.user(cons_id=str(CONSTITUENT))
    assert user.text("email/primary_address") == "New.Address@example.org"
    assert user.text("member_id") is None
    assert site.server("getUser", primary_email="constituent.one@example.org").code == 16


def test_c10_update_may_change_the_case_of_its_own_email(site: Site) -> None:
    answer = site.server(
        "createOrUpdate", cons_id=str(CONSTITUENT), primary_email="CONSTITUENT.one@example.org"
    )
    assert answer.text("message") == "User updated."


@pytest.mark.parametrize("email", ["shared.address@example.org", "Constituent.One@Example.org"])
def test_c10_taking_another_records_email_is_13(site: Site, email: str) -> None:
    other = site.create("taker@example.org")
    answer = site.server("createOrUpdate", cons_id=str(other), primary_email=email, **{"name.first": "Z"})
    assert answer.code == 13
    user = site.user(cons_id=str(other))
    assert (user.text("email/primary_address"), user.text("name/first")) == ("taker@example.org", None)
    assert site.subjects(other) == ["Constituent record created"]


def test_c10_without_unique_email_an_update_may_share_an_email() -> None:
    site = Site(with_settings(unique_email=False))
    other = site.create("taker@example.org")
    answer = site.server("createOrUpdate", cons_id=str(other), primary_email="constituent.one@example.org")
    assert answer.text("message") == "User updated."


def test_c17_email_match_ignores_case(site: Site) -> None:
    cons_id = site.create("Alice@Example.org")
    answer = site.server("createOrUpdate", primary_email="alice@example.org")
    assert (answer.text("cons_id"), answer.text("message")) == (str(cons_id), "User updated.")
    assert site.user(primary_email="ALICE@EXAMPLE.ORG").text("cons_id") == str(cons_id)


def test_c11_interaction_logged_for_the_target(site: Site) -> None:
    cons_id = site.create(
        "c11@example.org",
        interaction_subject="Signed up",
        interaction_body="via form",
        interaction_type_id="1002",
        interaction_cat_id="1001",
        interaction_count="2",
    )
    answer = site.server("getUserInteractions", cons_id=str(cons_id))
    assert answer.text("interaction/subject") == "Signed up"
    assert answer.text("interaction/note/text") == "via form"
    assert answer.text("interaction/interactionTypeId") == "1002"
    assert answer.text("interaction/categoryId") == "1001"
    assert answer.text("interaction/count") == "2"
    assert answer.text("interaction/createdBy") == str(API_ADMIN)
    site.server("createOrUpdate", cons_id=str(cons_id))
    assert site.subjects(cons_id) == ["Signed up", "Constituent record updated"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("interaction_subject", "s" * 81, 23),
        ("interaction_body", "b" * 1501, 30),
        ("interaction_type_id", "1", 26),
        ("interaction_type_id", "-1", 26),
        ("interaction_cat_id", "5", 29),
        ("interaction_count", "-2", 22),
    ],
)
def test_c12_invalid_interaction_fields_fail_the_whole_call(
    site: Site, field: str, value: str, code: int
) -> None:
    before = (site.constituent_count(), site.interaction_count())
    assert site.server("createOrUpdate", primary_email="c12@example.org", **{field: value}).code == code
    answer = site.server(
        "createOrUpdate",
        cons_id=str(CONSTITUENT),
        primary_email="c12b@example.org",
        add_group_ids="1001",
        **{field: value},
    )
    assert answer.code == code
    assert (site.constituent_count(), site.interaction_count()) == before
    assert site.user(cons_id=str(CONSTITUENT)).text("email/primary_address") == "constituent.one@example.org"
    assert site.group_ids(CONSTITUENT) == []


def test_c13_constituent_updates_only_itself(site: Site) -> None:
    token = site.login()
    other = site.create("bystander@example.org")
    before = site.constituent_count()
    answer = site.session(
        "createOrUpdate",
        token,
        cons_id=str(other),
        member_id="MEMBER-SHARED-01",
        primary_email="me.now@example.org",
        **{"name.first": "Me"},
    )
    assert (answer.text("cons_id"), answer.text("message")) == (str(CONSTITUENT), "User updated.")
    assert site.constituent_count() == before
    me = site.user(cons_id=str(CONSTITUENT))
    assert (me.text("email/primary_address"), me.text("name/first")) == ("me.now@example.org", "Me")
    assert site.user(cons_id=str(other)).text("email/primary_address") == "bystander@example.org"
    assert site.session("createOrUpdate", token, primary_email="never.seen@example.org").text(
        "cons_id"
    ) == str(CONSTITUENT)
    assert site.constituent_count() == before
    # L-C10 applies: another record's email is 13.
    assert site.session("createOrUpdate", token, primary_email="bystander@example.org").code == 13
    subjects = site.subjects(CONSTITUENT)
    assert subjects == ["Constituent record updated"] * 2


@pytest.mark.parametrize("field", ["add_group_ids", "remove_group_ids"])
def test_c14_groups_are_for_administrators(site: Site, field: str) -> None:
    assert site.session("createOrUpdate", **{field: "1001"}).code == 14


@pytest.mark.parametrize("ids", ["999", "1", "0", "1001,999", "abc", "1001,,1002", "1001,", "-1001", "10.5"])
@pytest.mark.parametrize("field", ["add_group_ids", "remove_group_ids"])
def test_c14_invalid_group_ids_are_22(site: Site, field: str, ids: str) -> None:
    assert site.server("createOrUpdate", cons_id=str(CONSTITUENT), **{field: ids}).code == 22


def test_c14_up_to_1000_ids_per_parameter(site: Site) -> None:
    thousand = ",".join(["1001"] * 999 + ["1002"])
    answer = site.server("createOrUpdate", cons_id=str(CONSTITUENT), add_group_ids=thousand)
    assert answer.status == 200
    assert site.group_ids(CONSTITUENT) == [1001, 1002]
    over = ",".join(str(1000 + i) for i in range(1001))
    for field in ("add_group_ids", "remove_group_ids"):
        assert site.server("createOrUpdate", cons_id=str(CONSTITUENT), **{field: over}).code == 23
    assert (
        site.server("createOrUpdate", cons_id=str(CONSTITUENT), add_group_ids=thousand + ",1001").code == 23
    )


@pytest.mark.parametrize("field", ["remove_group_ids", "remove_interest_ids"])
def test_c14_removals_on_a_create_are_22(site: Site, field: str) -> None:
    before = site.constituent_count()
    assert site.server("createOrUpdate", primary_email="rm@example.org", **{field: "1001"}).code == 22
    assert site.constituent_count() == before


def test_c14_unknown_group_ids_are_ignored_and_interests_accepted(site: Site) -> None:
    answer = site.server(
        "createOrUpdate",
        cons_id=str(CONSTITUENT),
        add_group_ids="5000, 1001",
        add_interest_ids="1,2",
        remove_interest_ids="3",
    )
    assert answer.status == 200
    assert site.group_ids(CONSTITUENT) == [1001]


def test_c15_created_record_initial_state(site: Site) -> None:
    cons_id = site.create("c15@example.org", source="web", sub_source="footer")
    user = site.user(cons_id=str(cons_id))
    facts = [user.text(n) for n in ("origin", "active", "active_detail", "donor_status")]
    assert facts == ["35", "1", "1", "1"]
    with site.db.transaction() as conn:
        row = conn.execute("SELECT source, sub_source FROM lo_constituent WHERE cons_id = ?", (cons_id,))
        assert tuple(row.fetchone()) == ("web", "footer")
    # source is remembered for records created, not written on update.
    site.server("createOrUpdate", cons_id=str(cons_id), source="other")
    with site.db.transaction() as conn:
        row = conn.execute("SELECT source FROM lo_constituent WHERE cons_id = ?", (cons_id,))
        assert tuple(row.fetchone()) == ("web",)


@pytest.mark.parametrize(
    ("no_welcome", "detail"),
    [("f", "2"), ("F", "2"), ("false", "2"), ("FALSE", "2"), ("true", "1"), ("no", "1"), ("0", "1")],
)
def test_c15_welcome_mail_makes_the_record_known(site: Site, no_welcome: str, detail: str) -> None:
    cons_id = site.create("welcome@example.org", no_welcome=no_welcome)
    assert site.user(cons_id=str(cons_id)).text("active_detail") == detail


def test_c15_no_welcome_mail_when_the_site_sends_none() -> None:
    site = Site(with_settings(welcome_mail=False))
    cons_id = site.create("quiet@example.org", no_welcome="false")
    assert site.user(cons_id=str(cons_id)).text("active_detail") == "1"


def test_c16_groups_added_and_removed_are_visible(site: Site) -> None:
    cons_id = site.create("c16@example.org", add_group_ids="1001,1002")
    assert site.group_ids(cons_id) == [1001, 1002]
    site.server("createOrUpdate", cons_id=str(cons_id), remove_group_ids="1001")
    assert site.group_ids(cons_id) == [1002]
    site.server("createOrUpdate", cons_id=str(cons_id), add_group_ids="1001", remove_group_ids="1001,1002")
    assert site.group_ids(cons_id) == []


def test_concurrent_creates_of_one_email_make_one_record(site: Site) -> None:
    answers: list[Answer] = []
    lock = threading.Lock()

    def create() -> None:
        for _ in range(5):
            answer = site.server("createOrUpdate", primary_email="race@example.org")
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status for a in answers} == {200}
    assert len({a.text("cons_id") for a in answers}) == 1
    assert [a.text("message") for a in answers].count("User created.") == 1


# ---------------------------------------------------------------------------------------
# Observations


def test_get_user_fields(site: Site) -> None:
    user = site.user(cons_id=str(CONSTITUENT))
    assert user.children() == [
        "cons_id",
        "member_id",
        "name",
        "email",
        "origin",
        "active",
        "active_detail",
        "donor_status",
    ]
    assert user.children("name") == ["first", "last"]
    assert user.text("name/first") is None


def test_observations_in_a_session_are_the_callers_own(site: Site) -> None:
    token = site.login()
    assert site.session("getUser", token, cons_id=str(API_ADMIN)).text("cons_id") == str(CONSTITUENT)
    site.server("createOrUpdate", cons_id=str(CONSTITUENT), add_group_ids="1002")
    assert site.session("getUserGroups", token).text("group/name") == "Monthly donors"
    site.logged(interaction_subject="by admin")
    answer = site.session("getUserInteractions", token, cons_id=str(API_ADMIN))
    subjects = [i.findtext(f"{{{NS}}}subject") for i in answer.all("interaction")]
    assert subjects == ["Constituent record updated", "by admin"]


def test_get_user_interactions_pages_oldest_first(site: Site) -> None:
    ids = [site.logged(interaction_subject=f"s{i}") for i in range(30)]
    first = site.server("getUserInteractions", cons_id=str(CONSTITUENT))
    assert [int(e.findtext(f"{{{NS}}}interactionId") or "") for e in first.all("interaction")] == ids[:25]
    second = site.server("getUserInteractions", cons_id=str(CONSTITUENT), list_page_offset="1")
    assert len(second.all("interaction")) == 5
    page = site.server(
        "getUserInteractions", cons_id=str(CONSTITUENT), list_page_size="10", list_page_offset="2"
    )
    assert [int(e.findtext(f"{{{NS}}}interactionId") or "") for e in page.all("interaction")] == ids[20:30]
    empty = site.server(
        "getUserInteractions", cons_id=str(CONSTITUENT), list_page_offset="9", response_format="json"
    )
    assert empty.json == {"getUserInteractionsResponse": {}}


@pytest.mark.parametrize(
    ("field", "value"),
    [("list_page_size", "0"), ("list_page_size", "-1"), ("list_page_size", "x"), ("list_page_offset", "-1")],
)
def test_get_user_interactions_page_parameters(site: Site, field: str, value: str) -> None:
    assert site.server("getUserInteractions", cons_id=str(CONSTITUENT), **{field: value}).code == 22


def test_observations_the_profile_withholds_are_unknown_methods() -> None:
    profile = load_profile(bundled_profile_path())
    assert profile.luminate is not None
    site = Site(replace(profile, luminate=replace(profile.luminate, observations=frozenset({"getUser"}))))
    assert site.server("getUser", cons_id=str(CONSTITUENT)).status == 200
    assert site.server("getUserGroups", cons_id=str(CONSTITUENT)).code == 6
    assert site.server("getUserInteractions", cons_id=str(CONSTITUENT)).code == 6


# ---------------------------------------------------------------------------------------
# Any input: never a 5xx, always a well-formed answer (L-T6, L-T14, L-T15)


@pytest.fixture(scope="module")
def shared_site() -> Site:
    """One service for all examples of a property: building one per example would dominate."""
    return Site()


def _legal_xml(text: str) -> bool:
    return all(
        c in "\t\n\r" or ("\x20" <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd") or c >= "\U00010000"
        for c in text
    )


@settings(max_examples=150, deadline=None)
@given(subject=st.text(min_size=1, max_size=80))
def test_any_subject_is_stored_exactly_or_refused_with_35(shared_site: Site, subject: str) -> None:
    answer = shared_site.log(interaction_subject=subject)  # Answer validates the XML itself
    if not _legal_xml(subject):
        assert answer.code == 35
        return
    iid = int(answer.text("interaction_id") or "")
    assert shared_site.interaction(iid).text("interaction/subject") == subject


@settings(max_examples=150, deadline=None)
@given(noise=st.binary(max_size=200), fmt=st.sampled_from(["xml", "json"]))
def test_any_body_bytes_get_a_well_formed_answer(shared_site: Site, noise: bytes, fmt: str) -> None:
    body = urlencode(shared_site.admin_params("logInteraction", cons_id=str(CONSTITUENT))).encode()
    answer = shared_site.post("SRConsAPI", {}, body=body + b"&" + noise, query=f"response_format={fmt}")
    assert answer.status in (200, 403)  # Answer has parsed and validated the body

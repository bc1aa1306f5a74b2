"""The reference Luminate service over real HTTP, through the ASGI app and uvicorn.

The direct tests (test_luminate_service.py) cover every clause; these check what only a
socket shows (status lines, headers, the body cap, redirects as a client sees them) and
the concurrency properties: one record for simultaneous creates of one email, and no
lost or repeated interaction ids under parallel logging.

The server is shared by the whole session, so every test works on records it creates
with an email of its own.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from lxml import etree

from conformance.validation import luminate_schemas

NS = "http://convio.com/crm/v1.0"
CONSTITUENT = "1000010"
THREADS = 16
CALLS_PER_THREAD = 10


class Client:
    """Calls to the live reference with the credentials the fixture generated."""

    def __init__(self, reference: Any) -> None:
        lo = reference.profile.luminate
        secrets = reference.secrets
        self.server_url = lo.servlet_url("SRConsAPI")
        self.client_url = lo.servlet_url("CRConsAPI")
        self.api_key = secrets[lo.api_key]
        self.secret_key = secrets[lo.secret_key]
        self.admin = {
            "api_key": self.api_key,
            "v": "1.0",
            "login_name": secrets[lo.api_admin.login_name],
            "login_password": secrets[lo.api_admin.login_password],
        }
        self.user = (secrets[lo.constituent.user_name], secrets[lo.constituent.password])
        self.timeout = 30

    def server(self, method: str, http: requests.Session | None = None, **params: str) -> requests.Response:
        poster = http or requests
        data = {**self.admin, "method": method, **params}
        return poster.post(self.server_url, data=data, timeout=self.timeout)

    def client(self, method: str, **params: str) -> requests.Response:
        data = {"api_key": self.api_key, "v": "1.0", "method": method, **params}
        return requests.post(self.client_url, data=data, timeout=self.timeout, allow_redirects=False)


def xml(response: requests.Response) -> etree._Element:
    assert response.headers["content-type"] == "text/xml;charset=UTF-8"
    assert list(luminate_schemas().iter_xml_errors(response.content)) == []
    return etree.fromstring(response.content)


def text(root: etree._Element, path: str) -> str:
    found = root.findtext("/".join(f"{{{NS}}}{p}" for p in path.split("/")))
    assert found is not None, etree.tostring(root)
    return str(found)


def code(response: requests.Response) -> int:
    return int(text(xml(response), "code"))


def fresh_email() -> str:
    return f"http.{uuid.uuid4().hex}@example.org"


@pytest.fixture(scope="module")
def api(reference: Any) -> Iterator[Client]:
    yield Client(reference)


def test_form_post_logs_and_reads_back(api: Client) -> None:
    subject = "Über & <b>\r\nline\ttab 🎉  "
    logged = api.server(
        "logInteraction", cons_id=CONSTITUENT, interaction_subject=subject, interaction_body="b"
    )
    assert logged.status_code == 200
    iid = text(xml(logged), "interaction_id")
    read = api.server("getInteraction", cons_id=CONSTITUENT, interaction_id=iid)
    root = xml(read)
    assert text(root, "interaction/subject") == subject
    assert text(root, "interaction/note/text") == "b"
    js = api.server("getInteraction", cons_id=CONSTITUENT, interaction_id=iid, response_format="json")
    assert js.headers["content-type"] == "application/json;charset=UTF-8"
    assert js.json()["getInteractionResponse"]["interaction"]["subject"] == subject


def test_query_string_parameters_work_over_http(api: Client) -> None:
    params = {**api.admin, "method": "getUser", "cons_id": CONSTITUENT}
    response = requests.post(api.server_url, params=params, timeout=api.timeout)
    assert response.status_code == 200
    assert text(xml(response), "cons_id") == CONSTITUENT


@pytest.mark.parametrize("http_method", ["GET", "PUT", "DELETE"])
def test_only_post_is_allowed(api: Client, http_method: str) -> None:
    params = {**api.admin, "method": "getUser", "cons_id": CONSTITUENT}
    response = requests.request(http_method, api.server_url, params=params, timeout=api.timeout)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert xml(response).tag == f"{{{NS}}}errorResponse"


def test_errors_are_403_or_200_when_suppressed(api: Client) -> None:
    plain = api.server("getUser", cons_id="1")
    suppressed = api.server("getUser", cons_id="1", suppress_response_codes="True")
    assert (plain.status_code, suppressed.status_code) == (403, 200)
    assert plain.content == suppressed.content
    assert code(plain) == 16


def test_wrong_api_key_is_2(api: Client) -> None:
    response = requests.post(
        api.server_url, data={**api.admin, "api_key": "nope", "method": "getUser"}, timeout=30
    )
    assert (response.status_code, code(response)) == (403, 2)


def test_oversize_body_is_23(api: Client) -> None:
    data = {
        **api.admin,
        "method": "logInteraction",
        "cons_id": CONSTITUENT,
        "interaction_subject": "big",
        "padding": "x" * (1_048_576 + 10),
    }
    response = requests.post(api.server_url, data=data, timeout=api.timeout)
    assert (response.status_code, code(response)) == (403, 23)


def test_login_session_logout(api: Client) -> None:
    login = api.client("login", user_name=api.user[0], password=api.user[1])
    root = xml(login)
    assert text(root, "cons_id") == CONSTITUENT
    token = text(root, "token")
    logged = api.client("logInteraction", auth=token, interaction_subject="own", cons_id="1")
    assert text(xml(logged), "cons_id") == CONSTITUENT
    assert text(xml(api.client("logout", auth=token)), "message") == "User logged out successfully."
    assert code(api.client("getUser", auth=token)) == 5


def test_signed_redirect_over_http(api: Client) -> None:
    before = int(time.time())
    response = api.client("getUser", error_redirect="https://err.example/x?y=1", sign_redirects="true")
    after = int(time.time())
    assert response.status_code == 302
    location = response.headers["location"]
    query = urlsplit(location).query
    signed, _, sig = query.rpartition("&sig=")
    assert signed.startswith("y=1&ts=")
    assert before <= int(signed.rpartition("ts=")[2]) <= after
    assert sig == hashlib.sha1((signed + api.secret_key).encode(), usedforsecurity=False).hexdigest()


def test_server_api_ignores_redirects_over_http(api: Client) -> None:
    response = api.server("getUser", cons_id="1", error_redirect="https://err.example/")
    assert response.status_code == 403


def test_concurrent_creates_of_one_email_make_one_record(api: Client) -> None:
    email = fresh_email()
    barrier = threading.Barrier(THREADS)

    def worker(_: int) -> list[tuple[int, str, str]]:
        results = []
        with requests.Session() as http:
            barrier.wait()  # start together, so the first creates really race
            for _ in range(CALLS_PER_THREAD):
                response = api.server("createOrUpdate", http, primary_email=email)
                root = xml(response)
                results.append((response.status_code, text(root, "cons_id"), text(root, "message")))
        return results

    with ThreadPoolExecutor(THREADS) as pool:
        answers = [a for batch in pool.map(worker, range(THREADS)) for a in batch]
    assert len(answers) == THREADS * CALLS_PER_THREAD
    assert {status for status, _, _ in answers} == {200}
    cons_ids = {cons_id for _, cons_id, _ in answers}
    assert len(cons_ids) == 1
    assert [message for _, _, message in answers].count("User created.") == 1
    user = api.server("getUser", primary_email=email)
    assert user.status_code == 200  # one record: a second would make this 15
    assert text(xml(user), "cons_id") == cons_ids.pop()


def test_concurrent_logging_loses_and_repeats_no_id(api: Client) -> None:
    created = api.server("createOrUpdate", primary_email=fresh_email(), interaction_subject="start")
    cons_id = text(xml(created), "cons_id")
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> list[str]:
        ids = []
        with requests.Session() as http:
            barrier.wait()
            for i in range(CALLS_PER_THREAD):
                response = api.server(
                    "logInteraction", http, cons_id=cons_id, interaction_subject=f"t{n}-{i}"
                )
                assert response.status_code == 200
                ids.append(text(xml(response), "interaction_id"))
        return ids

    with ThreadPoolExecutor(THREADS) as pool:
        ids = [i for batch in pool.map(worker, range(THREADS)) for i in batch]
    assert len(ids) == len(set(ids)) == THREADS * CALLS_PER_THREAD
    listed = api.server("getUserInteractions", cons_id=cons_id, list_page_size="500")
    root = xml(listed)
    seen = [e.findtext(f"{{{NS}}}interactionId") for e in root.iterfind(f"{{{NS}}}interaction")]
    assert len(seen) == THREADS * CALLS_PER_THREAD + 1  # plus the one createOrUpdate logged
    assert set(ids) <= set(seen)
    numbers = [int(i or "") for i in seen]
    assert numbers == sorted(numbers)  # oldest first

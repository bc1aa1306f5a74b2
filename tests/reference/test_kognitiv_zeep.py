"""The reference Interaction.asmx over real HTTP, driven by zeep from its own ?WSDL.

zeep is what a SOAP client of the real service would use: it reads the published
WSDL, posts to its soap:address and decodes the answer with the embedded schema, so
these tests fail if the WSDL, the address rewriting or the answer's shape is off.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import zeep
import zeep.plugins
import zeep.transports
from lxml import etree

from conformance.reference.envelope import SOAP11_NS, SOAP12_NS
from conformance.reference.server import ReferenceServer

NS = "https://app.smartbutton.com/Services/"


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture(scope="module")
def service_url(reference: ReferenceServer) -> str:
    assert reference.profile.kognitiv is not None
    return reference.profile.kognitiv.service


@pytest.fixture(scope="module")
def history() -> zeep.plugins.HistoryPlugin:
    return zeep.plugins.HistoryPlugin()  # type: ignore[no-untyped-call]


@pytest.fixture(scope="module")
def client(service_url: str, session: requests.Session, history: zeep.plugins.HistoryPlugin) -> zeep.Client:
    # zeep ships py.typed but leaves its constructors unannotated, hence the ignores.
    transport = zeep.transports.Transport(  # type: ignore[no-untyped-call]
        session=session, timeout=10, operation_timeout=10
    )
    client: zeep.Client = zeep.Client(  # type: ignore[no-untyped-call]
        f"{service_url}?WSDL", transport=transport, plugins=[history]
    )
    return client


@pytest.fixture(params=["InteractionSoap", "InteractionSoap12"], ids=["soap11", "soap12"])
def binding(request: pytest.FixtureRequest, client: zeep.Client) -> Any:
    """Either port of the WSDL's service; both must work."""
    return client.bind("Interaction", request.param)


def valid_request(reference: ReferenceServer, **changes: str | None) -> dict[str, str | None]:
    kg = reference.profile.kognitiv
    assert kg is not None
    fields: dict[str, str | None] = {
        "SecurityToken": reference.secrets[kg.token],
        "AccountId": kg.active_account,
        "LocationExternalReference": kg.location,
        "InteractionTypeExternalReference": kg.interaction_type,
        "InteractionNote": "zeep says hello",
    }
    fields.update(changes)
    return fields


def test_wsdl_names_the_live_address(client: zeep.Client, service_url: str) -> None:
    ports = client.wsdl.services["Interaction"].ports
    assert {name: port.binding_options["address"] for name, port in ports.items()} == {
        "InteractionSoap": service_url,
        "InteractionSoap12": service_url,
    }


def test_records_an_interaction(binding: Any, reference: ReferenceServer) -> None:
    first = binding.RecordInteraction(preqRecordInteraction=valid_request(reference))
    second = binding.RecordInteraction(preqRecordInteraction=valid_request(reference))
    assert first.ReturnCode == second.ReturnCode == 0
    assert 0 < first.InteractionId < second.InteractionId


def test_each_binding_speaks_its_soap_version(
    client: zeep.Client, history: zeep.plugins.HistoryPlugin, reference: ReferenceServer
) -> None:
    for port, soap_ns, media in (
        ("InteractionSoap", SOAP11_NS, "text/xml"),
        ("InteractionSoap12", SOAP12_NS, "application/soap+xml"),
    ):
        result = client.bind("Interaction", port).RecordInteraction(
            preqRecordInteraction=valid_request(reference)
        )
        assert result.ReturnCode == 0
        assert history.last_sent is not None and history.last_received is not None
        assert history.last_sent["envelope"].tag == f"{{{soap_ns}}}Envelope"
        assert history.last_sent["http_headers"]["Content-Type"].startswith(media)
        assert history.last_received["envelope"].tag == f"{{{soap_ns}}}Envelope"


def test_no_permission_token(binding: Any, reference: ReferenceServer) -> None:
    kg = reference.profile.kognitiv
    assert kg is not None and kg.no_permission_token is not None
    token = reference.secrets[kg.no_permission_token]
    result = binding.RecordInteraction(preqRecordInteraction=valid_request(reference, SecurityToken=token))
    assert (result.ReturnCode, result.InteractionId) == (101, -1)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"SecurityToken": "not-the-token"}, 100),
        ({"SecurityToken": None}, 100),
        ({"AccountId": "ACCT-UNKNOWN-0001"}, 300),
        ({"AccountId": "A" * 61}, 300),
        ({"AccountId": "ACCT-INACTIVE-0001"}, 301),
        ({"LocationExternalReference": "LOC-NOWHERE"}, 503),
        ({"InteractionTypeExternalReference": "ITYPE-NONE"}, 1200),
        ({"InteractionNote": "n" * 257}, 1),
    ],
    ids=["bad-token", "no-token", "unknown-account", "long-account", "inactive", "location", "type", "note"],
)
def test_each_documented_return_code(
    binding: Any, reference: ReferenceServer, changes: dict[str, str | None], code: int
) -> None:
    result = binding.RecordInteraction(preqRecordInteraction=valid_request(reference, **changes))
    assert (result.ReturnCode, result.InteractionId) == (code, -1)


def test_note_of_256_multibyte_characters_with_markup(binding: Any, reference: ReferenceServer) -> None:
    note = ("<é&ü>" * 52)[:256]
    result = binding.RecordInteraction(preqRecordInteraction=valid_request(reference, InteractionNote=note))
    assert result.ReturnCode == 0 and result.InteractionId > 0


# --- Faults through the real app (status codes and the body-size cap) -----------------


def _fault_code(response: requests.Response, soap_ns: str) -> str:
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{soap_ns}}}Body/{{{soap_ns}}}Fault")
    assert fault is not None, response.text
    path = "faultcode" if soap_ns == SOAP11_NS else f"{{{soap_ns}}}Code/{{{soap_ns}}}Value"
    return str(fault.findtext(path))


@pytest.mark.parametrize(
    "dialect",
    [
        ("text/xml; charset=utf-8", 500, SOAP11_NS, "soap:Client"),
        ("application/soap+xml; charset=utf-8", 400, SOAP12_NS, "soap:Sender"),
    ],
    ids=["soap11", "soap12"],
)
@pytest.mark.parametrize("body", [b"<not-closed>", b"x" * (1_048_576 + 1)], ids=["malformed", "oversize"])
def test_fault_over_http(
    session: requests.Session, service_url: str, body: bytes, dialect: tuple[str, int, str, str]
) -> None:
    content_type, status, soap_ns, code = dialect
    response = session.post(service_url, data=body, headers={"Content-Type": content_type}, timeout=10)
    assert response.status_code == status
    assert response.headers["Content-Type"] == content_type
    assert _fault_code(response, soap_ns) == code


def test_other_methods_over_http(session: requests.Session, service_url: str) -> None:
    response = session.put(service_url, data=b"", timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, POST"
    head = session.head(f"{service_url}?WSDL", timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) > 0

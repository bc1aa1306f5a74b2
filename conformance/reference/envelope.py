"""SOAP 1.1 and 1.2 envelopes for the reference: safe parsing, answers and Faults.

Parsing is the reference's attack surface, so it is deliberately narrow: no DTD is
loaded, no entity is resolved, nothing is fetched from the network, and a document
that carries a DOCTYPE at all is refused after parsing.  Together with the size cap
the app enforces, billion-laughs and external-entity bodies cost a parse of at most
1 MiB and change nothing.

The SOAP version is the envelope's namespace (what the SOAP specs define); the content
type decides only when there is no envelope to look at (an empty, malformed or
oversize body), so the Fault is at least in the dialect the client announced.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from conformance.reference.reply import Reply

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS = "http://www.w3.org/2001/XMLSchema"


@dataclass(frozen=True)
class SoapVersion:
    """What differs between SOAP 1.1 and 1.2 for a service like ours."""

    name: str
    namespace: str
    content_type: str
    sender_code: str  # the fault code for "the request is wrong"
    receiver_code: str  # the fault code for "the service failed"
    sender_status: int  # SOAP 1.1 answers every Fault with 500; SOAP 1.2 a Sender one with 400


SOAP11 = SoapVersion("1.1", SOAP11_NS, "text/xml; charset=utf-8", "Client", "Server", 500)
SOAP12 = SoapVersion("1.2", SOAP12_NS, "application/soap+xml; charset=utf-8", "Sender", "Receiver", 400)
_BY_NAMESPACE = {SOAP11_NS: SOAP11, SOAP12_NS: SOAP12}


def version_for_content_type(content_type: str | None) -> SoapVersion:
    """The version a request announces in its content type (SOAP 1.1 unless 1.2's)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return SOAP12 if media == "application/soap+xml" else SOAP11


class EnvelopeError(Exception):
    """The request is not a usable SOAP envelope; ``str()`` is safe to show the client.

    Messages name positions and element names, never text content, so a credential
    inside a broken request cannot leak back out through a Fault or a log.
    """

    def __init__(self, version: SoapVersion, message: str) -> None:
        super().__init__(message)
        self.version = version


@dataclass(frozen=True)
class Call:
    """A parsed request: its SOAP version and the Body's first element (the operation)."""

    version: SoapVersion
    operation: etree._Element


def _parser() -> etree.XMLParser:
    # lxml parsers are not safe to share between threads; building one is microseconds.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )


def parse_call(body: bytes, content_type: str | None) -> Call:
    """Parse a SOAP request body; raise :class:`EnvelopeError` for anything unusable."""
    announced = version_for_content_type(content_type)
    if not body.strip():
        raise EnvelopeError(announced, "the request body is empty (expected a SOAP envelope)")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise EnvelopeError(
            announced, f"the request is not well-formed XML (line {line}, column {column})"
        ) from None
    docinfo = root.getroottree().docinfo
    version = _BY_NAMESPACE.get(etree.QName(root).namespace or "", announced)
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise EnvelopeError(version, "a DOCTYPE is not allowed in a SOAP message")
    if etree.QName(root) != etree.QName(version.namespace, "Envelope"):
        raise EnvelopeError(
            version, f"the root element is {name_of(root)} (expected a SOAP {version.name} Envelope)"
        )
    body_element = _first_child(root, etree.QName(version.namespace, "Header"))
    if body_element is None or etree.QName(body_element) != etree.QName(version.namespace, "Body"):
        raise EnvelopeError(version, "the envelope has no Body")
    operation = _first_child(body_element)
    if operation is None:
        raise EnvelopeError(version, "the Body is empty (expected an operation element)")
    return Call(version, operation)


def _first_child(parent: etree._Element, skip: etree.QName | None = None) -> etree._Element | None:
    """The first child element (comments and processing instructions do not count)."""
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        if skip is not None and etree.QName(child) == skip:
            continue
        return child
    return None


def name_of(element: etree._Element) -> str:
    """An element's name in Clark notation (``{namespace}local``), for messages."""
    qname = etree.QName(element)
    return f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname


def answer(version: SoapVersion, payload: etree._Element) -> bytes:
    """A complete envelope with ``payload`` as the Body's only child, as UTF-8 bytes."""
    envelope = etree.Element(
        etree.QName(version.namespace, "Envelope"),
        nsmap={"soap": version.namespace, "xsi": XSI_NS, "xsd": XSD_NS},
    )
    etree.SubElement(envelope, etree.QName(version.namespace, "Body")).append(payload)
    return _serialize(envelope)


def fault(version: SoapVersion, message: str, *, sender: bool = True) -> Reply:
    """A SOAP Fault: the client's mistake (``sender``) or the service's own failure."""
    ns = version.namespace
    envelope = etree.Element(etree.QName(ns, "Envelope"), nsmap={"soap": ns})
    body = etree.SubElement(envelope, etree.QName(ns, "Body"))
    element = etree.SubElement(body, etree.QName(ns, "Fault"))
    code = f"soap:{version.sender_code if sender else version.receiver_code}"
    if version is SOAP11:
        # SOAP 1.1 fault children are unqualified.
        etree.SubElement(element, "faultcode").text = code
        etree.SubElement(element, "faultstring").text = message
    else:
        value = etree.SubElement(etree.SubElement(element, etree.QName(ns, "Code")), etree.QName(ns, "Value"))
        value.text = code
        text = etree.SubElement(etree.SubElement(element, etree.QName(ns, "Reason")), etree.QName(ns, "Text"))
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text.text = message
    status = version.sender_status if sender else 500
    return Reply(status, _serialize(envelope), version.content_type)


def _serialize(element: etree._Element) -> bytes:
    return bytes(etree.tostring(element, xml_declaration=True, encoding="utf-8"))

"""The bundled Interaction WSDL, addressed to wherever the reference is reached.

A client such as zeep posts to the WSDL's ``soap:address``, so the reference must
publish its own URL there (the bundled file names the vendor's production host).  The
URL depends on the Host the client used, so each rendering is cached per URL; the
cache is small and bounded because the Host header is client-controlled.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from conformance.resources import schema_dir

#: The namespace the bundled WSDL is written in (contract K-T2).
BUNDLED_NAMESPACE = "https://app.smartbutton.com/Services/"

_WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
_WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
_CACHE_SIZE = 16


def bundled_wsdl_path() -> Path:
    return schema_dir() / "kognitiv" / "Interaction.wsdl"


def soap_action(namespace: str, operation: str) -> str:
    """The SOAPAction ASP.NET derives: the namespace, a ``/`` if it lacks one, the operation."""
    return f"{namespace}{'' if namespace.endswith('/') else '/'}{operation}"


class ServiceDescription:
    """Renders the WSDL for one namespace and any number of service URLs."""

    def __init__(self, namespace: str = BUNDLED_NAMESPACE, source: Path | None = None) -> None:
        self._namespace = namespace
        # Read now: a reference without its WSDL is broken, and start-up is the place
        # to say so, not the first client's ?WSDL.
        self._template = self._retarget((source or bundled_wsdl_path()).read_text(encoding="utf-8"))
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _retarget(self, text: str) -> str:
        """The WSDL text in our namespace (unchanged when it is the bundled one)."""
        if self._namespace == BUNDLED_NAMESPACE:
            return text
        # Every attribute whose whole value is the namespace (targetNamespace, the tns
        # declaration) changes; a plain text replace is the only way to change an xmlns
        # declaration, and matching the quotes keeps it to whole attribute values.
        new = escape(self._namespace, {'"': "&quot;", "'": "&apos;"})
        for quote in ('"', "'"):
            text = text.replace(f"{quote}{BUNDLED_NAMESPACE}{quote}", f"{quote}{new}{quote}")
        return text

    def render(self, service_url: str) -> bytes:
        with self._lock:
            cached = self._cache.get(service_url)
            if cached is not None:
                self._cache.move_to_end(service_url)
                return cached
        document = self._build(service_url)
        with self._lock:
            self._cache[service_url] = document
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return document

    def _build(self, service_url: str) -> bytes:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(self._template.encode("utf-8"), parser)
        for ns in (_WSDL_SOAP11, _WSDL_SOAP12):
            for address in root.iter(f"{{{ns}}}address"):
                address.set("location", service_url)
            if self._namespace != BUNDLED_NAMESPACE:
                for operation in root.iter(f"{{{ns}}}operation"):
                    action = operation.get("soapAction", "")
                    if action.startswith(BUNDLED_NAMESPACE):
                        operation.set(
                            "soapAction", soap_action(self._namespace, action[len(BUNDLED_NAMESPACE) :])
                        )
        return bytes(etree.tostring(root.getroottree(), xml_declaration=True, encoding="utf-8"))

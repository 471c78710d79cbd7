"""GeoReport v2 XML: the spec's documents (``<services>``, ``<service_requests>``, ``<errors>``).

Rendered with ``xml.etree``; text is made safe for XML 1.0 first: characters XML cannot
carry become U+FFFD, and a carriage return is written as ``&#13;`` because a parser
would otherwise read it back as a line feed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

# What XML 1.0 cannot carry at all (Char production), and U+FFFE/U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Stands in for "\r" while ElementTree writes; it is illegal XML, so no text holds it.
_CR_MARK = "\ufffe"
# Lists whose items are named by the spec.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}


def xml_safe(text: str) -> str:
    """Return the text with characters XML 1.0 cannot carry replaced by U+FFFD."""
    return _ILLEGAL.sub("\ufffd", text)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return xml_safe(str(value)).replace("\r", _CR_MARK)


def _fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _fill(ET.SubElement(parent, key), inner)
    elif isinstance(value, list | tuple):
        tag = ITEM_TAGS.get(parent.tag, "item")
        for inner in value:
            _fill(ET.SubElement(parent, tag), inner)
    else:
        parent.text = _text(value)


def render(root: str, content: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> bytes:
    """Return an XML document: ``root`` holding the items of a list, or a mapping's fields."""
    element = ET.Element(root)
    _fill(element, content)
    body = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body.replace(_CR_MARK, "&#13;")).encode()


def services_xml(services: Sequence[Mapping[str, Any]]) -> bytes:
    """Return ``GET services`` as XML."""
    return render("services", services)


def definition_xml(definition: Mapping[str, Any]) -> bytes:
    """Return ``GET services/{code}`` as XML."""
    return render("service_definition", definition)


def requests_xml(requests: Sequence[Mapping[str, Any]]) -> bytes:
    """Return service requests (also receipts and tokens) as XML."""
    return render("service_requests", requests)


def errors_xml(errors: Sequence[Mapping[str, Any]]) -> bytes:
    """Return the spec's error list as XML."""
    return render("errors", errors)

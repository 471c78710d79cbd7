"""NGSI-LD HTTP headers: the @context Link, content negotiation and the tenant.

Pure functions over header strings, so the rules are tested without a server.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from opencitybrain.kernel.errors import InvalidInput

JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
JSON = "application/json"
JSONLD = "application/ld+json"
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"

Representation = Literal["json", "ld+json", "geo+json"]

_LINK_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_PARAM_RE = re.compile(r';\s*([A-Za-z-]+)\s*=\s*"?([^";]*)"?')
_TENANT_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header."""

    type: str
    q: float


# Clients send the same few header values over and over: the pure parsers below are
# cached by value (an error is raised again, never cached).
@functools.lru_cache(maxsize=512)
def link_context(link_header: str | None) -> str | None:
    """Return the @context URL named by a Link header, or None if there is none.

    Several Link values with the JSON-LD context relation are refused (the spec allows one).
    """
    if not link_header:
        return None
    found = []
    for match in _LINK_RE.finditer(link_header):
        url, params = match.group(1).strip(), match.group(2) or ""
        rels = {k.lower(): v for k, v in _PARAM_RE.findall(params)}
        if rels.get("rel") == JSONLD_CONTEXT_REL:
            found.append(url)
    if len(found) > 1:
        raise InvalidInput(
            "ngsi.bad_link",
            "Link 头只能给出一个 JSON-LD @context",
            "the Link header may name only one JSON-LD @context",
        )
    return found[0] if found else None


def parse_accept(accept: str | None) -> list[MediaRange]:
    """Return the media ranges of an Accept header, most preferred first."""
    if not accept:
        return [MediaRange("*/*", 1.0)]
    ranges = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(fields[0].lower(), q))
    return sorted(ranges, key=lambda r: -r.q)


@functools.lru_cache(maxsize=512)
def negotiate(accept: str | None, *, geo_allowed: bool = True) -> Representation | None:
    """Pick the response representation for an Accept header; None if nothing fits."""
    offers: list[tuple[str, Representation]] = [(JSON, "json"), (JSONLD, "ld+json")]
    if geo_allowed:
        offers.append((GEOJSON, "geo+json"))
    for media in parse_accept(accept):
        if media.q == 0:
            continue
        if media.type in ("*/*", "application/*"):
            return "json"
        for mime, rep in offers:
            if media.type == mime:
                return rep
    return None


@functools.lru_cache(maxsize=512)
def content_kind(content_type: str | None) -> Literal["json", "ld+json", "merge-patch"] | None:
    """Classify a request body's Content-Type; None if NGSI-LD does not accept it."""
    base = (content_type or "").split(";")[0].strip().lower()
    return {JSON: "json", JSONLD: "ld+json", MERGE_PATCH: "merge-patch"}.get(base)  # type: ignore[return-value]


def tenant_of(header: str | None) -> str:
    """Return the tenant named by NGSILD-Tenant ('' for the default tenant)."""
    if header is None or header == "":
        return ""
    if not _TENANT_RE.match(header):
        raise InvalidInput(
            "ngsi.bad_tenant",
            "租户名须为 1–64 位字母、数字、_ 或 -",
            "tenant must be 1–64 letters, digits, _ or -",
        )
    return header

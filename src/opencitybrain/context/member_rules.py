"""Format rules for NGSI-LD members: URIs, names, scopes, date-times, objects, languages.

Each check raises BadRequestData naming the member's path and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.model import NGSI_LD_NULL, AttrKind, parse_datetime

# Characters the spec forbids in names (clause 4.6.2): controls, space, <>"'=;().
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f<>\"'=;()]")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
# A scope is a path of levels (clause 4.18); # and + are scopeQ wildcards, not names.
_SCOPE = re.compile(r"^/[^/\s#+]+(?:/[^/\s#+]+)*$")
_LANG = re.compile(r"^(?:@none|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")


def bad(path: str, zh: str, en: str) -> BadRequestData:
    """Return the BadRequestData for a member at ``path`` (Chinese, then English)."""
    return BadRequestData(f"{path}：{zh}", f"{path}: {en}", field=path)


def is_uri(value: Any) -> bool:
    """Tell whether a value is an absolute URI string, as entity ids must be."""
    return isinstance(value, str) and _URI.match(value) is not None


def is_scope(value: Any) -> bool:
    """Tell whether a value is a scope such as ``/Nanchang/Donghu``."""
    return isinstance(value, str) and _SCOPE.match(value) is not None


def has_forbidden_char(name: str) -> bool:
    """Tell whether an entity type or attribute name holds a forbidden character."""
    return _FORBIDDEN.search(name) is not None


def member_datetime(raw: Any, path: str) -> datetime:
    """Return an ISO-8601 date-time member (observedAt …) as an aware UTC datetime."""
    try:
        if isinstance(raw, str):
            return parse_datetime(raw)
    except ValueError:
        pass
    raise bad(path, "必须是 ISO-8601 日期时间", "must be an ISO-8601 date-time")


def relationship_objects(raw: Any, path: str, *, single_ok: bool) -> Any:
    """Return a Relationship's object (URI or URIs) or a ListRelationship's objectList."""
    if single_ok and isinstance(raw, str):
        if not is_uri(raw):
            raise bad(path, "关系的对象必须是 URI", "a Relationship's object must be a URI")
        return raw
    if not isinstance(raw, list) or (single_ok and not raw):
        raise bad(path, "必须是 URI 或 URI 数组", "must be a URI or an array of URIs")
    # objectList items may also be written as {"object": uri}.
    uris = [i.get("object") if isinstance(i, Mapping) else i for i in raw]
    if not all(is_uri(u) for u in uris):
        raise bad(path, "关系的对象必须是 URI", "every object must be a URI")
    return uris


def check_language_map(raw: Any, path: str) -> None:
    """Refuse a languageMap that is not a non-empty {BCP-47 tag: string(s)} object."""
    if not isinstance(raw, Mapping) or not raw:
        raise bad(path, "languageMap 必须是非空对象", "languageMap must be a non-empty object")
    for tag, text in raw.items():
        if not _LANG.match(tag):
            raise bad(path, f"语言标签 {tag!r} 无效", f"invalid language tag {tag!r}")
        texts = text if isinstance(text, list) else [text]
        if not all(isinstance(t, str) for t in texts):
            raise bad(path, "languageMap 的值必须是字符串", "languageMap values must be strings")


def is_null_value(kind: AttrKind, raw: Any) -> bool:
    """Tell whether a raw value is an NGSI-LD Null (or JSON null) for its kind."""
    if raw is None or raw == NGSI_LD_NULL or raw == [NGSI_LD_NULL]:
        return True
    return kind is AttrKind.LANGUAGE_PROPERTY and raw == {"@none": NGSI_LD_NULL}

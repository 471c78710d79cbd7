"""NGSI-LD subscriptions (spec 1.8, clauses 5.2.12-5.2.15): validation, storage form, rendering.

A subscription is stored as a document in expanded form, as entities are: entity types,
``watchedAttributes`` and ``notification.attributes`` hold IRIs, compacted again with
the @context of each request that reads them. ``q`` and ``geoQ`` are kept as written,
with the @context (``@context`` in the document) they are read under; a PATCH that sets
either of them brings its own @context along. Timestamps are ISO-8601 UTC strings.

Periodic notifications (``timeInterval``, in seconds of the city clock) send the current
state of every matching entity once per interval and nothing on changes; with several
workers, one of them claims each interval in the store. Not supported, answered with
OperationNotSupported: ``temporalQ`` and ``csf``. An entity
selector's ``type`` may list several types (``A,B`` or ``A|B``, any of them).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NoReturn
from urllib.parse import urlsplit

from opencitybrain.context import query_regex
from opencitybrain.context.errors import BadRequestData, OperationNotSupported
from opencitybrain.context.geoquery_input import parse_geoq
from opencitybrain.context.jsonld import CompiledContext, ContextResolver
from opencitybrain.context.model import format_datetime, parse_datetime
from opencitybrain.context.notify_mqtt import SCHEMES as MQTT_SCHEMES
from opencitybrain.context.notify_mqtt import endpoint_problem
from opencitybrain.context.query_parser import parse_query
from opencitybrain.context.representation import context_value
from opencitybrain.context.scope_query import compile_scope_query
from opencitybrain.context.subscription_store import STATUS_MEMBERS
from opencitybrain.kernel.ids import new_id

Doc = dict[str, Any]

ID_PREFIX = "urn:ngsi-ld:Subscription:"
TRIGGERS = tuple(
    f"{w}{v}" for w in ("entity", "attribute") for v in ("Created", "Updated", "Deleted")
)
DEFAULT_TRIGGERS = ("attributeCreated", "attributeUpdated")
FORMATS = ("normalized", "keyValues", "simplified", "concise")
ACCEPTS = ("application/json", "application/ld+json", "application/geo+json")
UNSUPPORTED = ("temporalQ", "csf")
# Members a client may send but the broker sets itself; ignored on input.
READ_ONLY = frozenset({"status", "createdAt", "modifiedAt", "@context"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Headers that describe the notification itself: receiverInfo may not change them.
_OWN_HEADERS = frozenset(
    {"content-length", "content-type", "host", "transfer-encoding", "connection", "link"}
)


def bad(member: str, zh: str, en: str) -> NoReturn:
    """Raise BadRequestData naming the subscription member at fault."""
    raise BadRequestData(f"订阅成员 {member} 无效：{zh}", f"invalid {member}: {en}", field=member)


def _text(member: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        bad(member, "须为非空字符串", "must be a non-empty string")
    return value


def _uri(member: str, value: Any) -> str:
    text = _text(member, value)
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:\S+$", text):
        bad(member, "须为 URI", "must be a URI")
    return text


def _bool(member: str, value: Any) -> bool:
    if not isinstance(value, bool):
        bad(member, "须为 true 或 false", "must be true or false")
    return value


def _names(member: str, value: Any, ctx: CompiledContext) -> list[str]:
    if not isinstance(value, list) or not value:
        bad(member, "须为非空的名称数组", "must be a non-empty array of names")
    return list(dict.fromkeys(ctx.expand(_text(member, v)) for v in value))


def _types(value: Any, ctx: CompiledContext) -> list[str]:
    text = _text("entities.type", value)
    if any(c in text for c in ";()"):
        raise OperationNotSupported(
            "不支持含 ; 或括号的类型表达式",
            "type expressions with ; or parentheses are not supported",
            field="entities.type",
        )
    names = [n.strip() for n in re.split(r"[,|]", text)]
    if not all(names):
        bad("entities.type", "类型名为空", "empty type name")
    return [ctx.expand(n) for n in names]


def _selector(value: Any, ctx: CompiledContext) -> Doc:
    if not isinstance(value, dict):
        bad("entities", "每个实体选择器须为对象", "each entity selector must be an object")
    unknown = set(value) - {"id", "idPattern", "type"}
    if unknown:
        bad("entities", f"未知成员 {sorted(unknown)}", f"unknown members {sorted(unknown)}")
    if "type" not in value:
        bad("entities.type", "实体选择器须含 type", "an entity selector needs a type")
    out: Doc = {"type": _types(value["type"], ctx)}
    if "id" in value:
        out["id"] = _uri("entities.id", value["id"])
    if "idPattern" in value:
        pattern = _text("entities.idPattern", value["idPattern"])
        refused = query_regex.check(pattern)
        if refused is not None:
            bad("entities.idPattern", refused[1], refused[0])
        out["idPattern"] = pattern
    return out


def _entities(value: Any, ctx: CompiledContext) -> list[Doc]:
    if not isinstance(value, list) or not value:
        bad("entities", "须为非空数组", "must be a non-empty array")
    return [_selector(v, ctx) for v in value]


def _triggers(value: Any, ctx: CompiledContext) -> list[str]:
    if not isinstance(value, list) or not value:
        bad("notificationTrigger", "须为非空数组", "must be a non-empty array")
    unknown = [v for v in value if v not in TRIGGERS]
    if unknown:
        bad("notificationTrigger", f"未知取值 {unknown}", f"unknown values {unknown}")
    return list(dict.fromkeys(value))


def _q(value: Any, ctx: CompiledContext) -> str:
    parse_query(_text("q", value))
    return str(value)


def _scope_q(value: Any, ctx: CompiledContext) -> str:
    text = _text("scopeQ", value)
    compile_scope_query(text)  # BadRequestData naming scopeQ
    return text


def _geoq(value: Any, ctx: CompiledContext) -> Doc:
    if not isinstance(value, dict):
        bad("geoQ", "须为对象", "must be an object")
    parse_geoq(value)
    return dict(value)


def _seconds(member: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        bad(member, "须为不小于 0 的数", "must be a number >= 0")
    return value


def _interval(value: Any) -> float:
    if _seconds("timeInterval", value) <= 0:
        bad("timeInterval", "须为大于 0 的秒数", "must be a number of seconds > 0")
    return value  # type: ignore[no-any-return]


def _key_values(member: str, value: Any) -> list[Doc]:
    if not isinstance(value, list):
        bad(member, "须为 {key, value} 数组", "must be an array of {key, value}")
    out = []
    for pair in value:
        if not isinstance(pair, dict) or set(pair) != {"key", "value"}:
            bad(member, "每项须为 {key, value}", "each item must be {key, value}")
        key, text = pair["key"], pair["value"]
        if not isinstance(key, str) or not _TOKEN.fullmatch(key):
            bad(member, "key 须为合法的 HTTP 头名", "key must be a valid HTTP header name")
        if key.lower() in _OWN_HEADERS:
            bad(member, f"不能设置 {key}", f"{key} cannot be set")
        if not isinstance(text, str) or any(c in text for c in "\r\n\0"):
            bad(member, "value 须为单行字符串", "value must be a one-line string")
        out.append({"key": key, "value": text})
    return out


def _endpoint(value: Any) -> Doc:
    if not isinstance(value, dict):
        bad("notification.endpoint", "须为对象", "must be an object")
    unknown = set(value) - {"uri", "accept", "receiverInfo", "notifierInfo", "timeout", "cooldown"}
    if unknown:
        bad("notification.endpoint", f"未知成员 {sorted(unknown)}", f"unknown {sorted(unknown)}")
    uri = _text("notification.endpoint.uri", value.get("uri"))
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https", *MQTT_SCHEMES) or any(c.isspace() for c in uri):
        bad(
            "notification.endpoint.uri",
            "须为 http(s) 或 mqtt(s) URL",
            "must be an http(s) or mqtt(s) URL",
        )
    if not parts.hostname:
        bad("notification.endpoint.uri", "须含主机名", "must name a host")
    out: Doc = {"uri": uri, "accept": value.get("accept", "application/json")}
    if out["accept"] not in ACCEPTS:
        bad("notification.endpoint.accept", f"须为 {ACCEPTS} 之一", f"must be one of {ACCEPTS}")
    for member in ("receiverInfo", "notifierInfo"):
        if member in value:
            out[member] = _key_values(f"notification.endpoint.{member}", value[member])
    if parts.scheme in MQTT_SCHEMES:
        info = {p["key"]: p["value"] for p in out.get("notifierInfo", ())}
        if (problem := endpoint_problem(uri, info)) is not None:
            bad("notification.endpoint", f"MQTT 端点无效：{problem}", f"MQTT endpoint {problem}")
    for member in ("timeout", "cooldown"):  # accepted; deliveries use the broker's own
        if member in value:
            out[member] = _seconds(f"notification.endpoint.{member}", value[member])
    return out


def _notification(value: Any, ctx: CompiledContext, old: Doc | None) -> Doc:
    if not isinstance(value, dict):
        bad("notification", "须为对象", "must be an object")
    out = dict(old or {})
    for key, item in value.items():
        if key in STATUS_MEMBERS:
            continue
        if key == "attributes":
            if not isinstance(item, list):
                bad("notification.attributes", "须为名称数组", "must be an array of names")
            out[key] = [ctx.expand(_text("notification.attributes", a)) for a in item]
        elif key == "format":
            if item not in FORMATS:
                bad("notification.format", f"须为 {FORMATS} 之一", f"must be one of {FORMATS}")
            out[key] = item
        elif key == "endpoint":
            out[key] = _endpoint(item)
        elif key in ("sysAttrs", "showChanges"):
            out[key] = _bool(f"notification.{key}", item)
        else:
            bad("notification", f"未知成员 {key}", f"unknown member {key}")
    if "endpoint" not in out:
        bad("notification.endpoint", "缺少 endpoint", "endpoint is required")
    out.setdefault("format", "normalized")
    return out


_MEMBERS: dict[str, Callable[[Any, CompiledContext], Any]] = {
    "subscriptionName": lambda v, _: _text("subscriptionName", v),
    "description": lambda v, _: _text("description", v),
    "entities": _entities,
    "watchedAttributes": lambda v, ctx: _names("watchedAttributes", v, ctx),
    "notificationTrigger": _triggers,
    "q": _q,
    "scopeQ": _scope_q,
    "geoQ": _geoq,
    "isActive": lambda v, _: _bool("isActive", v),
    "throttling": lambda v, _: _seconds("throttling", v),
    "timeInterval": lambda v, _: _interval(v),
    "lang": lambda v, _: _text("lang", v),
}


def _apply(doc: Doc, body: Mapping[str, Any], resolver: ContextResolver, ctx: CompiledContext,
           now: datetime, *, creating: bool) -> None:  # fmt: skip
    for key, value in body.items():
        if key in READ_ONLY or key == "id":
            continue
        if key in UNSUPPORTED:
            raise OperationNotSupported(f"不支持 {key}", f"{key} is not supported", field=key)
        if key == "type":
            if value != "Subscription":
                bad("type", "须为 Subscription", "must be Subscription")
        elif value is None or value == "urn:ngsi-ld:null":
            if creating or key in ("notification", "notificationTrigger", "isActive"):
                bad(key, "不能为 null", "cannot be null")
            doc.pop(key, None)
        elif key == "notification":
            doc[key] = _notification(value, ctx, None if creating else doc.get(key))
        elif key == "expiresAt":
            doc[key] = _future(value, now)
        elif key == "jsonldContext":
            resolver.compile(_uri("jsonldContext", value))  # LdContextNotAvailable if unknown
            doc[key] = value
        elif key in _MEMBERS:
            doc[key] = _MEMBERS[key](value, ctx)
            if key in ("q", "geoQ"):
                doc["@context"] = ctx.value  # read them under the @context they came with
        else:
            bad(key, "未知成员", "unknown member")


def _future(value: Any, now: datetime) -> str:
    try:
        moment = parse_datetime(_text("expiresAt", value))
    except ValueError:
        bad("expiresAt", "须为 ISO-8601 时间", "must be an ISO-8601 date-time")
    if moment <= now:
        bad("expiresAt", "须晚于当前时间", "must lie in the future")
    return format_datetime(moment)


def _check(doc: Doc) -> Doc:
    if "entities" not in doc and "watchedAttributes" not in doc:
        bad("entities", "entities 与 watchedAttributes 至少给一个",
            "entities or watchedAttributes is required")  # fmt: skip
    if "notification" not in doc:
        bad("notification", "缺少 notification", "notification is required")
    if "timeInterval" in doc:
        for other in ("watchedAttributes", "throttling"):
            if other in doc:
                bad(other, "不能与 timeInterval 同用", "cannot be used with timeInterval")
    return doc


def new_subscription(
    body: Any, resolver: ContextResolver, ctx: CompiledContext, now: datetime
) -> Doc:
    """Return the storage document of a new subscription, or raise BadRequestData."""
    if not isinstance(body, dict):
        bad("body", "请求体须为 JSON 对象", "the body must be a JSON object")
    sub_id = _uri("id", body["id"]) if "id" in body else ID_PREFIX + new_id()
    stamp = format_datetime(now)
    doc: Doc = {"id": sub_id, "type": "Subscription", "@context": ctx.value}
    doc |= {"notificationTrigger": list(DEFAULT_TRIGGERS), "isActive": True}
    _apply(doc, body, resolver, ctx, now, creating=True)
    doc["notification"] = {**doc.get("notification", {}), "timesSent": 0, "timesFailed": 0}
    return _check(doc | {"createdAt": stamp, "modifiedAt": stamp})


def patch_subscription(
    doc: Doc, body: Any, resolver: ContextResolver, ctx: CompiledContext, now: datetime
) -> Doc:
    """Return the subscription with a PATCH fragment merged in (clause 5.8.2)."""
    if not isinstance(body, dict) or not body:
        bad("body", "请求体须为非空 JSON 对象", "the body must be a non-empty JSON object")
    if "id" in body and body["id"] != doc["id"]:
        bad("id", "与路径中的 id 不符", "differs from the id in the path")
    new = copy.deepcopy(doc)
    _apply(new, body, resolver, ctx, now, creating=False)
    return _check(new | {"modifiedAt": format_datetime(now)})


def status_of(doc: Mapping[str, Any], now: datetime) -> str:
    """Return ``expired``, ``paused`` or ``active``."""
    expires = doc.get("expiresAt")
    if expires is not None and parse_datetime(expires) <= now:
        return "expired"
    return "active" if doc.get("isActive", True) else "paused"


def render_subscription(
    doc: Mapping[str, Any],
    ctx: CompiledContext,
    now: datetime,
    *,
    sys_attrs: bool = False,
    with_context: bool = False,
) -> Doc:
    """Return a subscription as the API shows it, names compacted with ``ctx``."""
    out: Doc = {"id": doc["id"], "type": "Subscription"}
    for key, value in doc.items():
        if key in ("id", "type", "@context", "createdAt", "modifiedAt", "notification"):
            continue
        if key == "entities":
            value = [_compact_selector(s, ctx) for s in value]
        elif key == "watchedAttributes":
            value = [ctx.compact(a) for a in value]
        out[key] = value
    notification = dict(doc["notification"])
    if "attributes" in notification:
        notification["attributes"] = [ctx.compact(a) for a in notification["attributes"]]
    out["notification"] = notification
    out["status"] = status_of(doc, now)
    if sys_attrs:
        out["createdAt"], out["modifiedAt"] = doc["createdAt"], doc["modifiedAt"]
    if with_context:
        out["@context"] = context_value(ctx)
    return out


def _compact_selector(selector: Mapping[str, Any], ctx: CompiledContext) -> Doc:
    out = dict(selector)
    out["type"] = ",".join(ctx.compact(t) for t in selector["type"])
    return out

"""Tests for subscriptions: validation, rendering, matching of changes, notification bodies."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from opencitybrain.context.errors import BadRequestData, OperationNotSupported
from opencitybrain.context.jsonld import CORE_CONTEXT_URL, ContextResolver
from opencitybrain.context.subscription_match import (
    change_reasons,
    compile_watch,
    concise,
    payload,
)
from opencitybrain.context.subscriptions import (
    new_subscription,
    patch_subscription,
    render_subscription,
    status_of,
)
from tests.unit.context._entities import T0, VOCAB, Entity, entity, expand, geo, prop

RESOLVER = ContextResolver()
CORE = RESOLVER.compile(CORE_CONTEXT_URL)
THING = VOCAB + "Thing"
HOOK = {"endpoint": {"uri": "http://127.0.0.1:9/hook"}}


def sub(**members: Any) -> dict[str, Any]:
    """Return a valid subscription body with ``members`` added or replaced."""
    body: dict[str, Any] = {"type": "Subscription", "entities": [{"type": "Thing"}]}
    body["notification"] = HOOK
    return {**body, **members}


def made(**members: Any) -> dict[str, Any]:
    return new_subscription(sub(**members), RESOLVER, CORE, T0)


def refused(field: str, **members: Any) -> None:
    with pytest.raises(BadRequestData) as info:
        made(**members)
    assert info.value.field == field


def test_new_subscription_defaults_and_expands_names() -> None:
    doc = made(watchedAttributes=["status"], notification={**HOOK, "attributes": ["status"]})
    assert doc["id"].startswith("urn:ngsi-ld:Subscription:")
    assert doc["entities"] == [{"type": [THING]}]
    assert doc["watchedAttributes"] == [expand("status")]
    assert doc["notificationTrigger"] == ["attributeCreated", "attributeUpdated"]
    assert doc["isActive"] is True
    assert doc["notification"]["format"] == "normalized"
    assert doc["notification"]["endpoint"]["accept"] == "application/json"
    assert doc["notification"]["timesSent"] == 0
    shown = render_subscription(doc, CORE, T0)
    assert shown["entities"] == [{"type": "Thing"}]
    assert shown["watchedAttributes"] == ["status"]
    assert shown["notification"]["attributes"] == ["status"]
    assert shown["status"] == "active"
    assert "@context" not in shown
    json.dumps(doc)  # the storage document is plain JSON


@pytest.mark.parametrize(
    ("field", "members"),
    [
        ("notification.endpoint.uri", {"notification": {"endpoint": {"uri": "ftp://x/y"}}}),
        ("notification.endpoint.uri", {"notification": {"endpoint": {"uri": "not a url"}}}),
        ("notification.endpoint", {"notification": {"format": "keyValues"}}),
        ("notification.format", {"notification": {**HOOK, "format": "xml"}}),
        ("watchedAttributes", {"watchedAttributes": []}),
        ("throttling", {"throttling": -1}),
        ("throttling", {"throttling": True}),
        ("expiresAt", {"expiresAt": (T0 - timedelta(seconds=1)).isoformat()}),
        ("expiresAt", {"expiresAt": "tomorrow"}),
        ("entities.type", {"entities": [{"id": "urn:ngsi-ld:Thing:1"}]}),
        ("entities.idPattern", {"entities": [{"type": "Thing", "idPattern": "(a+)+"}]}),
        ("entities", {"entities": None, "watchedAttributes": None}),
        ("q", {"q": "status=="}),
        ("georel", {"geoQ": {"georel": "nearby", "geometry": "Point", "coordinates": [1, 2]}}),
        ("notificationTrigger", {"notificationTrigger": ["entityExploded"]}),
        ("id", {"id": "no-scheme"}),
        ("type", {"type": "Entity"}),
        ("colour", {"colour": "blue"}),
        ("notification.endpoint.receiverInfo",
         {"notification": {"endpoint": {"uri": "http://h/", "receiverInfo": [{"key": "a b"}]}}}),
    ],
)  # fmt: skip
def test_invalid_members_are_named(field: str, members: dict[str, Any]) -> None:
    if members.get("entities", 1) is None:
        with pytest.raises(BadRequestData) as info:
            new_subscription({"notification": HOOK}, RESOLVER, CORE, T0)
        assert info.value.field == field
        return
    refused(field, **members)


def test_unsupported_members_say_so() -> None:
    with pytest.raises(OperationNotSupported):
        made(csf="a==1")
    assert made(notification={**HOOK, "showChanges": True})["notification"]["showChanges"]


def test_patch_merges_notification_and_checks_the_result() -> None:
    doc = made(q='status=="free"', throttling=5)
    later = T0 + timedelta(minutes=1)
    new = patch_subscription(
        doc, {"isActive": False, "notification": {"format": "keyValues"}, "q": None},
        RESOLVER, CORE, later,
    )  # fmt: skip
    assert new["notification"]["endpoint"]["uri"] == HOOK["endpoint"]["uri"]
    assert new["notification"]["format"] == "keyValues"
    assert "q" not in new
    assert new["modifiedAt"] != doc["modifiedAt"]
    assert status_of(new, later) == "paused"
    with pytest.raises(BadRequestData):
        patch_subscription(doc, {"id": "urn:x:other"}, RESOLVER, CORE, later)
    with pytest.raises(BadRequestData):
        patch_subscription(doc, {"notification": None}, RESOLVER, CORE, later)


def test_status_expires() -> None:
    doc = made(expiresAt=(T0 + timedelta(minutes=5)).isoformat())
    assert status_of(doc, T0) == "active"
    assert status_of(doc, T0 + timedelta(minutes=5)) == "expired"
    assert not compile_watch("", doc, RESOLVER).live(T0 + timedelta(minutes=6))


# --- matching ---------------------------------------------------------------------------

SPOT = entity(
    "urn:ngsi-ld:Thing:spot1",
    status=prop("free", created_at=T0, modified_at=T0 + timedelta(seconds=5)),
    location=geo({"type": "Point", "coordinates": [115.9, 28.67]}),
)
STATUS = expand("status")


def reason(doc: dict[str, Any], what: str, attrs: tuple[str, ...], e: Entity | None) -> str | None:
    watch = compile_watch("t", doc, RESOLVER)
    if not watch.selects(e.id if e else "urn:ngsi-ld:Thing:spot1", (THING,)):
        return None
    return watch.trigger(change_reasons(what, attrs, e), e)


def test_default_triggers_fire_on_create_and_update_not_delete() -> None:
    doc = made()
    assert reason(doc, "created", (STATUS,), SPOT) == "attributeCreated"
    assert reason(doc, "updated", (STATUS,), SPOT) == "attributeUpdated"
    assert reason(doc, "deleted", (), None) is None
    every = made(notificationTrigger=["entityDeleted", "entityCreated"])
    assert reason(every, "deleted", (), None) == "entityDeleted"
    assert reason(every, "created", (STATUS,), SPOT) == "entityCreated"


def test_attribute_reasons_tell_created_updated_deleted() -> None:
    fresh = entity("urn:ngsi-ld:Thing:spot1", status=prop("free", created_at=T0, modified_at=T0))
    assert ("attributeCreated", STATUS) in change_reasons("updated", (STATUS,), fresh)
    gone = entity("urn:ngsi-ld:Thing:spot1")
    assert ("attributeDeleted", STATUS) in change_reasons("updated", (STATUS,), gone)
    doc = made(notificationTrigger=["attributeDeleted"])
    assert reason(doc, "updated", (STATUS,), gone) == "attributeDeleted"
    assert reason(doc, "updated", (STATUS,), SPOT) is None


def test_selectors_watched_attributes_q_and_geoq() -> None:
    other = made(entities=[{"type": "Vehicle"}])
    assert reason(other, "updated", (STATUS,), SPOT) is None
    by_id = made(entities=[{"type": "Thing", "id": "urn:ngsi-ld:Thing:spot2"}])
    assert reason(by_id, "updated", (STATUS,), SPOT) is None
    by_pattern = made(entities=[{"type": "Thing", "idPattern": "spot[0-9]$"}])
    assert reason(by_pattern, "updated", (STATUS,), SPOT) == "attributeUpdated"
    watched = made(watchedAttributes=["name"])
    assert reason(watched, "updated", (STATUS,), SPOT) is None
    assert reason(made(watchedAttributes=["status"]), "updated", (STATUS,), SPOT)
    assert reason(made(q='status=="free"'), "updated", (STATUS,), SPOT)
    assert reason(made(q='status=="occupied"'), "updated", (STATUS,), SPOT) is None
    near = {"georel": "near;maxDistance==500", "geometry": "Point", "coordinates": [115.9, 28.67]}
    far = {**near, "coordinates": [116.5, 29.0]}
    assert reason(made(geoQ=near), "updated", (STATUS,), SPOT)
    assert reason(made(geoQ=far), "updated", (STATUS,), SPOT) is None
    deletions = made(q='status=="free"', notificationTrigger=["entityDeleted"])
    assert reason(deletions, "deleted", (), None) is None


# --- notification bodies ----------------------------------------------------------------


def body_of(doc: dict[str, Any], e: Entity = SPOT, **kw: Any) -> tuple[dict[str, Any], dict]:
    watch = compile_watch("city", doc, RESOLVER)
    uri, body, headers = payload(watch, e, "attributeUpdated", T0, RESOLVER, **kw)
    assert uri == HOOK["endpoint"]["uri"]
    json.dumps(body)  # plain JSON, ready to send
    return body, headers


def test_notification_body_formats_and_attribute_selection() -> None:
    body, headers = body_of(made(notification={**HOOK, "attributes": ["status"]}))
    assert body["type"] == "Notification"
    assert body["id"].startswith("urn:ngsi-ld:Notification:")
    assert body["notifiedAt"] == "2024-05-01T08:00:00Z"
    assert body["triggerReason"] == "attributeUpdated"
    status = {"type": "Property", "value": "free"}
    assert body["data"] == [{"id": SPOT.id, "type": "Thing", "status": status}]
    assert headers["NGSILD-Tenant"] == "city"
    assert headers["Content-Type"] == "application/json"
    assert CORE_CONTEXT_URL in headers["Link"]
    kv, _ = body_of(made(notification={**HOOK, "format": "keyValues"}))
    assert kv["data"][0]["status"] == "free"
    assert kv["data"][0]["location"]["type"] == "Point"
    ld, headers = body_of(made(notification={"endpoint": {**HOOK["endpoint"],
                          "accept": "application/ld+json"}}))  # fmt: skip
    assert ld["@context"] == CORE_CONTEXT_URL
    assert "Link" not in headers
    gone, _ = body_of(made(), Entity(SPOT.id, (THING,)), deleted=True)
    assert gone["data"] == [{"id": SPOT.id, "type": "Thing", "deletedAt": "2024-05-01T08:00:00Z"}]


def test_receiver_info_becomes_headers() -> None:
    info = [{"key": "X-Auth", "value": "s3cret"}]
    endpoint = {**HOOK["endpoint"], "receiverInfo": info}
    _, headers = body_of(made(notification={"endpoint": endpoint}))
    assert headers["X-Auth"] == "s3cret"


def test_concise_drops_what_it_can_infer() -> None:
    normalized = {
        "id": "urn:x:1",
        "type": "Thing",
        "a": {"type": "Property", "value": 3},
        "b": {"type": "Property", "value": 3, "unitCode": "MTR"},
        "c": {"type": "Relationship", "object": "urn:x:2"},
        "d": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
        "e": {"type": "Property", "value": [1, 2]},
        "f": {"type": "Property", "value": 1, "g": {"type": "Property", "value": 2}},
    }
    assert concise(normalized) == {
        "id": "urn:x:1",
        "type": "Thing",
        "a": 3,
        "b": {"value": 3, "unitCode": "MTR"},
        "c": {"object": "urn:x:2"},
        "d": {"type": "Point", "coordinates": [1, 2]},
        "e": {"value": [1, 2]},
        "f": {"value": 1, "g": 2},
    }


def test_time_interval_is_periodic_only() -> None:
    assert made(timeInterval=60)["timeInterval"] == 60
    for members in ({"timeInterval": 0}, {"timeInterval": -5}, {"timeInterval": "60"}):
        with pytest.raises(BadRequestData):
            made(**members)
    with pytest.raises(BadRequestData):
        made(timeInterval=60, throttling=5)
    with pytest.raises(BadRequestData):
        made(timeInterval=60, watchedAttributes=["status"])

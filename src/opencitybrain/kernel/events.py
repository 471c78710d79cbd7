"""CloudEvents 1.0 and the Context every command, event and audit record carries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from opencitybrain.kernel.errors import InvalidInput
from opencitybrain.kernel.ids import new_id

_TYPE_RE = re.compile(r"^city(\.[a-z0-9_-]+){3,}$")
SYSTEM_ACTOR = "system"


@dataclass(frozen=True, slots=True)
class Context:
    """Say who acts, for which department, in which role, for what purpose."""

    actor: str
    department: str | None = None
    roles: frozenset[str] = frozenset()
    purpose: str | None = None
    correlation_id: str = field(default_factory=new_id)
    parent_id: str | None = None

    @classmethod
    def system(cls, purpose: str = "platform") -> Context:
        """Return the context of the platform acting on its own."""
        return cls(actor=SYSTEM_ACTOR, roles=frozenset({"system"}), purpose=purpose)

    def child(self) -> Context:
        """Return a context for work caused by this one (same actor, new correlation)."""
        return replace(self, parent_id=self.correlation_id, correlation_id=new_id())

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "actor": self.actor,
            "department": self.department,
            "roles": sorted(self.roles),
            "purpose": self.purpose,
            "correlation_id": self.correlation_id,
            "parent_id": self.parent_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Context:
        """Rebuild a context from :meth:`to_dict` output."""
        return cls(
            actor=str(data["actor"]),
            department=data.get("department"),
            roles=frozenset(data.get("roles") or ()),
            purpose=data.get("purpose"),
            correlation_id=str(data.get("correlation_id") or new_id()),
            parent_id=data.get("parent_id"),
        )


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """A CloudEvents 1.0 event; ``type`` is ``city.<capability>.<thing>.<what-happened>``.

    The event type doubles as the bus subject, so subscribers filter with wildcards.
    """

    type: str
    source: str
    time: datetime
    data: Any = None
    subject: str | None = None
    id: str = field(default_factory=new_id)
    context: Context | None = None
    datacontenttype: str = "application/json"
    specversion: str = "1.0"

    def __post_init__(self) -> None:
        if not _TYPE_RE.match(self.type):
            raise InvalidInput(
                "event.bad_type",
                f"事件类型 {self.type!r} 不符合 city.<能力>.<对象>.<动作>",
                f"event type {self.type!r} is not city.<capability>.<thing>.<what-happened>",
            )
        if self.time.tzinfo is None:
            raise InvalidInput("event.naive_time", "事件时间必须带时区", "event time must be aware")
        if not self.source:
            raise InvalidInput("event.no_source", "事件必须有来源", "event needs a source")

    def to_dict(self) -> dict[str, Any]:
        """Return the structured-mode JSON form (context as the ``citybraincontext`` extension)."""
        out: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.isoformat(),
            "datacontenttype": self.datacontenttype,
            "data": self.data,
        }
        if self.subject is not None:
            out["subject"] = self.subject
        if self.context is not None:
            out["citybraincontext"] = self.context.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CloudEvent:
        """Rebuild an event from its structured-mode JSON form."""
        try:
            ctx = data.get("citybraincontext")
            return cls(
                type=str(data["type"]),
                source=str(data["source"]),
                time=datetime.fromisoformat(str(data["time"])),
                data=data.get("data"),
                subject=data.get("subject"),
                id=str(data["id"]),
                context=Context.from_dict(ctx) if isinstance(ctx, dict) else None,
                datacontenttype=str(data.get("datacontenttype", "application/json")),
                specversion=str(data.get("specversion", "1.0")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(
                "event.malformed", "事件格式错误", f"malformed CloudEvent: {exc}"
            ) from exc

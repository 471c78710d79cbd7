"""Resources to and from plain JSON documents (what the store keeps for every version)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opencitybrain.catalog.model import (
    Change,
    Classification,
    DataType,
    Domain,
    FieldSpec,
    Level,
    Masking,
    OpenType,
    Resource,
    ResourceFormat,
    ResourceSpec,
    SharingMethod,
    SharingType,
    Status,
    UpdateCycle,
)


def field_doc(f: FieldSpec) -> dict[str, Any]:
    """Return an information item as a JSON-ready dict."""
    return {
        "name": f.name,
        "name_zh": f.name_zh,
        "data_type": f.data_type.value,
        "level": f.level.value,
        "masking": f.masking.value,
        "is_identifier": f.is_identifier,
    }


def spec_doc(spec: ResourceSpec) -> dict[str, Any]:
    """Return a spec as a JSON-ready dict."""
    c = spec.classification
    return {
        "classification": {
            "category": c.category,
            "item": c.item,
            "group": c.group,
            "detail": c.detail,
        },
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "department_id": spec.department_id,
        "provider_code": spec.provider_code,
        "abstract": spec.abstract,
        "format": spec.format.value,
        "fields": [field_doc(f) for f in spec.fields],
        "sharing_type": spec.sharing_type.value,
        "domain": spec.domain.value,
        "update_cycle": spec.update_cycle.value,
        "level": spec.level.value if spec.level is not None else None,
        "sharing_condition": spec.sharing_condition,
        "sharing_methods": [m.value for m in spec.sharing_methods],
        "open_type": spec.open_type.value,
        "open_condition": spec.open_condition,
        "related_codes": list(spec.related_codes),
        "tags": list(spec.tags),
    }


def spec_from_doc(doc: dict[str, Any]) -> ResourceSpec:
    """Rebuild a spec from :func:`spec_doc` output."""
    c = doc["classification"]
    return ResourceSpec(
        classification=Classification(c["category"], c["item"], c["group"], c.get("detail", "")),
        name_zh=doc["name_zh"],
        name_en=doc["name_en"],
        department_id=doc["department_id"],
        provider_code=doc["provider_code"],
        abstract=doc["abstract"],
        format=ResourceFormat(doc["format"]),
        fields=tuple(
            FieldSpec(
                name=f["name"],
                name_zh=f["name_zh"],
                data_type=DataType(f["data_type"]),
                level=Level(f["level"]),
                masking=Masking(f["masking"]),
                is_identifier=bool(f["is_identifier"]),
            )
            for f in doc["fields"]
        ),
        sharing_type=SharingType(doc["sharing_type"]),
        domain=Domain(doc["domain"]),
        update_cycle=UpdateCycle(doc["update_cycle"]),
        level=Level(doc["level"]) if doc.get("level") else None,
        sharing_condition=doc.get("sharing_condition", ""),
        sharing_methods=tuple(SharingMethod(m) for m in doc.get("sharing_methods", ())),
        open_type=OpenType(doc["open_type"]),
        open_condition=doc.get("open_condition", ""),
        related_codes=tuple(doc.get("related_codes", ())),
        tags=tuple(doc.get("tags", ())),
    )


def resource_doc(r: Resource) -> dict[str, Any]:
    """Return one version of a resource as a JSON-ready dict."""
    return {
        "id": r.id,
        "code": r.code,
        "version": r.version,
        "status": r.status.value,
        "spec": spec_doc(r.spec),
        "effective_level": r.level.value,
        "published_at": r.published_at.isoformat(),
        "updated_at": r.updated_at.isoformat(),
        "changed_by": r.changed_by,
        "change": r.change.value,
        "note": r.note,
    }


def resource_from_doc(doc: dict[str, Any]) -> Resource:
    """Rebuild a resource version from :func:`resource_doc` output."""
    return Resource(
        id=doc["id"],
        code=doc["code"],
        version=int(doc["version"]),
        status=Status(doc["status"]),
        spec=spec_from_doc(doc["spec"]),
        level=Level(doc["effective_level"]),
        published_at=datetime.fromisoformat(doc["published_at"]),
        updated_at=datetime.fromisoformat(doc["updated_at"]),
        changed_by=doc["changed_by"],
        change=Change(doc["change"]),
        note=doc.get("note", ""),
    )

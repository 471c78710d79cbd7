"""CKAN mapping: resources as CKAN packages, departments as organizations, CKAN search syntax.

A resource becomes a package named by its slug (the resource code, "/" → "-"), titled by
its Chinese name, with its abstract as notes, its department as organization, its tags,
one CKAN resource pointing at the native API, and the catalogue metadata as extras. Each
open release of the resource (开放数据集) is one more CKAN resource: its public CSV download,
its parameters in words (Chinese, English) as the description and as fields of their own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from opencitybrain.accounts.model import Department
from opencitybrain.catalog.codec import field_doc
from opencitybrain.catalog.model import (
    LABELS_ZH,
    Domain,
    Level,
    OpenType,
    Resource,
    SharingType,
    Status,
    label_zh,
)
from opencitybrain.catalog.open_extracts import MODE_ZH, OpenExtract, describe
from opencitybrain.catalog.search import Facet, SearchQuery, Sort
from opencitybrain.kernel.errors import FieldError, InvalidInput

CKAN_VERSION = "2.10.4"  # the Action API level this endpoint follows

# CKAN field names in q / fq / facet.field → our facets.
FIELDS: dict[str, Facet] = {
    "organization": Facet.DEPARTMENT,
    "owner_org": Facet.DEPARTMENT,
    "tags": Facet.TAGS,
    "groups": Facet.DOMAIN,
    "domain": Facet.DOMAIN,
    "sharing_type": Facet.SHARING_TYPE,
    "open_type": Facet.OPEN_TYPE,
    "level": Facet.LEVEL,
}
SORTS: dict[str, Sort] = {
    "score desc, metadata_modified desc": Sort.RELEVANCE,
    "score desc": Sort.RELEVANCE,
    "relevance asc": Sort.RELEVANCE,
    "metadata_modified desc": Sort.UPDATED_DESC,
    "metadata_modified asc": Sort.UPDATED_ASC,
    "title_string asc": Sort.NAME_ASC,
    "title_string desc": Sort.NAME_DESC,
    "name asc": Sort.CODE_ASC,
}
# Chinese labels are accepted in filters too (fq=sharing_type:有条件共享).
_ENUMS: dict[Facet, type[StrEnum]] = {
    Facet.SHARING_TYPE: SharingType,
    Facet.OPEN_TYPE: OpenType,
    Facet.LEVEL: Level,
    Facet.DOMAIN: Domain,
}
_CODED: dict[Facet, dict[str, str]] = {
    facet: {label: value for value, label in LABELS_ZH[enum].items()}
    for facet, enum in _ENUMS.items()
}
_CLAUSE = re.compile(r'\+?([A-Za-z_]+):(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def _iso(moment: datetime) -> str:
    # CKAN writes naive UTC timestamps.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def organization(dept: Department, package_count: int) -> dict[str, Any]:
    """Return a department as a CKAN organization dict."""
    return {
        "id": dept.id,
        "name": dept.id,
        "title": dept.name_zh,
        "display_name": dept.name_zh,
        "description": dept.name_en,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "created": _iso(dept.created_at),
        "package_count": package_count,
    }


def extract_resource(
    e: OpenExtract, package_id: str, position: int, base_url: str
) -> dict[str, Any]:
    """Return an open release as a CKAN resource dict (its download and its parameters)."""
    return {
        "id": e.id,
        "package_id": package_id,
        "name": e.title,
        "description": describe(e),
        "format": "CSV",
        "mimetype": "text/csv",
        "url": base_url + e.csv_path,
        "position": position,
        "state": "active",
        "created": _iso(e.created_at),
        "last_modified": _iso(e.created_at),
        "resource_type": "open_release",
        # The parameters as fields of their own (CKAN keeps extra resource keys as they are).
        "release_mode": e.mode,
        "release_mode_zh": MODE_ZH.get(e.mode, e.mode),
        "release_params": json.dumps(dict(e.params), ensure_ascii=False),
        "release_queries": json.dumps([dict(q) for q in e.queries], ensure_ascii=False),
        "columns": ",".join(e.columns),
        "row_count": e.row_count,
        "open_type": e.open_type,
        "open_condition": e.open_condition,
        "api_url": base_url + e.path,
    }


def package(
    r: Resource,
    dept: Department | None,
    base_url: str,
    extracts: Sequence[OpenExtract] = (),
) -> dict[str, Any]:
    """Return a resource as a CKAN package dict (its open releases as more resources)."""
    s = r.spec
    extras = {
        "resource_code": r.code,
        "classification_code": s.classification.code,
        "provider_code": s.provider_code,
        "department_id": s.department_id,
        "level": r.level.value,
        "level_zh": label_zh(r.level),
        "sharing_type": s.sharing_type.value,
        "sharing_type_zh": label_zh(s.sharing_type),
        "sharing_condition": s.sharing_condition,
        "sharing_methods": ",".join(m.value for m in s.sharing_methods),
        "open_type": s.open_type.value,
        "open_type_zh": label_zh(s.open_type),
        "open_condition": s.open_condition,
        "update_cycle": s.update_cycle.value,
        "domain": s.domain.value,
        "domain_zh": label_zh(s.domain),
        "format": s.format.value,
        "related_codes": ",".join(s.related_codes),
        "publication_date": _iso(r.published_at),
        "name_en": s.name_en,
        "fields": json.dumps([field_doc(f) for f in s.fields], ensure_ascii=False),
    }
    native = f"{base_url}/api/v1/catalog/resources/{r.slug}"
    return {
        "id": r.id,
        "name": r.slug,
        "title": s.name_zh,
        "notes": s.abstract,
        "type": "dataset",
        "state": "active" if r.status is Status.ACTIVE else "deleted",
        "private": False,
        "version": str(r.version),
        "metadata_created": _iso(r.published_at),
        "metadata_modified": _iso(r.updated_at),
        "owner_org": s.department_id,
        "organization": organization(dept, 0) if dept else None,
        "author": dept.name_zh if dept else s.department_id,
        "maintainer": None,
        "license_id": None,
        "url": native,
        "tags": [
            {"name": t, "display_name": t, "state": "active", "vocabulary_id": None} for t in s.tags
        ],
        "num_tags": len(s.tags),
        "groups": [{"name": s.domain.value, "title": label_zh(s.domain)}],
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        "resources": [
            {
                "id": f"{r.id}-meta",
                "package_id": r.id,
                "name": f"{s.name_zh}（目录元数据）",
                "description": "资源目录元数据；数据经共享申请与授权后访问",
                "format": "JSON",
                "url": native,
                "position": 0,
                "state": "active",
            },
            *(extract_resource(e, r.id, i, base_url) for i, e in enumerate(extracts, start=1)),
        ],
        "num_resources": 1 + len(extracts),
    }


def _bad(field: str, reason: str) -> InvalidInput:
    return InvalidInput(
        "ckan.bad_param", f"参数 {field} 无效：{reason}", f"bad {field}: {reason}",
        (FieldError(field, reason),),
    )  # fmt: skip


def integer(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    """Return an integer parameter within [low, high]."""
    raw = params.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _bad(name, "an integer") from None
    if not low <= value <= high:
        raise _bad(name, f"{low}–{high}")
    return value


def boolean(params: dict[str, Any], name: str) -> bool:
    """Return a boolean parameter (CKAN takes true/false as JSON or text)."""
    raw = params.get(name, False)
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in {"true", "1", "yes", "on"}


def _strings(raw: Any, name: str) -> list[str]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.lstrip().startswith("[") else [raw]
        except ValueError:
            raise _bad(name, "a JSON list of strings") from None
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise _bad(name, "a list of strings")
    return raw


def _filters(text: str, name: str) -> tuple[dict[Facet, list[str]], str]:
    """Split Solr-style ``field:value`` clauses out of a string; return them and the rest."""
    found: dict[Facet, list[str]] = {}

    def take(match: re.Match[str]) -> str:
        field, quoted, bare = match.group(1), match.group(2), match.group(3)
        facet = FIELDS.get(field)
        if facet is None:
            raise _bad(name, f"unknown field {field!r}; known: {', '.join(sorted(FIELDS))}")
        value = quoted.replace('\\"', '"') if quoted is not None else bare
        found.setdefault(facet, []).append(_CODED.get(facet, {}).get(value, value))
        return " "

    rest = _CLAUSE.sub(take, text)
    return found, re.sub(r"\b(AND|OR)\b", " ", rest).strip()


def search_query(params: dict[str, Any]) -> SearchQuery:
    """Return the catalogue search for CKAN ``package_search`` parameters."""
    q = str(params.get("q") or "").strip()
    if q in {"*:*", "*"}:
        q = ""
    in_q, text = _filters(q, "q")
    in_fq, leftover = _filters(str(params.get("fq") or ""), "fq")
    if leftover.strip("() "):
        raise _bad("fq", "only field:value clauses are supported")
    filters = {f: in_q.get(f, []) + in_fq.get(f, []) for f in Facet}
    sort_raw = " ".join(str(params.get("sort") or "score desc, metadata_modified desc").split())
    if sort_raw not in SORTS:
        raise _bad("sort", f"one of {', '.join(SORTS)}")
    facet_names = _strings(params.get("facet.field"), "facet.field")
    unknown = [n for n in facet_names if n not in FIELDS]
    if unknown:
        raise _bad("facet.field", f"unknown {unknown}; known: {', '.join(sorted(FIELDS))}")
    facets = tuple(dict.fromkeys(FIELDS[n] for n in facet_names))
    return SearchQuery(
        text=text,
        departments=tuple(filters[Facet.DEPARTMENT]),
        domains=tuple(filters[Facet.DOMAIN]),
        sharing_types=tuple(filters[Facet.SHARING_TYPE]),
        open_types=tuple(filters[Facet.OPEN_TYPE]),
        levels=tuple(filters[Facet.LEVEL]),
        tags=tuple(filters[Facet.TAGS]),
        sort=SORTS[sort_raw],
        limit=integer(params, "rows", 10, 0, 1000),
        offset=integer(params, "start", 0, 0, 100_000),
        facets=facets,
        facet_limit=integer(params, "facet.limit", 50, 1, 1000),
    )


def facet_names(params: dict[str, Any]) -> dict[Facet, str]:
    """Return the CKAN names the caller used for each requested facet."""
    return {FIELDS[n]: n for n in _strings(params.get("facet.field"), "facet.field")}


def display(facet: Facet, value: str, depts: dict[str, Department]) -> str:
    """Return how CKAN shows one facet value."""
    if facet is Facet.DEPARTMENT and value in depts:
        return depts[value].name_zh
    enum = _ENUMS.get(facet)
    if enum is not None and value in enum._value2member_map_:
        return label_zh(enum(value))
    return value

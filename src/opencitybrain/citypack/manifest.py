"""Read and check a city pack's ``pack.toml``.

Every problem is reported with the field at fault, Chinese first, so a person writing a
pack for their own city can fix it without reading code.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import Any, get_args

import msgspec

from opencitybrain.citypack.model import PackManifest, RoadnetFormat
from opencitybrain.kernel.errors import FieldError, InvalidInput, NotFound

MANIFEST_NAME = "pack.toml"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_CITY_CODE = re.compile(r"^\d{6}$")
_NAMED_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def _invalid(path: Path, field: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput(
        "citypack.bad_manifest",
        f"城市包清单 {path} 无效：{field}：{zh}",
        f"invalid city pack manifest {path}: {field}: {en}",
        (FieldError(field, en),),
    )


def read_manifest(folder: Path) -> PackManifest:
    """Read ``pack.toml`` from a pack folder and check it, files included."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise NotFound(
            "citypack.no_manifest",
            f"文件夹 {folder} 中没有 {MANIFEST_NAME}",
            f"no {MANIFEST_NAME} in folder {folder}",
        )
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _invalid(
            path, "toml", f"TOML 语法错误（{exc}）", f"TOML syntax error ({exc})"
        ) from exc
    # A code written as a bare number (360100) means the same as the string.
    if isinstance(raw.get("city_code"), int):
        raw["city_code"] = f"{raw['city_code']:06d}"
    try:
        manifest = msgspec.convert(raw, PackManifest)
    except msgspec.ValidationError as exc:
        field, reason = _field_of(str(exc))
        raise _invalid(path, field, f"字段不符合要求（{reason}）", reason) from exc
    _check(manifest, folder, path)
    return manifest


def _field_of(message: str) -> tuple[str, str]:
    """Return the dotted field a msgspec validation message is about, and its reason."""
    reason, _, where = message.partition(" - at `")
    parent = where.rstrip("`").removeprefix("$").removeprefix(".")
    named = _NAMED_FIELD.search(reason)
    # Missing and unknown fields are reported at their parent object; name the field.
    field = ".".join(p for p in (parent, named.group(1) if named else "") if p) or "pack"
    if field == "roadnet.format":
        reason += f"; use one of {', '.join(get_args(RoadnetFormat))}"
    return field, reason


def _check(m: PackManifest, folder: Path, path: Path) -> None:
    if not _NAME.match(m.name):
        raise _invalid(
            path, "name", "须为小写字母、数字、- 或 _", "use lower-case letters, digits, - or _"
        )
    if not _CITY_CODE.match(m.city_code):
        raise _invalid(
            path, "city_code", "须为 6 位 GB/T 2260 代码", "must be a 6-digit GB/T 2260 code"
        )
    try:
        zoneinfo.ZoneInfo(m.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _invalid(
            path, "timezone", f"未知时区 {m.timezone}", f"unknown time zone {m.timezone}"
        ) from None
    if m.center is not None and not (abs(m.center[0]) <= 180 and abs(m.center[1]) <= 90):
        raise _invalid(path, "center", "须为 [经度, 纬度]", "must be [lon, lat]")
    box = m.roadnet.bbox
    if box is not None and not (box[0] < box[2] and box[1] < box[3]):
        raise _invalid(
            path, "roadnet.bbox", "须为 [西, 南, 东, 北]", "must be [west, south, east, north]"
        )
    files = {"roadnet.file": m.roadnet.file}
    if m.admin is not None:
        files["admin.file"] = m.admin.file
    if m.flows is not None:
        files["flows.file"] = m.flows.file
    root = folder.resolve()
    for field, name in files.items():
        target = (folder / name).resolve()
        # Data files live inside the pack, so a pack cannot point at files elsewhere.
        if not target.is_relative_to(root):
            raise _invalid(path, field, "文件须在城市包文件夹内", "file must be inside the pack")
        if not target.is_file():
            raise _invalid(path, field, f"找不到文件 {name}", f"file not found: {name}")

"""Supervision rules as data: the department edits this JSON, the engine compiles it.

Every threshold, zone, window and severity lives here, none in code. ``RuleConfig`` is a
msgspec Struct, so the same definition validates the ``PUT /rules`` body, is stored, and
is sent back by ``GET /rules``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec

from opencitybrain.apps.fleet.model import Ring, TimeWindow, VehicleClass
from opencitybrain.kernel.errors import FieldError, InvalidInput

__all__ = [
    "CaseRule",
    "CorridorRule",
    "DwellRule",
    "FatigueRule",
    "OfflineRule",
    "RuleCode",
    "RuleConfig",
    "Severity",
    "SpeedRule",
    "Zone",
    "ZoneRule",
    "decode_rules",
    "rules_json_schema",
]


class RuleCode(StrEnum):
    """Name a supervision rule; also the Alert's subCategory."""

    NO_GO_ZONE = "no_go_zone"  # 禁行区域
    CORRIDOR_DEVIATION = "corridor_deviation"  # 偏离核准路线
    SPEEDING = "speeding"  # 超速
    FATIGUE = "fatigue"  # 疲劳驾驶
    UNAUTHORISED_DWELL = "unauthorised_dwell"  # 违规停留（疑似偷倒）
    TERMINAL_OFFLINE = "terminal_offline"  # 终端离线

    @property
    def zh(self) -> str:
        """Return the Chinese name."""
        return _RULE_ZH[self]


_RULE_ZH = {
    RuleCode.NO_GO_ZONE: "闯入禁行区域",
    RuleCode.CORRIDOR_DEVIATION: "偏离核准路线",
    RuleCode.SPEEDING: "超速行驶",
    RuleCode.FATIGUE: "疲劳驾驶",
    RuleCode.UNAUTHORISED_DWELL: "违规停留（疑似偷倒）",
    RuleCode.TERMINAL_OFFLINE: "终端离线",
}
RULES: tuple[RuleCode, ...] = tuple(RuleCode)

Severity = Literal["informational", "low", "medium", "high", "critical"]


Seconds = Annotated[float, msgspec.Meta(ge=0.0, le=366 * 86400.0)]
Kmh = Annotated[float, msgspec.Meta(ge=0.0, le=1000.0)]
Metres = Annotated[float, msgspec.Meta(gt=0.0, le=100_000.0)]
ZoneId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class Zone(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold one no-go zone: a WGS-84 polygon ring, the classes barred, and when.

    Ids name zones in alerts; a later zone with an id already used replaces the earlier.
    """

    id: ZoneId
    name: Annotated[str, msgspec.Meta(max_length=200)]
    ring: Ring
    classes: list[VehicleClass]
    windows: list[TimeWindow] = []  # empty: barred all day
    severity: Severity = "high"


class ZoneRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold the no-go zones."""

    enabled: bool = True
    zones: list[Zone] = []


# Class limits: school buses 60 km/h (校车安全管理条例 Art. 35 caps them at 60 on roads
# other than expressways); the others are the department's own demo defaults.
CLASS_LIMITS_KMH = {
    VehicleClass.MUCK: 60.0,
    VehicleClass.HAZMAT: 60.0,
    VehicleClass.SCHOOL_BUS: 60.0,
    VehicleClass.BUS: 70.0,
    VehicleClass.TAXI: 100.0,
}


class SpeedRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold speeding thresholds: the matched road's limit and each class's own limit."""

    enabled: bool = True
    class_limits_kmh: dict[VehicleClass, Kmh] = msgspec.field(
        default_factory=lambda: dict(CLASS_LIMITS_KMH)
    )
    # Over a road's limit by more than this before it counts (GPS speed noise).
    road_tolerance_kmh: Kmh = 5.0
    # Points further than this from every road are not matched (no road limit applies).
    match_radius_m: Annotated[float, msgspec.Meta(gt=0.0, le=500.0)] = 30.0
    severity: Severity = "medium"


class CorridorRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold the hazmat corridor rule: how far off every approved corridor is a deviation."""

    enabled: bool = True
    classes: list[VehicleClass] = msgspec.field(default_factory=lambda: [VehicleClass.HAZMAT])
    max_deviation_m: Metres = 200.0
    severity: Severity = "critical"


class FatigueRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold the fatigue rule: continuous driving longer than this, rests shorter than that."""

    enabled: bool = True
    max_driving_s: Seconds = 4 * 3600.0
    min_rest_s: Seconds = 20 * 60.0
    severity: Severity = "high"


class DwellRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold the unauthorised-dwell rule: stopped too long outside every approved site."""

    enabled: bool = True
    classes: list[VehicleClass] = msgspec.field(default_factory=lambda: [VehicleClass.MUCK])
    max_stop_s: Seconds = 15 * 60.0
    severity: Severity = "high"


class OfflineRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold the offline rule: an on-duty terminal silent longer than this."""

    enabled: bool = True
    max_silence_s: Seconds = 10 * 60.0
    severity: Severity = "medium"


class CaseRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Say which alerts open a case in unified operations, and with which case class.

    Class codes are the operations classification's (``E0103`` 积存垃圾渣土: a muck truck
    stopped where it may not is a suspected illegal dumping, for urban management).
    """

    enabled: bool = True
    classes: dict[RuleCode, Annotated[str, msgspec.Meta(pattern=r"^[A-Z][0-9]{4}$")]] = (
        msgspec.field(default_factory=lambda: {RuleCode.UNAUTHORISED_DWELL: "E0103"})
    )


class RuleConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold every supervision rule; ``version`` rises with each edit."""

    version: Annotated[int, msgspec.Meta(ge=1)] = 1
    # At or below this speed a vehicle counts as stopped (GPS drift while parked).
    stop_speed_kmh: Kmh = 3.0
    zones: ZoneRule = ZoneRule()
    speeding: SpeedRule = SpeedRule()
    corridor: CorridorRule = CorridorRule()
    fatigue: FatigueRule = FatigueRule()
    dwell: DwellRule = DwellRule()
    offline: OfflineRule = OfflineRule()
    cases: CaseRule = CaseRule()

    def active_zones(self) -> list[Zone]:
        """Return the zones in force: the last of each id, in order."""
        if not self.zones.enabled:
            return []
        last = {z.id: i for i, z in enumerate(self.zones.zones)}
        return [z for i, z in enumerate(self.zones.zones) if last[z.id] == i]


# Not strict: JSON Schema counts 3.0 as an integer, so the API must too.
_DECODER = msgspec.json.Decoder(RuleConfig, strict=False)


def rules_json_schema() -> dict[str, object]:
    """Return RuleConfig's JSON schema with every reference inlined (for OpenAPI)."""
    schema = msgspec.json.schema(RuleConfig)
    defs = schema.pop("$defs", {})

    def inline(node: object) -> object:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    out = inline(schema)
    assert isinstance(out, dict)
    # msgspec writes enum-keyed maps as open objects; name their keys, so the schema
    # allows exactly what the decoder accepts.
    props: Any = out["properties"]
    _closed_keys(
        props["speeding"]["properties"]["class_limits_kmh"], [c.value for c in VehicleClass]
    )
    _closed_keys(props["cases"]["properties"]["classes"], [r.value for r in RuleCode])
    return out


def _closed_keys(node: dict[str, Any], keys: list[str]) -> None:
    value = node.pop("additionalProperties")
    node["properties"] = dict.fromkeys(keys, value)
    node["additionalProperties"] = False


def decode_rules(body: bytes) -> RuleConfig:
    """Decode and validate a rule configuration, or raise InvalidInput naming the field."""
    try:
        return _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidInput(
            "fleet.bad_rules",
            f"规则配置无效：{exc}",
            f"invalid rule configuration: {exc}",
            (FieldError("body", str(exc)),),
        ) from exc
    except msgspec.DecodeError as exc:
        raise InvalidInput(
            "fleet.bad_rules", "规则配置不是合法的 JSON", f"rule configuration is not JSON: {exc}"
        ) from exc

"""Sample catalogue specs for the catalogue tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from opencitybrain.catalog.model import (
    Classification,
    DataType,
    Domain,
    FieldSpec,
    Level,
    Masking,
    OpenType,
    ResourceFormat,
    ResourceSpec,
    SharingMethod,
    SharingType,
    UpdateCycle,
)
from opencitybrain.catalog.rules import uscc_check_char

PROVIDER = "11360100MB1234567" + uscc_check_char("11360100MB1234567")


def spec(**changes: Any) -> ResourceSpec:
    """Return a valid spec (户籍人口基本信息 of the public security bureau), with changes."""
    base = ResourceSpec(
        classification=Classification("1", "01", "001", "001"),
        name_zh="户籍人口基本信息",
        name_en="Registered residents",
        department_id="public-security",
        provider_code=PROVIDER,
        abstract="本市户籍人口的姓名、公民身份号码、出生日期、户籍地址等基本信息。",
        format=ResourceFormat.DATABASE,
        fields=(
            FieldSpec("name", "姓名", DataType.STRING, Level.IMPORTANT, Masking.NAME),
            FieldSpec(
                "id_number", "公民身份号码", DataType.CITIZEN_ID, Level.CORE, Masking.ID_NUMBER,
                is_identifier=True,
            ),
            FieldSpec("birth_date", "出生日期", DataType.DATE, Level.IMPORTANT),
            FieldSpec("address", "户籍地址", DataType.STRING, Level.IMPORTANT, Masking.ADDRESS),
        ),
        sharing_type=SharingType.CONDITIONAL,
        sharing_condition="用于政务服务身份核验，按需申请",
        sharing_methods=(SharingMethod.API,),
        domain=Domain.POPULATION,
        update_cycle=UpdateCycle.DAILY,
        open_type=OpenType.CLOSED,
        tags=("人口", "户籍"),
    )  # fmt: skip
    return replace(base, **changes)

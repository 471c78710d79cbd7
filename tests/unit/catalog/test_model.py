"""Catalogue rules: codes, levels, sharing conditions and field errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.catalog.codec import resource_doc, resource_from_doc, spec_doc, spec_from_doc
from opencitybrain.catalog.model import (
    Change,
    Classification,
    DataType,
    FieldSpec,
    Level,
    OpenType,
    Resource,
    SharingType,
    Status,
    check_code,
    code_of_slug,
    effective_level,
    resource_code,
    slug_of,
)
from opencitybrain.catalog.rules import uscc_check_char, validate_spec
from opencitybrain.kernel.errors import InvalidInput
from tests.unit.catalog.samples import PROVIDER, spec


def reasons(exc: InvalidInput) -> dict[str, str]:
    return {e.field: e.reason for e in exc.errors}


def test_sample_is_valid_and_its_level_is_its_most_sensitive_field() -> None:
    s = validate_spec(spec())
    assert effective_level(s) is Level.CORE
    assert effective_level(replace(s, fields=s.fields[2:])) is Level.IMPORTANT


def test_resource_code_is_classification_plus_sequence() -> None:
    c = Classification("1", "01", "001", "001")
    assert resource_code(c, 7) == "101001001/000007"
    assert resource_code(Classification("3", "12", "004"), 123456) == "312004/123456"
    with pytest.raises(InvalidInput):
        resource_code(c, 0)
    with pytest.raises(InvalidInput):
        resource_code(c, 1_000_000)


@pytest.mark.parametrize("bad", ["", "101001001", "401001/000001", "10100/000001", "101001/1"])
def test_malformed_codes_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_code(bad)
    assert err.value.code == "catalog.bad_code"


@given(
    st.sampled_from("123"),
    st.from_regex(r"^[0-9]{2}$", fullmatch=True),
    st.from_regex(r"^[0-9]{3}$", fullmatch=True),
    st.from_regex(r"^[0-9]{0,6}$", fullmatch=True),
    st.integers(1, 999_999),
)
def test_codes_round_trip_through_slugs(cat: str, item: str, grp: str, det: str, seq: int) -> None:
    code = resource_code(Classification(cat, item, grp, det), seq)
    assert check_code(code) == code
    slug = slug_of(code)
    assert slug.replace("-", "").isdigit()
    assert code_of_slug(slug) == code


def test_a_level_below_a_field_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_spec(spec(level=Level.IMPORTANT))
    assert "level" in reasons(err.value)
    assert validate_spec(spec(level=Level.CORE)).level is Level.CORE


def test_conditional_sharing_needs_its_condition() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_spec(spec(sharing_condition="  "))
    assert "sharing_condition" in reasons(err.value)


def test_not_shared_needs_a_legal_basis_and_stays_closed() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_spec(
            spec(sharing_type=SharingType.NONE, sharing_condition="", open_type=OpenType.OPEN)
        )
    assert set(reasons(err.value)) == {"sharing_condition", "open_type"}
    ok = spec(
        sharing_type=SharingType.NONE,
        sharing_condition="《居民身份证法》第十九条",
        sharing_methods=(),
    )
    assert validate_spec(ok) == ok


def test_every_bad_field_is_named_at_once() -> None:
    bad = spec(
        classification=Classification("9", "1", "01", "x"),
        name_zh="",
        provider_code="91110000600037341X",
        fields=(
            FieldSpec("Name", "姓名", DataType.STRING),
            FieldSpec("a", "甲", DataType.STRING),
            FieldSpec("a", "", DataType.STRING),
        ),
        related_codes=("nope",),
        tags=(" 空格",),
    )
    with pytest.raises(InvalidInput) as err:
        validate_spec(bad)
    assert err.value.code == "catalog.invalid_resource"
    assert set(reasons(err.value)) >= {
        "classification.category", "classification.item", "classification.group",
        "classification.detail", "name_zh", "provider_code", "fields[0].name",
        "fields[2].name", "fields[2].name_zh", "related_codes[0]", "tags[0]",
    }  # fmt: skip


def test_no_fields_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_spec(spec(fields=()))
    assert "fields" in reasons(err.value)


def test_uscc_check_character_matches_the_standard_example() -> None:
    assert uscc_check_char("91110000600037341") == "L"
    assert PROVIDER[-1] == uscc_check_char(PROVIDER[:17])


def test_documents_round_trip() -> None:
    from datetime import UTC, datetime

    s = spec(related_codes=("101001001/000002",))
    assert spec_from_doc(spec_doc(s)) == s
    now = datetime(2026, 11, 22, 8, tzinfo=UTC)
    r = Resource("R1", "101001001/000001", 2, Status.ACTIVE, s, Level.CORE, now, now, "u1",
                 Change.REVISED, "note")  # fmt: skip
    assert resource_from_doc(resource_doc(r)) == r


def test_every_coded_value_has_its_own_chinese_label() -> None:
    from opencitybrain.catalog.model import LABELS_ZH, Domain, label_zh

    for enum in (Level, SharingType, OpenType, Domain):
        assert set(LABELS_ZH[enum]) == set(enum._value2member_map_)
    # "conditional" is a value of two enums: each keeps its own label.
    assert label_zh(SharingType.CONDITIONAL) == "有条件共享"
    assert label_zh(OpenType.CONDITIONAL) == "有条件开放"


def test_blank_means_only_spaces_and_bodies_tidy_tags() -> None:
    from opencitybrain.catalog.model import blank
    from opencitybrain.catalog.schemas import ResourceBody

    assert blank("")
    assert blank(" \t\u3000\n")
    assert not blank("\x1c")  # what JSON Schema's pattern calls filled, the rules do too
    doc = {
        "classification": {"category": "1", "item": "01", "group": "001"},
        "name_zh": "示例", "name_en": "Sample", "department_id": "transport",
        "provider_code": PROVIDER, "abstract": "摘要", "format": "api",
        "fields": [{"name": "a", "name_zh": "甲", "data_type": "string"}],
        "sharing_type": "unconditional", "domain": "transport", "update_cycle": "daily",
        "tags": [" 交通 ", "\u3000", "交通", "公交"],
    }  # fmt: skip
    spec = validate_spec(ResourceBody.model_validate(doc).to_spec())
    assert spec.tags == ("交通", "公交")

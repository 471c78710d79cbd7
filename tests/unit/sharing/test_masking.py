"""Masking rules of STANDARDS.md, column masking and keyed pseudonyms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.catalog.model import DataType, FieldSpec, Level, Masking
from opencitybrain.catalog.rows import Row
from opencitybrain.sharing.masking import (
    DEFAULT_POLICY,
    MaskRule,
    RowMasker,
    mask_value,
    pseudonym,
)

MASKED = [m for m in Masking if m is not Masking.NONE]


@pytest.mark.parametrize(
    ("masking", "value", "shown"),
    [
        (Masking.NAME, "段誉誉", "段**"),
        (Masking.ID_NUMBER, "51010119900307001X", "5***************1X"),
        (Masking.MOBILE, "18012341999", "180****1999"),
        (Masking.LANDLINE, "09151234579", "0915*****79"),
        (Masking.ADDRESS, "北京市海淀区马连洼北路一号院", "北京市海淀区********"),
        (Masking.PLATE, "苏D45670", "苏D4***0"),
        (Masking.PLATE, "苏AD12345", "苏AD****5"),
        (Masking.BANK_CARD, "6222021234561234", "6222********1234"),
    ],
)
def test_customary_rules_match_the_standards_examples(
    masking: Masking, value: str, shown: str
) -> None:
    assert mask_value(masking, value) == shown


def test_the_address_example_of_the_standards() -> None:
    shown = mask_value(Masking.ADDRESS, "北京市海淀区马连洼街道八号楼一单元")
    assert shown == "北京市海淀区马连洼********"
    assert mask_value(Masking.ADDRESS, "某路一号") == "****"


def test_none_and_unmasked_types_pass() -> None:
    assert mask_value(Masking.NAME, None) is None
    assert mask_value(Masking.NONE, "段誉") == "段誉"


def test_a_rule_can_be_configured() -> None:
    policy = DEFAULT_POLICY.with_rule(Masking.ID_NUMBER, MaskRule(keep_first=6, keep_last=4))
    assert policy.mask(Masking.ID_NUMBER, "51010119900307001X") == "510101********001X"
    with pytest.raises(ValueError, match="NONE"):
        DEFAULT_POLICY.with_rule(Masking.NONE, MaskRule())


@given(st.sampled_from(MASKED), st.text(min_size=1, max_size=40))
def test_masking_keeps_length_and_hides_something(masking: Masking, value: str) -> None:
    shown = mask_value(masking, value)
    assert isinstance(shown, str)
    assert len(shown) == len(value)
    assert "*" in shown
    # No value of two or more characters is shown whole.
    assert shown != value or "*" in value


@given(
    st.sampled_from(MASKED),
    st.lists(st.one_of(st.none(), st.text(max_size=30), st.integers()), max_size=30),
)
def test_column_masking_equals_cell_masking(masking: Masking, values: list[object]) -> None:
    cells = [mask_value(masking, v) for v in values]  # type: ignore[arg-type]
    assert DEFAULT_POLICY.mask_column(masking, values) == cells  # type: ignore[arg-type]


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_pseudonyms_are_stable_keyed_and_distinct(a: str, b: str) -> None:
    assert pseudonym("k1", a) == pseudonym("k1", a)
    assert pseudonym("k1", a) != pseudonym("k2", a)
    if a.strip().upper() != b.strip().upper():
        assert pseudonym("k1", a) != pseudonym("k1", b)


def test_pseudonym_normalises_case_and_spaces() -> None:
    assert pseudonym("s", " 51010119900307001x") == pseudonym("s", "51010119900307001X")
    assert pseudonym("s", None) is None
    token = pseudonym("s", "18012341999")
    assert token is not None
    assert token.startswith("pn_")
    assert "1801234" not in token


FIELDS = (
    FieldSpec("name", "姓名", DataType.STRING, Level.IMPORTANT, Masking.NAME),
    FieldSpec("id_number", "身份证号", DataType.CITIZEN_ID, Level.CORE, Masking.ID_NUMBER, True),
    FieldSpec("mobile", "手机", DataType.MOBILE, Level.IMPORTANT, Masking.MOBILE),
    FieldSpec("district", "区县", DataType.STRING),
)
ROW: Row = {
    "name": "段誉誉",
    "id_number": "51010119900307001X",
    "mobile": "18012341999",
    "district": "武侯区",
}


def test_row_masker_masks_all_sensitive_fields_by_default() -> None:
    out = RowMasker(FIELDS).apply([ROW])
    assert out == [
        {
            "name": "段**",
            "id_number": "5***************1X",
            "mobile": "180****1999",
            "district": "武侯区",
        }
    ]
    assert ROW["name"] == "段誉誉"  # input untouched


def test_row_masker_clears_only_granted_fields() -> None:
    out = RowMasker(FIELDS, cleared=frozenset({"mobile"})).apply_row(ROW)
    assert out["mobile"] == "18012341999"
    assert out["name"] == "段**"


def test_row_masker_pseudonymises_identifiers() -> None:
    masker = RowMasker(FIELDS, cleared=frozenset({"id_number"}), pseudonymise=True, secret="s")
    out = masker.apply_row(ROW)
    assert out["id_number"] == pseudonym("s", ROW["id_number"])
    assert out["name"] == "段**"
    assert RowMasker(FIELDS).apply([]) == []


@given(
    st.sampled_from(MASKED),
    st.lists(st.text(max_size=40), min_size=64, max_size=200),
)
def test_long_columns_equal_cell_masking(masking: Masking, values: list[str]) -> None:
    cells = [mask_value(masking, v) for v in values]
    assert DEFAULT_POLICY.mask_column(masking, values) == cells  # type: ignore[arg-type]


@given(
    st.sampled_from(MASKED),
    st.lists(st.text(alphabet="0123456789段王李XD苏", min_size=1, max_size=20), min_size=64),
)
def test_typical_long_columns_equal_cell_masking(masking: Masking, values: list[str]) -> None:
    cells = [mask_value(masking, v) for v in values]
    assert DEFAULT_POLICY.mask_column(masking, values) == cells  # type: ignore[arg-type]


def test_masking_in_place_changes_the_given_rows() -> None:
    rows: list[Row] = [dict(ROW)]
    out = RowMasker(FIELDS).apply(rows, copy=False)
    assert out[0] is rows[0]
    assert rows[0]["name"] == "段**"

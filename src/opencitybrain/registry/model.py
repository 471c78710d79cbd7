"""The registry's types: sources, match weights, and a resolution's results with its counts.

A resolution is pure data (Arrow tables), produced by ``resolve`` without I/O: the golden
records, every input record's link (or why it has none), and the conflicts to review.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.kernel.errors import InvalidInput, NotFound

# How a record was linked to its golden record.
RULE_ID = "id_exact"  # a valid identity code, the golden record's key
RULE_ID_NEAR = "id_near"  # an invalid code one check char or one swap from the key, confirmed
RULE_SCORE = "probabilistic"  # name, birth date, sex and address agree well enough

# Why a record is quarantined (invalid beyond repair: nothing left to match on).
NO_IDENTITY = "no_identity"  # no valid code and no name
NO_ANCHOR = "no_anchor"  # no valid code, no code at all and no birth date
BAD_KEY = "bad_key"  # a vehicle without a well-formed plate

PERSON_ATTRIBUTES = ("name", "sex", "birth_date", "address")
COMPANY_ATTRIBUTES = ("name", "address", "rep_id_number")
VEHICLE_ATTRIBUTES = ("owner_code", "name", "address")


@dataclass(frozen=True)
class SourceSpec:
    """A department table as the registry reads it: key column, role → column, styles."""

    source: str
    key: str
    fields: Mapping[str, str]
    styles: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SourceSpec:
        """Return a spec from plain data (``source``, ``key``, ``fields``, ``styles``)."""
        try:
            return cls(
                str(data["source"]),
                str(data["key"]),
                dict(data["fields"]),
                dict(data.get("styles", {})),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(
                "registry.bad_source",
                f"数据源描述不完整：{exc}",
                f"incomplete source description: {exc}",
            ) from exc


@dataclass(frozen=True)
class MatchWeights:
    """Log-likelihood weights (Fellegi–Sunter style, in bits) and the acceptance rule.

    A pair's score is the sum of the weights of its fields' agreement levels; a missing
    value adds nothing. A record links to its best candidate when the score reaches
    ``accept`` and beats the runner-up by ``margin``.
    """

    id17_equal: float = 14.0  # same first 17 chars, wrong check char
    id_swapped: float = 10.0  # same digits, two adjacent swapped
    id_other: float = -6.0
    name_equal: float = 8.0
    name_confusable: float = 5.0  # one char differs, same reading or similar shape
    name_one_char: float = 2.0
    name_other: float = -6.0
    birth_equal: float = 9.0
    birth_other: float = -6.0
    sex_equal: float = 1.0
    sex_other: float = -4.0
    address_equal: float = 5.0
    address_other: float = -1.0
    accept: float = 14.0
    margin: float = 4.0
    max_block: int = 2000  # larger name blocks are skipped (too common to decide on)


# Company names are unique within a registration authority: an equal name and address
# (13 bits) is enough without a code.
COMPANY_WEIGHTS = MatchWeights(accept=12.0)


@dataclass(frozen=True)
class Resolution:
    """The result of resolving records into golden records.

    ``links`` has one row per input record: source, row, record_key, golden_id (null when
    not linked), rule, score, explanation, status (linked / quarantined / unmatched) and
    reason. ``golden`` has one row per golden record with each attribute's value, source
    department and time; ``review`` lists attributes on which departments disagree.
    """

    sources: tuple[str, ...]
    links: pa.Table
    golden: pa.Table
    review: pa.Table

    def counts(self) -> dict[str, int]:
        """Return rows in, linked, quarantined and unmatched (in = the other three)."""
        status = self.links["status"]
        found = {
            str(k): int(v)
            for k, v in zip(
                pc.value_counts(status).field("values").to_pylist(),
                pc.value_counts(status).field("counts").to_pylist(),
                strict=True,
            )
        }
        return {
            "rows_in": self.links.num_rows,
            "linked": found.get("linked", 0),
            "quarantined": found.get("quarantined", 0),
            "unmatched": found.get("unmatched", 0),
            "golden": self.golden.num_rows,
            "conflicts": self.review.num_rows,
        }

    def reconciles(self) -> bool:
        """Return whether every input row is linked, quarantined or listed as unmatched."""
        c = self.counts()
        return c["rows_in"] == c["linked"] + c["quarantined"] + c["unmatched"]

    def unmatched(self) -> pa.Table:
        """Return the records left unmatched (for a person to look at)."""
        return self.links.filter(pc.equal(self.links["status"], "unmatched"))

    def quarantined(self) -> pa.Table:
        """Return the records that cannot be used, with their reasons."""
        return self.links.filter(pc.equal(self.links["status"], "quarantined"))

    def explain(self, source: str, record_key: str) -> dict[str, Any]:
        """Return how one record was linked: golden record, rule, score and field evidence."""
        if source not in self.sources:
            raise NotFound(
                "registry.unknown_source", f"未知数据源：{source}", f"no source {source}"
            )
        mask = pc.and_(
            pc.equal(self.links["source"], self.sources.index(source)),
            pc.equal(self.links["record_key"], record_key),
        )
        rows = self.links.filter(mask).to_pylist()
        if not rows:
            raise NotFound(
                "registry.unknown_record",
                f"找不到记录：{source} {record_key}",
                f"no record {record_key} in {source}",
            )
        row: dict[str, Any] = dict(rows[0])
        row["source"] = source
        return row

    def golden_of(self, golden_id: str) -> dict[str, Any]:
        """Return one golden record with the source and time of each attribute."""
        rows = self.golden.filter(pc.equal(self.golden["golden_id"], golden_id)).to_pylist()
        if not rows:
            raise NotFound(
                "registry.unknown_golden",
                f"找不到主档：{golden_id}",
                f"no golden record {golden_id}",
            )
        return dict(rows[0])


def source_names(specs: Sequence[SourceSpec]) -> tuple[str, ...]:
    """Return the specs' source names, refusing duplicates."""
    names = tuple(s.source for s in specs)
    if len(set(names)) != len(names):
        raise InvalidInput(
            "registry.duplicate_source",
            "同一数据源出现了两次",
            "the same source is given twice",
        )
    return names

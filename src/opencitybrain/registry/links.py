"""Links between the registries: a company's legal representative, a vehicle's owner.

A golden company record names its representative by citizen ID, a golden vehicle record its
owner by citizen ID or credit code. Where that code is a golden person (or company) record,
the link is made; where it is not (a mistyped code, a person from elsewhere), the row is
kept with no target, so every company and vehicle is accounted for.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.registry.model import Resolution

LINK_COLUMNS = ("from_kind", "from_id", "relation", "to_kind", "to_id")


def _rows(
    from_kind: str,
    from_ids: pa.Array,
    relation: str,
    targets: list[tuple[str, pa.Array]],
    codes: pa.Array,
) -> pa.Table:
    """Return one link per source record, to the first target registry holding its code."""
    n = len(from_ids)
    to_kind = pa.nulls(n, pa.string())
    to_id = pa.nulls(n, pa.string())
    for kind, golden_ids in targets:
        hit = pc.and_(pc.is_null(to_id), pc.fill_null(pc.is_in(codes, value_set=golden_ids), False))
        to_kind = pc.if_else(hit, pa.scalar(kind), to_kind)
        to_id = pc.if_else(hit, codes, to_id)
    return pa.table(
        {
            "from_kind": pa.array(np.full(n, from_kind, dtype=object), pa.string()),
            "from_id": from_ids,
            "relation": pa.array(np.full(n, relation, dtype=object), pa.string()),
            "to_kind": to_kind,
            "to_id": to_id,
        }
    )


def entity_links(
    people: Resolution,
    companies: Resolution | None = None,
    vehicles: Resolution | None = None,
) -> pa.Table:
    """Return company → legal representative and vehicle → owner links between golden records.

    ``to_kind`` and ``to_id`` are null where the code matches no golden record.
    """
    parts = []
    person_ids = people.golden["golden_id"]
    if companies is not None:
        parts.append(
            _rows(
                "company",
                companies.golden["golden_id"],
                "legal_representative",
                [("person", person_ids)],
                companies.golden["rep_id_number"],
            )
        )
    if vehicles is not None:
        targets = [("person", person_ids)]
        if companies is not None:
            targets.append(("company", companies.golden["golden_id"]))
        parts.append(
            _rows(
                "vehicle",
                vehicles.golden["golden_id"],
                "owned_by",
                targets,
                vehicles.golden["owner_code"],
            )
        )
    if not parts:
        return pa.table({c: pa.array([], pa.string()) for c in LINK_COLUMNS})
    return pa.concat_tables(parts)

"""Resolve people (一人一档), companies (一企一档) and vehicles (一车一档) into golden records.

1. Every record is read into canonical columns (``normalize``).
2. A record with a valid citizen ID (credit code) links to the golden record of that code
   (rule ``id_exact``): a valid code is the strongest evidence there is, and the key.
3. A record with no valid ID and nothing to match on is quarantined with its reason.
4. The rest are matched probabilistically against the linked records (``match``): linked
   when the score is high enough and clearly better than the runner-up (rule ``id_near``
   when an ID one check char or one swap away confirmed it, ``probabilistic`` otherwise);
   otherwise left unmatched and listed, with their best evidence.
5. Golden records take each attribute from the best source, and disagreements go to the
   review list (``golden``).

Counts reconcile: rows in = linked + quarantined + unmatched.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.registry import golden as golden_records
from opencitybrain.registry.match import decide, prefix17
from opencitybrain.registry.model import (
    BAD_KEY,
    COMPANY_ATTRIBUTES,
    COMPANY_WEIGHTS,
    NO_ANCHOR,
    NO_IDENTITY,
    PERSON_ATTRIBUTES,
    RULE_ID,
    RULE_ID_NEAR,
    RULE_SCORE,
    VEHICLE_ATTRIBUTES,
    MatchWeights,
    Resolution,
    SourceSpec,
    source_names,
)
from opencitybrain.registry.normalize import (
    canonical_companies,
    canonical_people,
    canonical_vehicles,
)

I64 = npt.NDArray[np.int64]


def _coded(codes: npt.NDArray[np.integer], labels: Sequence[str | None]) -> pa.Array:
    """Return labels by code as a dictionary array; a code whose label is None is null."""
    codes = np.asarray(codes, dtype=np.int32)
    empty = np.array([label is None for label in labels])[codes]
    return pa.DictionaryArray.from_arrays(
        pa.array(codes, mask=empty), pa.array([x or "" for x in labels], pa.string())
    )


def resolve_people(
    inputs: Sequence[tuple[SourceSpec, pa.Table]],
    weights: MatchWeights | None = None,
    authority: Sequence[str] = (),
) -> Resolution:
    """Return golden person records, every record's link, and the conflicts to review.

    ``authority`` lists sources from most to least trusted for names, sex and birth dates
    (default: the order of ``inputs``).
    """
    sources = source_names([spec for spec, _ in inputs])
    canon = pa.concat_tables(
        [canonical_people(spec, table, i) for i, (spec, table) in enumerate(inputs)]
    )
    return _resolve(
        canon, sources, weights or MatchWeights(), authority, PERSON_ATTRIBUTES, "birth_date"
    )


def resolve_companies(
    inputs: Sequence[tuple[SourceSpec, pa.Table]],
    weights: MatchWeights | None = None,
    authority: Sequence[str] = (),
) -> Resolution:
    """Return golden company records (一企一档) keyed by credit code, as for people."""
    sources = source_names([spec for spec, _ in inputs])
    canon = pa.concat_tables(
        [canonical_companies(spec, table, i) for i, (spec, table) in enumerate(inputs)]
    )
    return _resolve(
        canon, sources, weights or COMPANY_WEIGHTS, authority, COMPANY_ATTRIBUTES, "address"
    )


def resolve_vehicles(
    inputs: Sequence[tuple[SourceSpec, pa.Table]], authority: Sequence[str] = ()
) -> Resolution:
    """Return golden vehicle records (一车一档) keyed by plate; a bad plate is quarantined."""
    sources = source_names([spec for spec, _ in inputs])
    canon = pa.concat_tables(
        [canonical_vehicles(spec, table, i) for i, (spec, table) in enumerate(inputs)]
    )
    return _resolve(canon, sources, MatchWeights(), authority, VEHICLE_ATTRIBUTES, None)


def _golden_keys(codes: pa.Array, valid: npt.NDArray[np.bool_]) -> tuple[I64, pa.Array]:
    """Return a number per valid code (−1 for the others) and the codes by number."""
    encoded = pc.dictionary_encode(codes.filter(pa.array(valid)))
    key = np.full(len(codes), -1, dtype=np.int64)
    key[valid] = encoded.indices.to_numpy().astype(np.int64)
    return key, encoded.dictionary


def _resolve(
    canon: pa.Table,
    sources: tuple[str, ...],
    w: MatchWeights,
    authority: Sequence[str],
    attributes: Sequence[str],
    anchor: str | None,
) -> Resolution:
    """Resolve canonical records: link valid codes, quarantine, match the rest, assemble.

    With no ``anchor`` nothing is matched probabilistically: a record without a valid key
    is quarantined (a plate is the only thing that identifies a vehicle).
    """
    n = canon.num_rows
    valid = np.asarray(canon["id_valid"].to_numpy(zero_copy_only=False), dtype=bool)
    key, codes = _golden_keys(canon["id_number"].combine_chunks(), valid)

    # Nothing to match on: quarantined.
    no_name = np.asarray(pc.is_null(canon["name"]).to_numpy(zero_copy_only=False), dtype=bool)
    if anchor is None:
        quarantined = ~valid
        reason = np.where(quarantined, 6, 0)
    else:
        no_anchor = np.asarray(
            pc.and_(pc.is_null(canon["id_number"]), pc.is_null(canon[anchor])).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        quarantined = ~valid & (no_name | no_anchor)
        reason = np.where(quarantined, np.where(no_name, 1, 2), 0)

    # Probabilistic matching of the rest against the validly identified records.
    todo = np.flatnonzero(~valid & ~quarantined)
    cands = canon.filter(pa.array(valid)).append_column("gkey", pa.array(key[valid]))
    cands = cands.append_column("block17", pa.array(prefix17(cands["id_number"])))
    decided = decide(canon.take(pa.array(todo)), cands, w)
    key[todo] = decided.golden
    linked = key >= 0

    rule = np.where(valid, 1, 0)
    rule[todo] = np.where(decided.golden < 0, 0, np.where(decided.near_id, 2, 3))
    no_candidate = np.isnan(decided.score)
    low = np.nan_to_num(decided.score, nan=-np.inf) < w.accept
    reason[todo] = np.where(decided.golden >= 0, 0, np.where(no_candidate, 3, np.where(low, 4, 5)))
    # Explanations: "id=valid" for every ID link, the pair evidence for the others.
    texts, text_code = np.unique(np.array(decided.explanation, dtype=object), return_inverse=True)
    explanation = np.where(valid, 0, -1)
    explanation[todo] = text_code + 1
    score = np.full(n, np.nan)
    runner = np.full(n, np.nan)
    score[todo] = decided.score
    runner[todo] = decided.runner_up
    status = np.where(linked, 0, np.where(quarantined, 1, 2))

    # Every valid code is linked (its own records), so golden records are the codes in
    # dictionary order and a record's key is its golden record's index.
    gi = key[linked]
    golden_ids = codes
    golden, review = golden_records.build(
        canon.filter(pa.array(linked)), gi, golden_ids, sources, authority or sources, attributes
    )
    where = key
    links = pa.table(
        {
            "source": canon["source"],
            "row": canon["row"],
            "record_key": canon["record_key"],
            "golden_id": golden_ids.take(pa.array(where, mask=where < 0)),
            "rule": _coded(rule, [None, RULE_ID, RULE_ID_NEAR, RULE_SCORE]),
            "score": pa.array(score, mask=np.isnan(score)),
            "runner_up": pa.array(runner, mask=np.isnan(runner)),
            "explanation": _coded(
                explanation + 1, [None, "id=valid", *[t or None for t in texts.tolist()]]
            ),
            "status": _coded(status, ["linked", "quarantined", "unmatched"]),
            "reason": _coded(
                reason,
                [
                    None,
                    NO_IDENTITY,
                    NO_ANCHOR,
                    "no_candidate",
                    "below_threshold",
                    "ambiguous",
                    BAD_KEY,
                ],
            ),
        }
    )
    return Resolution(sources, links, golden, review)

"""SQL text for DuckDB: quoted names and literals, and a row filter as a WHERE clause.

Shared by the row store (``duckdb_rows``) and its masks (``duckdb_masks``): identifiers
are field names (checked by the catalogue) and quoted; filter values are bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opencitybrain.catalog.rows import Condition, Op, Value
from opencitybrain.kernel.errors import FieldError, InvalidInput

_COMPARE = {Op.EQ: "=", Op.NE: "<>", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}


def quote(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """Quote a string literal (file paths in table functions and COPY, mask characters)."""
    return "'" + text.replace("'", "''") + "'"


def bad(code: str, zh: str, en: str, where: str) -> InvalidInput:
    """Return a bad-input error naming one field."""
    return InvalidInput(code, zh, en, (FieldError(where, en),))


def where_clause(where: Sequence[Condition]) -> tuple[str, list[Any]]:
    """Return a WHERE clause with placeholders for the conditions (ANDed) and its values."""
    terms: list[str] = []
    params: list[Any] = []
    for c in where:
        col = quote(c.field)
        if c.op is Op.IN:
            values = c.value if isinstance(c.value, tuple) else (c.value,)
            if not values:
                terms.append("FALSE")
                continue
            terms.append(f"{col} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
        elif c.op is Op.PREFIX:
            terms.append(f"starts_with(CAST({col} AS VARCHAR), ?)")
            params.append(str(c.value))
        else:
            if isinstance(c.value, tuple):
                raise bad(
                    "catalog.bad_filter",
                    f"条件 {c.op.value} 只接受单个值",
                    f"{c.op.value} takes one value",
                    c.field,
                )
            value: Value = c.value
            if value is None:
                terms.append(f"{col} IS {'NOT ' if c.op is Op.NE else ''}NULL")
                continue
            terms.append(f"{col} {_COMPARE[c.op]} ?")
            params.append(value)
    return (f" WHERE {' AND '.join(terms)}" if terms else ""), params

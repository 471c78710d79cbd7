"""The AST of the NGSI-LD query language (``q``), and its rendering back to text.

Names stay compact here; the evaluator expands them. Times of day are kept naive in UTC
and dateTimes aware in UTC, so that any two values of one kind order without an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

__all__ = [
    "And",
    "Compare",
    "Exists",
    "Node",
    "Op",
    "Or",
    "Path",
    "Pattern",
    "Range",
    "Scalar",
    "Uri",
    "parse_instant",
    "render",
]


class Op(StrEnum):
    """Name a comparison operator by its query-language spelling."""

    EQ = "=="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="


@dataclass(frozen=True, slots=True)
class Uri:
    """Hold an unquoted URI value (a Relationship's object, usually)."""

    text: str


Scalar = bool | int | float | str | datetime | date | time | Uri


@dataclass(frozen=True, slots=True)
class Range:
    """Hold an inclusive range ``low..high`` of one value type."""

    low: Scalar
    high: Scalar


@dataclass(frozen=True, slots=True)
class Path:
    """Name a target: attribute, then sub-attributes (dots), then compound keys ([])."""

    attrs: tuple[str, ...]
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Exists:
    """Match entities that have (or, negated, lack) the target element."""

    path: Path
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Compare:
    """Compare the target value with a scalar, a value list (tuple) or a range."""

    path: Path
    op: Op
    value: Scalar | tuple[Scalar, ...] | Range


@dataclass(frozen=True, slots=True)
class Pattern:
    """Match the target string against a regular expression (``~=``; ``!~=`` negated)."""

    path: Path
    regex: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class And:
    """Match when every term matches."""

    terms: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Match when any term matches."""

    terms: tuple[Node, ...]


Node = Exists | Compare | Pattern | And | Or


def parse_instant(text: str) -> datetime | date | time | None:
    """Return the dateTime, date or time an ISO 8601 text denotes, else None.

    A dateTime or time without an offset is taken as UTC; times come back naive in UTC
    so that any two of them order without an error.
    """
    try:
        if "T" in text:
            value = datetime.fromisoformat(text.replace(",", "."))
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if ":" in text:
            parsed = time.fromisoformat(text.replace(",", "."))
            if parsed.tzinfo is None:
                return parsed
            moment = datetime.combine(date(2000, 1, 1), parsed).astimezone(UTC)
            return moment.time()
        return date.fromisoformat(text)
    except ValueError:
        return None


def _render_scalar(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Uri):
        return value.text
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return repr(value)


def _render_path(path: Path) -> str:
    keys = "".join(f"[{key}]" for key in path.keys)
    return ".".join(path.attrs) + keys


def render(node: Node) -> str:
    """Return query text that parses back to the same AST."""
    if isinstance(node, And | Or):
        sep = ";" if isinstance(node, And) else "|"
        return sep.join(
            f"({render(t)})" if isinstance(t, And | Or) else render(t) for t in node.terms
        )
    path = _render_path(node.path)
    if isinstance(node, Exists):
        return ("!" if node.negated else "") + path
    if isinstance(node, Pattern):
        op = "!~=" if node.negated else "~="
        return path + op + _render_scalar(node.regex)
    value = node.value
    if isinstance(value, Range):
        text = f"{_render_scalar(value.low)}..{_render_scalar(value.high)}"
    elif isinstance(value, tuple):
        text = ",".join(_render_scalar(v) for v in value)
    else:
        text = _render_scalar(value)
    return path + node.op.value + text

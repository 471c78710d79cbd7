"""Parse the NGSI-LD query language (``q``, ETSI GS CIM 009 V1.8 clause 4.9) into an AST.

The parser keeps attribute names compact; :mod:`opencitybrain.context.query_eval`
expands them with the request's @context. ``;`` (AND) binds tighter than ``|`` (OR), as
in ordinary boolean algebra, and parentheses may nest (a superset of the spec grammar,
which allows one level). Values follow the spec: numbers, double-quoted strings,
``true``/``false``, unquoted ISO 8601 dateTime/date/time, and unquoted URIs; ranges
(``a==1..9``) and value lists (``a==1,2``) go with ``==`` and ``!=`` only. Names are
terms or prefixed names (``ex:speed``); a full IRI containing dots cannot be told from a
path. An unquoted pattern ends at a top-level ``;``, ``|`` or ``)``: quote it to use them.
"""

from __future__ import annotations

import re
from typing import NoReturn

from opencitybrain.context import query_regex
from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.query_ast import (
    And,
    Compare,
    Exists,
    Node,
    Op,
    Or,
    Path,
    Pattern,
    Range,
    Scalar,
    Uri,
    parse_instant,
)

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "bad_query", "parse_query"]

MAX_LENGTH = 10_000
MAX_DEPTH = 32


_NAME = re.compile(r"[A-Za-z0-9_:@#/-]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(
    r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s;|(),\"]+")
# Characters that may follow a value: end, logical operators, list comma, range dots.
_VALUE_END = frozenset(";|),. \t")
# Longest operators first, so that "!~=" is not read as "!" and ">=" not as ">".
_OPERATORS = ("==", "!~=", "!=", "~=", ">=", "<=", ">", "<")


def bad_query(position: int, reason_en: str, reason_zh: str) -> NoReturn:
    """Raise BadRequestData for a malformed ``q``, naming the position and the reason."""
    raise BadRequestData(
        f"查询语句 q 在第 {position} 个字符处有误：{reason_zh}",
        f"invalid q at position {position}: {reason_en}",
        field="q",
        code="ngsi.bad_query",
    )


class _Parser:
    """Read one query left to right; each method consumes what it recognises."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def peek(self) -> str:
        self.skip_spaces()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> Node:
        node = self.disjunction(0)
        if self.peek():
            bad_query(self.pos, f"unexpected {self.text[self.pos]!r}", "多余的字符")
        return node

    def disjunction(self, depth: int) -> Node:
        terms = [self.conjunction(depth)]
        while self.peek() == "|":
            self.pos += 1
            terms.append(self.conjunction(depth))
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def conjunction(self, depth: int) -> Node:
        terms = [self.unit(depth)]
        while self.peek() == ";":
            self.pos += 1
            terms.append(self.unit(depth))
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def unit(self, depth: int) -> Node:
        if self.peek() != "(":
            return self.term()
        if depth >= MAX_DEPTH:
            bad_query(self.pos, f"parentheses nest deeper than {MAX_DEPTH}", "括号嵌套过深")
        self.pos += 1
        node = self.disjunction(depth + 1)
        if self.peek() != ")":
            bad_query(self.pos, "expected ')'", "缺少右括号")
        self.pos += 1
        return node

    def term(self) -> Node:
        if self.peek() == "!":
            self.pos += 1
            return Exists(self.path(), negated=True)
        path = self.path()
        self.skip_spaces()
        op = next((o for o in _OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is None:
            return Exists(path)
        self.pos += len(op)
        self.skip_spaces()
        if op in ("~=", "!~="):
            return Pattern(path, self.regex(), negated=op == "!~=")
        return self.comparison(path, Op(op))

    def names(self, what: str) -> tuple[str, ...]:
        names = []
        while True:
            match = _NAME.match(self.text, self.pos)
            if match is None:
                bad_query(self.pos, f"expected {what} name", "缺少属性名")
            names.append(match.group())
            self.pos = match.end()
            if not self.text.startswith(".", self.pos):
                return tuple(names)
            self.pos += 1

    def path(self) -> Path:
        self.skip_spaces()
        attrs = self.names("attribute")
        keys: list[str] = []
        while self.text.startswith("[", self.pos):
            self.pos += 1
            keys.extend(self.names("compound key"))
            if not self.text.startswith("]", self.pos):
                bad_query(self.pos, "expected ']'", "缺少右方括号")
            self.pos += 1
        return Path(attrs, tuple(keys))

    def comparison(self, path: Path, op: Op) -> Compare:
        start = self.pos
        first = self.scalar()
        if self.text.startswith("..", self.pos):
            self.pos += 2
            high = self.scalar()
            if op not in (Op.EQ, Op.NE):
                bad_query(start, "a range needs == or !=", "范围只能与 == 或 != 连用")
            if not _comparable(first) or _kind(first) != _kind(high):
                bad_query(start, "range ends must be comparable, of one type", "范围两端类型不符")
            return Compare(path, op, Range(first, high))
        if self.peek() == ",":
            values = [first]
            while self.peek() == ",":
                self.pos += 1
                self.skip_spaces()
                values.append(self.scalar())
            if op not in (Op.EQ, Op.NE):
                bad_query(start, "a value list needs == or !=", "值列表只能与 == 或 != 连用")
            return Compare(path, op, tuple(values))
        if op not in (Op.EQ, Op.NE) and not _comparable(first):
            bad_query(start, f"{op.value} needs a number, string or date", "该运算符需要可比较的值")
        return Compare(path, op, first)

    def scalar(self) -> Scalar:
        start, text = self.pos, self.text
        if text.startswith('"', start):
            return self.quoted()
        value: Scalar | None = None
        for pattern in (_DATETIME, _DATE, _TIME):
            match = pattern.match(text, start)
            if match and self.ends_value(match.end()):
                value = parse_instant(match.group())
                if value is None:
                    bad_query(start, f"invalid date/time {match.group()!r}", "日期时间无效")
                self.pos = match.end()
                return value
        for word, flag in (("true", True), ("false", False)):
            if text.startswith(word, start) and self.ends_value(start + len(word)):
                self.pos = start + len(word)
                return flag
        match = _NUMBER.match(text, start)
        if match and self.ends_value(match.end()):
            self.pos = match.end()
            number = match.group()
            return float(number) if any(c in number for c in ".eE") else int(number)
        match = _URI.match(text, start)
        if match:
            self.pos = match.end()
            return Uri(match.group())
        bad_query(
            start, "expected a value (strings need double quotes)", "缺少值（字符串须加双引号）"
        )

    def ends_value(self, end: int) -> bool:
        return end >= len(self.text) or self.text[end] in _VALUE_END

    def quoted(self) -> str:
        chars: list[str] = []
        i = self.pos + 1
        while i < len(self.text):
            c = self.text[i]
            if c == '"':
                self.pos = i + 1
                return "".join(chars)
            if c == "\\" and i + 1 < len(self.text) and self.text[i + 1] in '"\\':
                i += 1
                c = self.text[i]
            chars.append(c)
            i += 1
        bad_query(self.pos, "unterminated string", "字符串缺少结束引号")

    def regex(self) -> str:
        start = self.pos
        if self.text.startswith('"', start):
            source = self.quoted()
        else:
            source = self.text[start : query_regex.unquoted_end(self.text, start)]
            self.pos = start + len(source)
        problem = query_regex.check(source)
        if problem is not None:
            bad_query(start, problem[0], problem[1])
        return source


def _kind(value: Scalar) -> type:
    # datetime is a subclass of date, so the exact type tells them apart.
    return type(value) if not isinstance(value, int | float) or isinstance(value, bool) else float


def _comparable(value: Scalar) -> bool:
    return not isinstance(value, bool | Uri)


def parse_query(text: str) -> Node:
    """Parse a ``q`` expression into an AST; raise BadRequestData if it is malformed."""
    if len(text) > MAX_LENGTH:
        bad_query(MAX_LENGTH, f"query longer than {MAX_LENGTH} characters", "查询语句过长")
    if not text.strip():
        bad_query(0, "empty query", "查询语句为空")
    return _Parser(text).parse()

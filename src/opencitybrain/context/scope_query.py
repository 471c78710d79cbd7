"""The NGSI-LD scope query language (spec 1.8, clause 4.19): ``scopeQ``.

A scope is a path of levels such as ``/Nanchang/Donghu/Bayi``. A scope term matches an
entity when one of the entity's scopes matches it:

- ``/Nanchang/Donghu`` that scope exactly;
- ``/Nanchang/#`` that scope and every scope below it;
- ``/+/Donghu`` any one level in place of ``+``;
- ``/#`` any scope at all (the entity has a scope).

Terms combine with ``;`` (AND) and ``,`` (OR); AND binds tighter, and parentheses group.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.model import Entity

ScopeTest = Callable[[Sequence[str]], bool]

_LEVEL = re.compile(r"^[^/\s#+;,()]+$")
_TOKENS = re.compile(r"\s*([();,]|[^();,\s]+)\s*")


def _bad(reason_zh: str, reason_en: str) -> BadRequestData:
    return BadRequestData(
        f"scopeQ 无效：{reason_zh}", f"invalid scopeQ: {reason_en}", field="scopeQ"
    )


def _term(text: str) -> re.Pattern[str]:
    """Compile one scope term to a regular expression over a whole scope."""
    if not text.startswith("/") or text == "/":
        raise _bad(f"{text!r} 不是范围路径", f"{text!r} is not a scope path")
    levels = text[1:].split("/")
    parts: list[str] = []
    for i, level in enumerate(levels):
        if level == "#":
            if i != len(levels) - 1:
                raise _bad("# 只能在末级", "# may only be the last level")
            # "/#" is any scope; "/a/#" is /a itself or anything under it.
            return re.compile("^/.+$" if i == 0 else "^" + "".join(parts) + "(?:/.+)?$")
        if level == "+":
            parts.append("/[^/]+")
        elif _LEVEL.match(level):
            parts.append("/" + re.escape(level))
        else:
            raise _bad(f"层级 {level!r} 无效", f"bad level {level!r}")
    return re.compile("^" + "".join(parts) + "$")


class _Parser:
    """Recursive descent: or := and (',' and)* ; and := atom (';' atom)* ; atom := term | (or)."""

    def __init__(self, text: str) -> None:
        self.tokens = [t for t in _TOKENS.findall(text) if t]
        if "".join(self.tokens) != re.sub(r"\s+", "", text):
            raise _bad("含无法识别的字符", "holds characters it cannot read")
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise _bad("表达式不完整", "the expression ends too early")
        self.at += 1
        return token

    def parse(self) -> ScopeTest:
        test = self.any_of()
        if self.peek() is not None:
            raise _bad(f"多余的 {self.peek()!r}", f"unexpected {self.peek()!r}")
        return test

    def any_of(self) -> ScopeTest:
        tests = [self.all_of()]
        while self.peek() == ",":
            self.take()
            tests.append(self.all_of())
        if len(tests) == 1:
            return tests[0]
        return lambda scopes: any(t(scopes) for t in tests)

    def all_of(self) -> ScopeTest:
        tests = [self.atom()]
        while self.peek() == ";":
            self.take()
            tests.append(self.atom())
        if len(tests) == 1:
            return tests[0]
        return lambda scopes: all(t(scopes) for t in tests)

    def atom(self) -> ScopeTest:
        item = self.take()
        if item == "(":
            inner = self.any_of()
            if self.take() != ")":
                raise _bad("括号不配对", "unbalanced parentheses")
            return inner
        if item in (")", ";", ","):
            raise _bad(f"意外的 {item!r}", f"unexpected {item!r}")
        pattern = _term(item)
        return lambda scopes: any(pattern.match(s) for s in scopes)


@lru_cache(maxsize=256)
def compile_scope_query(text: str) -> ScopeTest:
    """Return a test of an entity's scopes for a ``scopeQ`` (BadRequestData if malformed)."""
    if not text.strip():
        raise _bad("为空", "is empty")
    return _Parser(text).parse()


def scope_filter(text: str | None) -> Callable[[Entity], bool] | None:
    """Return an entity predicate for a ``scopeQ``, or None when there is none."""
    if text is None:
        return None
    test = compile_scope_query(text)
    return lambda entity: test(entity.scope)

"""Refuse regular expressions that could take exponential time (``~=`` in NGSI-LD ``q``).

Python's ``re`` backtracks and cannot be interrupted, so one hostile pattern could stall
a broker worker for minutes. Rather than run patterns under a timer, the parser refuses
the shapes that cause catastrophic backtracking before anything runs them:

* a repeated group that itself holds an unbounded quantifier (``(a+)+``, ``(a*){2,}``);
* a repeated group with alternatives (``(a|ab)*``): checking whether branches overlap
  needs a regex engine of its own, and ``[ab]*`` or an unrepeated group says the same;
* back-references (``\\1``, ``(?P=x)``) and conditionals, which are not regular;
* more than :data:`MAX_UNBOUNDED` unbounded quantifiers, or counted repeats above
  :data:`MAX_REPEAT`, which give polynomial blow-ups of high degree;
* patterns longer than :data:`MAX_PATTERN`, and any that ``re`` cannot compile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_PATTERN", "MAX_REPEAT", "MAX_UNBOUNDED", "check", "unquoted_end"]

MAX_PATTERN = 512
MAX_REPEAT = 1000
MAX_UNBOUNDED = 8

_COUNTED = re.compile(r"\{(\d*)(,?)(\d*)\}")


@dataclass(slots=True)
class _Group:
    unbounded: bool = False
    alternation: bool = False


def unquoted_end(text: str, start: int) -> int:
    """Return where an unquoted pattern ends: at ``;``, ``|`` or ``)`` outside its groups.

    Groups and character classes of the pattern itself are skipped over, so ``a~=(x|y)z``
    reads the whole of ``(x|y)z``; a ``|`` at the pattern's top level is the OR operator.
    """
    depth, i, n = 0, start, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(text, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return i
            depth -= 1
        elif c in ";|" and depth == 0:
            return i
        i += 1
    return n


def _class_end(text: str, i: int) -> int:
    """Return the index just past the character class that opens at ``i``."""
    i += 1
    if i < len(text) and text[i] == "^":
        i += 1
    if i < len(text) and text[i] == "]":
        i += 1
    while i < len(text) and text[i] != "]":
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _quantifier(text: str, i: int) -> tuple[int, bool, int] | None:
    """Read a quantifier at ``i``: (its length, whether unbounded, its largest count)."""
    if i >= len(text):
        return None
    c = text[i]
    if c in "*+?":
        length, unbounded, top = 1, c != "?", 1
    else:
        match = _COUNTED.match(text, i)
        if match is None or not (match.group(1) or match.group(3)):
            return None
        low, comma, high = match.groups()
        unbounded = bool(comma) and not high
        length, top = match.end() - i, max(int(low or 0), int(high or 0))
    # A lazy or possessive suffix changes how, not how often, the atom repeats.
    if i + length < len(text) and text[i + length] in "?+":
        length += 1
    return length, unbounded, top


def check(source: str) -> tuple[str, str] | None:
    """Return (English, Chinese) reasons a pattern is refused, or None if it is safe."""
    if len(source) > MAX_PATTERN:
        return f"pattern longer than {MAX_PATTERN} characters", "正则表达式过长"
    try:
        re.compile(source)
    except re.error as exc:
        return f"invalid regular expression: {exc}", "正则表达式无效"
    stack, unbounded_total, i = [_Group()], 0, 0
    while i < len(source):
        c = source[i]
        closed: _Group | None = None
        if c == "\\":
            if i + 1 < len(source) and source[i + 1] in "123456789":
                return "back-references are not allowed", "不允许反向引用"
            i += 2
        elif c == "[":
            i = _class_end(source, i)
        elif c == "(":
            if source.startswith(("(?P=", "(?("), i):
                return "back-references are not allowed", "不允许反向引用"
            stack.append(_Group())
            i += 1
            continue
        elif c == ")":
            closed = stack.pop()
            i += 1
        else:
            if c == "|":
                stack[-1].alternation = True
            i += 1
            if c in "|^$":
                continue
        quantifier = _quantifier(source, i)
        if quantifier is None:
            if closed is not None and closed.unbounded:
                stack[-1].unbounded = True
            continue
        length, unbounded, top = quantifier
        i += length
        if top > MAX_REPEAT:
            return f"repeat count above {MAX_REPEAT}", "重复次数过大"
        repeats = unbounded or top > 1
        if closed is not None and repeats and (closed.unbounded or closed.alternation):
            return (
                "nested or ambiguous repetition (catastrophic backtracking)",
                "嵌套重复会导致回溯爆炸",
            )
        if unbounded:
            unbounded_total += 1
            if unbounded_total > MAX_UNBOUNDED:
                return f"more than {MAX_UNBOUNDED} unbounded repeats", "无界重复过多"
        stack[-1].unbounded |= unbounded or bool(closed and closed.unbounded)
    return None

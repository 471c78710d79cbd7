"""Masking (脱敏) and pseudonyms: what a shared value looks like when a grant does not clear it.

The customary display rules of STANDARDS.md, one per :class:`Masking` type, as data
(:class:`MaskRule`) so a city can change them without code:

- name 姓名: keep the first character (段**)
- ID number 身份证: keep the first 1 and the last 2 (5***************1X)
- mobile 手机: keep the first 3 and the last 4 (180****1999)
- landline 座机: keep the first 4 and the last 2 (0915*****79)
- address 地址: hide the last 8 characters (北京市海淀区马********)
- plate 车牌: keep the first 3 and the last 1 — hides positions 4–6 of a 7-character plate
  and 4–7 of an 8-character one (苏D4***0)
- bank card: keep the first 4 and the last 4 (6222********1234)

A masked value keeps its length, so a reader still sees its shape. A value too short
for its rule keeps at most its first character (a single character is hidden whole):
a short value never leaves unmasked because the rule did not fit it.

Pseudonyms are keyed HMAC-SHA256 of the value with a key derived from the platform
secret: the same value gives the same token in every resource, so joins still work
inside the platform, and nobody without the secret can test a guess.

A city states its own rules in settings (``[sharing.masking]`` in citybrain.toml, or
``CITYBRAIN_SHARING__MASKING``); :func:`policy_from_settings` turns them into a policy at
start and refuses an unknown masking type by its key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from opencitybrain.catalog.model import FieldSpec, Masking
from opencitybrain.catalog.rows import MASK_CHAR, MaskRule, Row, Value
from opencitybrain.kernel.settings import MaskingSettings

PSEUDONYM_PREFIX = "pn_"
_PSEUDONYM_INFO = b"opencitybrain.sharing.pseudonym.v1"


DEFAULT_RULES: Mapping[Masking, MaskRule] = {
    Masking.NAME: MaskRule(keep_first=1),
    Masking.ID_NUMBER: MaskRule(keep_first=1, keep_last=2),
    Masking.MOBILE: MaskRule(keep_first=3, keep_last=4),
    Masking.LANDLINE: MaskRule(keep_first=4, keep_last=2),
    Masking.ADDRESS: MaskRule(hide_last=8),
    Masking.PLATE: MaskRule(keep_first=3, keep_last=1),
    Masking.BANK_CARD: MaskRule(keep_first=4, keep_last=4),
}


@dataclass(frozen=True, slots=True)
class MaskPolicy:
    """The rule per masking type (the customary ones unless a city overrides some)."""

    rules: Mapping[Masking, MaskRule] = field(default_factory=lambda: dict(DEFAULT_RULES))

    def with_rule(self, masking: Masking, rule: MaskRule) -> MaskPolicy:
        """Return a policy with one rule replaced (e.g. ID numbers: first 6 + last 4)."""
        if masking is Masking.NONE:
            raise ValueError("Masking.NONE has no rule")
        return MaskPolicy({**self.rules, masking: rule})

    def mask(self, masking: Masking, value: Value) -> Value:
        """Return the value masked for display (None stays None; NONE leaves it as is)."""
        if value is None or masking is Masking.NONE:
            return value
        return self.rules[masking].apply(value if isinstance(value, str) else str(value))

    def mask_column(self, masking: Masking, values: Sequence[Value]) -> list[Value]:
        """Return a column of values masked by one rule (one pass, no per-cell dispatch)."""
        if masking is Masking.NONE:
            return list(values)
        return _column_masker(self.rules[masking])(values)


DEFAULT_POLICY = MaskPolicy()


def policy_from_settings(settings: MaskingSettings) -> MaskPolicy:
    """Return the policy a city states: its rules by type, the customary ones for the rest.

    The mask character applies to every rule that names none of its own (the customary
    ones included). Raise ``ValueError`` naming the key for an unknown masking type.
    """
    known = {m.value: m for m in Masking if m is not Masking.NONE}
    rules: dict[Masking, MaskRule] = {
        m: (rule if settings.char == MASK_CHAR else replace(rule, char=settings.char))
        for m, rule in DEFAULT_RULES.items()
    }
    for name, stated in settings.rules.items():
        masking = known.get(name)
        if masking is None:
            raise ValueError(
                f"sharing.masking.{name}: 未知的脱敏类型 {name!r} / unknown masking type "
                f"{name!r}; known: {', '.join(known)}"
            )
        rules[masking] = MaskRule(
            keep_first=stated.keep_first,
            keep_last=stated.keep_last,
            hide_last=stated.hide_last,
            char=stated.char or settings.char,
        )
    return MaskPolicy(rules)


def mask_value(masking: Masking, value: Value, policy: MaskPolicy = DEFAULT_POLICY) -> Value:
    """Return a value masked by the customary rule of its masking type."""
    return policy.mask(masking, value)


def _column_masker(rule: MaskRule) -> Callable[[Sequence[Value]], list[Value]]:
    """Return a function masking a whole column by one rule.

    The rule's numbers are bound once and the common case (a text long enough for the
    rule) is a slice and a concatenation in one comprehension; only short values and
    non-text values take the general path.
    """
    char, general = rule.char, rule.apply
    if rule.hide_last is not None:
        hide = rule.hide_last
        stars = char * hide

        def by_tail(values: Sequence[Value]) -> list[Value]:
            return [
                (v[:-hide] + stars if len(v) > hide else general(v))
                if isinstance(v, str)
                else (None if v is None else general(str(v)))
                for v in values
            ]

        return by_tail
    head, tail = rule.keep_first, rule.keep_last
    keep = head + tail

    def by_ends(values: Sequence[Value]) -> list[Value]:
        return [
            (
                v[:head] + char * (len(v) - keep) + v[len(v) - tail :]
                if len(v) > keep
                else general(v)
            )
            if isinstance(v, str)
            else (None if v is None else general(str(v)))
            for v in values
        ]

    return by_ends


def pseudonym_key(secret: str | bytes) -> bytes:
    """Derive the pseudonym key from the platform secret (never the secret itself)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, _PSEUDONYM_INFO, hashlib.sha256).digest()


def pseudonym(secret: str | bytes, value: Value) -> str | None:
    """Return the stable keyed pseudonym of a value (None stays None).

    The value is taken as text with surrounding spaces removed; letters are upper-cased so
    an ID number ending in x or X gives one token.
    """
    if value is None:
        return None
    return _pseudonym_with_key(pseudonym_key(secret), value)


def _pseudonym_with_key(key: bytes, value: Value) -> str:
    text = (value if isinstance(value, str) else str(value)).strip().upper()
    digest = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:32]


@dataclass(frozen=True, slots=True)
class RowMasker:
    """Apply a resource's field specs to rows, given the fields a grant clears.

    Per field: a cleared field is returned as stored; an identifier is returned as a
    pseudonym when pseudonyms are asked for (cleared or not: the caller asked not to see
    it); any other field with a masking type is masked; fields without one pass as they are.
    """

    fields: tuple[FieldSpec, ...]
    cleared: frozenset[str] = frozenset()
    pseudonymise: bool = False
    secret: str | bytes = b""
    policy: MaskPolicy = DEFAULT_POLICY

    def plan(self, columns: Iterable[str]) -> dict[str, Callable[[Sequence[Value]], list[Value]]]:
        """Return, per column that changes, the column function that changes it."""
        names = list(columns)
        key = pseudonym_key(self.secret) if self.pseudonymise else b""
        out: dict[str, Callable[[Sequence[Value]], list[Value]]] = {
            name: _pseudonym_column(key) for name in self.pseudonymised(names)
        }
        for name, rule in self.mask_rules(names).items():
            out[name] = _column_masker(rule)
        return out

    def pseudonymised(self, columns: Iterable[str]) -> tuple[str, ...]:
        """Return the columns given as pseudonyms: identifiers, when pseudonyms are asked for."""
        if not self.pseudonymise:
            return ()
        specs = {f.name: f for f in self.fields}
        return tuple(n for n in columns if n in specs and specs[n].is_identifier)

    def mask_rules(self, columns: Iterable[str]) -> dict[str, MaskRule]:
        """Return the display rule of every column masked for display (not pseudonymised).

        The read path hands these to the row store, which masks in its engine.
        """
        specs = {f.name: f for f in self.fields}
        pseudo = set(self.pseudonymised(specs))
        out: dict[str, MaskRule] = {}
        for name in columns:
            spec = specs.get(name)
            if spec is None or name in pseudo or name in self.cleared:
                continue
            if spec.masking is not Masking.NONE:
                out[name] = self.policy.rules[spec.masking]
        return out

    def apply_row(self, row: Row) -> Row:
        """Return one row masked (a new dict; the input is untouched)."""
        return self.apply([row])[0]

    def apply(
        self, rows: Sequence[Row], *, copy: bool = True, only: Sequence[str] | None = None
    ) -> list[Row]:
        """Return a page of rows masked column by column.

        New dicts by default (inputs untouched); ``copy=False`` masks the caller's own
        rows in place (the read path owns the page the port just made). ``only`` limits
        the work to those columns (the read path: the row store already masked the rest).
        """
        if not rows:
            return []
        columns = list(rows[0].keys()) if only is None else [c for c in only if c in rows[0]]
        plan = self.plan(columns)
        out = [dict(r) for r in rows] if copy else list(rows)
        if not plan:
            return out
        changed = {name: fn([r.get(name) for r in rows]) for name, fn in plan.items()}
        for name, values in changed.items():
            for row, value in zip(out, values, strict=True):
                row[name] = value
        return out


def _pseudonym_column(key: bytes) -> Callable[[Sequence[Value]], list[Value]]:
    def column(values: Sequence[Value]) -> list[Value]:
        return [None if v is None else _pseudonym_with_key(key, v) for v in values]

    return column

"""JSON-LD 1.1 context processing, the subset NGSI-LD needs for names (no network).

Term definitions as strings or ``{"@id", "@type", "@container", "@prefix"}`` objects,
prefixes and compact IRIs, ``@vocab``, ``@import``, ``null`` resets and (nested) arrays of
contexts. Scoped contexts, ``@reverse`` and ``@base`` do not affect names and are ignored.
URLs are resolved by the ``load`` function given to :class:`ContextProcessor`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opencitybrain.context.errors import BadRequestData

SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")
_GEN_DELIMS = frozenset(":/?#[]@")
_MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class TermDef:
    """One term definition: its IRI and the bits of JSON-LD metadata NGSI-LD uses."""

    iri: str
    type: str | None = None
    container: str | None = None
    prefix: bool = False


def expand_iri(value: str, terms: Mapping[str, TermDef], vocab: str | None) -> str:
    """Return the IRI of a term, compact IRI or IRI, vocab-relative (JSON-LD 1.1 §5.2)."""
    if value.startswith("@"):
        return value
    known = terms.get(value)
    if known is not None:
        return known.iri
    prefix, colon, suffix = value.partition(":")
    if colon:
        if prefix == "_" or suffix.startswith("//"):
            return value
        prefix_def = terms.get(prefix)
        if prefix_def is not None and prefix_def.prefix:
            return prefix_def.iri + suffix
        if SCHEME_RE.match(prefix):
            return value
    if vocab is not None:
        return vocab + value
    return value


class ContextProcessor:
    """Process a chain of local contexts into term definitions (JSON-LD 1.1, §4.1-4.2)."""

    def __init__(self, load: Callable[[str], Any]) -> None:
        self.load = load
        self.terms: dict[str, TermDef] = {}
        self.vocab: str | None = None

    def process(self, value: Any, depth: int = 0, seen: tuple[str, ...] = ()) -> None:
        """Apply a context value (URL, object, array or null) on top of the current terms."""
        if depth > _MAX_DEPTH:
            raise BadRequestData(
                "@context 嵌套过深", "the @context nests too deeply", field="@context"
            )
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item is None:
                self.terms, self.vocab = {}, None
            elif isinstance(item, str):
                if item in seen:
                    raise BadRequestData(
                        f"@context 循环引用：{item}",
                        f"the @context includes itself: {item}",
                        field="@context",
                    )
                self.process(self.load(item), depth + 1, (*seen, item))
            elif isinstance(item, Mapping):
                self._local(item, depth, seen)
            elif isinstance(item, list):
                # Strict JSON-LD forbids directly nested arrays; flattening them is harmless.
                self.process(item, depth + 1, seen)
            else:
                raise BadRequestData(
                    "@context 只能是 URL、对象或它们的数组",
                    "an @context must be a URL, an object or an array of them",
                    field="@context",
                )

    def _local(self, local: Mapping[str, Any], depth: int, seen: tuple[str, ...]) -> None:
        imported = local.get("@import")
        if imported is not None:
            if not isinstance(imported, str):
                raise BadRequestData(
                    "@import 必须是 URL", "@import must be a URL", field="@context"
                )
            base = self.load(imported)
            if not isinstance(base, Mapping):
                raise BadRequestData(
                    "@import 的文档必须是对象", "an @import'ed context must be an object"
                )
            local = {**base, **{k: v for k, v in local.items() if k != "@import"}}
        if "@vocab" in local:
            vocab = local["@vocab"]
            if vocab is not None and not isinstance(vocab, str):
                raise BadRequestData("@vocab 必须是字符串", "@vocab must be a string")
            self.vocab = None if vocab is None else expand_iri(vocab, self.terms, self.vocab)
        state: dict[str, bool] = {}
        for term in local:
            if not term.startswith("@"):
                self._define(term, local, state)

    def _define(self, term: str, local: Mapping[str, Any], state: dict[str, bool]) -> None:
        done = state.get(term)
        if done:
            return
        if done is False:
            raise BadRequestData(
                f"@context 中术语 {term} 循环定义",
                f"term {term} is defined in a cycle in the @context",
                field=term,
            )
        state[term] = False
        raw = local[term]
        if raw is None or (isinstance(raw, Mapping) and "@id" in raw and raw["@id"] is None):
            # A null mapping removes the term; the name then falls back to @vocab.
            self.terms.pop(term, None)
            state[term] = True
            return
        simple = isinstance(raw, str)
        if simple:
            raw_id: Any = raw
            raw_type = container = None
        elif isinstance(raw, Mapping):
            raw_id = raw.get("@id", raw.get("@reverse"))
            raw_type, container = raw.get("@type"), raw.get("@container")
        else:
            raise BadRequestData(
                f"@context 中术语 {term} 的定义无效",
                f"the definition of term {term} in the @context is invalid",
                field=term,
            )
        if raw_id is None or raw_id == term:
            # A term mapped to itself is treated like one without @id (JSON-LD 1.1 §4.2.2).
            iri = self._implicit_iri(term, local, state)
        elif isinstance(raw_id, str):
            iri = self._expand_local(raw_id, local, state)
        else:
            raise BadRequestData(
                f"术语 {term} 的 @id 必须是字符串",
                f"the @id of term {term} must be a string",
                field=term,
            )
        type_iri = self._expand_local(raw_type, local, state) if isinstance(raw_type, str) else None
        if isinstance(container, list):
            container = container[0] if container else None
        if simple or (isinstance(raw, Mapping) and "@prefix" not in raw):
            prefix = simple and ":" not in term and iri[-1:] in _GEN_DELIMS
        else:
            prefix = bool(raw.get("@prefix")) if isinstance(raw, Mapping) else False
        self.terms[term] = TermDef(
            iri, type_iri, container if isinstance(container, str) else None, prefix
        )
        state[term] = True

    def _expand_local(self, value: str, local: Mapping[str, Any], state: dict[str, bool]) -> str:
        # Terms this same local context defines must be defined first (JSON-LD 1.1 §4.2.2).
        if value in local and not value.startswith("@"):
            self._define(value, local, state)
        head, colon, _ = value.partition(":")
        if colon and head in local:
            self._define(head, local, state)
        return expand_iri(value, self.terms, self.vocab)

    def _implicit_iri(self, term: str, local: Mapping[str, Any], state: dict[str, bool]) -> str:
        # A definition without @id maps the term through its prefix or through @vocab.
        head, colon, tail = term.partition(":")
        if colon:
            if head in local:
                self._define(head, local, state)
            prefix_def = self.terms.get(head)
            if prefix_def is not None and prefix_def.prefix:
                return prefix_def.iri + tail
            return term
        if self.vocab is None:
            raise BadRequestData(
                f"术语 {term} 没有 @id，也没有 @vocab",
                f"term {term} has no @id and there is no @vocab",
                field=term,
            )
        return self.vocab + term

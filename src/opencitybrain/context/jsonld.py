"""JSON-LD @context resolution and term expansion/compaction for NGSI-LD, with no network.

NGSI-LD only needs the JSON-LD processing that turns entity types, attribute names and
vocab values into IRIs and back, so the project implements that subset of JSON-LD 1.1
itself (context processing in :mod:`opencitybrain.context.jsonld_terms`, IRI compaction
here) rather than running a full processor per request.

Context URLs resolve to the packaged files (the core context, the Smart Data Models
contexts) or to documents registered in memory with :meth:`ContextResolver.register`; any
other URL raises LdContextNotAvailable. The core context is always applied last, so its
terms win (clause 4.4). A compiled context is cached per @context value and caches each
term it expands, so expansion on a hot path is one dict lookup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from opencitybrain.context.errors import BadRequestData, LdContextNotAvailable
from opencitybrain.context.jsonld_terms import SCHEME_RE, ContextProcessor, TermDef, expand_iri

NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"

ContextValue = str | Mapping[str, Any] | list[Any] | None

_CACHE_LIMIT = 4096


class CompiledContext:
    """Expand terms to IRIs and compact IRIs to terms under one active @context."""

    __slots__ = ("_compacted", "_expanded", "_inverse", "_prefixes", "terms", "value", "vocab")

    def __init__(self, value: ContextValue, terms: dict[str, TermDef], vocab: str | None) -> None:
        self.value = value
        self.terms = terms
        self.vocab = vocab
        self._expanded: dict[str, str] = {}
        self._compacted: dict[str, str] = {}
        # The preferred term for each IRI: plain terms first, then shortest, then least.
        ranked = sorted(
            (t for t, d in terms.items() if not d.iri.startswith("@")),
            key=lambda t: (terms[t].type is not None or terms[t].container is not None, len(t), t),
        )
        self._inverse: dict[str, str] = {}
        for term in ranked:
            self._inverse.setdefault(terms[term].iri, term)
        self._prefixes = sorted(
            ((t, d.iri) for t, d in terms.items() if d.prefix), key=lambda p: (len(p[0]), p[0])
        )

    def expand(self, term: str) -> str:
        """Return the IRI of a term, compact IRI or IRI (vocab-relative, as for keys)."""
        try:
            return self._expanded[term]
        except KeyError:
            iri = expand_iri(term, self.terms, self.vocab)
            if len(self._expanded) < _CACHE_LIMIT * 4:
                self._expanded[term] = iri
            return iri

    def compact(self, iri: str) -> str:
        """Return the shortest term or compact IRI that expands back to ``iri``."""
        try:
            return self._compacted[iri]
        except KeyError:
            term = self._compact_new(iri)
            if len(self._compacted) < _CACHE_LIMIT * 4:
                self._compacted[iri] = term
            return term

    def definition(self, term: str) -> TermDef | None:
        """Return the term's definition, or None when the term is not defined."""
        return self.terms.get(term)

    def _compact_new(self, iri: str) -> str:
        term = self._inverse.get(iri)
        if term is not None:
            return term
        vocab = self.vocab
        if vocab and iri.startswith(vocab) and len(iri) > len(vocab):
            suffix = iri[len(vocab) :]
            if suffix not in self.terms and ":" not in suffix and not suffix.startswith("@"):
                return suffix
        best: str | None = None
        for prefix, prefix_iri in self._prefixes:
            if not iri.startswith(prefix_iri) or len(iri) == len(prefix_iri):
                continue
            candidate = f"{prefix}:{iri[len(prefix_iri) :]}"
            known = self.terms.get(candidate)
            if known is not None and known.iri != iri:
                continue
            if best is None or (len(candidate), candidate) < (len(best), best):
                best = candidate
        return best if best is not None else iri


class ContextResolver:
    """Resolve @context values to compiled contexts from local documents only."""

    def __init__(self) -> None:
        self._builtin: dict[str, Mapping[str, Any]] = {}
        self._core_urls: frozenset[str] = frozenset()
        self._load_packaged()
        self._user: dict[str, Mapping[str, Any]] = {}
        self._cache: dict[Any, CompiledContext] = {}
        self.core = self.compile(None)

    def _load_packaged(self) -> None:
        folder = resources.files("opencitybrain.context") / "contexts"
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest["contexts"]:
            document = json.loads((folder / entry["file"]).read_text(encoding="utf-8"))
            for url in entry["urls"]:
                self._builtin[url] = document
            if entry["urls"][0] == CORE_CONTEXT_URL:
                self._core_urls = frozenset(entry["urls"])

    def is_core(self, url: str) -> bool:
        """Tell whether a URL names the NGSI-LD core context (any version)."""
        return url in self._core_urls

    def document(self, url: str) -> Mapping[str, Any] | None:
        """Return the JSON-LD document served for a URL, or None if it is unknown."""
        return self._user.get(url) or self._builtin.get(url)

    def urls(self) -> list[str]:
        """Return every URL this resolver answers for, packaged ones first."""
        return [*self._builtin, *self._user]

    def register(self, url: str, document: Mapping[str, Any]) -> None:
        """Serve ``document`` (an object with an ``@context``) under ``url`` from now on."""
        if url in self._builtin:
            raise BadRequestData(
                f"不能覆盖内置 @context：{url}", f"a packaged @context cannot be replaced: {url}"
            )
        if not isinstance(document, Mapping) or "@context" not in document:
            raise BadRequestData(
                "JSON-LD 文档必须是带 @context 的对象",
                "a JSON-LD context document must be an object with an @context member",
                field="@context",
            )
        previous = self._user.get(url)
        self._user[url] = document
        try:
            self._build(document["@context"])
        except Exception:
            if previous is None:
                del self._user[url]
            else:
                self._user[url] = previous
            raise
        self._cache.clear()

    def unregister(self, url: str) -> bool:
        """Stop serving a registered URL; return whether it was registered."""
        found = self._user.pop(url, None) is not None
        if found:
            self._cache.clear()
        return found

    def context_of(self, url: str) -> Any:
        """Return the @context member of the document at ``url``; never fetch it."""
        document = self.document(url)
        if document is None:
            scheme, colon, _ = url.partition(":")
            if not colon or not SCHEME_RE.match(scheme):
                raise BadRequestData(
                    f"@context 不是 URL：{url}", f"@context is not a URL: {url}", field="@context"
                )
            raise LdContextNotAvailable(
                f"@context {url} 不可用：本代理不从网络获取 @context，"
                "请先通过 /jsonldContexts 注册",
                f"@context {url} is not available: this broker never fetches contexts over the "
                "network; register it through /jsonldContexts first",
                field="@context",
            )
        return document.get("@context")

    def compile(self, context: ContextValue | CompiledContext) -> CompiledContext:
        """Return the compiled form of an @context value (cached), core context last."""
        if isinstance(context, CompiledContext):
            return context
        key = _cache_key(context)
        compiled = self._cache.get(key)
        if compiled is None:
            compiled = self._build(context)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = compiled
        return compiled

    def expand(self, term: str, context: ContextValue | CompiledContext = None) -> str:
        """Return the IRI of ``term`` under ``context``."""
        return self.compile(context).expand(term)

    def compact(self, iri: str, context: ContextValue | CompiledContext = None) -> str:
        """Return the term for ``iri`` under ``context``."""
        return self.compile(context).compact(iri)

    def _build(self, context: ContextValue) -> CompiledContext:
        user = context if isinstance(context, list) else [] if context is None else [context]
        builder = ContextProcessor(self.context_of)
        builder.process([c for c in user if not (isinstance(c, str) and self.is_core(c))])
        builder.process(CORE_CONTEXT_URL)
        return CompiledContext(context, builder.terms, builder.vocab)


def _cache_key(context: ContextValue) -> Any:
    if context is None or isinstance(context, str):
        return context
    if isinstance(context, list) and all(isinstance(c, str) for c in context):
        return tuple(context)
    try:
        return json.dumps(context, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise BadRequestData(
            "@context 不是合法的 JSON", "the @context is not valid JSON", field="@context"
        ) from exc

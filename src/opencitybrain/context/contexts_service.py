"""User @contexts served at /jsonldContexts (spec 1.8, 5.13): add, list, serve, delete.

A context added by a client is *Hosted*: stored (the store is the truth, so it survives a
restart through :func:`load_stored_contexts`) under a new URL on this server and
registered in the broker's :class:`ContextResolver`, so requests may name it in a Link
header or an @context at once. The packaged contexts (the NGSI-LD core context, the Smart
Data Models contexts) are *Cached* copies that can be served but not deleted. Only the
core context is listed among them, as a broker that has fetched nothing else would list
it; the others are served by URL. Nothing is ever fetched, so nothing is reloaded.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from opencitybrain.context.errors import BadRequestData, NgsiLdError, ResourceNotFound
from opencitybrain.context.jsonld import CORE_CONTEXT_URL, ContextResolver
from opencitybrain.context.model import format_datetime
from opencitybrain.context.store import EntityStore
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.ids import new_id

log = logging.getLogger(__name__)

CONTEXTS_PATH = "/ngsi-ld/v1/jsonldContexts/"
KINDS = ("Hosted", "Cached", "ImplicitlyCreated")
CORE_LOCAL_ID = "ngsi-ld-core-context-v1.8"

# When each resolver's packaged contexts were first served: their createdAt.
_packaged_since: weakref.WeakKeyDictionary[ContextResolver, datetime] = weakref.WeakKeyDictionary()


@cache
def packaged_urls() -> frozenset[str]:
    """Return every URL a packaged context answers for (core, Smart Data Models)."""
    return frozenset(ContextResolver().urls())


@dataclass(frozen=True, slots=True)
class ContextInfo:
    """Describe one @context: its URL, local id, kind and when it was created."""

    url: str
    local_id: str
    kind: str
    created_at: datetime

    @property
    def packaged(self) -> bool:
        """Tell whether this is one of the packaged contexts."""
        return self.url in packaged_urls()

    def details(self) -> dict[str, Any]:
        """Return the detailed description ``details=true`` asks for (spec 5.13.3)."""
        return {
            "URL": self.url,
            "localId": self.local_id,
            "kind": self.kind,
            "createdAt": format_datetime(self.created_at),
        }


def _local_id(url: str) -> str:
    return url.rsplit(CONTEXTS_PATH, 1)[1] if CONTEXTS_PATH in url else url


class JsonLdContexts:
    """Add, list, serve and delete @contexts, keeping store and resolver in step."""

    def __init__(self, store: EntityStore, resolver: ContextResolver, clock: Clock) -> None:
        self.store = store
        self.resolver = resolver
        self.clock = clock

    def _packaged(self, url: str, local_id: str | None = None) -> ContextInfo:
        since = _packaged_since.setdefault(self.resolver, self.clock.now())
        return ContextInfo(url, local_id or url, "Cached", since)

    def add(self, base_url: str, document: Any) -> ContextInfo:
        """Host a JSON-LD document (``{"@context": …}``) under a new URL below ``base_url``."""
        if not isinstance(document, Mapping) or "@context" not in document:
            raise BadRequestData(
                "请求体必须是含 @context 成员的 JSON 对象",
                "the body must be a JSON object with an @context member",
                field="@context",
            )
        local_id = new_id().lower()
        url = f"{base_url.rstrip('/')}{CONTEXTS_PATH}{local_id}"
        now = self.clock.now()
        # Registering compiles the context first: a bad or unresolvable one is refused.
        self.resolver.register(url, document)
        try:
            self.store.put_context(url, dict(document), now, "Hosted")
        except Exception:
            self.resolver.unregister(url)
            raise
        return ContextInfo(url, local_id, "Hosted", now)

    def listing(self, kind: str | None = None) -> list[ContextInfo]:
        """Return the core context and every hosted context, optionally of one kind."""
        found = [self._packaged(CORE_CONTEXT_URL, CORE_LOCAL_ID)]
        found += [
            ContextInfo(c.url, _local_id(c.url), c.kind, c.created_at)
            for c in self.store.list_contexts()
        ]
        return [c for c in found if kind is None or c.kind == kind]

    def find(self, context_id: str) -> ContextInfo | None:
        """Return the context named by a URL or a local id, or None."""
        if context_id in (CORE_LOCAL_ID, CORE_CONTEXT_URL):
            return self._packaged(CORE_CONTEXT_URL, CORE_LOCAL_ID)
        if context_id in packaged_urls():
            return self._packaged(context_id)
        for stored in self.store.list_contexts():
            if stored.url == context_id or _local_id(stored.url) == context_id:
                return ContextInfo(
                    stored.url, _local_id(stored.url), stored.kind, stored.created_at
                )
        return None

    def get(self, context_id: str) -> ContextInfo:
        """Return the context named by a URL or local id, or raise ResourceNotFound."""
        info = self.find(context_id)
        if info is None:
            raise ResourceNotFound(
                f"@context 不存在：{context_id}", f"no @context {context_id}", field="contextId"
            )
        return info

    def document(self, info: ContextInfo) -> Any:
        """Return the JSON-LD document of a context."""
        if info.packaged:
            return dict(self.resolver.document(info.url) or {})
        return self.store.get_context(info.url)

    def delete(self, context_id: str) -> None:
        """Delete a hosted context; packaged ones are refused with BadRequestData."""
        info = self.get(context_id)
        if info.packaged:
            raise BadRequestData(
                f"内置 @context 不能删除：{info.url}",
                f"a packaged @context cannot be deleted: {info.url}",
                field="contextId",
            )
        self.store.delete_context(info.url)
        self.resolver.unregister(info.url)


def load_stored_contexts(store: EntityStore, resolver: ContextResolver) -> int:
    """Register every stored @context in the resolver at start; return how many loaded.

    A context may name another stored one, so registration repeats over those that
    failed until a pass makes no progress; what still fails is logged and skipped.
    """
    pending: dict[str, Any] = {c.url: store.get_context(c.url) for c in store.list_contexts()}
    loaded = 0
    while pending:
        failed: dict[str, Any] = {}
        errors: dict[str, NgsiLdError] = {}
        for url, document in pending.items():
            try:
                resolver.register(url, document)
                loaded += 1
            except NgsiLdError as exc:
                failed[url], errors[url] = document, exc
        if len(failed) == len(pending):
            for url, error in errors.items():
                log.warning("stored @context %s not loaded: %s", url, error.message_en)
            break
        pending = failed
    return loaded

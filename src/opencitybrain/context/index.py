"""An in-memory index of the live entities, for fast reads; the store stays the truth.

Each tenant's entities are loaded from the store on first use, then kept current:
writes in this process apply their changes directly (before the HTTP answer goes out),
and changes announced on the bus by other processes reload the entity from the store.
Per geo-property, the geometries are kept as one array with an STRtree, rebuilt lazily
after a change, so geo-queries are vectorised over all entities at once.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray

from opencitybrain.context.changes import EntityChange
from opencitybrain.context.geoquery import entity_geometries, filter_geo
from opencitybrain.context.geoquery_input import GeoQuery
from opencitybrain.context.model import Entity, from_doc
from opencitybrain.context.store import EntityStore
from opencitybrain.context.store_scan import compile_id_pattern

_LOAD_PAGE = 5000


@dataclass
class _GeoCache:
    owners: NDArray[np.object_]  # entity id of each geometry
    geoms: NDArray[np.object_]
    tree: shapely.STRtree


@dataclass
class _Tenant:
    entities: dict[str, Entity] = field(default_factory=dict)
    by_type: dict[str, set[str]] = field(default_factory=dict)
    ordered: list[str] = field(default_factory=list)
    geo: dict[str, _GeoCache] = field(default_factory=dict)
    # Store versions of entities this process wrote or read with their version; writes
    # start from these instead of reading the store (the store's check catches staleness).
    versions: dict[str, int] = field(default_factory=dict)

    def put(self, entity: Entity, version: int | None = None) -> None:
        old = self.entities.get(entity.id)
        if old is None:
            bisect.insort(self.ordered, entity.id)
            self.geo.clear()
        else:
            for t in old.types:
                self.by_type.get(t, set()).discard(entity.id)
            # Most updates leave the geometry alone (a status, a count): keep the geo
            # caches unless a cached geo-property actually changed.
            for name in [n for n in self.geo if old.attrs.get(n) != entity.attrs.get(n)]:
                del self.geo[name]
        self.entities[entity.id] = entity
        for t in entity.types:
            self.by_type.setdefault(t, set()).add(entity.id)
        if version is None:
            self.versions.pop(entity.id, None)
        else:
            self.versions[entity.id] = version

    def remove(self, entity_id: str) -> None:
        old = self.entities.pop(entity_id, None)
        if old is None:
            return
        self.versions.pop(entity_id, None)
        for t in old.types:
            self.by_type.get(t, set()).discard(entity_id)
        i = bisect.bisect_left(self.ordered, entity_id)
        if i < len(self.ordered) and self.ordered[i] == entity_id:
            del self.ordered[i]
        self.geo.clear()


class EntityIndex:
    """Keep every tenant's entities in memory, in id order, with type and geo indexes."""

    def __init__(self, store: EntityStore) -> None:
        self._store = store
        self._tenants: dict[str, _Tenant] = {}
        self._lock = threading.RLock()

    def _tenant(self, tenant: str) -> _Tenant:
        with self._lock:
            found = self._tenants.get(tenant)
            if found is None:
                found = self._load(tenant)
                self._tenants[tenant] = found
            return found

    def loaded(self, tenant: str) -> bool:
        """Tell whether a tenant's entities are in memory."""
        return tenant in self._tenants

    def warm(self, tenant: str) -> int:
        """Load a tenant's entities now (at start, off the request path); return how many."""
        with self._lock:
            return len(self._tenant(tenant).entities)

    def _load(self, tenant: str) -> _Tenant:
        loaded = _Tenant()
        after: str | None = None
        while True:
            docs = self._store.scan(tenant, after_id=after, limit=_LOAD_PAGE)
            for doc in docs:
                entity = from_doc(doc)
                loaded.entities[entity.id] = entity
                for t in entity.types:
                    loaded.by_type.setdefault(t, set()).add(entity.id)
            if len(docs) < _LOAD_PAGE:
                break
            after = docs[-1]["id"]
        loaded.ordered = sorted(loaded.entities)
        return loaded

    def apply(self, changes: Iterable[EntityChange]) -> None:
        """Apply changes made in this process (their entities are the new state)."""
        with self._lock:
            for change in changes:
                index = self._tenants.get(change.tenant)
                if index is None:
                    continue  # not loaded yet: it will load the new state from the store
                if change.what == "deleted":
                    index.remove(change.entity.id)
                    continue
                known = index.versions.get(change.entity.id)
                if change.version is not None and known is not None and known >= change.version:
                    continue  # a newer state is in already
                index.put(change.entity, change.version)

    def refresh(self, tenant: str, entity_id: str) -> tuple[Entity, int] | None:
        """Reload one entity and its version from the store; return them (None if gone)."""
        with self._lock:
            found = self._store.get_versioned(tenant, entity_id)
            entity = from_doc(found[0]) if found is not None else None
            index = self._tenants.get(tenant)
            if index is not None:
                if entity is None:
                    index.remove(entity_id)
                else:
                    index.put(entity, found[1] if found else None)
            return (entity, found[1]) if entity is not None and found else None

    def versioned(self, tenant: str, entity_id: str) -> tuple[Entity, int] | None:
        """Return an entity with its store version: from memory when known, else the store."""
        with self._lock:
            index = self._tenant(tenant)  # writes keep the index they will need current
            version = index.versions.get(entity_id)
            if version is not None:
                return index.entities[entity_id], version
        return self.refresh(tenant, entity_id)

    def candidates(
        self,
        tenant: str,
        *,
        types: Sequence[str] | None,
        ids: Sequence[str] | None,
        id_pattern: str | None,
        within: set[str] | None = None,
    ) -> list[Entity]:
        """Return the entities of the given types/ids/idPattern (and in ``within``), by id.

        Sets are intersected first and only the survivors are sorted, so a narrow filter
        (a geo-query, a few ids) stays cheap however many entities the tenant has.
        """
        with self._lock:
            index = self._tenant(tenant)
            # Start from the narrowest set and test membership in the others: no copies
            # of a type's (possibly huge) id set on the hot path.
            sets: list[set[str]] = []
            if ids:
                sets.append({i for i in ids if i in index.entities})
            if within is not None:
                sets.append(within)
            type_sets = [index.by_type.get(t, set()) for t in types or ()]
            chosen: set[str] | None
            if sets:
                chosen = min(sets, key=len)
                others = [s for s in sets if s is not chosen]
                chosen = {
                    i
                    for i in chosen
                    if all(i in s for s in others)
                    and (not type_sets or any(i in s for s in type_sets))
                }
            elif type_sets:
                chosen = set().union(*type_sets) if len(type_sets) > 1 else type_sets[0]
            else:
                chosen = None
            if chosen is None:
                ordered = list(index.ordered)
            elif len(chosen) * 8 > len(index.ordered):
                # A large share: walking the id order beats sorting the survivors.
                ordered = [i for i in index.ordered if i in chosen]
            else:
                ordered = sorted(chosen)
            entities = [index.entities[i] for i in ordered]
        if id_pattern is not None:
            pattern = compile_id_pattern(id_pattern)  # matched like the store: re.search
            entities = [e for e in entities if pattern.search(e.id)]
        return entities

    def geo_matches(self, tenant: str, query: GeoQuery, geoproperty: str) -> set[str]:
        """Return the ids of the entities whose ``geoproperty`` matches the geo-query."""
        with self._lock:
            index = self._tenant(tenant)
            cache = index.geo.get(geoproperty)
            if cache is None:
                entities = [index.entities[i] for i in index.ordered]
                owners, geoms = entity_geometries(entities, geoproperty)
                ids = np.asarray([entities[o].id for o in owners], dtype=object)
                cache = _GeoCache(ids, geoms, shapely.STRtree(geoms))
                index.geo[geoproperty] = cache
        hit = filter_geo(cache.geoms, query, cache.tree)
        return set(cache.owners[hit].tolist())

    def forget(self, tenant: str | None = None) -> None:
        """Drop a tenant's (or every) cached state; it reloads on next use."""
        with self._lock:
            if tenant is None:
                self._tenants.clear()
            else:
                self._tenants.pop(tenant, None)

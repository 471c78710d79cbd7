"""Entity update rules of NGSI-LD v1.8 (clauses 5.6.2–5.6.5, 5.6.17, 5.6.19), as pure functions.

Each function takes the current entity, the parsed change and the time, and returns the
new entity with what changed: one :class:`AttrChange` per attribute instance added,
replaced or deleted (for notifications and the temporal history) and the attributes it
could not update (the API's ``notUpdated``). Instances are matched by ``datasetId``; an
instance that is an NGSI-LD Null deletes its match. ``createdAt`` survives replacement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from opencitybrain.context.errors import ResourceNotFound
from opencitybrain.context.model import Attribute, Entity, stamp
from opencitybrain.context.parsing import Fragment

Attrs = Mapping[str, list[Attribute]]


@dataclass(frozen=True, slots=True)
class AttrChange:
    """One attribute instance that changed: ``before`` None if added, ``after`` if deleted."""

    name: str
    dataset_id: str | None
    before: Attribute | None
    after: Attribute | None


@dataclass(frozen=True, slots=True)
class NotUpdated:
    """One attribute left alone, and why (Chinese first, then English)."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Changes:
    """What an update did to an entity."""

    attrs: tuple[AttrChange, ...] = ()
    not_updated: tuple[NotUpdated, ...] = ()
    types_changed: bool = False
    scope_changed: bool = False

    @property
    def updated(self) -> tuple[str, ...]:
        """Return the IRIs of the attributes that changed, each once, in order."""
        return tuple(dict.fromkeys(c.name for c in self.attrs))

    @property
    def changed(self) -> bool:
        """Tell whether the entity changed at all."""
        return bool(self.attrs or self.types_changed or self.scope_changed)


@dataclass
class _Work:
    """An entity being changed: a private copy of its attribute lists and the log."""

    entity: Entity
    now: datetime
    attrs: dict[str, list[Attribute]] = field(init=False)
    log: list[AttrChange] = field(default_factory=list)
    skipped: list[NotUpdated] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.attrs = {name: list(instances) for name, instances in self.entity.attrs.items()}

    def find(self, name: str, dataset_id: str | None) -> Attribute | None:
        return next((a for a in self.attrs.get(name, ()) if a.dataset_id == dataset_id), None)

    def put(self, name: str, new: Attribute) -> None:
        old = self.find(name, new.dataset_id)
        instances = [a for a in self.attrs.get(name, ()) if a.dataset_id != new.dataset_id]
        self.attrs[name] = [*instances, new]
        self.log.append(AttrChange(name, new.dataset_id, old, new))

    def remove(self, name: str, dataset_id: str | None) -> bool:
        old = self.find(name, dataset_id)
        if old is None:
            return False
        left = [a for a in self.attrs[name] if a.dataset_id != dataset_id]
        if left:
            self.attrs[name] = left
        else:
            del self.attrs[name]
        self.log.append(AttrChange(name, dataset_id, old, None))
        return True

    def skip(self, name: str, zh: str, en: str) -> None:
        self.skipped.append(NotUpdated(name, f"{zh} / {en}"))

    def done(
        self, *, types: tuple[str, ...] | None = None, scope: tuple[str, ...] | None = None
    ) -> tuple[Entity, Changes]:
        types = self.entity.types if types is None else types
        scope = self.entity.scope if scope is None else scope
        changes = Changes(
            tuple(self.log),
            tuple(self.skipped),
            types != self.entity.types,
            scope != self.entity.scope,
        )
        if not changes.changed:
            return self.entity, changes
        entity = replace(
            self.entity, types=types, scope=scope, attrs=self.attrs, modified_at=self.now
        )
        return entity, changes


def append_attrs(
    entity: Entity, attrs: Attrs, now: datetime, *, overwrite: bool = True
) -> tuple[Entity, Changes]:
    """Add attributes; replace existing instances unless ``overwrite`` is False (noOverwrite)."""
    work = _Work(entity, now)
    for name, instances in attrs.items():
        for new in instances:
            old = work.find(name, new.dataset_id)
            if new.is_null:
                if not work.remove(name, new.dataset_id):
                    work.skip(name, "属性不存在", "attribute does not exist")
            elif old is None:
                work.put(name, stamp(new, now))
            elif overwrite:
                work.put(name, stamp(new, now, old.created_at))
            else:
                work.skip(name, "属性已存在（noOverwrite）", "attribute exists (noOverwrite)")
    return work.done()


def update_attrs(entity: Entity, attrs: Attrs, now: datetime) -> tuple[Entity, Changes]:
    """Replace existing attribute instances only (PATCH …/attrs); report the others."""
    work = _Work(entity, now)
    for name, instances in attrs.items():
        for new in instances:
            old = work.find(name, new.dataset_id)
            if old is None:
                zh, en = "属性（或该 datasetId 的实例）不存在", "attribute (or datasetId) not found"
                work.skip(name, zh, en)
            elif new.is_null:
                work.remove(name, new.dataset_id)
            else:
                work.put(name, stamp(new, now, old.created_at))
    return work.done()


def patch_attr(
    entity: Entity, name: str, instances: Iterable[Attribute], now: datetime
) -> tuple[Entity, Changes]:
    """Merge members into existing instances of one attribute (PATCH …/attrs/{attrId})."""
    work = _Work(entity, now)
    for new in instances:
        old = work.find(name, new.dataset_id)
        if old is None:
            raise _missing(name, new.dataset_id)
        if new.is_null:
            work.remove(name, new.dataset_id)
        else:
            work.put(name, _merged(old, new, now))
    return work.done()


def replace_attr(
    entity: Entity, name: str, instances: Iterable[Attribute], now: datetime
) -> tuple[Entity, Changes]:
    """Replace existing instances of one attribute wholesale (PUT …/attrs/{attrId})."""
    work = _Work(entity, now)
    for new in instances:
        old = work.find(name, new.dataset_id)
        if old is None:
            raise _missing(name, new.dataset_id)
        work.put(name, stamp(new, now, old.created_at))
    return work.done()


def delete_attr(
    entity: Entity,
    name: str,
    now: datetime,
    *,
    dataset_id: str | None = None,
    delete_all: bool = False,
) -> tuple[Entity, Changes]:
    """Delete one instance of an attribute (by datasetId) or, with ``delete_all``, all."""
    work = _Work(entity, now)
    if name not in work.attrs:
        raise _missing(name, None)
    targets = [a.dataset_id for a in work.attrs[name]] if delete_all else [dataset_id]
    for target in targets:
        if not work.remove(name, target):
            raise _missing(name, target)
    return work.done()


def replace_entity(entity: Entity, new: Entity, now: datetime) -> tuple[Entity, Changes]:
    """Replace types, scope and every attribute, keeping id and createdAt (PUT /entities/{id})."""
    work = _Work(entity, now)
    for name, instances in entity.attrs.items():
        for old in instances:
            if not any(a.dataset_id == old.dataset_id for a in new.attrs.get(name, ())):
                work.remove(name, old.dataset_id)
    for name, instances in new.attrs.items():
        for attr in instances:
            work.put(name, stamp(attr, now))
    return work.done(types=new.types, scope=new.scope)


def merge_entity(entity: Entity, fragment: Fragment, now: datetime) -> tuple[Entity, Changes]:
    """Merge a fragment into an entity (PATCH /entities/{id}); NGSI-LD Null deletes."""
    work = _Work(entity, now)
    for name, instances in fragment.attrs.items():
        for new in instances:
            old = work.find(name, new.dataset_id)
            if new.is_null:
                if not work.remove(name, new.dataset_id):
                    work.skip(name, "属性不存在", "attribute does not exist")
            elif old is None:
                work.put(name, stamp(new, now))
            else:
                work.put(name, _merged(old, new, now))
    # Merging adds the fragment's types to the entity's; a fragment scope replaces them.
    added = tuple(t for t in fragment.types if t not in entity.types)
    return work.done(types=entity.types + added, scope=fragment.scope)


def _merged(old: Attribute, new: Attribute, now: datetime) -> Attribute:
    """Return ``old`` with the members ``new`` carries; sub-attributes merge the same way."""
    sub = {name: list(instances) for name, instances in old.sub.items()}
    for name, patches in new.sub.items():
        for patch in patches:
            kept = [s for s in sub.get(name, ()) if s.dataset_id != patch.dataset_id]
            match = next((s for s in sub.get(name, ()) if s.dataset_id == patch.dataset_id), None)
            if not patch.is_null:
                kept.append(stamp(patch, now) if match is None else _merged(match, patch, now))
            if kept:
                sub[name] = kept
            else:
                sub.pop(name, None)
    same_kind = new.kind is old.kind
    return Attribute(
        kind=new.kind,
        value=new.value,
        observed_at=new.observed_at or old.observed_at,
        unit_code=new.unit_code or (old.unit_code if same_kind else None),
        dataset_id=old.dataset_id,
        created_at=old.created_at or now,
        modified_at=now,
        sub=sub,
        object_type=new.object_type or (old.object_type if same_kind else ()),
    )


def _missing(name: str, dataset_id: str | None) -> ResourceNotFound:
    where = name if dataset_id is None else f"{name} (datasetId {dataset_id})"
    return ResourceNotFound(f"属性不存在：{where}", f"attribute not found: {where}", field=name)

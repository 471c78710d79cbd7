"""Attribute history for the temporal API, and the stored user @contexts.

Time relations follow the NGSI-LD temporal query language: ``before`` is strictly
before ``timeAt``, ``after`` strictly after it, ``between`` from ``timeAt`` included to
``endTimeAt`` excluded. ``lastN`` keeps the N most recent instances of each attribute.
Instances come back oldest first. An instance without observedAt never matches a time
relation on observedAt, and sorts by its recording time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from opencitybrain.context.model import quick_init
from opencitybrain.context.store_sql import Doc, SqlBase, decode, decode_all, encode, parse_instant
from opencitybrain.context.tables import attribute_history, contexts
from opencitybrain.kernel.errors import InvalidInput

TimeRel = Literal["before", "after", "between"]
TimeProperty = Literal["observedAt", "modifiedAt"]

_H = attribute_history.c
_C = contexts.c


@quick_init
@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """Name one attribute instance as it was written at one moment."""

    entity_id: str
    attr: str
    instance: Mapping[str, Any]
    recorded_at: datetime
    dataset_id: str = ""
    observed_at: datetime | None = None

    @classmethod
    def of(
        cls, entity_id: str, attr: str, instance: Mapping[str, Any], recorded_at: datetime
    ) -> HistoryRecord:
        """Build a record, reading datasetId and observedAt from the instance."""
        observed = instance.get("observedAt")
        return cls(
            entity_id,
            attr,
            instance,
            recorded_at,
            str(instance.get("datasetId") or ""),
            parse_instant(observed, "observedAt") if observed is not None else None,
        )


@dataclass(frozen=True, slots=True)
class StoredContext:
    """Describe one stored @context (its document is fetched separately)."""

    url: str
    kind: str
    created_at: datetime


INSTANCE_PREFIX = "urn:ngsi-ld:attribute-instance:"


def instance_id(seq: int) -> str:
    """Return the instanceId of the stored instance numbered ``seq``."""
    return f"{INSTANCE_PREFIX}{seq}"


def instance_seq(text: str) -> int | None:
    """Return the stored instance number an instanceId names (None: not one of ours)."""
    number = text.removeprefix(INSTANCE_PREFIX)
    if number == text or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


def _bad_query(zh: str, en: str) -> InvalidInput:
    return InvalidInput("ngsi.bad_temporal_query", zh, en)


def _time_filter(
    column: sa.ColumnElement[datetime],
    timerel: TimeRel | None,
    time_at: datetime | None,
    end_time_at: datetime | None,
) -> list[sa.ColumnElement[bool]]:
    if timerel is None:
        return []
    if time_at is None:
        raise _bad_query("timerel 需要 timeAt", "timerel needs timeAt")
    if timerel == "before":
        return [column < time_at]
    if timerel == "after":
        return [column > time_at]
    if timerel == "between":
        if end_time_at is None:
            raise _bad_query("timerel=between 需要 endTimeAt", "timerel=between needs endTimeAt")
        return [column >= time_at, column < end_time_at]
    raise _bad_query(f"未知的 timerel: {timerel!r}", f"unknown timerel: {timerel!r}")


HistoryRow = dict[str, Any]


def history_rows(tenant: str, records: Iterable[HistoryRecord]) -> list[HistoryRow]:
    """Return the table rows of attribute instances."""
    return [
        {
            "tenant": tenant,
            "entity_id": r.entity_id,
            "attr": r.attr,
            "dataset_id": r.dataset_id,
            "observed_at": r.observed_at,
            "recorded_at": r.recorded_at,
            "instance": encode(r.instance),
        }
        for r in records
    ]


def history_columns(tenant: str, records: Sequence[HistoryRecord]) -> dict[str, list[Any]]:
    """Return the table rows of attribute instances, column by column."""
    return {
        "tenant": [tenant] * len(records),
        "entity_id": [r.entity_id for r in records],
        "attr": [r.attr for r in records],
        "dataset_id": [r.dataset_id for r in records],
        "observed_at": [r.observed_at for r in records],
        "recorded_at": [r.recorded_at for r in records],
        "instance": [encode(r.instance) for r in records],
    }


class SqlHistory(SqlBase):
    """Keep attribute history and stored @contexts in SQL."""

    def append_history(self, tenant: str, records: Iterable[HistoryRecord]) -> int:
        """Store attribute instances in one transaction; return how many."""
        listed = records if isinstance(records, list) else list(records)
        with self._engine.begin() as conn:
            self._insert_columns(conn, attribute_history, history_columns(tenant, listed))
        return len(listed)

    def history(
        self,
        tenant: str,
        entity_id: str,
        *,
        attrs: Sequence[str] | None = None,
        timerel: TimeRel | None = None,
        time_at: datetime | None = None,
        end_time_at: datetime | None = None,
        last_n: int | None = None,
        time_property: TimeProperty = "observedAt",
    ) -> dict[str, list[Doc]]:
        """Return an entity's attribute instances by attribute IRI, oldest first."""
        if time_property == "observedAt":
            moment: sa.ColumnElement[datetime] = _H.observed_at
            order: sa.ColumnElement[datetime] = sa.func.coalesce(_H.observed_at, _H.recorded_at)
        elif time_property == "modifiedAt":
            moment = order = _H.recorded_at
        else:
            raise _bad_query(
                f"不支持的 timeproperty: {time_property!r}",
                f"unsupported timeproperty: {time_property!r}",
            )
        if last_n is not None and last_n < 1:
            raise _bad_query("lastN 必须为正整数", "lastN must be a positive integer")
        conds = [_H.tenant == tenant, _H.entity_id == entity_id]
        conds += _time_filter(moment, timerel, time_at, end_time_at)
        if attrs is not None:
            conds.append(_H.attr.in_(attrs))
        text = self._json_text(_H.instance)
        if last_n is None:
            stmt = sa.select(_H.attr, text, _H.seq).where(*conds).order_by(_H.attr, order, _H.seq)
        else:
            rank = sa.func.row_number().over(
                partition_by=_H.attr, order_by=(order.desc(), _H.seq.desc())
            )
            inner = (
                sa.select(
                    _H.attr,
                    text.label("instance"),
                    order.label("moment"),
                    _H.seq,
                    rank.label("rank"),
                )
                .where(*conds)
                .subquery()
            )
            stmt = (
                sa.select(inner.c.attr, inner.c.instance, inner.c.seq)
                .where(inner.c.rank <= last_n)
                .order_by(inner.c.attr, inner.c.moment, inner.c.seq)
            )
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        out: dict[str, list[Doc]] = {}
        for (attr, _, seq), instance in zip(rows, decode_all([r[1] for r in rows]), strict=True):
            instance["instanceId"] = instance_id(seq)
            out.setdefault(attr, []).append(instance)
        return out

    def delete_history(
        self,
        tenant: str,
        entity_id: str,
        attrs: Sequence[str] | None = None,
        dataset_id: str | None = None,
    ) -> int:
        """Delete an entity's history (of some attributes, one dataset); return rows deleted."""
        stmt = sa.delete(attribute_history).where(_H.tenant == tenant, _H.entity_id == entity_id)
        if attrs is not None:
            stmt = stmt.where(_H.attr.in_(attrs))
        if dataset_id is not None:
            stmt = stmt.where(_H.dataset_id == dataset_id)
        with self._engine.begin() as conn:
            return int(conn.execute(stmt).rowcount)

    def replace_instance(self, tenant: str, record: HistoryRecord, seq: int) -> bool:
        """Replace one stored instance of the record's attribute; False if there is none."""
        row = history_rows(tenant, [record])[0]
        stmt = (
            sa.update(attribute_history)
            .where(*self._instance_key(tenant, record.entity_id, record.attr, seq))
            .values(
                dataset_id=row["dataset_id"],
                observed_at=row["observed_at"],
                instance=self._json_param("instance"),
            )
        )
        with self._engine.begin() as conn:
            return conn.execute(stmt, {"instance": row["instance"]}).rowcount == 1

    def delete_instance(self, tenant: str, entity_id: str, attr: str, seq: int) -> bool:
        """Delete one stored instance of an attribute; False if there is none."""
        stmt = sa.delete(attribute_history).where(*self._instance_key(tenant, entity_id, attr, seq))
        with self._engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    @staticmethod
    def _instance_key(
        tenant: str, entity_id: str, attr: str, seq: int
    ) -> list[sa.ColumnElement[bool]]:
        return [
            _H.seq == seq,
            _H.tenant == tenant,
            _H.entity_id == entity_id,
            _H.attr == attr,
        ]

    def prune_history(self, tenant: str | None, older_than: datetime) -> int:
        """Delete instances recorded before ``older_than`` (all tenants if None)."""
        stmt = sa.delete(attribute_history).where(_H.recorded_at < older_than)
        if tenant is not None:
            stmt = stmt.where(_H.tenant == tenant)
        with self._engine.begin() as conn:
            return int(conn.execute(stmt).rowcount)

    def put_context(self, url: str, document: Any, at: datetime, kind: str = "Hosted") -> None:
        """Store or replace the @context document served at ``url``."""
        row = {"url": url, "kind": kind, "document": encode(document), "created_at": at}
        with self._engine.begin() as conn:
            self._bulk_insert(
                conn,
                contexts,
                [row],
                conflict=("url",),
                update=lambda new: {"kind": new.kind, "document": new.document},
            )

    def get_context(self, url: str) -> Any | None:
        """Return the stored @context document at ``url``, or None."""
        stmt = sa.select(self._json_text(_C.document)).where(_C.url == url)
        with self._engine.connect() as conn:
            text = conn.execute(stmt).scalar_one_or_none()
        return decode(text) if text is not None else None

    def list_contexts(self) -> list[StoredContext]:
        """Return every stored @context, by url."""
        stmt = sa.select(_C.url, _C.kind, _C.created_at).order_by(_C.url)
        with self._engine.connect() as conn:
            return [StoredContext(r[0], r[1], r[2]) for r in conn.execute(stmt)]

    def delete_context(self, url: str) -> bool:
        """Delete the @context at ``url``; return False if there was none."""
        with self._engine.begin() as conn:
            return bool(conn.execute(sa.delete(contexts).where(_C.url == url)).rowcount)

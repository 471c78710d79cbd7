"""NGSI-LD subscriptions at rest: the port and its SQL implementation (SQLite, PostgreSQL).

A subscription is kept as its storage document (``subscriptions.py``), opaque here but
for ``id``, ``createdAt``, ``modifiedAt`` and the delivery status inside
``notification``. The status belongs to the notifier: ``put`` keeps the stored status
and only :meth:`SubscriptionStore.record_deliveries` changes it, so a PATCH and a
delivery finishing at the same moment cannot undo each other. Listeners hear the tenant
of every create, put and delete (the notifier drops its cache for that tenant).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from opencitybrain.context.model import format_datetime
from opencitybrain.context.store_sql import Doc, SqlBase, decode, decode_all, encode, parse_instant
from opencitybrain.context.subscription_tables import subscription_periods, subscriptions
from opencitybrain.kernel.errors import Conflict

__all__ = ["STATUS_MEMBERS", "Listener", "Outcome", "SqlSubscriptionStore", "SubscriptionStore"]

_S = subscriptions.c
_P = subscription_periods.c
# The members of ``notification`` that record deliveries (clause 5.2.14).
STATUS_MEMBERS = (
    "status",
    "timesSent",
    "timesFailed",
    "lastNotification",
    "lastSuccess",
    "lastFailure",
)
Listener = Callable[[str], None]
Outcome = tuple[datetime, bool]  # when a notification was sent, and whether it arrived


class SubscriptionStore(Protocol):
    """Persist NGSI-LD subscriptions per tenant and their delivery status."""

    def listen(self, listener: Listener) -> None:
        """Call ``listener(tenant)`` after every create, put and delete."""
        ...

    def create(self, tenant: str, doc: Doc) -> None:
        """Insert a subscription; raise Conflict (``ngsi.already_exists``) if its id exists."""
        ...

    def get(self, tenant: str, sub_id: str) -> Doc | None:
        """Return a subscription's document, or None."""
        ...

    def list(self, tenant: str, *, limit: int | None = None, offset: int = 0) -> list[Doc]:
        """Return a tenant's subscriptions in id order (all of them when ``limit`` is None)."""
        ...

    def count(self, tenant: str) -> int:
        """Return how many subscriptions a tenant has."""
        ...

    def put(self, tenant: str, doc: Doc) -> bool:
        """Replace a subscription, keeping its stored delivery status; False if none."""
        ...

    def delete(self, tenant: str, sub_id: str) -> bool:
        """Delete a subscription; return False if there was none."""
        ...

    def record_deliveries(self, results: Mapping[tuple[str, str], Sequence[Outcome]]) -> None:
        """Count deliveries and failures, by (tenant, id), in one transaction."""
        ...

    def tenants(self) -> tuple[str, ...]:
        """Return the tenants that have subscriptions."""
        ...

    def claim_period(self, tenant: str, sub_id: str, due: datetime) -> bool:
        """Claim the periodic notification due at ``due``; True for the one claimer."""
        ...


def with_delivery(doc: Doc, at: datetime, ok: bool) -> Doc:
    """Return the document with one more delivery (``ok``) or failure recorded at ``at``."""
    notification = dict(doc.get("notification") or {})
    stamp = format_datetime(at)
    notification["lastNotification"] = stamp
    if ok:
        notification["timesSent"] = int(notification.get("timesSent", 0)) + 1
        notification["lastSuccess"] = stamp
        notification["status"] = "ok"
    else:
        notification["timesFailed"] = int(notification.get("timesFailed", 0)) + 1
        notification["lastFailure"] = stamp
        notification["status"] = "failed"
    return {**doc, "notification": notification}


def _row(tenant: str, doc: Doc) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "id": doc["id"],
        "doc_text": encode(doc).decode(),
        "created_at": parse_instant(doc.get("createdAt"), "createdAt"),
        "modified_at": parse_instant(doc.get("modifiedAt"), "modifiedAt"),
    }


class SqlSubscriptionStore(SqlBase):
    """Keep subscriptions in the platform's SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(engine)
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call ``listener(tenant)`` after every create, put and delete."""
        self._listeners.append(listener)

    def _changed(self, tenant: str) -> None:
        for listener in self._listeners:
            listener(tenant)

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._engine.begin() as conn:
            if not self._pg:
                # SQLite fails a transaction that read and then writes after another
                # connection wrote; a no-op write takes the write lock up front instead.
                conn.execute(sa.delete(subscriptions).where(sa.false()))
            yield conn

    def _read_locked(self, conn: sa.Connection, tenant: str, sub_id: str) -> Doc | None:
        stmt = (
            sa.select(self._json_text(_S.doc))
            .where(_S.tenant == tenant, _S.id == sub_id)
            .with_for_update()
        )
        text = conn.execute(stmt).scalar_one_or_none()
        return None if text is None else dict(decode(text))

    def _update(self, conn: sa.Connection, tenant: str, doc: Doc) -> None:
        row = _row(tenant, doc)
        conn.execute(
            sa.update(subscriptions)
            .where(_S.tenant == tenant, _S.id == row["id"])
            .values(doc=self._json_param("doc_text"), modified_at=row["modified_at"]),
            {"doc_text": row["doc_text"]},
        )

    def create(self, tenant: str, doc: Doc) -> None:
        """Insert a subscription; raise Conflict (``ngsi.already_exists``) if its id exists."""
        row = _row(tenant, doc)
        stmt = sa.insert(subscriptions).values(doc=self._json_param("doc_text"))
        try:
            with self._engine.begin() as conn:
                conn.execute(stmt, row)
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "ngsi.already_exists",
                f"订阅已存在: {row['id']}",
                f"the subscription exists already: {row['id']}",
            ) from exc
        self._changed(tenant)

    def get(self, tenant: str, sub_id: str) -> Doc | None:
        """Return a subscription's document, or None."""
        stmt = sa.select(self._json_text(_S.doc)).where(_S.tenant == tenant, _S.id == sub_id)
        with self._engine.connect() as conn:
            text = conn.execute(stmt).scalar_one_or_none()
        return None if text is None else dict(decode(text))

    def list(self, tenant: str, *, limit: int | None = None, offset: int = 0) -> list[Doc]:
        """Return a tenant's subscriptions in id order (all of them when ``limit`` is None)."""
        stmt = (
            sa.select(self._json_text(_S.doc))
            .where(_S.tenant == tenant)
            .order_by(_S.id)
            .offset(offset)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [dict(d) for d in decode_all(conn.execute(stmt).scalars().all())]

    def tenants(self) -> tuple[str, ...]:
        """Return the tenants that have subscriptions."""
        stmt = sa.select(_S.tenant).distinct().order_by(_S.tenant)
        with self._engine.connect() as conn:
            return tuple(conn.execute(stmt).scalars())

    def claim_period(self, tenant: str, sub_id: str, due: datetime) -> bool:
        """Claim the periodic notification due at ``due``; True for the one claimer.

        Workers race to insert the same key; the primary key lets one of them win.
        Earlier claims of the subscription go at the same time.
        """
        key = {"tenant": tenant, "sub_id": sub_id, "due_at": due}
        stmt = self._cached("claim", lambda: self._claim_statement())
        with self._engine.begin() as conn:
            won = conn.execute(stmt, key).first() is not None
            if won:
                conn.execute(
                    sa.delete(subscription_periods).where(
                        _P.tenant == tenant, _P.sub_id == sub_id, _P.due_at < due
                    )
                )
        return won

    def _claim_statement(self) -> sa.Insert:
        insert = pg_insert if self._pg else sqlite_insert
        return insert(subscription_periods).on_conflict_do_nothing().returning(_P.sub_id)

    def count(self, tenant: str) -> int:
        """Return how many subscriptions a tenant has."""
        stmt = sa.select(sa.func.count()).select_from(subscriptions).where(_S.tenant == tenant)
        with self._engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def put(self, tenant: str, doc: Doc) -> bool:
        """Replace a subscription, keeping its stored delivery status; False if none."""
        with self._write() as conn:
            old = self._read_locked(conn, tenant, doc["id"])
            if old is None:
                return False
            kept = {k: v for k, v in (old.get("notification") or {}).items() if k in STATUS_MEMBERS}
            notification = {
                k: v for k, v in (doc.get("notification") or {}).items() if k not in STATUS_MEMBERS
            }
            self._update(conn, tenant, {**doc, "notification": {**notification, **kept}})
        self._changed(tenant)
        return True

    def delete(self, tenant: str, sub_id: str) -> bool:
        """Delete a subscription; return False if there was none."""
        stmt = sa.delete(subscriptions).where(_S.tenant == tenant, _S.id == sub_id)
        with self._engine.begin() as conn:
            gone = conn.execute(stmt).rowcount > 0
        if gone:
            self._changed(tenant)
        return gone

    def record_deliveries(self, results: Mapping[tuple[str, str], Sequence[Outcome]]) -> None:
        """Count deliveries and failures, by (tenant, id), in one transaction."""
        stmt = (
            sa.update(subscriptions)
            .where(_S.tenant == sa.bindparam("t"), _S.id == sa.bindparam("i"))
            .values(doc=self._json_param("doc_text"))
        )
        with self._write() as conn:
            for (tenant, sub_id), outcomes in sorted(results.items()):
                doc = self._read_locked(conn, tenant, sub_id)
                if doc is None:
                    continue  # deleted meanwhile
                for at, ok in outcomes:
                    doc = with_delivery(doc, at, ok)
                # The row's modified_at stays: a delivery is not a change by the subscriber.
                conn.execute(stmt, {"t": tenant, "i": sub_id, "doc_text": encode(doc).decode()})


def _conforms(engine: sa.Engine) -> SubscriptionStore:
    # Type-checks that the SQL store satisfies the port.
    return SqlSubscriptionStore(engine)

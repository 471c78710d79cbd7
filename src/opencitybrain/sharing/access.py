"""Governed access: the only way to read a resource's rows, with masking on the read path.

A reader from another department needs a live grant of its own department for the
resource, and states the grant's purpose (``X-Purpose`` or ``purpose``). The projection
is limited to the granted fields, the grant's row filter is ANDed to the reader's, and
every field is masked unless the grant clears it; identifiers may be returned as keyed
pseudonyms instead. A reader may filter only on fields it sees in clear: a filter on a
masked field would let it guess the hidden value one prefix at a time.

The provider's own staff read its own rows without a grant, unmasked only with
``sharing:decide`` (those who decide on sharing the data see it: department staff; the
department's apps and anyone else read them masked).
Every read, and every refused read, is appended to the audit chain with the hash of
what the reader received.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import unquote

import msgspec

from opencitybrain.accounts.model import Permission
from opencitybrain.accounts.service import allowed, ensure
from opencitybrain.catalog.model import DataType, FieldSpec, Masking, Resource
from opencitybrain.catalog.rows import Condition, Op, ResourceRows, Row, Value
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import CityBrainError, FieldError, Forbidden, InvalidInput
from opencitybrain.kernel.events import Context
from opencitybrain.sharing.audit import AuditEntry, AuditKind
from opencitybrain.sharing.masking import DEFAULT_POLICY, MaskPolicy, RowMasker
from opencitybrain.sharing.model import MAX_FILTER_TERMS, Grant, check_filter
from opencitybrain.sharing.store import SharingStore
from opencitybrain.sharing.trail import AuditTrail

MAX_PAGE = 10_000
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class RowQuery:
    """What a reader asks: fields, filter terms, a page, pseudonyms or not."""

    resource_id: str
    grant_id: str | None = None
    fields: tuple[str, ...] = ()  # empty: every granted field
    where: tuple[Condition, ...] = ()
    offset: int = 0
    limit: int = 100
    pseudonyms: bool = False
    purpose: str | None = None  # else the Context's purpose
    filter_terms: tuple[str, ...] = ()  # ``field:op:value`` text, parsed per field type


@dataclass(frozen=True, slots=True)
class GovernedPage:
    """A page of governed rows and what was done to them."""

    resource_id: str
    grant_id: str | None
    fields: tuple[str, ...]
    masked: tuple[str, ...]
    pseudonymised: tuple[str, ...]
    rows: list[Row]
    total: int
    offset: int
    limit: int
    audit_seq: int
    rows_json: bytes = b"[]"  # the rows as the JSON the reader receives (their audited hash)


def _bad(code: str, zh: str, en: str, where: str, why: str) -> InvalidInput:
    return InvalidInput(f"sharing.{code}", zh, en, (FieldError(where, why),))


def parse_filter(resource: Resource, terms: Sequence[str]) -> tuple[Condition, ...]:
    """Parse ``field:op:value`` terms (``in`` takes comma-separated values), typed per field."""
    if len(terms) > MAX_FILTER_TERMS:
        raise _bad(
            "filter_too_long",
            f"过滤条件至多 {MAX_FILTER_TERMS} 项",
            f"at most {MAX_FILTER_TERMS} filter terms",
            "filter",
            "too many",
        )
    specs = {f.name: f for f in resource.spec.fields}
    out: list[Condition] = []
    for term in terms:
        name, _, rest = term.partition(":")
        op_text, sep, raw = rest.partition(":")
        spec = specs.get(name)
        if spec is None or not sep or op_text not in Op._value2member_map_:
            raise _bad(
                "bad_filter",
                f"过滤条件格式错误：{term[:80]}",
                f"bad filter term {term[:80]!r} (field:op:value, a known field)",
                "filter",
                "field:op:value",
            )
        op = Op(op_text)
        if op is Op.IN:
            out.append(Condition(name, op, tuple(typed(spec, v) for v in raw.split(","))))
        else:
            out.append(Condition(name, op, raw if op is Op.PREFIX else typed(spec, raw)))
    return tuple(out)


def typed(spec: FieldSpec, raw: object) -> Value:
    """Return a filter value as the field's type (text from a URL or a stored grant)."""
    if raw is None or not isinstance(raw, str):
        return raw if raw is None or isinstance(raw, int | float | bool) else str(raw)
    try:
        match spec.data_type:
            case DataType.INTEGER:
                return int(raw)
            case DataType.DECIMAL:
                return float(raw)
            case DataType.BOOLEAN:
                if raw.lower() not in ("true", "false"):
                    raise ValueError(raw)
                return raw.lower() == "true"
            case DataType.DATE:
                return date.fromisoformat(raw)
            case DataType.DATETIME:
                return datetime.fromisoformat(raw)
            case _:
                return raw
    except ValueError:
        raise _bad(
            "bad_filter_value",
            f"过滤值与信息项 {spec.name} 的类型不符",
            f"filter value {raw[:40]!r} does not fit {spec.name} ({spec.data_type})",
            "filter",
            spec.data_type.value,
        ) from None


def retype(resource: Resource, terms: Sequence[Condition]) -> tuple[Condition, ...]:
    """Return stored filter terms with their values typed per field (JSON keeps dates as text)."""
    specs = {f.name: f for f in resource.spec.fields}
    out: list[Condition] = []
    for c in terms:
        spec = specs.get(c.field)
        if spec is None or c.op is Op.PREFIX:
            out.append(c)
        elif isinstance(c.value, tuple):
            out.append(Condition(c.field, c.op, tuple(typed(spec, v) for v in c.value)))
        else:
            out.append(Condition(c.field, c.op, typed(spec, c.value)))
    return tuple(out)


def rows_hash(rows: list[Row]) -> str:
    """Return the SHA-256 of the rows as the reader received them (JSON, as the route sends)."""
    return hashlib.sha256(_ENCODER.encode(rows)).hexdigest()


class GovernedReader:
    """Read a resource's rows under a grant (or as its provider), masked and audited."""

    def __init__(
        self,
        rows: ResourceRows,
        store: SharingStore,
        trail: AuditTrail,
        catalog: CatalogService,
        clock: Clock,
        secret: str | bytes,
        policy: MaskPolicy = DEFAULT_POLICY,
    ) -> None:
        self.rows = rows
        self.store = store
        self.trail = trail
        self.catalog = catalog
        self.clock = clock
        self.secret = secret
        self.policy = policy

    def read(self, ctx: Context, q: RowQuery) -> GovernedPage:
        """Return a masked page, or raise (and audit the refusal) if the read is not allowed."""
        ensure(ctx, Permission.SHARING_READ)
        try:
            return self._read(ctx, q)
        except CityBrainError as exc:
            self.trail.record(
                AuditEntry(
                    AuditKind.READ_REFUSED,
                    ctx,
                    self.clock.now(),
                    q.resource_id[:64],
                    q.fields[:50],
                    subject=(q.grant_id or "")[:64],
                    detail={"code": exc.code},
                )
            )
            raise

    def _read(self, ctx: Context, q: RowQuery) -> GovernedPage:
        if not q.offset >= 0 or not 0 <= q.limit <= MAX_PAGE:
            raise _bad(
                "bad_page",
                f"分页参数错误（limit 0–{MAX_PAGE}，offset ≥ 0）",
                f"bad page (limit 0–{MAX_PAGE}, offset ≥ 0)",
                "limit",
                f"0–{MAX_PAGE}",
            )
        resource = self.catalog.get(Context.system("sharing"), q.resource_id)
        specs = {f.name: f for f in resource.spec.fields}
        if q.filter_terms:
            q = replace(q, where=(*q.where, *parse_filter(resource, q.filter_terms)))
        unknown = [f for f in (*q.fields, *(c.field for c in q.where)) if f not in specs]
        if unknown:
            raise _bad(
                "unknown_field",
                f"资源没有信息项：{unknown[0][:64]}",
                f"the resource has no field {unknown[0][:64]!r}",
                "fields",
                "unknown",
            )
        check_filter(resource, q.where, "filter")
        own = ctx.department == resource.department_id
        grant: Grant | None = None
        if own:
            allowed_fields = tuple(specs)
            cleared = frozenset(specs) if allowed(ctx, Permission.SHARING_DECIDE) else frozenset()
            where = q.where
        else:
            grant = self._live_grant(ctx, q, resource)
            allowed_fields, cleared = grant.fields, frozenset(grant.cleared)
            where = (*retype(resource, grant.row_filter), *q.where)
        fields = q.fields or allowed_fields
        outside = [f for f in fields if f not in allowed_fields]
        if outside:
            raise Forbidden(
                "sharing.field_not_granted",
                f"授权不含信息项：{outside[0]}",
                f"the grant does not cover field {outside[0]!r}",
            )
        hidden = [
            c.field
            for c in q.where
            if c.field not in cleared and specs[c.field].masking is not Masking.NONE
        ]
        if hidden:
            raise Forbidden(
                "sharing.filter_on_masked",
                f"不能按脱敏的信息项过滤：{hidden[0]}",
                f"filtering on masked field {hidden[0]!r} is not allowed",
            )
        masker = RowMasker(resource.spec.fields, cleared, q.pseudonyms, self.secret, self.policy)
        rules = masker.mask_rules(fields)  # masked by the row store as it reads
        pseudo = masker.pseudonymised(fields)
        page = self.rows.read(
            q.resource_id,
            columns=fields,
            where=where,
            offset=q.offset,
            limit=q.limit,
            masks=rules,
        )
        # The page is ours: pseudonymise in place (a no-op without pseudonyms).
        out = masker.apply(page.rows, copy=False, only=pseudo) if pseudo else page.rows
        masked = tuple(rules)
        body = _ENCODER.encode(out)  # what the route sends: hashed once, encoded once
        [record] = self.trail.record(
            AuditEntry(
                AuditKind.READ,
                ctx,
                self.clock.now(),
                resource.id,
                tuple(fields),
                len(out),
                hashlib.sha256(body).hexdigest(),
                subject=grant.id if grant else "",
                detail={
                    "offset": q.offset,
                    "limit": q.limit,
                    "total": page.total,
                    "masked": list(masked),
                    "pseudonymised": list(pseudo),
                    "own": own,
                },
            )
        )
        return GovernedPage(
            resource.id,
            grant.id if grant else None,
            tuple(fields),
            masked,
            pseudo,
            out,
            page.total,
            q.offset,
            q.limit,
            record.seq,
            body,
        )

    def _live_grant(self, ctx: Context, q: RowQuery, resource: Resource) -> Grant:
        if not q.grant_id:
            raise Forbidden(
                "sharing.needs_grant",
                "读取其他部门的数据须持有授权",
                "reading another department's rows needs a grant",
            )
        grant = self.store.grant(q.grant_id)
        if grant is None or grant.department_id != ctx.department:
            raise Forbidden(
                "sharing.not_your_grant",
                "授权不存在或不属于本部门",
                "no such grant for your department",
            )
        if grant.resource_id != resource.id:
            raise Forbidden(
                "sharing.other_resource", "授权不适用于该资源", "the grant is for another resource"
            )
        if grant.revoked_at is not None:
            raise Forbidden("sharing.grant_revoked", "授权已撤销", "the grant was revoked")
        if not grant.live(self.clock.now()):
            raise Forbidden("sharing.grant_expired", "授权已过期", "the grant has expired")
        # HTTP headers are ASCII: a Chinese purpose comes percent-encoded in X-Purpose.
        purpose = (q.purpose or unquote(ctx.purpose or "")).strip()
        if purpose != grant.purpose.strip():
            raise Forbidden(
                "sharing.purpose_mismatch",
                "用途与授权不符（X-Purpose）",
                "the stated purpose (X-Purpose) does not match the grant's",
            )
        return grant

"""Registry use cases: build golden records, look them up masked, explain, review conflicts.

Builds run the resolution engine over the departments' current rows and keep only what
changed (``incremental``). Reads go through the caller's grant: each golden record's
fields are masked by sharing's ``RowMasker`` unless the grant clears them (the
``Clearance`` port; default: nothing cleared). Counts reconcile for every build: rows in
= linked + quarantined + unmatched, and the unmatched and quarantined are listed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.catalog.model import DataType, FieldSpec, Masking
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import InvalidInput, NotFound
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.registry.grants import NoLog, ReadLog, Shown
from opencitybrain.registry.incremental import ChangeSet, links_changed, stamp
from opencitybrain.registry.intake_status import IntakeStatus
from opencitybrain.registry.model import Resolution, SourceSpec
from opencitybrain.registry.resolve import resolve_companies, resolve_people, resolve_vehicles
from opencitybrain.registry.resources import GoldenShelf
from opencitybrain.registry.review import ReviewQueue
from opencitybrain.registry.store import KINDS, BuildFiles, DecisionStore, Kind, rows_where
from opencitybrain.sharing.masking import DEFAULT_POLICY, MaskPolicy, RowMasker

log = logging.getLogger(__name__)

SOURCE = "/registry"
Inputs = Sequence[tuple[SourceSpec, pa.Table]]
# (caller, kind) → the golden record fields the caller's grant clears (shown unmasked).
Clearance = Callable[[Context, Kind], frozenset[str]]
Progress = Callable[[str, float], None]

_RESOLVERS: dict[Kind, Callable[[Inputs], Resolution]] = {
    "people": resolve_people,
    "companies": resolve_companies,
    "vehicles": resolve_vehicles,
}


def _field(name: str, zh: str, kind: DataType, masking: Masking, ident: bool = False) -> FieldSpec:
    return FieldSpec(name, zh, kind, masking=masking, is_identifier=ident)


# The golden records' fields as the sharing layer sees them (what to mask and how).
FIELDS: dict[Kind, tuple[FieldSpec, ...]] = {
    "people": (
        _field("golden_id", "公民身份号码", DataType.CITIZEN_ID, Masking.ID_NUMBER, True),
        _field("name", "姓名", DataType.STRING, Masking.NAME),
        _field("address", "住址", DataType.STRING, Masking.ADDRESS),
    ),
    "companies": (
        _field("golden_id", "统一社会信用代码", DataType.USCC, Masking.NONE, True),
        _field("address", "住所", DataType.STRING, Masking.ADDRESS),
        _field("rep_id_number", "法定代表人证件号码", DataType.CITIZEN_ID, Masking.ID_NUMBER),
    ),
    "vehicles": (
        _field("golden_id", "号牌号码", DataType.PLATE, Masking.PLATE, True),
        _field("owner_code", "所有人证件号码", DataType.STRING, Masking.ID_NUMBER),
        _field("name", "所有人", DataType.STRING, Masking.NAME),
        _field("address", "住所地址", DataType.STRING, Masking.ADDRESS),
    ),
}


def nothing_cleared(ctx: Context, kind: Kind) -> frozenset[str]:
    """Clear no field: every field with a masking type is masked (default deny)."""
    return frozenset()


@dataclass(frozen=True, slots=True)
class BuildReport:
    """One kind's build: its number, counts (reconciled) and what changed."""

    kind: Kind
    number: int
    counts: dict[str, int]
    changes: ChangeSet

    @property
    def reconciles(self) -> bool:
        """Tell whether rows in = linked + quarantined + unmatched."""
        c = self.counts
        return c["rows_in"] == c["linked"] + c["quarantined"] + c["unmatched"]


def check_kind(kind: str) -> Kind:
    """Return the kind if it is one of the registries, else raise."""
    if kind not in KINDS:
        raise NotFound("registry.unknown_kind", f"没有 {kind} 主档", f"no registry {kind}")
    return kind


def normalise_code(kind: Kind, code: str) -> str:
    """Return a lookup code as keys are kept (IDs and credit codes upper-case, no spaces)."""
    text = "".join(code.split())
    return text if kind == "vehicles" else text.upper()


class RegistryService:
    """Golden records of people, companies and vehicles, from the departments' data."""

    def __init__(
        self,
        files: BuildFiles,
        decisions: DecisionStore,
        clock: Clock,
        bus: Bus | None = None,
        *,
        clearance: Clearance = nothing_cleared,
        secret: str | bytes = b"",
        policy: MaskPolicy = DEFAULT_POLICY,
        read_log: ReadLog | None = None,
        shelf: GoldenShelf | None = None,
    ) -> None:
        self.files = files
        self.decisions = decisions
        self.clock = clock
        self.bus = bus
        self.clearance = clearance
        self.secret = secret
        self.policy = policy  # the city's masking rules (sharing's wiring: ``MaskPolicy``)
        self.review = ReviewQueue(files, decisions, clock)
        self.read_log: ReadLog = read_log or NoLog()  # sharing's audit chain when wired
        self.shelf = shelf  # the golden records as the bureau's resources (rows per build)
        self.intake = IntakeStatus()  # where loading the departments' data stands (if it runs)

    # --- builds -------------------------------------------------------------------------

    def build(self, kind: Kind, inputs: Inputs, progress: Progress | None = None) -> BuildReport:
        """Resolve a kind's inputs, keep what changed, store the build and log it."""
        step = progress or (lambda message, fraction: None)
        step(f"解析 {kind} / resolving {kind}", 0.0)
        resolution = _RESOLVERS[kind](inputs)
        step(f"比对上次结果 / comparing with the last build ({kind})", 0.7)
        names = pa.array(list(resolution.sources), pa.string())
        links = resolution.links.set_column(
            0, "source", pc.take(names, pc.cast(resolution.links["source"], pa.int32()))
        )
        previous = self.files.current(kind)
        number = self.files.next_number(kind)
        golden, changes = stamp(resolution.golden, previous.golden if previous else None, number)
        changed_links = links_changed(links, previous.links if previous else None)
        changes = ChangeSet(
            changes.added, changes.changed, changes.removed, changes.unchanged, changed_links
        )
        step(f"写入 / writing build {number} ({kind})", 0.85)
        self.files.write(kind, golden, links, resolution.review)
        if self.shelf is not None:
            step(f"写入共享资源 / writing the {kind} resource's rows", 0.9)
            self.shelf.write(kind, golden, number)
        counts = resolution.counts()
        changes_doc: dict[str, Any] = {**changes.counts(), "sample": list(changes.changed[:20])}
        self.decisions.log_build(kind, number, self.clock.now(), counts, changes_doc)
        log.info("registry: %s build %s: %s, %s", kind, number, counts, changes.counts())
        step(f"完成 / done ({kind})", 1.0)
        return BuildReport(kind, number, counts, changes)

    async def announce(self, report: BuildReport, ctx: Context | None = None) -> None:
        """Publish a build's counts and changes (``city.registry.golden.changed``)."""
        if self.bus is None:
            return
        await self.bus.publish(
            CloudEvent(
                type="city.registry.golden.changed",
                source=SOURCE,
                time=self.clock.now(),
                subject=report.kind,
                data={
                    "kind": report.kind,
                    "build": report.number,
                    "counts": report.counts,
                    "changes": report.changes.counts(),
                },
                context=ctx,
            )
        )

    def _current(self, kind: Kind) -> Any:
        build = self.files.current(kind)
        if build is None:
            raise NotFound(
                "registry.not_built",
                f"{kind} 主档尚未生成",
                f"the {kind} registry is not built yet",
            )
        return build

    def counts(self, kind: Kind) -> dict[str, Any]:
        """Return the current build's counts (rows in = linked + quarantined + unmatched)."""
        build = self._current(kind)
        status = pc.value_counts(build.links["status"])
        found = dict(
            zip(
                [str(v) for v in status.field("values").to_pylist()],
                status.field("counts").to_pylist(),
                strict=True,
            )
        )
        counts = {
            "rows_in": build.links.num_rows,
            "linked": int(found.get("linked", 0)),
            "quarantined": int(found.get("quarantined", 0)),
            "unmatched": int(found.get("unmatched", 0)),
            "golden": build.golden.num_rows,
            "conflicts": build.review.num_rows,
        }
        reconciles = counts["rows_in"] == (
            counts["linked"] + counts["quarantined"] + counts["unmatched"]
        )
        return {"kind": kind, "build": build.number, **counts, "reconciles": reconciles,
                "builds": self.decisions.builds(kind, 5)}  # fmt: skip

    def leftovers(
        self, kind: Kind, status: str, offset: int = 0, limit: int = 50
    ) -> dict[str, Any]:
        """Return the unmatched or quarantined records of the current build, with reasons."""
        if status not in ("unmatched", "quarantined"):
            raise InvalidInput(
                "registry.bad_status", "状态须为 unmatched 或 quarantined",
                "status must be unmatched or quarantined",
            )  # fmt: skip
        links = self._current(kind).links
        rows = links.filter(pc.equal(links["status"], status))
        page = rows.slice(offset, limit).select(
            ["source", "record_key", "rule", "score", "runner_up", "explanation", "reason"]
        )
        return {"total": rows.num_rows, "items": page.to_pylist()}

    # --- reads (masked) -----------------------------------------------------------------

    def _masker(self, ctx: Context, kind: Kind) -> RowMasker:
        return RowMasker(
            FIELDS[kind], self.clearance(ctx, kind), secret=self.secret, policy=self.policy
        )

    def lookup(self, ctx: Context, kind: Kind, code: str) -> dict[str, Any]:
        """Return a golden record by its key, masked per the caller's grant, with sources."""
        build = self._current(kind)
        key = normalise_code(kind, code)
        found = rows_where(build.golden, "golden_id", key)
        if not found:
            raise NotFound("registry.no_record", "找不到该主档", f"no {kind} record with that key")
        record = self.review.apply_decisions(kind, found[0])
        records = [
            {k: r[k] for k in ("source", "record_key", "rule", "score", "explanation", "status")}
            for r in rows_where(build.links, "golden_id", key)
        ]
        masker = self._masker(ctx, kind)
        out: dict[str, Any] = {
            "kind": kind,
            "build": build.number,
            "record": masker.apply_row(record),
            "records": records,
            "links": self._related(ctx, kind, key),
        }
        shown = [Shown(kind, [out["record"]])]
        for other in KINDS:
            linked = [r for r in out["links"] if r["kind"] == other]
            if linked:
                shown.append(Shown(other, linked))
        self.read_log.record(ctx, shown, out)
        return out

    def review_items(
        self, ctx: Context, kind: Kind, status: str = "open", offset: int = 0, limit: int = 50
    ) -> dict[str, Any]:
        """Return a page of review items masked per the caller's grant (audited as a read)."""
        page = self.review.items(kind, status, offset, limit, self._masker(ctx, kind))
        rows = [{"golden_id": i["golden_id"], i["attribute"]: None} for i in page["items"]]
        self.read_log.record(ctx, [Shown(kind, rows)], page)
        return page

    def _related(self, ctx: Context, kind: Kind, key: str) -> list[dict[str, Any]]:
        """Return linked golden records: a person's companies and vehicles, and so on."""
        out: list[dict[str, Any]] = []
        wanted: list[tuple[Kind, str, str]] = []
        if kind in ("people", "companies"):
            wanted.append(("vehicles", "owner_code", "owns"))
        if kind == "people":
            wanted.append(("companies", "rep_id_number", "represents"))
        for other, column, relation in wanted:
            build = self.files.current(other)
            if build is None:
                continue
            masker = self._masker(ctx, other)
            for row in rows_where(build.golden, column, key)[:50]:
                shown = masker.apply_row({"golden_id": row["golden_id"], "name": row.get("name")})
                out.append({"relation": relation, "kind": other, **shown})
        if kind in ("companies", "vehicles"):
            column = "rep_id_number" if kind == "companies" else "owner_code"
            rows = rows_where(self._current(kind).golden, "golden_id", key)
            target = rows[0].get(column) if rows else None
            if target:
                owner_kind: Kind = (
                    "companies"
                    if kind == "vehicles" and len(target) == 18 and (not target[:17].isdigit())
                    else "people"
                )
                relation = "represented_by" if kind == "companies" else "owned_by"
                shown = self._masker(ctx, owner_kind).apply_row({"golden_id": target})
                out.append({"relation": relation, "kind": owner_kind, **shown})
        return out

    def explain(
        self, ctx: Context, kind: Kind, first: tuple[str, str], second: tuple[str, str]
    ) -> dict[str, Any]:
        """Say why two department records are (or are not) the same golden record."""
        links = self._current(kind).links
        found = []
        for source, record_key in (first, second):
            mask = pc.and_(
                pc.equal(links["source"], source), pc.equal(links["record_key"], record_key)
            )
            rows = links.filter(mask).to_pylist()
            if not rows:
                raise NotFound(
                    "registry.unknown_record",
                    f"找不到记录：{source} {record_key}",
                    f"no record {record_key} in {source}",
                )
            found.append(rows[0])
        masker = self._masker(ctx, kind)
        same = found[0]["golden_id"] is not None and found[0]["golden_id"] == found[1]["golden_id"]
        shown = [
            {**{k: r[k] for k in ("source", "record_key", "rule", "score", "runner_up",
                                   "explanation", "status", "reason")},
             "golden_id": masker.apply_row({"golden_id": r["golden_id"]})["golden_id"]}
            for r in found
        ]  # fmt: skip
        out = {"same_golden_record": same, "records": shown, "why": _why(found, same)}
        ids = [{"golden_id": r["golden_id"]} for r in shown]
        self.read_log.record(ctx, [Shown(kind, ids)], out)
        return out


def _why(rows: list[dict[str, Any]], same: bool) -> str:
    """Return the evidence in words (Chinese first, then English)."""
    parts = []
    for row in rows:
        rule = row["rule"] or row["reason"] or row["status"]
        parts.append(f"{row['source']}:{row['record_key']} → {rule} ({row['explanation'] or '-'})")
    verdict = "同一主档 / same golden record" if same else "不同主档 / different golden records"
    return f"{verdict}: " + "; ".join(parts)

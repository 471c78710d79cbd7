"""Catalogue search: the term index against a naive LIKE scan over the same resources.

10,000 resources (300 with --quick) made from the demo catalogue's templates, spread over
districts and years, are published into an embedded SQLite store (and into PostgreSQL too
when ``CITYBRAIN_BENCH_POSTGRES_URL`` names an empty database). Each query of a search
page (text in Chinese or English, filters, three facets, the first 20 hits) is timed
against the same page answered by ``LIKE '%word%'`` over a plain text column of the same
resources, measured in the same run: p50 and p95 latency per search.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.harness import Harness, Timing
from opencitybrain.accounts.model import Department, DepartmentKind
from opencitybrain.adapters.migrate import upgrade
from opencitybrain.adapters.sql import make_engine
from opencitybrain.catalog.model import Change, Resource, Status, effective_level, resource_code
from opencitybrain.catalog.search import Facet, SearchQuery
from opencitybrain.catalog.service import index_weights
from opencitybrain.catalog.store import SqlCatalogStore
from opencitybrain.catalog.text import normalise
from opencitybrain.sim.demo_catalog import demo_specs
from opencitybrain.sim.demo_org import DEPARTMENTS

DISTRICTS = (
    "东湖区",
    "西湖区",
    "青云谱区",
    "青山湖区",
    "新建区",
    "红谷滩区",
    "南昌县",
    "安义县",
    "进贤县",
)
SINGLE = 100  # resources published one by one (timed); the rest load in bulk
FACETS = (Facet.DEPARTMENT, Facet.DOMAIN, Facet.SHARING_TYPE)
# (text, filters): typical catalogue searches, from selective to very common terms.
QUERIES: tuple[tuple[str, dict[str, tuple[str, ...]]], ...] = (
    ("户籍人口", {}),
    ("机动车", {}),
    ("企业登记", {}),
    ("医疗机构", {}),
    ("低保", {}),
    ("车", {}),
    ("东湖区 机动车", {}),
    ("身份号码", {"departments": ("public-security",)}),
    ("许可证", {"sharing_types": ("unconditional",)}),
    ("公交线路", {}),
    ("实时", {}),
    ("信息", {}),  # in nearly every title: the worst case
    ("红谷滩区 企业", {}),
    ("vehicle", {}),
    ("school", {}),
    ("social insurance", {}),
    ("", {"departments": ("health",)}),
)
NAIVE = sa.table(
    "bench_naive",
    sa.column("id"), sa.column("department_id"), sa.column("domain"),
    sa.column("sharing_type"), sa.column("updated_at"), sa.column("body"),
)  # fmt: skip


def _depts() -> dict[str, Department]:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        did: Department(
            did, f"南昌市{zh}", f"Nanchang {en}", DepartmentKind.DEPARTMENT, "city", "360100", t0
        )
        for did, zh, en in DEPARTMENTS
    }


def _resources(n: int) -> list[Resource]:
    rng = random.Random(7)
    templates = demo_specs("360100")
    seq: dict[str, int] = {}
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        base = templates[i % len(templates)]
        district = DISTRICTS[rng.randrange(len(DISTRICTS))]
        year = 2015 + rng.randrange(12)
        spec = replace(
            base,
            name_zh=f"{district}{base.name_zh}（{year}年）",
            name_en=f"{base.name_en} of {district} {year}",
            abstract=f"{district}{year}年{base.abstract}",
        )
        code_seq = seq.get(spec.classification.code, 0) + 1
        seq[spec.classification.code] = code_seq
        moment = t0 + timedelta(minutes=i)
        out.append(
            Resource(f"R{i:08d}", resource_code(spec.classification, code_seq), 1, Status.ACTIVE,
                     spec, effective_level(spec), moment, moment, "bench", Change.PUBLISHED)
        )  # fmt: skip
    return out


def _naive_body(r: Resource, dept: Department) -> str:
    s = r.spec
    parts = [s.name_zh, s.name_en, " ".join(s.tags), s.abstract, dept.name_zh, dept.name_en,
             " ".join(f"{f.name_zh} {f.name}" for f in s.fields), r.code]  # fmt: skip
    return normalise(" ".join(parts))


def _load(engine: sa.Engine, resources: list[Resource]) -> float:
    """Publish every resource (term index) and fill the naive table; return resources/s."""
    upgrade(engine)
    depts = _depts()
    store = SqlCatalogStore(engine)
    single = resources[:SINGLE]
    t0 = time.perf_counter()
    for r in single:
        store.add(r, index_weights(r, depts[r.department_id]))
    rate = len(single) / (time.perf_counter() - t0)
    rest = resources[SINGLE:]
    for i in range(0, len(rest), 1000):
        store.add_many([(r, index_weights(r, depts[r.department_id])) for r in rest[i : i + 1000]])
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE bench_naive (id VARCHAR(32) PRIMARY KEY, department_id VARCHAR(64), "
            "domain VARCHAR(32), sharing_type VARCHAR(16), updated_at VARCHAR(40), body TEXT)"
        ))  # fmt: skip
        conn.execute(
            NAIVE.insert(),
            [
                {"id": r.id, "department_id": r.department_id, "domain": r.spec.domain.value,
                 "sharing_type": r.spec.sharing_type.value, "updated_at": r.updated_at.isoformat(),
                 "body": _naive_body(r, depts[r.department_id])}
                for r in resources
            ],
        )  # fmt: skip
    if engine.dialect.name == "postgresql":
        # The steady state autovacuum reaches after a bulk load: statistics and the
        # visibility map that index-only scans of the term index need.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) catalog_terms, catalog_resources, bench_naive")
    return rate


def _naive_page(engine: sa.Engine, text: str, filters: dict[str, tuple[str, ...]]) -> int:
    """Answer a search page the naive way: LIKE per word, then count, page and facets."""
    cond: list[Any] = [NAIVE.c.body.like(f"%{w}%") for w in normalise(text).split()]
    for key, column in (("departments", NAIVE.c.department_id),
                        ("sharing_types", NAIVE.c.sharing_type)):  # fmt: skip
        if filters.get(key):
            cond.append(column.in_(filters[key]))
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(NAIVE).where(*cond)).scalar()
        conn.execute(
            sa.select(NAIVE.c.id).where(*cond).order_by(NAIVE.c.updated_at.desc()).limit(20)
        ).all()
        for column in (NAIVE.c.department_id, NAIVE.c.domain, NAIVE.c.sharing_type):
            conn.execute(sa.select(column, sa.func.count()).where(*cond).group_by(column)).all()
    return int(total or 0)


def _samples(fn: Any, repeat: int) -> list[float]:
    out = []
    for text, filters in QUERIES:
        fn(text, filters)  # warm-up
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn(text, filters)
            out.append(time.perf_counter() - t0)
    return out


def _measure(h: Harness, engine: sa.Engine, label: str, n: int) -> None:
    resources = _resources(n)
    rate = _load(engine, resources)
    store = SqlCatalogStore(engine)
    group = f"catalog search ({label}, {n:,} resources)"
    h.record(group, "publish + index", rate, "resources/s", higher_is_better=True,
             note=f"{SINGLE} publishes, one transaction each, terms included")  # fmt: skip
    repeat = 2 if h.quick else 10

    def indexed(text: str, filters: dict[str, tuple[str, ...]]) -> None:
        store.search(SearchQuery(text, limit=20, facets=FACETS, **filters))  # type: ignore[arg-type]

    naive = Timing(tuple(_samples(lambda t, f: _naive_page(engine, t, f), repeat)))
    ours = Timing(tuple(_samples(indexed, repeat)))
    note = f"{len(QUERIES)} searches × {repeat}, each a page of 20 with 3 facets"
    for q in (50, 95):
        h.record(group, f"LIKE scan p{q}", naive.percentile(q) * 1000, "ms", note=note)
        h.record(group, f"term index p{q}", ours.percentile(q) * 1000, "ms",
                 baseline=f"LIKE scan p{q}", note=note)  # fmt: skip


def run(h: Harness) -> None:
    """Measure search latency at 10k resources on SQLite (and PostgreSQL when configured)."""
    n = 300 if h.quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            _measure(h, engine, "SQLite", n)
        finally:
            engine.dispose()
    pg_url = os.environ.get("CITYBRAIN_BENCH_POSTGRES_URL")
    if pg_url:
        engine = make_engine(pg_url)
        try:
            _measure(h, engine, "PostgreSQL", n)
        finally:
            engine.dispose()

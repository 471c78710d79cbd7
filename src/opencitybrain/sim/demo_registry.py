"""The demo city's departments' data, generated, loaded, resolved and aggregated in the background.

``seed_demo_registry`` runs while the demo serves: it generates the population (seeded;
in a child process, cached under ``<data>/demo/population-…`` by seed and sizes), loads
each department table through the catalogue's load path (``RegistryIntake``: checks,
quarantine, upsert by key), builds the people, companies and vehicles registries (the
golden records become the bureau's resources' rows as each build is stored), and
locates and summarises those resources' rows for block data (块数据). Heavy work runs in
a process or in threads, so the event loop keeps serving. ``<data>/registry/demo-intake.json``
records what is done for which population, so a restart with the same data skips the
load and the builds and only warms the block data again. Progress is kept in the
registry's ``IntakeStatus`` (``GET /api/v1/registry/intake``) and told to ``notify``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import queue
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opencitybrain.blocks.service import BlockService
from opencitybrain.catalog.loading import LoadService
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.settings import DemoSettings
from opencitybrain.registry.intake import Provider, RegistryIntake, build_all
from opencitybrain.registry.intake_status import IntakeStatus
from opencitybrain.registry.service import RegistryService
from opencitybrain.registry.store import KINDS
from opencitybrain.sim.demo_catalog import DEPT_NO, provider_code
from opencitybrain.sim.population.generate import GENERATOR_VERSION

log = logging.getLogger(__name__)

STAMP = "demo-intake.json"
SHOWN = ("build", "rows_in", "linked", "quarantined", "unmatched", "golden", "reconciles")
CTX = Context.system("demo-registry")
Notify = Callable[[str], None]


def demo_provider(city_code: str) -> Provider:
    """Return each department's catalogue number and provider code in the demo city."""
    return lambda department: (DEPT_NO.get(department, "99"), provider_code(city_code, department))


def population_key(demo: DemoSettings) -> str:
    """Return the name of a population's cache folder: generator version, seed and sizes."""
    people, companies, vehicles = demo.sizes()
    return f"population-g{GENERATOR_VERSION}-s{demo.seed}-p{people}-c{companies}-v{vehicles}"


def _generate_into(
    pack: str, cache_dir: str, sizes: tuple[int, int, int, int], out: str, told: Any
) -> None:
    """Generate and write a population (run in a child process; ``told`` hears progress)."""
    from opencitybrain.citypack.loader import load_pack
    from opencitybrain.sim.population import CityGeography, PopulationSpec, generate, write

    people, companies, vehicles, seed = sizes
    spec = PopulationSpec(people=people, companies=companies, vehicles=vehicles, seed=seed)
    geography = CityGeography.from_pack(load_pack(pack, cache_dir=Path(cache_dir)))
    population = generate(geography, spec, lambda m, f: told.put((m, 0.8 * f)))
    target = Path(out)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    write(population, partial, lambda m, f: told.put((m, 0.8 + 0.2 * f)))
    partial.replace(target)  # the folder appears whole, with its manifest, or not at all


@dataclass
class DemoRegistry:
    """What the background seeding needs: the services, where data lives, the sizes."""

    catalog: CatalogService
    loader: LoadService
    rows: ResourceRows
    registry: RegistryService
    blocks: BlockService
    data_dir: Path
    pack: str  # the city pack's name or folder (the child process loads it)
    city_code: str
    demo: DemoSettings
    clock: Clock  # real time for the status (the demo's city clock runs faster)
    notify: Notify = lambda line: None

    @property
    def status(self) -> IntakeStatus:
        """Return the registry's intake status (what the API shows)."""
        return self.registry.intake

    @property
    def stamp_path(self) -> Path:
        """Return the file recording what is done for which population."""
        return self.data_dir / "registry" / STAMP

    def _stamp(self) -> dict[str, Any]:
        if not self.stamp_path.is_file():
            return {}
        found: dict[str, Any] = json.loads(self.stamp_path.read_text(encoding="utf-8"))
        return found

    def _write_stamp(self, **done: Any) -> None:
        doc = {**self._stamp(), **done}
        self.stamp_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.stamp_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        temporary.replace(self.stamp_path)

    def _say(self, phase: str, zh: str, en: str) -> None:
        line = f"基础库：{zh} / registry: {en}"
        self.status.step(phase, f"{zh} / {en}")
        log.info("%s", line)
        self.notify(line)


async def seed_demo_registry(deps: DemoRegistry) -> None:
    """Generate, load, build and aggregate the demo city's departments' data (see module)."""
    people, companies, vehicles = deps.demo.sizes()
    if people == 0:
        deps.status.disable("演示未配置部门数据（[demo] people = 0）/ demo loads none")
        return
    started = time.monotonic()
    deps.status.start(deps.clock.now(), {"people": people, "companies": companies,
                                          "vehicles": vehicles})  # fmt: skip
    try:
        folder = await _population(deps)
        key = folder.name
        intake = RegistryIntake(deps.catalog, deps.loader, deps.rows, deps.data_dir / "registry",
                                deps.city_code, demo_provider(deps.city_code), CTX)  # fmt: skip
        await _load(deps, intake, folder, key)
        await _build(deps, intake, key)
        await _aggregate(deps)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a background task: say so, keep serving
        log.exception("demo registry intake failed")
        deps.status.fail(deps.clock.now(), str(exc)[:500])
        deps.notify(f"[red]基础库装载失败 / registry intake failed: {exc}[/red]")
        return
    seconds = time.monotonic() - started
    golden = {k: v.get("golden", 0) for k, v in deps.status.snapshot()["builds"].items()}
    message = (
        f"基础库就绪：{golden.get('people', 0):,} 人、{golden.get('companies', 0):,} 企、"
        f"{golden.get('vehicles', 0):,} 车（{seconds:.0f} 秒）/ registry ready in {seconds:.0f} s"
    )
    deps.status.finish(deps.clock.now(), message)
    log.info("%s", message)
    deps.notify(message)


async def _population(deps: DemoRegistry) -> Path:
    """Return the cached population folder, generating it in a child process if missing."""
    folder = deps.data_dir / "demo" / population_key(deps.demo)
    if (folder / "manifest.json").is_file():
        deps.status.skip("generate")
        deps._say("generate", f"使用已生成的部门数据 {folder.name}", f"using {folder}")
        return folder
    people, companies, vehicles = deps.demo.sizes()
    deps._say("generate", f"生成 {people:,} 人的部门数据", f"generating {people:,} people")
    folder.parent.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")  # never fork a process running threads
    told = context.Queue()
    sizes = (people, companies, vehicles, deps.demo.seed)
    args = (deps.pack, str(deps.data_dir / "cache"), sizes, str(folder), told)
    child = context.Process(target=_generate_into, args=args, name="demo-population", daemon=True)
    child.start()
    try:
        while child.is_alive() or not told.empty():
            await asyncio.sleep(0.5)
            _drain(told, deps.status)
        child.join()
    finally:
        if child.is_alive():
            child.terminate()
            child.join(5)
        told.close()
    if child.exitcode != 0 or not (folder / "manifest.json").is_file():
        raise RuntimeError(f"population generation failed (exit code {child.exitcode})")
    return folder


def _drain(told: Any, status: IntakeStatus) -> None:
    try:
        while True:
            message, fraction = told.get_nowait()
            status.step("generate", message, fraction)
    except queue.Empty:
        return


async def _load(deps: DemoRegistry, intake: RegistryIntake, folder: Path, key: str) -> None:
    """Load each department table through the catalogue, unless this population is loaded."""
    sources = intake.sources()
    held = await asyncio.to_thread(
        lambda: {s: deps.rows.count(info["resource_id"]) for s, info in sources.items()}
    )
    if deps._stamp().get("loaded") == key and sources and all(held.values()):
        deps.status.skip("load")
        for source, info in sources.items():
            deps.status.table(source, {"resource_id": info["resource_id"], "rows": held[source]})
        deps._say("load", "部门数据已装载", "the departments' tables are loaded already")
        return
    deps._say("load", "装载部门数据", "loading the departments' tables")
    current: dict[str, Any] = {"table": "", "index": 0, "total": 1}

    def started(source: str, index: int, total: int) -> None:
        current.update(table=source, index=index, total=total)

    def progress(message: str, fraction: float) -> None:
        share = (current["index"] + fraction) / max(1, current["total"])
        deps.status.step("load", f"{current['table']}: {message}", share)

    loaded = await intake.load(folder, started, progress)
    for done in loaded:
        deps.status.table(done.source, done.counts())
        deps.notify(f"基础库：{done.source}：{done.report.summary()}")
    deps._write_stamp(loaded=key, built=None)


async def _build(deps: DemoRegistry, intake: RegistryIntake, key: str) -> None:
    """Build the registries from the loaded rows, unless these rows are built already."""
    registry = deps.registry
    stamp = deps._stamp()
    builds: dict[str, int] = stamp.get("builds") or {}
    # The pointers' numbers only: reading a million-person build takes seconds.
    if stamp.get("built") == key and all(
        registry.files.next_number(k) - 1 == builds.get(k) for k in KINDS
    ):
        deps.status.skip("build")
        for kind in KINDS:
            c = await asyncio.to_thread(registry.counts, kind)  # loads the build, once
            deps.status.build(kind, {k: c[k] for k in SHOWN})
        deps._say("build", "基础库已生成", "the registries are built already")
        if registry.shelf is not None:  # rows of a build the resources lack (a crash)
            await asyncio.to_thread(registry.shelf.catch_up, registry.files)
        return
    deps._say("build", "比对归集：一人一档、一企一档、一车一档", "resolving the registries")
    if registry.shelf is not None:
        await registry.shelf.ensure()  # the bureau's resources, so each build lands in them

    def step(message: str, fraction: float) -> None:
        deps.status.step("build", message, fraction)

    inputs = await asyncio.to_thread(intake.inputs)
    reports = await asyncio.to_thread(build_all, registry, inputs, step)
    for report in reports:
        counts = {"build": report.number, **report.counts, "reconciles": report.reconciles,
                  **report.changes.counts()}  # fmt: skip
        deps.status.build(report.kind, counts)
        await registry.announce(report, CTX)
    deps._write_stamp(built=key, builds={r.kind: r.number for r in reports})


async def _aggregate(deps: DemoRegistry) -> None:
    """Locate and summarise the golden records' resources for block data."""
    shelf = deps.registry.shelf
    if shelf is None:
        return
    deps._say("aggregate", "块数据汇总：人、企、车", "summarising block data")
    for n, kind in enumerate(KINDS):
        rid = shelf.resource_id(kind)
        if rid is None:
            continue
        deps.status.step("aggregate", f"块数据 / block data: {kind}", n / len(KINDS))
        if await asyncio.to_thread(_locate, deps, rid):
            deps.status.resource(kind, rid)


def _locate(deps: DemoRegistry, rid: str) -> bool:
    """Locate and summarise a resource's rows for block data (False: it has none)."""
    if deps.rows.count(rid) == 0:
        return False
    deps.blocks.located(rid)
    return True

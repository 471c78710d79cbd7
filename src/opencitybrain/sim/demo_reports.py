"""The demo city's stream of 12345 calls and grid inspectors' reports, and the city at work.

So that the cockpit is alive during ``citybrain demo``:

- **When.** Calls follow the hotline's day (few at night, a morning peak 9–11, a second
  one 14–17, evenings busy with noise and barbecue smoke); inspectors patrol in office
  hours only. Counts per tick are Poisson draws at the hour's rate.
- **What.** Classes by frequency, the ones a Chinese city's 12345 hears most (rubbish,
  parking, construction noise, hawkers, street lights) weighted highest, inspectors
  weighted to what they patrol for (flyposting, street order, broken components).
  Each call's text is one of the class's hand-written phrases as an operator would
  transcribe it (:mod:`opencitybrain.operations.corpus`).
- **Where.** A point along a road segment of the city pack's network (weighted by its
  length), so reports fall on real streets; the intake locates it in its grid.
- **Then.** Inspectors' reports are filed and dispatched on intake (batched); calls wait
  a few minutes for the command centre, which files and dispatches them. Departments
  accept, handle (some late), the grid verifies, the centre closes, follows up and
  evaluates, each step with its own rate, so every status is on the map at once.

Everything draws from one seeded generator and the platform clock, so a run is
reproducible for a given seed and start time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from opencitybrain.citypack.model import CityPack
from opencitybrain.kernel.errors import CityBrainError
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.operations.corpus import frame, phrases
from opencitybrain.operations.intake import NewReport
from opencitybrain.operations.model import Action, CaseStatus, Satisfaction, Source
from opencitybrain.operations.ports import CaseQuery
from opencitybrain.operations.service import OperationsService
from opencitybrain.operations.workflow import ActionInput

log = logging.getLogger(__name__)

# Calls per hour of the day (Asia/Shanghai) at scale 1: a 12345 line of a large district.
HOTLINE_PER_HOUR = (
    6, 4, 3, 2, 2, 3, 8, 20, 45, 60, 62, 55, 38, 42, 55, 58, 52, 45, 35, 32, 30, 22, 14, 9,
)  # fmt: skip
# Inspector reports per hour: patrols 8:30–12:00 and 14:00–17:30 on any day.
INSPECTOR_PER_HOUR = (0,) * 8 + (25, 40, 40, 30, 0, 0, 35, 40, 40, 20) + (0,) * 6
# Relative frequency of classes; any class not named weighs 1.
HOTLINE_WEIGHTS = {
    "E0102": 14, "E0504": 12, "E0301": 12, "E0501": 8, "C0108": 8, "E0507": 7, "E0503": 6,
    "E0104": 5, "E0404": 5, "C0206": 5, "E0101": 5, "E0505": 4, "E0305": 4, "C0102": 4,
    "C0201": 3, "E0402": 3, "E0103": 3, "C0110": 3, "E0108": 3, "E0406": 2,
}  # fmt: skip
INSPECTOR_WEIGHTS = {
    "E0201": 16, "E0503": 12, "E0102": 12, "E0505": 10, "E0506": 9, "E0501": 8, "E0202": 5,
    "C0110": 5, "C0206": 5, "C0102": 4, "C0101": 3, "C0108": 3, "E0303": 3, "E0104": 3,
}  # fmt: skip

# The city's own staff in the simulation (the bureau's role acts on any case).
CITY = Context("demo-city", "command-centre", frozenset({"bureau_admin"}))
INSPECTOR = Context("demo-inspector", "command-centre", frozenset({"grid_worker"}))
# (status it moves from, action, rate per hour of clock time, minimum age in minutes)
PROGRESS: tuple[tuple[CaseStatus, Action, float, float], ...] = (
    (CaseStatus.REPORTED, Action.FILE, 6.0, 3),
    (CaseStatus.FILED, Action.DISPATCH, 6.0, 2),
    (CaseStatus.DISPATCHED, Action.ACCEPT, 1.5, 10),
    (CaseStatus.IN_PROGRESS, Action.HANDLE, 0.4, 30),
    (CaseStatus.HANDLED, Action.VERIFY, 1.0, 10),
    (CaseStatus.VERIFIED, Action.CLOSE, 2.0, 5),
)
NOTES = {
    Action.FILE: "符合立案条件 / filed",
    Action.DISPATCH: "按分类派遣 / dispatched by class",
    Action.ACCEPT: "已接单 / accepted",
    Action.HANDLE: "已处置完毕 / handled",
    Action.VERIFY: "现场核查通过 / verified on site",
    Action.CLOSE: "结案 / closed",
}
F64 = npt.NDArray[np.float64]


@dataclass
class StreetPoints:
    """Road segments to put reports on: end points and a draw weight (length) each."""

    lon0: F64
    lat0: F64
    lon1: F64
    lat1: F64
    weight: F64
    _cum: list[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._cum = np.cumsum(self.weight).tolist()

    @classmethod
    def of_pack(cls, pack: CityPack) -> StreetPoints:
        """Return the pack's road segments (each direction of a road is one segment)."""
        g = pack.graph
        a, b = g.edge_from, g.edge_to
        return cls(g.node_lon[a], g.node_lat[a], g.node_lon[b], g.node_lat[b],
                   np.asarray(g.edge_length_m, dtype=np.float64))  # fmt: skip

    def draw(self, rng: random.Random) -> tuple[float, float]:
        """Return a point along a segment drawn by length."""
        i = rng.choices(range(len(self._cum)), cum_weights=self._cum, k=1)[0]
        t = rng.random()
        return (float(self.lon0[i] + t * (self.lon1[i] - self.lon0[i])),
                float(self.lat0[i] + t * (self.lat1[i] - self.lat0[i])))  # fmt: skip


def poisson(rng: random.Random, mean: float) -> int:
    """Return a Poisson draw (Knuth's method; means here are small)."""
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation for the rare large tick
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass
class DemoReports:
    """Make the reports of one tick and move the city's open cases along."""

    ops: OperationsService
    streets: StreetPoints
    seed: int = 12345
    scale: float = 1.0
    tick_s: float = 60.0
    made: int = 0
    refused: int = 0
    steps: int = 0
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 - a simulation, not a secret
        self._phrases = phrases()

    def _codes(self, weights: dict[str, int]) -> tuple[list[str], list[int]]:
        codes = sorted(c.code for c in self.ops.active_classes())
        return codes, [weights.get(c, 1) for c in codes]

    def reports(self, now: datetime, seconds: float) -> tuple[list[NewReport], list[NewReport]]:
        """Return (calls, inspector reports) arriving in ``seconds`` of clock time."""
        hour = now.hour
        rng = self._rng
        out: tuple[list[NewReport], list[NewReport]] = ([], [])
        for k, (per_hour, weights, source) in enumerate((
            (HOTLINE_PER_HOUR[hour], HOTLINE_WEIGHTS, Source.HOTLINE_12345),
            (INSPECTOR_PER_HOUR[hour], INSPECTOR_WEIGHTS, Source.GRID_INSPECTOR),
        )):  # fmt: skip
            n = poisson(rng, per_hour * self.scale * seconds / 3600)
            if not n:
                continue
            codes, w = self._codes(weights)
            for code in rng.choices(codes, weights=w, k=n):
                lon, lat = self.streets.draw(rng)
                phrase = rng.choice(self._phrases.get(code, ("发现问题",)))
                text = frame(phrase, rng) if k == 0 else f"巡查发现：{phrase}"
                reporter = {"phone": f"1{rng.randint(3, 9)}{rng.randint(0, 99_999_999):08d}"}
                out[k].append(NewReport(
                    source=source, class_code=code, lon=lon, lat=lat, description=text,
                    reporter=reporter if k == 0 else {},
                    external_id=f"demo-{source.value}-{rng.getrandbits(48):012x}",
                ))  # fmt: skip
        return out

    def tick(self, now: datetime) -> list[CloudEvent]:
        """Take one tick's reports in and move open cases along; return the events."""
        calls, patrols = self.reports(now, self.tick_s)
        events: list[CloudEvent] = []
        for batch, dispatch, ctx in ((calls, False, CITY), (patrols, True, INSPECTOR)):
            if batch:
                result, evs = self.ops.intake_batch(ctx, batch, dispatch=dispatch)
                self.made += len(result.created) + len(result.merged)
                self.refused += len(result.refused)
                events += evs
        events += self.progress(now)
        return events

    def progress(self, now: datetime) -> list[CloudEvent]:
        """Move open cases along the workflow at each step's rate."""
        events: list[CloudEvent] = []
        rng = self._rng
        chance = {a: 1 - math.exp(-rate * self.tick_s / 3600) for _, a, rate, _ in PROGRESS}
        for status, action, _, min_age in PROGRESS:
            cases, _ = self.ops.cases(CaseQuery(status=(status,), limit=200))
            for case in cases:
                young = now - case.updated_at < timedelta(minutes=min_age)
                if young or rng.random() > chance[action]:
                    continue
                events += self._act(case.id, action, ActionInput(note=NOTES[action]))
                if action is Action.CLOSE and case.source is Source.HOTLINE_12345:
                    grade = rng.choices((5, 4, 3, 2), weights=(60, 25, 10, 5))[0]
                    events += self._act(case.id, Action.FOLLOW_UP, ActionInput(
                        note="回访 / followed up", satisfaction=Satisfaction(grade)))  # fmt: skip
                    events += self._act(case.id, Action.EVALUATE,
                                        ActionInput(satisfaction=Satisfaction(grade)))  # fmt: skip
        return events

    def _act(self, case_id: str, action: Action, inp: ActionInput) -> list[CloudEvent]:
        try:
            _, events = self.ops.act(CITY, case_id, action, inp)
        except CityBrainError as exc:  # e.g. changed meanwhile by a person in the cockpit
            log.debug("demo step %s on %s skipped: %s", action.value, case_id, exc.code)
            return []
        self.steps += 1
        return events


async def run_demo_reports(
    ops: OperationsService, pack: CityPack, *, seed: int = 12345, scale: float = 1.0,
    tick_s: float = 60.0,
) -> None:  # fmt: skip
    """Feed the demo city its reports every ``tick_s`` of clock time until cancelled."""
    sim = DemoReports(ops, StreetPoints.of_pack(pack), seed, scale, tick_s)
    while True:
        try:
            events = await asyncio.to_thread(sim.tick, ops.clock.now())
            await ops.publish(events)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bad tick must not end the demo's stream
            log.exception("demo report stream: a tick failed; going on")
        await ops.clock.sleep(tick_s)


def hourly_rates(source: Source) -> Sequence[int]:
    """Return the reports per hour of the day a source makes at scale 1."""
    return HOTLINE_PER_HOUR if source is Source.HOTLINE_12345 else INSPECTOR_PER_HOUR

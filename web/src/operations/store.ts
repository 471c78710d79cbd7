// The operations state of one signed-in map: open cases, the overdue count, the
// per-department figures and the city time, polled every REFRESH_MS and shared by the
// panels, the KPI cards and the map layers. It lives with the map (panels are redrawn
// on a language change; the polling and the layers stay) and stops when the map goes.

import type { Map as MapLibreMap } from "maplibre-gl";
import { fetchClock } from "../api";
import { formatPct } from "../format";
import { registerKpi, type KpiHandle } from "../kpi";
import { onMapClick } from "../map/clickRouter";
import { mergeFeatureCounts } from "../testHook";
import { fetchCases, fetchDeptKpis } from "./client";
import { closeCaseDrawer } from "./drawer";
import { kpisFromCases, overallOnTime } from "./figures";
import { opsHook } from "./hook";
import { CASES_LAYER, drawCases, renderedCaseIds, setHeat } from "./layer";
import { OPEN_STATUSES, type CaseItem, type DeptKpi } from "./types";

/** The demo clock runs ×60: every 10 s is ten city minutes. */
export const REFRESH_MS = 10_000;
const HIT_PX = 6;

export type Availability = "unknown" | "available" | "unavailable";

export interface OpsView {
  availability: Availability;
  cases: CaseItem[];
  openTotal: number | null;
  overdueTotal: number | null;
  departments: DeptKpi[];
  /** "server": GET /kpis; "cases": computed from the newest cases (no cases:supervise). */
  departmentsFrom: "server" | "cases";
  nowMs: number;
  timeZone: string;
  error: string | null;
  heat: boolean;
}

export class OpsStore {
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private readonly timer: number;
  private readonly offClick: () => void;
  private readonly styleReady: Promise<void>;
  private kpis: KpiHandle[] = [];
  private disposed = false;
  private inflight: Promise<void> | null = null;
  private state: OpsView = {
    availability: "unknown",
    cases: [],
    openTotal: null,
    overdueTotal: null,
    departments: [],
    departmentsFrom: "cases",
    nowMs: Date.now(),
    timeZone: "Asia/Shanghai",
    error: null,
    heat: false,
  };
  /** Called with a case id when a case is clicked on the map. */
  onCaseClick: ((id: string) => void) | null = null;

  constructor(
    private readonly map: MapLibreMap,
    private readonly permissions: readonly string[],
  ) {
    this.styleReady = map.getLayer("background")
      ? Promise.resolve()
      : new Promise((resolve) => map.once("load", () => resolve()));
    this.offClick = onMapClick(map, (e) => this.click(e.point.x, e.point.y), 15);
    map.on("idle", this.onIdle);
    map.once("remove", () => this.dispose());
    this.timer = window.setInterval(() => {
      if (!document.hidden) void this.refresh();
    }, REFRESH_MS);
    if (!permissions.includes("cases:read")) {
      this.state.availability = "unavailable";
      opsHook().available = false;
    } else {
      void this.refresh();
    }
  }

  /** What the panels show. */
  view(): OpsView {
    return this.state;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Switch the per-grid heat map on or off. */
  setHeat(on: boolean): void {
    this.state = { ...this.state, heat: on };
    setHeat(this.map, on);
    this.changed();
  }

  /** Reload the cases, the counts and the figures. */
  refresh(): Promise<void> {
    if (this.disposed || this.state.availability === "unavailable") return Promise.resolve();
    this.inflight ??= this.load().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async load(): Promise<void> {
    const signal = this.abort.signal;
    try {
      const supervise = this.permissions.includes("cases:supervise");
      const [open, overdue, recent, kpis, clock] = await Promise.all([
        fetchCases({ status: OPEN_STATUSES, limit: 500 }, signal),
        fetchCases({ status: OPEN_STATUSES, overdue: true, limit: 1 }, signal),
        supervise ? null : fetchCases({ limit: 500 }, signal),
        supervise ? fetchDeptKpis(signal) : null,
        fetchClock().catch(() => null),
      ]);
      if (this.disposed) return;
      if (open.kind === "missing") {
        this.state = { ...this.state, availability: "unavailable" };
        opsHook().available = false;
        this.removeKpis();
        this.changed();
        return;
      }
      if (open.kind === "failed") {
        this.state = { ...this.state, error: open.message };
        this.changed();
        return;
      }
      let departments = this.state.departments;
      let from = this.state.departmentsFrom;
      if (kpis?.kind === "ok") {
        departments = [...kpis.value].sort((a, b) => b.cases - a.cases);
        from = "server";
      } else if (recent?.kind === "ok") {
        departments = kpisFromCases(recent.value.items);
        from = "cases";
      }
      const nowMs = clock ? Date.parse(clock.now) : Date.now();
      this.state = {
        ...this.state,
        availability: "available",
        cases: open.value.items,
        openTotal: open.value.total,
        overdueTotal: overdue.kind === "ok" ? overdue.value.total : this.state.overdueTotal,
        departments,
        departmentsFrom: from,
        nowMs: Number.isFinite(nowMs) ? nowMs : Date.now(),
        timeZone: clock?.timezone ?? this.state.timeZone,
        error: null,
      };
      opsHook().available = true;
      this.showKpis();
      await this.styleReady;
      if (this.disposed) return;
      drawCases(this.map, this.state.cases, this.state.nowMs);
      setHeat(this.map, this.state.heat);
      this.map.triggerRepaint();
      this.changed();
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return;
      this.state = { ...this.state, error: err instanceof Error ? err.message : String(err) };
      this.changed();
    }
  }

  private showKpis(): void {
    if (this.kpis.length === 0) {
      this.kpis = [
        registerKpi({ id: "operations.open", label: { zh: "在办案件", en: "Open cases" }, order: 200 }),
        registerKpi({
          id: "operations.overdue",
          label: { zh: "超期案件", en: "Overdue" },
          order: 201,
          color: "#ff3b5c",
        }),
        registerKpi({
          id: "operations.on_time",
          label: { zh: "按期办结率", en: "On-time rate" },
          order: 202,
        }),
      ];
    }
    const [open, overdue, onTime] = this.kpis;
    open?.set(this.state.openTotal);
    overdue?.set(this.state.overdueTotal);
    const rate = overallOnTime(this.state.departments);
    onTime?.set(rate === null ? null : formatPct(rate));
  }

  private removeKpis(): void {
    for (const k of this.kpis) k.remove();
    this.kpis = [];
  }

  private click(x: number, y: number): boolean {
    if (!this.map.getLayer(CASES_LAYER) || !this.onCaseClick) return false;
    const hits = this.map.queryRenderedFeatures(
      [
        [x - HIT_PX, y - HIT_PX],
        [x + HIT_PX, y + HIT_PX],
      ],
      { layers: [CASES_LAYER] },
    );
    const id = hits[0]?.properties?.id;
    if (typeof id !== "string") return false;
    this.onCaseClick(id);
    return true;
  }

  private readonly onIdle = (): void => {
    if (this.disposed) return;
    const ids = renderedCaseIds(this.map);
    opsHook().rendered = ids;
    mergeFeatureCounts({ "operations:cases": ids.length });
  };

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** Stop polling and fetches (the map is going away). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    window.clearInterval(this.timer);
    this.abort.abort();
    this.offClick();
    this.map.off("idle", this.onIdle);
    this.removeKpis();
    closeCaseDrawer();
    this.listeners.clear();
    stores.delete(this.map);
  }
}

const stores = new WeakMap<MapLibreMap, OpsStore>();

/** The operations state of a map, created on first use and disposed with the map. */
export function opsStoreFor(map: MapLibreMap, permissions: readonly string[]): OpsStore {
  let s = stores.get(map);
  if (!s) {
    s = new OpsStore(map, permissions);
    stores.set(map, s);
  }
  return s;
}

// Figures computed in the cockpit from case lists: per-department figures for an
// operator who may not read GET /kpis (the newest cases only), and cases per grid for
// the heat map.

import type { Feature, FeatureCollection, Point } from "geojson";
import type { CaseItem, DeptKpi } from "./types";

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Per-department figures from a list of cases, the same fields GET /kpis answers. */
export function kpisFromCases(cases: readonly CaseItem[]): DeptKpi[] {
  const groups = new Map<string, CaseItem[]>();
  for (const c of cases) {
    if (!c.department_id) continue;
    const list = groups.get(c.department_id) ?? [];
    list.push(c);
    groups.set(c.department_id, list);
  }
  const out: DeptKpi[] = [];
  for (const [key, list] of groups) {
    const handled = list.filter((c) => c.handled_on_time !== null);
    const onTime = handled.filter((c) => c.handled_on_time === true).length;
    const hours = list
      .filter((c) => c.handled_at && c.dispatched_at)
      .map((c) => (Date.parse(c.handled_at ?? "") - Date.parse(c.dispatched_at ?? "")) / 3_600_000)
      .filter((h) => Number.isFinite(h) && h >= 0);
    const reopened = list.filter((c) => c.reopen_count > 0).length;
    const evaluated = list.filter((c) => c.satisfaction !== null).map((c) => c.satisfaction ?? 0);
    out.push({
      key,
      cases: list.length,
      handled: handled.length,
      on_time: onTime,
      on_time_rate: handled.length ? onTime / handled.length : null,
      overdue_open: list.filter((c) => c.overdue).length,
      avg_handling_hours: mean(hours),
      reopened,
      reopen_rate: list.length ? reopened / list.length : null,
      evaluated: evaluated.length,
      avg_satisfaction: mean(evaluated),
    });
  }
  return out.sort((a, b) => b.cases - a.cases || a.key.localeCompare(b.key));
}

/** Count cases per grid, each grid a point at the mean of its cases (heat map weight = count). */
export function gridHeat(cases: readonly Pick<CaseItem, "grid" | "lon" | "lat">[]): FeatureCollection<Point> {
  const acc = new Map<string, { n: number; lon: number; lat: number }>();
  for (const c of cases) {
    const key = c.grid || `${c.lon.toFixed(3)},${c.lat.toFixed(3)}`;
    const a = acc.get(key) ?? { n: 0, lon: 0, lat: 0 };
    a.n += 1;
    a.lon += c.lon;
    a.lat += c.lat;
    acc.set(key, a);
  }
  const features: Feature<Point>[] = [...acc].map(([grid, a]) => ({
    type: "Feature",
    geometry: { type: "Point", coordinates: [a.lon / a.n, a.lat / a.n] },
    properties: { grid, count: a.n },
  }));
  return { type: "FeatureCollection", features };
}

/** Sum per-group figures into a city-wide on-time rate (null with nothing handled). */
export function overallOnTime(rows: readonly DeptKpi[]): number | null {
  const handled = rows.reduce((s, r) => s + r.handled, 0);
  return handled ? rows.reduce((s, r) => s + r.on_time, 0) / handled : null;
}

/** The workflow stages an open case passes through after dispatch, in order. */
export const FLOW_STAGES = ["dispatched", "in_progress", "suspended", "handled", "verified"] as const;
export type FlowStage = (typeof FLOW_STAGES)[number];

export interface DeptFlow {
  /** Departments, busiest first. */
  departments: string[];
  /** counts[stage][i]: the department i's open cases at that stage. */
  counts: Record<FlowStage, number[]>;
}

/** Each department's business flow: where its open cases stand in the workflow. */
export function flowByDepartment(cases: readonly Pick<CaseItem, "department_id" | "status">[], top = 8): DeptFlow {
  const per = new Map<string, Record<FlowStage, number>>();
  for (const c of cases) {
    if (!c.department_id || !(FLOW_STAGES as readonly string[]).includes(c.status)) continue;
    const row = per.get(c.department_id) ?? { dispatched: 0, in_progress: 0, suspended: 0, handled: 0, verified: 0 };
    row[c.status as FlowStage] += 1;
    per.set(c.department_id, row);
  }
  const total = (r: Record<FlowStage, number>): number => FLOW_STAGES.reduce((s, k) => s + r[k], 0);
  const departments = [...per.entries()]
    .sort((a, b) => total(b[1]) - total(a[1]) || a[0].localeCompare(b[0]))
    .slice(0, top)
    .map(([d]) => d);
  const counts = Object.fromEntries(
    FLOW_STAGES.map((s) => [s, departments.map((d) => per.get(d)?.[s] ?? 0)]),
  ) as Record<FlowStage, number[]>;
  return { departments, counts };
}

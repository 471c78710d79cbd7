// Key-vehicle (重点车辆) data as the cockpit uses it: vehicles flattened from the API's
// NGSI-LD Vehicle entities, alerts, tracks, and the pure rules of colour and playback.

import type { Bilingual } from "../types";

export type VehicleClass = "muck" | "hazmat" | "school_bus" | "bus" | "taxi";

export interface VehicleView {
  deviceId: string;
  plate: string;
  vclass: string;
  lon: number;
  lat: number;
  observedAt: string | null;
  speed: number | null;
  heading: number | null;
  onDuty: boolean;
}

export interface FleetAlert {
  id: string;
  device_id: string;
  plate: string;
  vclass: string;
  rule: string;
  subject: string | null;
  severity: string;
  opened_at: string;
  lon: number;
  lat: number;
  value: number | null;
  limit: number | null;
  closed_at: string | null;
}

/** GET /vehicles/{id}/track: rows of [time (epoch s), lon, lat, speed, heading]. */
export interface TrackAnswer {
  device_id: string;
  points: [number, number, number, number, number][];
}

export const CLASS_ORDER: VehicleClass[] = ["muck", "hazmat", "school_bus", "bus", "taxi"];

export const CLASS_COLORS: Record<VehicleClass, string> = {
  muck: "#ff8a3d",
  hazmat: "#ff3b5c",
  school_bus: "#ffd166",
  bus: "#3ad7ff",
  taxi: "#7ee081",
};

export const CLASS_NAMES: Record<VehicleClass, Bilingual> = {
  muck: { zh: "渣土车", en: "Muck truck" },
  hazmat: { zh: "危化品车", en: "Hazmat" },
  school_bus: { zh: "校车", en: "School bus" },
  bus: { zh: "公交车", en: "Bus" },
  taxi: { zh: "出租车", en: "Taxi" },
};

export const RULE_NAMES: Record<string, Bilingual> = {
  no_go_zone: { zh: "闯禁行区", en: "No-go zone" },
  corridor_deviation: { zh: "偏离核准路线", en: "Off corridor" },
  speeding: { zh: "超速", en: "Speeding" },
  fatigue: { zh: "疲劳驾驶", en: "Fatigue" },
  unauthorised_dwell: { zh: "违规停留", en: "Unauthorised stop" },
  terminal_offline: { zh: "终端离线", en: "Terminal offline" },
};

export const SEVERITY_COLORS: Record<string, string> = {
  critical: "#ff3b5c",
  high: "#ff8a3d",
  medium: "#ffd166",
  low: "#3ad7ff",
  informational: "#7f95b8",
};

const OTHER_COLOR = "#b58bff";

/** The colour of a vehicle class (an unknown class gets one colour of its own). */
export function classColor(vclass: string): string {
  return CLASS_COLORS[vclass as VehicleClass] ?? OTHER_COLOR;
}

/** The name of a vehicle class in a language, else the class itself. */
export function className(vclass: string, lang: "zh" | "en"): string {
  return CLASS_NAMES[vclass as VehicleClass]?.[lang] ?? vclass;
}

function value(entity: Record<string, unknown>, key: string): unknown {
  const attr = entity[key];
  if (attr && typeof attr === "object" && !Array.isArray(attr) && "value" in attr) {
    return (attr as { value: unknown }).value;
  }
  return attr;
}

const PREFIX = "urn:ngsi-ld:Vehicle:fleet:";

/** Flatten normalized NGSI-LD Vehicle entities; entities without a point are dropped. */
export function parseVehicles(entities: readonly Record<string, unknown>[]): VehicleView[] {
  const out: VehicleView[] = [];
  for (const e of entities) {
    const id = typeof e.id === "string" ? e.id : "";
    const loc = e.location as { value?: { coordinates?: unknown }; observedAt?: unknown } | undefined;
    const coords = loc?.value?.coordinates;
    if (!Array.isArray(coords) || typeof coords[0] !== "number" || typeof coords[1] !== "number") continue;
    const speed = value(e, "speed");
    const heading = value(e, "heading");
    out.push({
      deviceId: id.startsWith(PREFIX) ? id.slice(PREFIX.length) : id,
      plate: String(value(e, "vehiclePlateIdentifier") ?? ""),
      vclass: String(value(e, "fleetClass") ?? ""),
      lon: coords[0],
      lat: coords[1],
      observedAt: typeof loc?.observedAt === "string" ? loc.observedAt : null,
      speed: typeof speed === "number" ? speed : null,
      heading: typeof heading === "number" ? heading : null,
      onDuty: value(e, "serviceStatus") === "onRoute",
    });
  }
  return out;
}

export interface TrackPosition {
  t: number;
  lon: number;
  lat: number;
  speed: number;
  heading: number;
}

/** Where a vehicle was at time `t` (epoch s): linear between recorded points, clamped at the ends. */
export function interpolateTrack(points: TrackAnswer["points"], t: number): TrackPosition | null {
  const n = points.length;
  const first = points[0];
  const last = points[n - 1];
  if (!first || !last) return null;
  const at = (p: TrackAnswer["points"][number]): TrackPosition => ({
    t: p[0],
    lon: p[1],
    lat: p[2],
    speed: p[3],
    heading: p[4],
  });
  if (t <= first[0]) return at(first);
  if (t >= last[0]) return at(last);
  // Binary search for the last point at or before t.
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((points[mid]?.[0] ?? 0) <= t) lo = mid;
    else hi = mid;
  }
  const a = points[lo];
  const b = points[hi];
  if (!a || !b) return null;
  const span = b[0] - a[0];
  const f = span > 0 ? (t - a[0]) / span : 0;
  return {
    t,
    lon: a[1] + (b[1] - a[1]) * f,
    lat: a[2] + (b[2] - a[2]) * f,
    speed: a[3] + (b[3] - a[3]) * f,
    heading: b[4],
  };
}

/** Count vehicles per class, in the legend's order (unknown classes last). */
export function countByClass(vehicles: readonly VehicleView[]): { vclass: string; n: number }[] {
  const counts = new Map<string, number>();
  for (const v of vehicles) counts.set(v.vclass, (counts.get(v.vclass) ?? 0) + 1);
  const known = CLASS_ORDER.map((c) => ({ vclass: c as string, n: counts.get(c) ?? 0 }));
  const other = [...counts].filter(([c]) => !CLASS_ORDER.includes(c as VehicleClass)).map(([vclass, n]) => ({ vclass, n }));
  return [...known, ...other];
}

/** Positions a fraction `f` (0..1) of the way from where vehicles were shown to where
 *  they are now; a vehicle not shown before appears at its new place. */
export function tweenPositions(
  from: ReadonlyMap<string, readonly [number, number]>,
  to: readonly VehicleView[],
  f: number,
): Map<string, [number, number]> {
  const k = Math.max(0, Math.min(1, f));
  const out = new Map<string, [number, number]>();
  for (const v of to) {
    const a = from.get(v.deviceId);
    out.set(v.deviceId, a ? [a[0] + (v.lon - a[0]) * k, a[1] + (v.lat - a[1]) * k] : [v.lon, v.lat]);
  }
  return out;
}

// Reads of the key-vehicle API at /api/v1/fleet (vehicles, alerts, a vehicle's track).

import { ApiError, fetchAuthorized, readProblem } from "../api";
import { getJson, type Answer } from "../operations/http";
import type { FleetAlert, TrackAnswer } from "./model";

export const FLEET_BASE = "/api/v1/fleet";

/** Every supervised vehicle's latest state (NGSI-LD Vehicle, normalized). */
export function fetchVehicles(signal?: AbortSignal): Promise<Answer<Record<string, unknown>[]>> {
  return getJson<Record<string, unknown>[]>(`${FLEET_BASE}/vehicles`, signal);
}

/** Open alerts, newest first. */
export function fetchAlerts(limit: number, signal?: AbortSignal): Promise<Answer<FleetAlert[]>> {
  return getJson<FleetAlert[]>(`${FLEET_BASE}/alerts?state=open&limit=${limit}`, signal);
}

export type AlertsAnswer = Answer<FleetAlert[]> & { etag?: string | null } | { kind: "same" };

/**
 * Open alerts, answered when they change: with the version held (its ETag) the server
 * waits up to `waitS` seconds for an alert to open or close ("same" when none did).
 */
export async function watchAlerts(
  limit: number,
  etag: string | null,
  waitS: number,
  signal?: AbortSignal,
): Promise<AlertsAnswer> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (etag) headers["If-None-Match"] = etag;
  const path = `${FLEET_BASE}/alerts?state=open&limit=${limit}${etag ? `&wait=${waitS}` : ""}`;
  try {
    const res = await fetchAuthorized(path, { headers, signal, cache: "no-store" });
    if (res.status === 304) return { kind: "same" };
    if ([403, 404, 405, 501].includes(res.status)) return { kind: "missing", status: res.status };
    if (!res.ok) return { kind: "failed", message: new ApiError(res.status, await readProblem(res)).message };
    return { kind: "ok", value: (await res.json()) as FleetAlert[], etag: res.headers.get("ETag") };
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    return { kind: "failed", message: err instanceof Error ? err.message : String(err) };
  }
}

/** A vehicle's recorded positions, oldest first. */
export function fetchTrack(deviceId: string, signal?: AbortSignal): Promise<Answer<TrackAnswer>> {
  return getJson<TrackAnswer>(`${FLEET_BASE}/vehicles/${encodeURIComponent(deviceId)}/track`, signal);
}

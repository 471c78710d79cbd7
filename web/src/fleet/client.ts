// Reads of the key-vehicle API at /api/v1/fleet (vehicles, alerts, a vehicle's track).

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

/** A vehicle's recorded positions, oldest first. */
export function fetchTrack(deviceId: string, signal?: AbortSignal): Promise<Answer<TrackAnswer>> {
  return getJson<TrackAnswer>(`${FLEET_BASE}/vehicles/${encodeURIComponent(deviceId)}/track`, signal);
}

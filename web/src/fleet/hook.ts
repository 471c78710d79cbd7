// The fleet part of the test hook (`window.__cockpit.fleet`).

import { hook } from "../testHook";

export interface FleetHook {
  /** null until the first read; false without fleet:read or when the API is not there. */
  available: boolean | null;
  /** Device ids of the vehicles rendered on the map. */
  rendered: string[];
  /** Alert ids listed in the alerts panel. */
  alerts: string[];
  /** The open playback, or null. */
  playback: { device: string; points: number; t: number; lon: number; lat: number } | null;
}

/** Return the fleet hook, creating it when absent. */
export function fleetHook(): FleetHook {
  const h = hook() as ReturnType<typeof hook> & { fleet?: FleetHook };
  h.fleet ??= { available: null, rendered: [], alerts: [], playback: null };
  return h.fleet;
}

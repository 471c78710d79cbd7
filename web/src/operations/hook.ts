// The operations part of the test hook (`window.__cockpit.operations`).

import { hook } from "../testHook";

export interface OpsHook {
  /** null until the first read; false without cases:read or when the API is not there. */
  available: boolean | null;
  /** Case ids listed in the cases panel. */
  listed: string[];
  /** Case ids rendered on the map. */
  rendered: string[];
  /** Case id whose timeline is open, or null. */
  open: string | null;
  /** Departments drawn in the business-flow tab. */
  flow: string[];
  /** The attachment ref last opened from a timeline, or absent. */
  opened?: string;
}

/** The test hook's operations part (`window.__cockpit.operations`). */
export function opsHook(): OpsHook {
  const h = hook() as ReturnType<typeof hook> & { operations?: OpsHook };
  h.operations ??= { available: null, listed: [], rendered: [], open: null, flow: [] };
  return h.operations;
}

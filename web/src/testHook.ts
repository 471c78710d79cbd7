// `window.__cockpit`: what the end-to-end test reads to know the map drew the city.

export interface CockpitHook {
  /** True once the city data is on the map and the map has finished rendering it. */
  ready: boolean;
  /** Logical layers currently switched on. */
  layers: string[];
  /** Distinct features rendered per logical layer (see map/style.ts COUNTED_LAYERS). */
  featureCounts: Record<string, number>;
  /** Errors shown to the user since the page loaded. */
  errors: string[];
}

declare global {
  interface Window {
    __cockpit: CockpitHook;
  }
}

/** Create (or reset) the hook on window. */
export function installHook(): CockpitHook {
  window.__cockpit = { ready: false, layers: [], featureCounts: {}, errors: [] };
  return window.__cockpit;
}

/** Return the hook, creating it when absent. */
export function hook(): CockpitHook {
  return window.__cockpit ?? installHook();
}

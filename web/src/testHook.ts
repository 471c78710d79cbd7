// `window.__cockpit`: what the end-to-end test reads to know the map drew the city.

/** One NGSI-LD entity type in the live-layers panel. */
export interface LiveTypeHook {
  /** The type as /ngsi-ld/v1/types lists it (a full IRI outside the core @context). */
  type: string;
  /** Its short label; its feature count is `featureCounts["live:<label>"]`. */
  label: string;
  key: string;
  color: string;
  on: boolean;
  /** Entities the broker holds (NGSILD-Results-Count), null until known. */
  total: number | null;
  /** Entities loaded into the layer, null until loaded. */
  loaded: number | null;
  truncated: boolean;
  status: "idle" | "loading" | "ready" | "error";
}

export interface LiveHook {
  /** null until /ngsi-ld/v1/types answered; false when it is not offered (404, 403). */
  available: boolean | null;
  types: LiveTypeHook[];
  /** Keys ("live:<label>") of the live layers switched on with data on the map. */
  loaded: string[];
  /** Viewport (client) pixel of one rendered live feature that the map would receive a
   *  click on, for the end-to-end test to open a popup; null when none is rendered. */
  sample: { key: string; id: string; x: number; y: number } | null;
}

export interface CockpitHook {
  /** True once the city data is on the map and the map has finished rendering it. */
  ready: boolean;
  /** Logical layers currently switched on. */
  layers: string[];
  /** Distinct features rendered per logical layer (see map/style.ts COUNTED_LAYERS), plus
   *  "live:<label>" per live layer (see ngsi/liveLayers.ts). */
  featureCounts: Record<string, number>;
  /** Errors shown to the user since the page loaded. */
  errors: string[];
  /** The live layers from the NGSI-LD context broker. */
  live: LiveHook;
}

declare global {
  interface Window {
    __cockpit: CockpitHook;
  }
}

function emptyLive(): LiveHook {
  return { available: null, types: [], loaded: [], sample: null };
}

/** Create (or reset) the hook on window. */
export function installHook(): CockpitHook {
  window.__cockpit = { ready: false, layers: [], featureCounts: {}, errors: [], live: emptyLive() };
  return window.__cockpit;
}

/** Return the hook, creating it when absent. */
export function hook(): CockpitHook {
  return window.__cockpit ?? installHook();
}

/** Set some feature counts, keeping the others (several modules count their own layers). */
export function mergeFeatureCounts(counts: Record<string, number>): void {
  const h = hook();
  h.featureCounts = { ...h.featureCounts, ...counts };
}

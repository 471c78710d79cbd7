// Types and MapLibre layer specs of the live layers (the state itself is in liveLayers.ts).

import type { CircleLayerSpecification } from "maplibre-gl";
import type { FeatureCollection, Geometry } from "geojson";
import type { LiveTypeHook } from "../testHook";
import type { EntityFeature } from "./client";

export const REFRESH_MS = 30_000;
/** Counts are asked for at most this many types per refresh. */
export const MAX_COUNTED_TYPES = 50;
/** Click tolerance around the pointer, in pixels. */
export const HIT_PX = 6;

export type Availability = "unknown" | "available" | "unavailable";

/** A live layer as the panel shows it. */
export type LiveTypeView = Readonly<LiveTypeHook> & {
  error: string | null;
  /** Loaded entities without a location (not drawn). */
  unlocated: number;
  refreshing: boolean;
};

export interface LiveView {
  availability: Availability;
  types: readonly LiveTypeView[];
  refreshing: boolean;
  /** Why the last refresh of the type list failed; null when it worked. */
  error: string | null;
}

export interface EntityRecord {
  id: string;
  type: string;
  properties: Record<string, unknown> | null;
}

export interface LiveType {
  type: string;
  label: string;
  key: string;
  color: string;
  sourceId: string;
  layerId: string;
  on: boolean;
  total: number | null;
  loaded: number | null;
  unlocated: number;
  truncated: boolean;
  status: LiveTypeHook["status"];
  error: string | null;
  entities: Map<string, EntityRecord>;
  inflight: Promise<void> | null;
}

export type FC = FeatureCollection<Geometry>;
export const EMPTY: FC = { type: "FeatureCollection", features: [] };

export function entityType(f: EntityFeature, fallback: string): string {
  const tp = f.properties?.type;
  if (typeof tp === "string") return tp;
  if (Array.isArray(tp) && typeof tp[0] === "string") return tp.join(", ");
  return fallback;
}

export function circleLayer(lt: LiveType): CircleLayerSpecification {
  return {
    id: lt.layerId,
    type: "circle",
    source: lt.sourceId,
    layout: { visibility: lt.on ? "visible" : "none" },
    paint: {
      "circle-color": lt.color,
      "circle-opacity": 0.95,
      "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 2.6, 13, 4.5, 17, 8],
      "circle-stroke-color": "#04101f",
      "circle-stroke-width": ["interpolate", ["linear"], ["zoom"], 9, 0.6, 14, 1.2],
    },
  };
}


// The map style, built in code: a dark background and the city's own vector data from
// the API. No tiles, glyphs or sprites, so the map needs no internet; names are HTML
// markers (see labels.ts) instead of symbol layers.

import type {
  DataDrivenPropertyValueSpecification,
  ExpressionSpecification,
  GeoJSONSourceSpecification,
  LayerSpecification,
  StyleSpecification,
} from "maplibre-gl";
import { COLORS, ROAD_COLORS } from "../theme";

/** Logical layers a person can switch on and off, with the map layers each one owns. */
export const LAYER_GROUPS = {
  districts: ["districts-fill", "districts-glow", "districts-line"],
  streets: ["streets-line"],
  communities: ["communities-line"],
  roads: ["roads-glow", "roads"],
  intersections: ["intersections-plain", "intersections-signal-halo", "intersections-signal"],
} as const;

export type LayerGroup = keyof typeof LAYER_GROUPS;

/** Map layers whose rendered features are counted for `window.__cockpit.featureCounts`. */
export const COUNTED_LAYERS: Record<string, string> = {
  districts: "districts-fill",
  streets: "streets-line",
  communities: "communities-line",
  roads: "roads",
  signals: "intersections-signal",
  intersections: "intersections-plain",
};

/** Groups shown when the map opens (streets and communities load on first use). */
export const DEFAULT_VISIBLE: LayerGroup[] = ["districts", "roads", "intersections"];


const roadClass = ["get", "class"] as ExpressionSpecification;

function byClass(
  expressway: number,
  arterial: number,
  collector: number,
  local: number,
): ExpressionSpecification {
  return ["match", roadClass, "expressway", expressway, "arterial", arterial, "collector", collector, local];
}

const roadColor: ExpressionSpecification = [
  "match",
  roadClass,
  "expressway",
  ROAD_COLORS.expressway,
  "arterial",
  ROAD_COLORS.arterial,
  "collector",
  ROAD_COLORS.collector,
  ROAD_COLORS.local,
];

/** Road width by zoom and class, times `k` (zoom must stay the top-level input). */
function roadWidth(k = 1): DataDrivenPropertyValueSpecification<number> {
  return [
    "interpolate",
    ["exponential", 1.5],
    ["zoom"],
    9,
    byClass(1.6 * k, 1.1 * k, 0.7 * k, 0.4 * k),
    13,
    byClass(3.2 * k, 2.4 * k, 1.6 * k, 1 * k),
    17,
    byClass(10 * k, 7 * k, 5 * k, 3 * k),
  ];
}

function visibility(group: LayerGroup): "visible" | "none" {
  return DEFAULT_VISIBLE.includes(group) ? "visible" : "none";
}

function layers(): LayerSpecification[] {
  return [
    { id: "background", type: "background", paint: { "background-color": COLORS.background } },
    {
      id: "districts-fill",
      type: "fill",
      source: "districts",
      layout: { visibility: visibility("districts") },
      paint: {
        "fill-color": ["coalesce", ["get", "_color"], COLORS.district] as ExpressionSpecification,
        "fill-opacity": ["case", ["boolean", ["feature-state", "hover"], false], 0.14, 0.07],
      },
    },
    {
      id: "communities-line",
      type: "line",
      source: "communities",
      layout: { visibility: visibility("communities"), "line-join": "round" },
      paint: {
        "line-color": COLORS.community,
        "line-opacity": 0.45,
        "line-width": ["interpolate", ["linear"], ["zoom"], 10, 0.4, 15, 1],
        "line-dasharray": [2, 2],
      },
    },
    {
      id: "streets-line",
      type: "line",
      source: "streets",
      layout: { visibility: visibility("streets"), "line-join": "round" },
      paint: {
        "line-color": COLORS.street,
        "line-opacity": 0.7,
        "line-width": ["interpolate", ["linear"], ["zoom"], 9, 0.6, 15, 1.6],
        "line-dasharray": [4, 2],
      },
    },
    {
      id: "districts-glow",
      type: "line",
      source: "districts",
      layout: { visibility: visibility("districts"), "line-join": "round" },
      paint: { "line-color": COLORS.district, "line-opacity": 0.22, "line-width": 7, "line-blur": 5 },
    },
    {
      id: "districts-line",
      type: "line",
      source: "districts",
      layout: { visibility: visibility("districts"), "line-join": "round" },
      paint: { "line-color": COLORS.district, "line-opacity": 0.85, "line-width": 1.4 },
    },
    {
      id: "roads-glow",
      type: "line",
      source: "roads",
      filter: ["in", roadClass, ["literal", ["expressway", "arterial"]]],
      layout: { visibility: visibility("roads"), "line-join": "round", "line-cap": "round" },
      paint: {
        "line-color": roadColor,
        "line-opacity": 0.18,
        "line-width": roadWidth(4),
        "line-blur": 4,
      },
    },
    {
      id: "roads",
      type: "line",
      source: "roads",
      layout: {
        visibility: visibility("roads"),
        "line-join": "round",
        "line-cap": "round",
        "line-sort-key": byClass(4, 3, 2, 1),
      },
      paint: { "line-color": roadColor, "line-width": roadWidth(), "line-opacity": 0.9 },
    },
    {
      id: "intersections-plain",
      type: "circle",
      source: "intersections",
      minzoom: 13,
      filter: ["!", ["to-boolean", ["get", "signalized"]]],
      layout: { visibility: visibility("intersections") },
      paint: {
        "circle-color": COLORS.junction,
        "circle-opacity": 0.55,
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 13, 1.2, 17, 3.5],
      },
    },
    {
      id: "intersections-signal-halo",
      type: "circle",
      source: "intersections",
      filter: ["to-boolean", ["get", "signalized"]],
      layout: { visibility: visibility("intersections") },
      paint: {
        "circle-color": COLORS.signalHalo,
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 2.5, 13, 6, 17, 14],
        "circle-blur": 0.6,
      },
    },
    {
      id: "intersections-signal",
      type: "circle",
      source: "intersections",
      filter: ["to-boolean", ["get", "signalized"]],
      layout: { visibility: visibility("intersections") },
      paint: {
        "circle-color": COLORS.signal,
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 1.2, 13, 3, 17, 6],
        "circle-stroke-color": "#ffd6de",
        "circle-stroke-width": ["interpolate", ["linear"], ["zoom"], 11, 0, 14, 1],
      },
    },
  ];
}

/** Build the complete offline style with empty sources the map fills from the API. */
export function buildStyle(): StyleSpecification {
  const geojson = (promoteId: string): GeoJSONSourceSpecification => ({
    type: "geojson",
    data: { type: "FeatureCollection", features: [] },
    promoteId,
  });
  return {
    version: 8,
    name: "OpenCityBrain dark",
    sources: {
      districts: geojson("code"),
      streets: geojson("code"),
      communities: geojson("code"),
      roads: geojson("id"),
      intersections: geojson("id"),
    },
    layers: layers(),
  };
}

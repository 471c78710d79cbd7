// The case layers on the map: one circle per open case (fill by status, ring by
// lateness) and a heat map of cases per grid, switched on from the cases panel.

import type { GeoJSONSource, Map as MapLibreMap, MapGeoJSONFeature } from "maplibre-gl";
import type { FeatureCollection, Point } from "geojson";
import { caseColors } from "./colors";
import { gridHeat } from "./figures";
import type { CaseItem } from "./types";

export const CASES_SOURCE = "ops-cases";
export const CASES_LAYER = "ops-cases";
export const HEAT_SOURCE = "ops-heat";
export const HEAT_LAYER = "ops-heat";

/** The cases as GeoJSON points carrying their colours. */
export function casesGeoJson(cases: readonly CaseItem[], nowMs: number): FeatureCollection<Point> {
  return {
    type: "FeatureCollection",
    features: cases.map((c) => {
      const col = caseColors(c, nowMs);
      return {
        type: "Feature",
        geometry: { type: "Point", coordinates: [c.lon, c.lat] },
        properties: { id: c.id, fill: col.fill, ring: col.ring, late: col.lateness !== "on_time" && col.lateness !== "done" ? 1 : 0 },
      };
    }),
  };
}

/** Add the sources and layers once the style is loaded (idempotent). */
export function ensureCaseLayers(map: MapLibreMap): void {
  if (!map.getSource(HEAT_SOURCE)) {
    map.addSource(HEAT_SOURCE, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  }
  if (!map.getLayer(HEAT_LAYER)) {
    map.addLayer({
      id: HEAT_LAYER,
      type: "heatmap",
      source: HEAT_SOURCE,
      layout: { visibility: "none" },
      paint: {
        "heatmap-weight": ["interpolate", ["linear"], ["get", "count"], 0, 0, 10, 1],
        "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 9, 0.8, 15, 2.5],
        "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 9, 14, 15, 40],
        "heatmap-opacity": 0.8,
        "heatmap-color": [
          "interpolate",
          ["linear"],
          ["heatmap-density"],
          0,
          "rgba(0,0,0,0)",
          0.2,
          "#1f5fbf",
          0.45,
          "#17c3b2",
          0.7,
          "#ffd166",
          1,
          "#ff3b5c",
        ],
      },
    });
  }
  if (!map.getSource(CASES_SOURCE)) {
    map.addSource(CASES_SOURCE, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  }
  if (!map.getLayer(CASES_LAYER)) {
    map.addLayer({
      id: CASES_LAYER,
      type: "circle",
      source: CASES_SOURCE,
      paint: {
        "circle-color": ["get", "fill"],
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 4, 13, 6, 17, 10],
        "circle-stroke-color": ["get", "ring"],
        "circle-stroke-width": ["case", ["==", ["get", "late"], 1], 2.5, 1],
        "circle-opacity": 0.95,
      },
    });
  }
}

/** Put the cases (and their per-grid heat) on the map. */
export function drawCases(map: MapLibreMap, cases: readonly CaseItem[], nowMs: number): void {
  ensureCaseLayers(map);
  map.getSource<GeoJSONSource>(CASES_SOURCE)?.setData(casesGeoJson(cases, nowMs));
  map.getSource<GeoJSONSource>(HEAT_SOURCE)?.setData(gridHeat(cases));
}

/** Show the heat map instead of (or beside) the points. */
export function setHeat(map: MapLibreMap, on: boolean): void {
  if (map.getLayer(HEAT_LAYER)) map.setLayoutProperty(HEAT_LAYER, "visibility", on ? "visible" : "none");
}

/** Distinct case ids rendered on the map now. */
export function renderedCaseIds(map: MapLibreMap): string[] {
  if (!map.getLayer(CASES_LAYER)) return [];
  const hits: MapGeoJSONFeature[] = map.queryRenderedFeatures({ layers: [CASES_LAYER] });
  return [...new Set(hits.map((f) => String(f.properties?.id ?? "")))];
}

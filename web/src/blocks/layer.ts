// The choropleth on the map: the regions of one level filled by their block value, with a
// click on a region drilling into it.

import type { GeoJSONSource, Map as MapLibreMap, MapMouseEvent } from "maplibre-gl";
import type { Feature, FeatureCollection, Geometry } from "geojson";
import { onMapClick } from "../map/clickRouter";
import { colorOf } from "./model";

export const SOURCE = "blocks-choropleth";
export const FILL = "blocks-fill";
export const LINE = "blocks-line";

/** The level's shapes whose code starts with `within`, each with its value and colour. */
export function paint(
  shapes: FeatureCollection<Geometry>,
  within: string,
  values: Map<string, number>,
): { data: FeatureCollection<Geometry>; painted: number; min: number; max: number } {
  const list = [...values.values()];
  const min = list.length ? Math.min(...list) : 0;
  const max = list.length ? Math.max(...list) : 0;
  const features: Feature<Geometry>[] = [];
  let painted = 0;
  for (const f of shapes.features) {
    const code = String(f.properties?.code ?? f.id ?? "");
    if (!code.startsWith(within)) continue;
    const value = values.get(code);
    if (value !== undefined) painted += 1;
    features.push({
      ...f,
      properties: {
        ...f.properties,
        code,
        value: value ?? 0,
        fill: value === undefined ? "rgba(0,0,0,0)" : colorOf(value, min, max),
      },
    });
  }
  return { data: { type: "FeatureCollection", features }, painted, min, max };
}

/** Add the source and layers once (idempotent). */
export function ensureLayers(map: MapLibreMap): void {
  if (!map.getSource(SOURCE)) {
    map.addSource(SOURCE, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  }
  if (!map.getLayer(FILL)) {
    map.addLayer({
      id: FILL,
      type: "fill",
      source: SOURCE,
      paint: { "fill-color": ["get", "fill"], "fill-opacity": 0.55 },
    });
  }
  if (!map.getLayer(LINE)) {
    map.addLayer({
      id: LINE,
      type: "line",
      source: SOURCE,
      paint: { "line-color": "rgba(58, 215, 255, 0.6)", "line-width": 0.8 },
    });
  }
}

/** Put features on the map (waiting for the style if needed). */
export function show(map: MapLibreMap, data: FeatureCollection<Geometry>): void {
  const apply = (): void => {
    ensureLayers(map);
    (map.getSource(SOURCE) as GeoJSONSource).setData(data);
  };
  if (map.isStyleLoaded()) apply();
  else map.once("load", apply);
}

/** Remove the layers and source. */
export function hide(map: MapLibreMap): void {
  for (const id of [LINE, FILL]) if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource(SOURCE)) map.removeSource(SOURCE);
}

/** Drill into the region clicked (priority above click-to-locate); returns the remover. */
export function onRegionClick(map: MapLibreMap, drill: (code: string) => void): () => void {
  return onMapClick(
    map,
    (e: MapMouseEvent) => {
      if (!map.getLayer(FILL)) return false;
      const hit = map.queryRenderedFeatures(e.point, { layers: [FILL] })[0];
      const code = hit?.properties?.code;
      if (typeof code !== "string" || !code) return false;
      drill(code);
      return true;
    },
    5,
  );
}

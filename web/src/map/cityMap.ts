// The centre map: creates MapLibre with the offline style, fills it from the API and
// reports to `window.__cockpit` once the city is drawn.

import maplibregl, {
  type GeoJSONSource,
  type Map as MapLibreMap,
  type MapGeoJSONFeature,
} from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
import type { FeatureCollection, Geometry } from "geojson";
import { fetchIntersections, fetchRegions } from "../api";
import { errorText, notifyError } from "../notify";
import { hook, mergeFeatureCounts } from "../testHook";
import { DISTRICT_PALETTE } from "../theme";
import type { City } from "../types";
import { RegionLabels } from "./labels";
import { LayerControl } from "./layerControl";
import { LegendControl } from "./legend";
import { enableLocate } from "./locatePopup";
import { RoadLoader } from "./roads";
import {
  buildStyle,
  COUNTED_LAYERS,
  DEFAULT_VISIBLE,
  LAYER_GROUPS,
  type LayerGroup,
} from "./style";

export interface CityMap {
  map: MapLibreMap;
  /** Resolves when the city is drawn (the test hook is ready). */
  ready: Promise<void>;
  /** Switch a logical layer on or off. */
  setLayer(group: LayerGroup, on: boolean): void;
  destroy(): void;
}

type FC = FeatureCollection<Geometry>;

/** Give each district a palette colour so neighbours are told apart. */
function colourDistricts(data: FC): FC {
  const codes = [...new Set(data.features.map((f) => String(f.properties?.code ?? "")))].sort();
  return {
    ...data,
    features: data.features.map((f) => ({
      ...f,
      properties: {
        ...f.properties,
        _color: DISTRICT_PALETTE[codes.indexOf(String(f.properties?.code ?? "")) % DISTRICT_PALETTE.length],
      },
    })),
  };
}

function featureKey(f: MapGeoJSONFeature): string {
  if (f.id !== undefined) return String(f.id);
  const p = f.properties ?? {};
  return String(p.id ?? p.code ?? JSON.stringify(p));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

/** Create the city map in `container` and start loading its data. */
export function createCityMap(container: HTMLElement, city: City): CityMap {
  const [w, s, e, n] = city.bbox;
  const map = new maplibregl.Map({
    container,
    style: buildStyle(),
    bounds: [w, s, e, n],
    fitBoundsOptions: { padding: 32 },
    minZoom: 6,
    maxZoom: 18,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    renderWorldCopies: false,
  });
  map.touchZoomRotate.disableRotation();

  const visible = new Set<LayerGroup>(DEFAULT_VISIBLE);
  const districtLabels = new RegionLabels(map, "label-district");
  const lazyLevels = new Map<LayerGroup, Promise<void>>();
  const reportError = (err: unknown): void => notifyError(errorText(err));
  const roads = new RoadLoader(map, reportError);
  const loaded = new Promise<void>((resolve) => map.once("load", () => resolve()));
  let destroyed = false;

  const syncLayersHook = (): void => {
    hook().layers = [...visible].sort();
  };
  syncLayersHook();

  const countRendered = (): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const [key, layerId] of Object.entries(COUNTED_LAYERS)) {
      if (!map.getLayer(layerId) || map.getLayoutProperty(layerId, "visibility") === "none") {
        counts[key] = 0;
        continue;
      }
      const keys = new Set(map.queryRenderedFeatures({ layers: [layerId] }).map(featureKey));
      counts[key] = keys.size;
    }
    return counts;
  };

  const setSource = async (id: string, data: FC): Promise<void> => {
    await loaded;
    if (destroyed) return;
    const source = map.getSource<GeoJSONSource>(id);
    if (source) await source.setData(data, true);
  };

  const loadLevel = (group: LayerGroup, level: "street" | "community"): Promise<void> => {
    let p = lazyLevels.get(group);
    if (!p) {
      p = fetchRegions(level)
        .then((data) => setSource(group, data))
        .catch((err: unknown) => {
          lazyLevels.delete(group);
          reportError(err);
        });
      lazyLevels.set(group, p);
    }
    return p;
  };

  const setLayer = (group: LayerGroup, on: boolean): void => {
    if (on) visible.add(group);
    else visible.delete(group);
    syncLayersHook();
    if (on && group === "streets") void loadLevel(group, "street");
    if (on && group === "communities") void loadLevel(group, "community");
    if (group === "districts") districtLabels.setVisible(on);
    const apply = (): void => {
      for (const id of LAYER_GROUPS[group]) {
        if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
      }
    };
    if (map.loaded() || map.isStyleLoaded()) apply();
    else void loaded.then(apply);
  };

  map.addControl(new LayerControl((g) => visible.has(g), setLayer), "top-left");
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  map.addControl(new LegendControl(), "bottom-left");
  const stopLocate = enableLocate(map);

  // Highlight the district under the pointer.
  let hovered: string | number | null = null;
  map.on("mousemove", "districts-fill", (ev) => {
    const id = ev.features?.[0]?.id;
    if (id === undefined || id === hovered) return;
    if (hovered !== null) map.setFeatureState({ source: "districts", id: hovered }, { hover: false });
    hovered = id;
    map.setFeatureState({ source: "districts", id }, { hover: true });
  });
  map.on("mouseleave", "districts-fill", () => {
    if (hovered !== null) map.setFeatureState({ source: "districts", id: hovered }, { hover: false });
    hovered = null;
  });
  map.on("zoomend", () => void roads.update());

  const expected: Record<string, number> = {};

  const ready = (async () => {
    const counties = fetchRegions("county").then(async (data) => {
      const coloured = colourDistricts(data);
      await setSource("districts", coloured);
      if (!destroyed) districtLabels.setData(data);
      expected.districts = data.features.length;
    });
    const junctions = fetchIntersections().then(async (data) => {
      await setSource("intersections", data);
      expected.signals = data.features.filter((f) => f.properties?.signalized === true).length;
    });
    const roadsLoaded = loaded.then(async () => {
      expected.roads = await roads.update();
    });
    const results = await Promise.allSettled([counties, junctions, roadsLoaded]);
    for (const r of results) if (r.status === "rejected") reportError(r.reason);
    if (destroyed) return;

    // Wait until every layer that has data shows some of it: the first idle after
    // setData can still come before the worker's tiles are placed.
    for (let attempt = 0; attempt < 40; attempt++) {
      const idle = map.once("idle");
      map.triggerRepaint();
      await idle;
      if (destroyed) return;
      const counts = countRendered();
      mergeFeatureCounts(counts);
      const missing = Object.entries(expected).some(([k, n]) => n > 0 && (counts[k] ?? 0) === 0);
      if (!missing) break;
      await sleep(250);
    }
    hook().ready = true;
    // Keep the counts current as the operator pans, zooms and toggles layers.
    map.on("idle", () => {
      mergeFeatureCounts(countRendered());
    });
  })();

  return {
    map,
    ready,
    setLayer,
    destroy() {
      destroyed = true;
      stopLocate();
      districtLabels.destroy();
      map.remove();
    },
  };
}

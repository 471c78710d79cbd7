// District names as HTML markers: symbol layers would need glyph files, and the
// cockpit must run with no internet.

import maplibregl, { type Map as MapLibreMap } from "maplibre-gl";
import type { FeatureCollection, Geometry } from "geojson";
import { labelPoint } from "./geometry";

/** A set of name markers that can be shown and hidden together. */
export class RegionLabels {
  private markers: maplibregl.Marker[] = [];
  private visible = true;

  constructor(
    private readonly map: MapLibreMap,
    private readonly className: string,
  ) {}

  /** Replace the markers with one per feature, named by its `name_zh`. */
  setData(data: FeatureCollection<Geometry>): void {
    this.clear();
    const seen = new Set<string>();
    for (const f of data.features) {
      const props = f.properties ?? {};
      const code = String(props.code ?? "");
      const name = String(props.name_zh ?? "");
      // A district split into several features still gets one name.
      if (!name || seen.has(code)) continue;
      seen.add(code);
      const at = labelPoint(f.geometry);
      if (!at) continue;
      const el = document.createElement("div");
      el.className = `map-label ${this.className}`;
      el.dataset.code = code;
      el.textContent = name;
      const marker = new maplibregl.Marker({ element: el, anchor: "center" }).setLngLat(at);
      if (this.visible) marker.addTo(this.map);
      this.markers.push(marker);
    }
  }

  /** Show or hide every marker. */
  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    for (const m of this.markers) {
      if (visible) m.addTo(this.map);
      else m.remove();
    }
  }

  /** Remove every marker from the map. */
  clear(): void {
    for (const m of this.markers) m.remove();
    this.markers = [];
  }
}

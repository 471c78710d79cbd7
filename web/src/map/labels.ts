// District names as HTML markers: symbol layers would need glyph files, and the
// cockpit must run with no internet. A name stays on its district's visible part as the
// operator pans, so a district that fills the view is still named.

import maplibregl, { type Map as MapLibreMap } from "maplibre-gl";
import type { FeatureCollection, Geometry, Position } from "geojson";
import { labelPoint, visibleLabelPoint } from "./geometry";

interface Region {
  code: string;
  name: string;
  geometry: Geometry;
  home: [number, number] | null;
  marker: maplibregl.Marker;
  shown: boolean;
}

/** Join the polygons of features that share a code into one MultiPolygon. */
function mergeByCode(data: FeatureCollection<Geometry>): Map<string, { name: string; polys: Position[][][] }> {
  const out = new Map<string, { name: string; polys: Position[][][] }>();
  for (const f of data.features) {
    const props = f.properties ?? {};
    const code = String(props.code ?? "");
    // The brief names the property `name_zh`; accept `name` too.
    const name = String(props.name_zh ?? "");
    if (!code || !name || !f.geometry) continue;
    const entry = out.get(code) ?? { name, polys: [] };
    if (f.geometry.type === "Polygon") entry.polys.push(f.geometry.coordinates);
    else if (f.geometry.type === "MultiPolygon") entry.polys.push(...f.geometry.coordinates);
    out.set(code, entry);
  }
  return out;
}

/** A set of name markers that can be shown and hidden together. */
export class RegionLabels {
  private regions: Region[] = [];
  private visible = true;
  private readonly onMove = (): void => this.place();

  constructor(
    private readonly map: MapLibreMap,
    private readonly className: string,
  ) {
    map.on("moveend", this.onMove);
  }

  /** Replace the markers with one per region code, named by its `name_zh`. */
  setData(data: FeatureCollection<Geometry>): void {
    this.clear();
    for (const [code, { name, polys }] of mergeByCode(data)) {
      const geometry: Geometry = { type: "MultiPolygon", coordinates: polys };
      const el = document.createElement("div");
      el.className = `map-label ${this.className}`;
      el.dataset.code = code;
      el.textContent = name;
      const marker = new maplibregl.Marker({ element: el, anchor: "center" });
      this.regions.push({ code, name, geometry, home: labelPoint(geometry), marker, shown: false });
    }
    this.place();
  }

  /** Put each name on the part of its region in view, or hide it. */
  private place(): void {
    const b = this.map.getBounds();
    // Keep names off the map's edges, where controls sit.
    const dx = (b.getEast() - b.getWest()) * 0.08;
    const dy = (b.getNorth() - b.getSouth()) * 0.08;
    const box: [number, number, number, number] = [
      b.getWest() + dx,
      b.getSouth() + dy,
      b.getEast() - dx,
      b.getNorth() - dy,
    ];
    for (const r of this.regions) {
      const home = r.home;
      const homeInView =
        home && home[0] >= box[0] && home[0] <= box[2] && home[1] >= box[1] && home[1] <= box[3];
      const at = homeInView ? home : visibleLabelPoint(r.geometry, box);
      const show = this.visible && at !== null;
      if (at) r.marker.setLngLat(at);
      if (show && !r.shown) r.marker.addTo(this.map);
      if (!show && r.shown) r.marker.remove();
      r.shown = show;
    }
  }

  /** Show or hide every marker. */
  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    this.place();
  }

  /** Remove every marker from the map. */
  clear(): void {
    for (const r of this.regions) r.marker.remove();
    this.regions = [];
  }

  /** Stop following the map. */
  destroy(): void {
    this.clear();
    this.map.off("moveend", this.onMove);
  }
}

// Roads come simplified per integer zoom; each zoom bucket is fetched once and cached.

import type { GeoJSONSource, Map as MapLibreMap } from "maplibre-gl";
import type { FeatureCollection, Geometry } from "geojson";
import { fetchRoads } from "../api";

export const MIN_ROAD_ZOOM = 8;
export const MAX_ROAD_ZOOM = 16;

/** Return the zoom bucket the API is asked for at a map zoom. */
export function roadBucket(zoom: number): number {
  return Math.min(MAX_ROAD_ZOOM, Math.max(MIN_ROAD_ZOOM, Math.floor(zoom)));
}

/** Keeps the roads source in step with the map's zoom bucket. */
export class RoadLoader {
  private readonly cache = new Map<number, Promise<FeatureCollection<Geometry>>>();
  private shown = -1;
  private seq = 0;

  constructor(
    private readonly map: MapLibreMap,
    private readonly onError: (err: unknown) => void,
  ) {}

  private load(bucket: number): Promise<FeatureCollection<Geometry>> {
    let p = this.cache.get(bucket);
    if (!p) {
      p = fetchRoads(bucket);
      this.cache.set(bucket, p);
      // A failed bucket is fetched again next time rather than cached as a failure.
      p.catch(() => this.cache.delete(bucket));
    }
    return p;
  }

  /** Show the roads of the current zoom bucket; resolves once the source has them. */
  async update(): Promise<number> {
    const bucket = roadBucket(this.map.getZoom());
    if (bucket === this.shown) return -1;
    this.shown = bucket;
    const mine = ++this.seq;
    try {
      const data = await this.load(bucket);
      if (mine !== this.seq) return -1;
      const source = this.map.getSource<GeoJSONSource>("roads");
      if (source) await source.setData(data, true);
      return data.features.length;
    } catch (err) {
      if (mine === this.seq) this.shown = -1;
      this.onError(err);
      return -1;
    }
  }
}

// Live layers: NGSI-LD entity types drawn on the map, one GeoJSON source and circle
// layer per type. The state lives here, per map, not in the panel: the panel is redrawn
// on a language change while the layers stay on the map. The types, their counts and the
// layers switched on are refreshed every 30 s; /types answering 404 (or 403) hides the
// panel and is not asked again on this map.

import maplibregl, {
  type GeoJSONSource,
  type Map as MapLibreMap,
  type MapGeoJSONFeature,
  type MapMouseEvent,
  type PointLike,
} from "maplibre-gl";
import type { Feature, Geometry, Point } from "geojson";
import { errorText, notifyError } from "../notify";
import { t } from "../i18n";
import { onMapClick } from "../map/clickRouter";
import { hook, mergeFeatureCounts, type LiveHook } from "../testHook";
import { countEntities, fetchAllEntities, fetchEntityTypes, isAbort } from "./client";
import { liveColor, uniqueLabels } from "./names";
import { livePopupHtml } from "./popup";

import {
  EMPTY,
  HIT_PX,
  MAX_COUNTED_TYPES,
  circleLayer,
  entityType,
  type Availability,
  type EntityRecord,
  REFRESH_MS,
  type LiveType,
  type LiveView,
} from "./liveTypes";

/** The live layers of one map. Get it with `liveLayersFor(map)`. */
export class LiveLayers {
  private readonly types = new Map<string, LiveType>();
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private readonly styleReady: Promise<void>;
  private readonly timer: number;
  private readonly offClick: () => void;
  private availability: Availability = "unknown";
  private typesError: string | null = null;
  private refreshing: Promise<void> | null = null;
  private popup: maplibregl.Popup | null = null;
  private nextIndex = 0;
  private disposed = false;

  constructor(private readonly map: MapLibreMap) {
    this.styleReady = map.getLayer("background")
      ? Promise.resolve()
      : new Promise((resolve) => map.once("load", () => resolve()));
    this.offClick = onMapClick(map, (e) => this.onClick(e), 10);
    map.on("idle", this.onIdle);
    map.once("remove", () => this.dispose());
    this.timer = window.setInterval(() => {
      if (!document.hidden) void this.refresh();
    }, REFRESH_MS);
    this.syncHook();
    void this.refresh();
  }

  /** Call `fn` on every change of the view; returns an unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** What the panel shows. */
  view(): LiveView {
    return {
      availability: this.availability,
      types: [...this.types.values()].map((lt) => ({
        type: lt.type,
        label: lt.label,
        key: lt.key,
        color: lt.color,
        on: lt.on,
        total: lt.total,
        loaded: lt.loaded,
        truncated: lt.truncated,
        status: lt.status,
        error: lt.error,
        unlocated: lt.unlocated,
        refreshing: lt.inflight !== null,
      })),
      refreshing: this.refreshing !== null,
      error: this.typesError,
    };
  }

  /** Reload the type list, the counts and every layer switched on. */
  refresh(manual = false): Promise<void> {
    if (this.disposed || this.availability === "unavailable") return Promise.resolve();
    if (this.refreshing) return this.refreshing;
    const run = (async () => {
      await this.loadTypes(manual);
      const on = [...this.types.values()].filter((lt) => lt.on);
      await Promise.all(on.map((lt) => this.loadEntities(lt, manual)));
    })()
      .catch((err: unknown) => {
        if (!isAbort(err)) this.typesError = errorText(err);
      })
      .finally(() => {
        this.refreshing = null;
        this.changed();
      });
    this.refreshing = run;
    this.changed();
    return run;
  }

  /** Switch a type's layer on (loading its entities) or off. */
  setOn(type: string, on: boolean): void {
    const lt = this.types.get(type);
    if (!lt || this.disposed) return;
    lt.on = on;
    this.applyVisibility(lt);
    if (on) void this.loadEntities(lt, true);
    else mergeFeatureCounts({ [lt.key]: 0 });
    this.changed();
  }

  private async loadTypes(manual: boolean): Promise<void> {
    const answer = await fetchEntityTypes(this.abort.signal);
    if (this.disposed) return;
    if (answer.kind === "missing") {
      this.availability = "unavailable";
      this.typesError = null;
      return;
    }
    if (answer.kind === "failed") {
      this.typesError = answer.message;
      if (manual) notifyError(`${t("liveRefreshFailed")}: ${answer.message}`);
      return;
    }
    this.availability = "available";
    this.typesError = null;
    this.mergeTypes(answer.types);
    this.changed();
    const counted = [...this.types.values()].slice(0, MAX_COUNTED_TYPES);
    await Promise.all(
      counted.map(async (lt) => {
        const n = await countEntities(lt.type, this.abort.signal);
        if (n !== null) lt.total = n;
      }),
    );
  }

  /** Keep known types (and their colours), add new ones, drop those no longer listed. */
  private mergeTypes(list: string[]): void {
    const taken = new Map([...this.types.values()].map((lt) => [lt.type, lt.label]));
    const labels = uniqueLabels(list, taken);
    for (const [type, lt] of this.types) {
      if (!list.includes(type)) {
        this.removeLayer(lt);
        this.types.delete(type);
      }
    }
    for (const type of list) {
      if (this.types.has(type)) continue;
      const index = this.nextIndex++;
      const label = labels.get(type) ?? type;
      this.types.set(type, {
        type,
        label,
        key: `live:${label}`,
        color: liveColor(index),
        sourceId: `live-src-${index}`,
        layerId: `live-${index}`,
        on: false,
        total: null,
        loaded: null,
        unlocated: 0,
        truncated: false,
        status: "idle",
        error: null,
        entities: new Map(),
        inflight: null,
      });
    }
  }

  private loadEntities(lt: LiveType, userAsked: boolean): Promise<void> {
    if (lt.inflight) return lt.inflight;
    if (lt.loaded === null) lt.status = "loading";
    const run = (async () => {
      try {
        const { features, truncated } = await fetchAllEntities(lt.type, this.abort.signal);
        if (this.disposed || this.types.get(lt.type) !== lt) return;
        const entities = new Map<string, EntityRecord>();
        const drawn: Feature<Geometry>[] = [];
        let unlocated = 0;
        features.forEach((f, i) => {
          const id = f.id !== undefined ? String(f.id) : `#${i}`;
          entities.set(id, { id, type: entityType(f, lt.type), properties: f.properties });
          if (f.geometry) drawn.push({ type: "Feature", geometry: f.geometry, properties: { _eid: id } });
          else unlocated++;
        });
        lt.entities = entities;
        lt.loaded = features.length;
        lt.unlocated = unlocated;
        lt.truncated = truncated;
        lt.status = "ready";
        lt.error = null;
        if (!truncated) lt.total = features.length;
        await this.styleReady;
        if (this.disposed || this.types.get(lt.type) !== lt) return;
        this.ensureLayer(lt);
        const source = this.map.getSource<GeoJSONSource>(lt.sourceId);
        source?.setData({ type: "FeatureCollection", features: drawn });
        this.map.triggerRepaint();
      } catch (err) {
        if (isAbort(err) || this.disposed) return;
        lt.error = errorText(err);
        if (lt.loaded === null) lt.status = "error";
        if (userAsked) notifyError(`${t("liveLoadFailed")}（${lt.label}）: ${lt.error}`);
      }
    })().finally(() => {
      lt.inflight = null;
      this.changed();
    });
    lt.inflight = run;
    this.changed();
    return run;
  }

  private ensureLayer(lt: LiveType): void {
    if (!this.map.getSource(lt.sourceId)) {
      this.map.addSource(lt.sourceId, { type: "geojson", data: EMPTY });
    }
    if (!this.map.getLayer(lt.layerId)) {
      this.map.addLayer(circleLayer(lt));
      this.map.on("mouseenter", lt.layerId, this.pointer);
      this.map.on("mouseleave", lt.layerId, this.unpointer);
    }
    this.applyVisibility(lt);
  }

  private applyVisibility(lt: LiveType): void {
    if (this.map.getLayer(lt.layerId)) {
      this.map.setLayoutProperty(lt.layerId, "visibility", lt.on ? "visible" : "none");
    }
  }

  private removeLayer(lt: LiveType): void {
    if (this.map.getLayer(lt.layerId)) {
      this.map.off("mouseenter", lt.layerId, this.pointer);
      this.map.off("mouseleave", lt.layerId, this.unpointer);
      this.map.removeLayer(lt.layerId);
    }
    if (this.map.getSource(lt.sourceId)) this.map.removeSource(lt.sourceId);
    const counts = { ...hook().featureCounts };
    delete counts[lt.key];
    hook().featureCounts = counts;
  }

  private readonly pointer = (): void => {
    this.map.getCanvas().style.cursor = "pointer";
  };

  private readonly unpointer = (): void => {
    this.map.getCanvas().style.cursor = "";
  };

  private shownLayers(): LiveType[] {
    return [...this.types.values()].filter((lt) => lt.on && this.map.getLayer(lt.layerId));
  }

  /** Open the popup of the live feature nearest the click, if there is one. */
  private onClick(e: MapMouseEvent): boolean {
    const shown = this.shownLayers();
    if (shown.length === 0) return false;
    const { x, y } = e.point;
    const box: [PointLike, PointLike] = [
      [x - HIT_PX, y - HIT_PX],
      [x + HIT_PX, y + HIT_PX],
    ];
    const hits = this.map.queryRenderedFeatures(box, { layers: shown.map((lt) => lt.layerId) });
    let best: { f: MapGeoJSONFeature; d: number } | null = null;
    for (const f of hits) {
      if (f.geometry.type !== "Point") continue;
      const p = this.map.project((f.geometry as Point).coordinates as [number, number]);
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (!best || d < best.d) best = { f, d };
    }
    const hit = best?.f ?? hits[0];
    if (!hit) return false;
    const lt = shown.find((s) => s.layerId === hit.layer.id);
    const id = String(hit.properties?._eid ?? "");
    const rec = lt?.entities.get(id);
    if (!lt || !rec) return false;
    const at =
      hit.geometry.type === "Point" ? ((hit.geometry as Point).coordinates as [number, number]) : e.lngLat;
    this.popup?.remove();
    const body = document.createElement("div");
    body.className = "live-popup";
    body.dataset.entity = rec.id;
    body.innerHTML = livePopupHtml({ ...rec, label: lt.label, color: lt.color });
    this.popup = new maplibregl.Popup({ closeButton: true, maxWidth: "440px", className: "cockpit-popup" })
      .setLngLat(at)
      .setDOMContent(body)
      .addTo(this.map);
    return true;
  }

  /** Count the rendered features of every live layer for `window.__cockpit`. */
  private readonly onIdle = (): void => {
    if (this.disposed || this.types.size === 0) return;
    const counts: Record<string, number> = {};
    let sample: LiveHook["sample"] = null;
    for (const lt of this.types.values()) {
      if (!this.map.getLayer(lt.layerId)) continue;
      if (!lt.on) {
        counts[lt.key] = 0;
        continue;
      }
      const rendered = this.map.queryRenderedFeatures({ layers: [lt.layerId] });
      counts[lt.key] = new Set(rendered.map((f) => String(f.properties?._eid ?? ""))).size;
      sample ??= this.clickablePoint(lt, rendered);
    }
    mergeFeatureCounts(counts);
    hook().live.sample = sample;
  };

  /** Find a rendered feature whose point on screen would reach the map canvas. */
  private clickablePoint(lt: LiveType, rendered: MapGeoJSONFeature[]): LiveHook["sample"] {
    const canvas = this.map.getCanvas();
    const rect = canvas.getBoundingClientRect();
    const margin = 48;
    for (const f of rendered.slice(0, 200)) {
      if (f.geometry.type !== "Point") continue;
      const p = this.map.project((f.geometry as Point).coordinates as [number, number]);
      const x = rect.left + p.x;
      const y = rect.top + p.y;
      const inside =
        x > rect.left + margin &&
        x < rect.right - margin &&
        y > rect.top + margin &&
        y < rect.bottom - margin;
      if (!inside) continue;
      if (document.elementFromPoint(x, y) !== canvas) continue;
      return { key: lt.key, id: String(f.properties?._eid ?? ""), x, y };
    }
    return null;
  }

  private changed(): void {
    this.syncHook();
    for (const fn of this.listeners) fn();
  }

  private syncHook(): void {
    if (this.disposed) return;
    const view = this.view();
    const live = hook().live;
    live.available = view.availability === "unknown" ? null : view.availability === "available";
    live.types = view.types.map((v) => ({
      type: v.type,
      label: v.label,
      key: v.key,
      color: v.color,
      on: v.on,
      total: v.total,
      loaded: v.loaded,
      truncated: v.truncated,
      status: v.status,
    }));
    live.loaded = view.types.filter((v) => v.on && v.loaded !== null).map((v) => v.key);
  }

  /** Stop timers and fetches (the map is going away). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    window.clearInterval(this.timer);
    this.abort.abort();
    this.offClick();
    this.map.off("idle", this.onIdle);
    this.popup?.remove();
    this.listeners.clear();
    controllers.delete(this.map);
  }
}

const controllers = new WeakMap<MapLibreMap, LiveLayers>();

/** The live layers of a map, created on first use and disposed with the map. */
export function liveLayersFor(map: MapLibreMap): LiveLayers {
  let c = controllers.get(map);
  if (!c) {
    c = new LiveLayers(map);
    controllers.set(map, c);
  }
  return c;
}

// The key-vehicle state of one signed-in map: vehicles (polled every VEHICLES_MS and
// drawn by class), open alerts (a long poll: the server answers when an alert opens or
// closes) and the track playback opened by a click on a vehicle or an alert. It lives
// with the map and stops when the map goes.

import type { GeoJSONSource, Map as MapLibreMap } from "maplibre-gl";
import { fetchClock } from "../api";
import { pick } from "../i18n";
import { onMapClick } from "../map/clickRouter";
import { notifyError } from "../notify";
import { mergeFeatureCounts } from "../testHook";
import { fetchAlerts, fetchTrack, fetchVehicles, watchAlerts } from "./client";
import { fleetHook } from "./hook";
import { classColor, parseVehicles, tweenPositions, type FleetAlert, type VehicleView } from "./model";
import { Playback } from "./playback";

export const VEHICLES_MS = 5_000;
// Alerts: a long poll that the server answers as soon as an alert opens or closes (so a
// violation shows within one round trip), held up to ALERTS_WAIT_S; after a failure, or
// while the page is hidden, the next ask waits ALERTS_MS.
export const ALERTS_MS = 1_000;
export const ALERTS_WAIT_S = 20;
export const ALERTS_MAX = 200;
const SOURCE = "fleet-vehicles";
const LAYER = "fleet-vehicles";
const HIT_PX = 8;
/** Vehicles glide to their new positions over this long (up to TWEEN_MAX vehicles). */
const TWEEN_MS = 1_000;
const TWEEN_MAX = 2_000;
const FRAME_MS = 50;

const TEXT = { trackFailed: { zh: "轨迹加载失败", en: "Track failed to load" } };

export type Availability = "unknown" | "available" | "unavailable";

export interface FleetView {
  availability: Availability;
  vehicles: VehicleView[];
  alerts: FleetAlert[];
  error: string | null;
  playing: string | null;
}

export class FleetStore {
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private readonly timers: number[] = [];
  private readonly offClick: () => void;
  private readonly styleReady: Promise<void>;
  private disposed = false;
  private playback: Playback | null = null;
  private timeZone = "Asia/Shanghai";
  private shown = new Map<string, [number, number]>();
  private tween: number | null = null;
  private state: FleetView = { availability: "unknown", vehicles: [], alerts: [], error: null, playing: null };

  constructor(
    private readonly map: MapLibreMap,
    permissions: readonly string[],
  ) {
    this.styleReady = map.getLayer("background")
      ? Promise.resolve()
      : new Promise((resolve) => map.once("load", () => resolve()));
    this.offClick = onMapClick(map, (e) => this.click(e.point.x, e.point.y), 20);
    map.on("idle", this.onIdle);
    map.once("remove", () => this.dispose());
    if (!permissions.includes("fleet:read")) {
      this.state.availability = "unavailable";
      fleetHook().available = false;
      return;
    }
    const every = (ms: number, fn: () => Promise<void>): void => {
      this.timers.push(window.setInterval(() => {
        if (!document.hidden) void fn();
      }, ms));
    };
    every(VEHICLES_MS, () => this.loadVehicles());
    void fetchClock()
      .then((c) => (this.timeZone = c.timezone || this.timeZone))
      .catch(() => undefined);
    void this.loadVehicles().then(() => this.watchAlerts());
  }

  view(): FleetView {
    return this.state;
  }

  /** The city's time zone (from /api/v1/clock). */
  zone(): string {
    return this.timeZone;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Reload vehicles and alerts now. */
  async refresh(): Promise<void> {
    await Promise.all([this.loadVehicles(), this.loadAlerts()]);
  }

  private unavailable(): void {
    this.state = { ...this.state, availability: "unavailable" };
    fleetHook().available = false;
    for (const t of this.timers) window.clearInterval(t);
    this.changed();
  }

  private async loadVehicles(): Promise<void> {
    if (this.disposed || this.state.availability === "unavailable") return;
    try {
      const answer = await fetchVehicles(this.abort.signal);
      if (this.disposed) return;
      if (answer.kind === "missing") return this.unavailable();
      if (answer.kind === "failed") {
        this.state = { ...this.state, error: answer.message };
        return this.changed();
      }
      const vehicles = parseVehicles(answer.value);
      this.state = { ...this.state, availability: "available", vehicles, error: null };
      fleetHook().available = true;
      await this.styleReady;
      if (this.disposed) return;
      this.draw(vehicles);
      this.changed();
    } catch {
      // Aborted: the map is going away.
    }
  }

  /** Keep the open alerts current: ask, and ask again as soon as the answer comes. */
  private async watchAlerts(): Promise<void> {
    let etag: string | null = null;
    const pause = (): Promise<void> => new Promise((r) => window.setTimeout(r, ALERTS_MS));
    while (!this.disposed && this.state.availability === "available") {
      if (document.hidden) {
        await pause();
        continue;
      }
      let answer;
      try {
        answer = await watchAlerts(ALERTS_MAX, etag, ALERTS_WAIT_S, this.abort.signal);
      } catch {
        return; // aborted: the map is gone
      }
      if (this.disposed) return;
      if (answer.kind === "same") continue;
      if (answer.kind === "missing") return this.unavailable();
      if (answer.kind === "failed") {
        this.state = { ...this.state, error: answer.message };
        this.changed();
        etag = null;
        await pause();
        continue;
      }
      etag = answer.etag ?? null;
      this.state = { ...this.state, alerts: answer.value, error: null };
      this.changed();
      if (!etag) await pause(); // a server without versions: plain polling
    }
  }

  private async loadAlerts(): Promise<void> {
    if (this.disposed || this.state.availability !== "available") return;
    try {
      const answer = await fetchAlerts(ALERTS_MAX, this.abort.signal);
      if (this.disposed) return;
      if (answer.kind === "missing") return this.unavailable();
      if (answer.kind === "failed") {
        this.state = { ...this.state, error: answer.message };
        return this.changed();
      }
      this.state = { ...this.state, alerts: answer.value, error: null };
      this.changed();
    } catch {
      // Aborted.
    }
  }

  private draw(vehicles: VehicleView[]): void {
    if (!this.map.getSource(SOURCE)) {
      this.map.addSource(SOURCE, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    }
    if (!this.map.getLayer(LAYER)) {
      this.map.addLayer({
        id: LAYER,
        type: "circle",
        source: SOURCE,
        paint: {
          "circle-color": ["get", "color"],
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 4.5, 13, 7, 17, 11],
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": ["case", ["get", "onDuty"], 1.5, 0.5],
          "circle-opacity": ["case", ["get", "onDuty"], 1, 0.6],
        },
      });
      this.map.on("mouseenter", LAYER, this.pointer);
      this.map.on("mouseleave", LAYER, this.unpointer);
    }
    if (this.tween !== null) window.clearInterval(this.tween);
    this.tween = null;
    const from = this.shown;
    const props = new Map(vehicles.map((v) => [v.deviceId, { device: v.deviceId, color: classColor(v.vclass), onDuty: v.onDuty }]));
    const put = (f: number): void => {
      this.shown = tweenPositions(from, vehicles, f);
      this.map.getSource<GeoJSONSource>(SOURCE)?.setData({
        type: "FeatureCollection",
        features: [...this.shown].map(([id, at]) => ({
          type: "Feature",
          geometry: { type: "Point", coordinates: at },
          properties: props.get(id) ?? { device: id },
        })),
      });
    };
    const moved = vehicles.some((v) => {
      const a = from.get(v.deviceId);
      return a !== undefined && (a[0] !== v.lon || a[1] !== v.lat);
    });
    if (!moved || vehicles.length > TWEEN_MAX) {
      put(1);
    } else {
      const start = performance.now();
      put(0);
      this.tween = window.setInterval(() => {
        const f = (performance.now() - start) / TWEEN_MS;
        if (this.disposed) return;
        put(f);
        if (f >= 1 && this.tween !== null) {
          window.clearInterval(this.tween);
          this.tween = null;
        }
      }, FRAME_MS);
    }
    this.map.triggerRepaint();
  }

  /** Open the track playback of a vehicle (closing any other). */
  async openTrack(deviceId: string, flyTo?: [number, number]): Promise<void> {
    this.playback?.close();
    if (flyTo) this.map.easeTo({ center: flyTo, zoom: Math.max(this.map.getZoom(), 13) });
    const answer = await fetchTrack(deviceId, this.abort.signal).catch(() => null);
    if (!answer || this.disposed) return;
    if (answer.kind !== "ok") {
      notifyError(`${pick(TEXT.trackFailed)}: ${answer.kind === "failed" ? answer.message : `HTTP ${answer.status}`}`);
      return;
    }
    const v = this.state.vehicles.find((x) => x.deviceId === deviceId);
    const alert = this.state.alerts.find((a) => a.device_id === deviceId);
    const vclass = v?.vclass ?? alert?.vclass ?? "";
    const plate = v?.plate ?? alert?.plate ?? deviceId;
    await this.styleReady;
    this.playback?.close();
    this.playback = new Playback(this.map, answer.value, vclass, plate, this.timeZone, () => {
      this.playback = null;
      this.state = { ...this.state, playing: null };
      this.changed();
    });
    this.state = { ...this.state, playing: deviceId };
    this.changed();
  }

  private click(x: number, y: number): boolean {
    if (!this.map.getLayer(LAYER)) return false;
    const hits = this.map.queryRenderedFeatures(
      [
        [x - HIT_PX, y - HIT_PX],
        [x + HIT_PX, y + HIT_PX],
      ],
      { layers: [LAYER] },
    );
    const device = hits[0]?.properties?.device;
    if (typeof device !== "string") return false;
    void this.openTrack(device);
    return true;
  }

  private readonly pointer = (): void => {
    this.map.getCanvas().style.cursor = "pointer";
  };

  private readonly unpointer = (): void => {
    this.map.getCanvas().style.cursor = "";
  };

  private readonly onIdle = (): void => {
    if (this.disposed || !this.map.getLayer(LAYER)) return;
    const ids = [...new Set(this.map.queryRenderedFeatures({ layers: [LAYER] }).map((f) => String(f.properties?.device ?? "")))];
    fleetHook().rendered = ids;
    mergeFeatureCounts({ "fleet:vehicles": ids.length });
  };

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** Stop polling, fetches and playback (the map is going away). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.timers) window.clearInterval(t);
    if (this.tween !== null) window.clearInterval(this.tween);
    this.abort.abort();
    this.offClick();
    this.map.off("idle", this.onIdle);
    this.playback?.close();
    this.listeners.clear();
    stores.delete(this.map);
  }
}

const stores = new WeakMap<MapLibreMap, FleetStore>();

/** The key-vehicle state of a map, created on first use and disposed with the map. */
export function fleetStoreFor(map: MapLibreMap, permissions: readonly string[]): FleetStore {
  let s = stores.get(map);
  if (!s) {
    s = new FleetStore(map, permissions);
    stores.set(map, s);
  }
  return s;
}

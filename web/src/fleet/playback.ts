// Track playback: a vehicle's recorded track drawn as a line, a marker at the time the
// slider points to (interpolated between points), and play/pause at ×60 or faster so
// any track plays in about twenty seconds.

import type { GeoJSONSource, Map as MapLibreMap } from "maplibre-gl";
import { esc } from "../format";
import { pick } from "../i18n";
import { formatWhen } from "../operations/timeline";
import { fleetHook } from "./hook";
import { classColor, interpolateTrack, type TrackAnswer } from "./model";

const TRACK_SOURCE = "fleet-track";
const HEAD_SOURCE = "fleet-head";
const TICK_MS = 100;

const TEXT = {
  title: { zh: "轨迹回放", en: "Track playback" },
  play: { zh: "播放", en: "Play" },
  pause: { zh: "暂停", en: "Pause" },
  close: { zh: "关闭", en: "Close" },
  slider: { zh: "回放时刻", en: "Playback time" },
  empty: { zh: "暂无轨迹", en: "No track recorded" },
};

/** Seconds of track time played per real second: ×60, or faster for long tracks. */
export function playbackRate(spanS: number): number {
  return Math.max(60, spanS / 20);
}

function ensureLayers(map: MapLibreMap): void {
  const empty = { type: "FeatureCollection" as const, features: [] };
  if (!map.getSource(TRACK_SOURCE)) map.addSource(TRACK_SOURCE, { type: "geojson", data: empty });
  if (!map.getSource(HEAD_SOURCE)) map.addSource(HEAD_SOURCE, { type: "geojson", data: empty });
  if (!map.getLayer(TRACK_SOURCE)) {
    map.addLayer({
      id: TRACK_SOURCE,
      type: "line",
      source: TRACK_SOURCE,
      paint: { "line-color": ["get", "color"], "line-width": 3, "line-opacity": 0.85, "line-dasharray": [2, 1] },
    });
  }
  if (!map.getLayer(HEAD_SOURCE)) {
    map.addLayer({
      id: HEAD_SOURCE,
      type: "circle",
      source: HEAD_SOURCE,
      paint: {
        "circle-color": ["get", "color"],
        "circle-radius": 8,
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 2,
      },
    });
  }
}

/** One open playback on the map; `close()` removes its layers and its bar. */
export class Playback {
  private readonly bar: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly label: HTMLElement;
  private readonly playBtn: HTMLButtonElement;
  private readonly head: string;
  private timer: number | null = null;
  private closed = false;

  constructor(
    private readonly map: MapLibreMap,
    private readonly track: TrackAnswer,
    vclass: string,
    plate: string,
    private readonly timeZone: string,
    private readonly onClose: () => void,
  ) {
    const color = classColor(vclass);
    const pts = track.points;
    this.bar = document.createElement("div");
    this.bar.className = "fleet-playback";
    this.bar.dataset.device = track.device_id;
    this.bar.setAttribute("role", "group");
    this.bar.setAttribute("aria-label", `${pick(TEXT.title)} ${plate}`);
    const t0 = pts[0]?.[0] ?? 0;
    const t1 = pts[pts.length - 1]?.[0] ?? 0;
    this.bar.innerHTML = `
      <span class="fleet-playback-title"><i class="fleet-dot" style="background:${color}"></i>${esc(pick(TEXT.title))} · ${esc(plate)}</span>
      <button type="button" class="btn btn-ghost fleet-play" data-testid="fleet-play">▶</button>
      <input type="range" class="fleet-slider" data-testid="fleet-slider" min="${t0}" max="${t1}" step="1" value="${t1}" aria-label="${esc(pick(TEXT.slider))}">
      <time class="fleet-time"></time>
      <span class="fleet-count">${pts.length}</span>
      <button type="button" class="btn btn-ghost fleet-close" aria-label="${esc(pick(TEXT.close))}">×</button>`;
    map.getContainer().append(this.bar);
    this.slider = this.bar.querySelector<HTMLInputElement>(".fleet-slider") as HTMLInputElement;
    this.label = this.bar.querySelector<HTMLElement>(".fleet-time") as HTMLElement;
    this.playBtn = this.bar.querySelector<HTMLButtonElement>(".fleet-play") as HTMLButtonElement;
    this.playBtn.title = pick(TEXT.play);
    this.slider.disabled = pts.length < 2;
    this.playBtn.disabled = pts.length < 2;
    this.slider.addEventListener("input", () => this.seek(Number(this.slider.value)));
    this.playBtn.addEventListener("click", () => (this.timer === null ? this.play() : this.pause()));
    this.bar.querySelector(".fleet-close")?.addEventListener("click", () => this.close());

    ensureLayers(map);
    map.getSource<GeoJSONSource>(TRACK_SOURCE)?.setData({
      type: "FeatureCollection",
      features:
        pts.length >= 2
          ? [{ type: "Feature", properties: { color }, geometry: { type: "LineString", coordinates: pts.map((p) => [p[1], p[2]]) } }]
          : [],
    });
    this.head = color;
    if (pts.length === 0) this.label.textContent = pick(TEXT.empty);
    else this.seek(t1);
  }

  /** Move the marker to time `t` (epoch s). */
  seek(t: number): void {
    const pos = interpolateTrack(this.track.points, t);
    if (!pos || this.closed) return;
    this.slider.value = String(t);
    this.label.textContent = `${formatWhen(new Date(pos.t * 1000).toISOString(), this.timeZone).slice(5)} · ${pos.speed.toFixed(0)} km/h`;
    this.map.getSource<GeoJSONSource>(HEAD_SOURCE)?.setData({
      type: "FeatureCollection",
      features: [{ type: "Feature", properties: { color: this.head }, geometry: { type: "Point", coordinates: [pos.lon, pos.lat] } }],
    });
    const h = fleetHook();
    h.playback = { device: this.track.device_id, points: this.track.points.length, t, lon: pos.lon, lat: pos.lat };
  }

  play(): void {
    const min = Number(this.slider.min);
    const max = Number(this.slider.max);
    if (Number(this.slider.value) >= max) this.seek(min);
    const step = (playbackRate(max - min) * TICK_MS) / 1000;
    this.playBtn.textContent = "❚❚";
    this.playBtn.title = pick(TEXT.pause);
    this.timer = window.setInterval(() => {
      const next = Math.min(max, Number(this.slider.value) + step);
      this.seek(next);
      if (next >= max) this.pause();
    }, TICK_MS);
  }

  pause(): void {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
    this.playBtn.textContent = "▶";
    this.playBtn.title = pick(TEXT.play);
  }

  /** Stop playing and take the track off the map. */
  close(): void {
    if (this.closed) return;
    this.pause();
    this.closed = true;
    this.bar.remove();
    const empty = { type: "FeatureCollection" as const, features: [] };
    try {
      this.map.getSource<GeoJSONSource>(TRACK_SOURCE)?.setData(empty);
      this.map.getSource<GeoJSONSource>(HEAD_SOURCE)?.setData(empty);
    } catch {
      // The map is being removed with its sources.
    }
    fleetHook().playback = null;
    this.onClose();
  }
}

// Click on the map → ask the API where that is → show county, street, community and grid.

import maplibregl, { type Map as MapLibreMap, type MapMouseEvent } from "maplibre-gl";
import { locate } from "../api";
import { esc } from "../format";
import { t } from "../i18n";
import type { LocateResult, RegionRef } from "../types";
import { errorText } from "../notify";
import { onMapClick } from "./clickRouter";

function row(label: string, ref: RegionRef | { code: string } | null, cls: string): string {
  if (!ref) return `<tr class="${cls}"><th>${esc(label)}</th><td>${esc(t("none"))}</td></tr>`;
  const name = "name_zh" in ref ? `<span class="loc-name">${esc(ref.name_zh)}</span>` : "";
  return `<tr class="${cls}"><th>${esc(label)}</th><td>${name}<code class="loc-code">${esc(ref.code)}</code></td></tr>`;
}

/** Render the popup body for a locate answer. */
export function locateHtml(res: LocateResult, lon: number, lat: number): string {
  const coords = `${lon.toFixed(5)}, ${lat.toFixed(5)}`;
  if (!res.county) {
    return `<div class="loc-empty">${esc(t("outsideCity"))}</div><div class="loc-coords">${coords}</div>`;
  }
  return `<table class="loc-table">
      ${row(t("county"), res.county, "loc-county")}
      ${row(t("street"), res.street, "loc-street")}
      ${row(t("community"), res.community, "loc-community")}
      ${row(t("grid"), res.grid, "loc-grid")}
    </table>
    <div class="loc-coords">${esc(t("coordinates"))} ${coords}</div>`;
}

/** Wire click-to-locate on the map; returns a function that unwires it. */
export function enableLocate(map: MapLibreMap): () => void {
  let popup: maplibregl.Popup | null = null;
  let seq = 0;

  const onClick = (e: MapMouseEvent): void => {
    const { lng, lat } = e.lngLat;
    const mine = ++seq;
    popup?.remove();
    const body = document.createElement("div");
    body.className = "locate-popup";
    body.innerHTML = `<div class="loc-title">${esc(t("locateTitle"))}</div><div class="loc-body">${esc(t("locating"))}</div>`;
    popup = new maplibregl.Popup({ closeButton: true, maxWidth: "320px", className: "cockpit-popup" })
      .setLngLat(e.lngLat)
      .setDOMContent(body)
      .addTo(map);
    const target = body.querySelector(".loc-body");
    locate(lng, lat)
      .then((res) => {
        if (mine === seq && target) target.innerHTML = locateHtml(res, lng, lat);
      })
      .catch((err: unknown) => {
        if (mine === seq && target) {
          target.innerHTML = `<div class="loc-empty">${esc(errorText(err))}</div>`;
        }
      });
  };

  // The fallback of the click router: a click no live-layer feature takes is located.
  const off = onMapClick(map, (e) => {
    onClick(e);
    return true;
  });
  return () => {
    off();
    popup?.remove();
  };
}

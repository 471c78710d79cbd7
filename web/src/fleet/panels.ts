// 「重点车辆」: vehicles per class (the map's legend) and the open alerts, newest first;
// a click on an alert flies to it and opens its vehicle's track playback. Hidden
// without fleet:read or while the fleet API answers 403/404.

import type { CockpitContext } from "../context";
import { esc, formatInt } from "../format";
import { lang, pick } from "../i18n";
import { formatWhen } from "../operations/timeline";
import { registerPanel } from "../panels/registry";
import { fleetHook } from "./hook";
import { className, classColor, countByClass, RULE_NAMES, SEVERITY_COLORS } from "./model";
import { fleetStoreFor } from "./store";
import "../styles/fleet.css";

const TEXT = {
  title: { zh: "重点车辆", en: "Key vehicles" },
  alerts: { zh: "在途告警", en: "Open alerts" },
  none: { zh: "暂无告警", en: "No open alerts" },
  failed: { zh: "刷新失败", en: "Refresh failed" },
  vehicles: { zh: "辆", en: "vehicles" },
};

const LIST_MAX = 50;

function renderFleet(el: HTMLElement, ctx: CockpitContext): void | (() => void) {
  const panel = el.closest<HTMLElement>(".panel");
  if (!ctx.map) {
    if (panel) panel.hidden = true;
    return;
  }
  const store = fleetStoreFor(ctx.map, ctx.me.permissions);
  el.classList.add("fleet-body");
  el.innerHTML = `
    <div class="fleet-bar"><span class="fleet-total"></span><span class="fleet-error" hidden>⚠ ${esc(pick(TEXT.failed))}</span></div>
    <div class="fleet-classes" data-testid="fleet-legend"></div>
    <div class="fleet-subtitle">${esc(pick(TEXT.alerts))} <b class="fleet-alert-count"></b></div>
    <ul class="fleet-alerts" data-testid="fleet-alerts" aria-label="${esc(pick(TEXT.alerts))}"></ul>`;
  const total = el.querySelector<HTMLElement>(".fleet-total");
  const error = el.querySelector<HTMLElement>(".fleet-error");
  const classes = el.querySelector<HTMLElement>(".fleet-classes");
  const count = el.querySelector<HTMLElement>(".fleet-alert-count");
  const list = el.querySelector<HTMLUListElement>(".fleet-alerts");
  if (!total || !error || !classes || !count || !list) return;
  const L = lang();

  const update = (): void => {
    const v = store.view();
    if (panel) panel.hidden = v.availability !== "available";
    error.hidden = v.error === null;
    error.title = v.error ?? "";
    total.textContent = `${formatInt(v.vehicles.length)} ${pick(TEXT.vehicles)}`;
    classes.innerHTML = countByClass(v.vehicles)
      .map(
        (c) => `<span class="fleet-class"><i class="fleet-dot" style="background:${classColor(c.vclass)}"></i>${esc(className(c.vclass, L))} <b>${formatInt(c.n)}</b></span>`,
      )
      .join("");
    count.textContent = formatInt(v.alerts.length);
    const shown = v.alerts.slice(0, LIST_MAX);
    fleetHook().alerts = shown.map((a) => a.id);
    if (shown.length === 0) {
      list.innerHTML = `<li class="fleet-empty">${esc(pick(TEXT.none))}</li>`;
      return;
    }
    list.innerHTML = shown
      .map((a) => {
        const rule = RULE_NAMES[a.rule]?.[L] ?? a.rule;
        const sev = SEVERITY_COLORS[a.severity] ?? SEVERITY_COLORS.medium;
        const measure = a.value !== null && a.limit !== null ? ` ${a.value.toFixed(0)}/${a.limit.toFixed(0)}` : "";
        return `<li><button type="button" class="fleet-alert" data-alert="${esc(a.id)}" data-device="${esc(a.device_id)}" data-lon="${a.lon}" data-lat="${a.lat}">
          <i class="fleet-sev" style="background:${sev}" title="${esc(a.severity)}"></i>
          <span class="fleet-rule">${esc(rule)}${esc(measure)}</span>
          <span class="fleet-plate" style="color:${classColor(a.vclass)}">${esc(a.plate)}</span>
          <time>${esc(formatWhen(a.opened_at, store.zone()).slice(11))}</time>
        </button></li>`;
      })
      .join("");
  };
  list.addEventListener("click", (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLElement>("[data-alert]");
    const device = btn?.dataset.device;
    if (!btn || !device) return;
    void store.openTrack(device, [Number(btn.dataset.lon), Number(btn.dataset.lat)]);
  });
  update();
  return store.subscribe(update);
}

// grow below 1 would read as 0 to panels.css ([style*="flex-grow: 0"]): share equally.
registerPanel({ id: "fleet.vehicles", title: TEXT.title, side: "left", order: 50, grow: 1, render: renderFleet });

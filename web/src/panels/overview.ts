// 「城市概况」: the city's size at a glance, from /api/v1/city stats.

import type { CockpitContext } from "../context";
import { esc, formatInt, formatNum, formatPct } from "../format";
import { bi, t } from "../i18n";
import { COLORS } from "../theme";
import { registerPanel } from "./registry";

function tile(label: string, value: string, unit = ""): string {
  return `<div class="stat-tile"><div class="stat-label">${esc(label)}</div>
    <div class="stat-value">${esc(value)}<span class="stat-unit">${esc(unit)}</span></div></div>`;
}

function renderOverview(el: HTMLElement, ctx: CockpitContext): void {
  const { city } = ctx;
  const s = city.stats;
  const name = ctx.lang === "zh" ? city.name_zh : city.name_en;
  const rate = s.intersections > 0 ? s.signalized / s.intersections : 0;
  el.classList.add("overview");
  el.innerHTML = `
    <div class="overview-head">
      <div class="overview-name">${esc(name)}</div>
      <div class="overview-code">${esc(t("cityCode"))} <b>${esc(city.code)}</b></div>
    </div>
    <div class="stat-grid">
      ${tile(t("area"), formatNum(s.area_km2, 0), t("unitKm2"))}
      ${tile(t("roadLength"), formatNum(s.road_km, 1), t("unitKm"))}
      ${tile(t("roadSegments"), formatInt(s.road_edges))}
      ${tile(t("kpiIntersections"), formatInt(s.intersections))}
    </div>
    <div class="meter" data-testid="signal-rate">
      <div class="meter-row"><span>${esc(t("signalRate"))}</span>
        <b style="color:${COLORS.signal}">${formatPct(rate)}</b></div>
      <div class="meter-track"><div class="meter-fill" style="width:${(rate * 100).toFixed(1)}%"></div></div>
      <div class="meter-foot">${formatInt(s.signalized)} / ${formatInt(s.intersections)}</div>
    </div>
    <div class="units-row" aria-label="${esc(t("adminUnits"))}">
      <div><b>${formatInt(s.counties)}</b><span>${esc(t("kpiCounties"))}</span></div>
      <div><b>${formatInt(s.streets)}</b><span>${esc(t("kpiStreets"))}</span></div>
      <div><b>${formatInt(s.communities)}</b><span>${esc(t("kpiCommunities"))}</span></div>
      <div><b>${formatInt(s.grids)}</b><span>${esc(t("kpiGrids"))}</span></div>
    </div>`;
}

registerPanel({
  id: "city.overview",
  title: bi("panelOverview"),
  side: "left",
  order: 10,
  grow: 0,
  render: renderOverview,
});

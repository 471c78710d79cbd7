// 「区县明细」: one row per district with its size, junctions and road length.

import type { CockpitContext } from "../context";
import { esc, formatInt, formatNum } from "../format";
import { bi, placeName, t } from "../i18n";
import { registerPanel } from "./registry";

function renderCountyTable(el: HTMLElement, ctx: CockpitContext): void {
  const rows = [...ctx.city.counties].sort((a, b) => a.code.localeCompare(b.code));
  const maxKm = Math.max(1, ...rows.map((r) => r.road_km));
  el.classList.add("scroll");
  el.innerHTML = `
    <table class="data-table">
      <thead><tr>
        <th>${esc(t("county"))}</th>
        <th class="num">${esc(t("areaCol"))}</th>
        <th class="num">${esc(t("intersectionsCol"))}</th>
        <th class="num">${esc(t("signalizedCol"))}</th>
        <th class="num">${esc(t("roadKmCol"))}</th>
      </tr></thead>
      <tbody>
        ${rows
          .map(
            (r) => `<tr data-code="${esc(r.code)}">
              <td><span class="county-name">${esc(placeName(r))}</span><span class="county-code">${esc(r.code)}</span></td>
              <td class="num">${formatNum(r.area_km2, 0)}</td>
              <td class="num">${formatInt(r.intersections)}</td>
              <td class="num signal">${formatInt(r.signalized)}</td>
              <td class="num"><div class="cell-bar" style="--w:${((r.road_km / maxKm) * 100).toFixed(1)}%">${formatNum(r.road_km, 1)}</div></td>
            </tr>`,
          )
          .join("")}
      </tbody>
    </table>`;
}

registerPanel({
  id: "city.county_table",
  title: bi("panelCountyTable"),
  side: "right",
  order: 20,
  grow: 1,
  render: renderCountyTable,
});

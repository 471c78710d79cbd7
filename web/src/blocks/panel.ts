// 「块数据」: any resource's rows summed up by region, as a choropleth on the map and a
// bar chart of the largest blocks; a click on a region (map or bar) drills down from the
// city to districts, streets, communities and grids. Hidden without blocks:read.

import * as echarts from "echarts/core";
import type { FeatureCollection, Geometry } from "geojson";
import type { Map as MapLibreMap } from "maplibre-gl";
import { mountChart, TOOLTIP_STYLE } from "../charts";
import type { CockpitContext } from "../context";
import { esc, formatInt, formatNum } from "../format";
import { pick } from "../i18n";
import { errorText } from "../notify";
import { registerPanel } from "../panels/registry";
import { fetchBlocks, fetchResources, fetchShapes, type ResourceItem } from "./client";
import { blocksHook } from "./hook";
import { hide, onRegionClick, paint, show } from "./layer";
import { childLevel, colorOf, pathOf, RAMP, totals, type BlockLevel } from "./model";
import "../styles/blocks.css";

const TEXT = {
  title: { zh: "块数据", en: "Block data" },
  resource: { zh: "资源", en: "Resource" },
  metric: { zh: "指标", en: "Metric" },
  city: { zh: "全市", en: "City" },
  count: { zh: "记录数", en: "Rows" },
  sum: { zh: "合计", en: "Sum" },
  avg: { zh: "平均", en: "Average" },
  rows: { zh: "行", en: "rows" },
  unlocated: { zh: "未定位", en: "unplaced" },
  none: { zh: "该资源尚无数据", en: "No rows loaded" },
  noResources: { zh: "没有可汇总的资源", en: "No resources" },
  onMap: { zh: "地图显示", en: "On map" },
};
const NUMERIC = new Set(["integer", "decimal"]);
const TOP = 10;
const PROBE = 12;

interface State {
  resource: string;
  within: string;
  op: string;
  field: string;
  // The choropleth covers the city and takes map clicks (to drill); it is drawn only
  // when asked, so a click on the map locates a place by default.
  onMap: boolean;
}

function options(resources: ResourceItem[], chosen: string): string {
  return resources
    .map((r) => `<option value="${esc(r.id)}"${r.id === chosen ? " selected" : ""}>${esc(pick({ zh: r.name_zh, en: r.name_en }))}</option>`)
    .join("");
}

function metricOptions(resource: ResourceItem | undefined, chosen: string): string {
  const items = [`<option value="count:">${esc(pick(TEXT.count))}</option>`];
  for (const f of resource?.fields ?? []) {
    if (!NUMERIC.has(f.data_type)) continue;
    for (const op of ["sum", "avg"] as const) {
      const value = `${op}:${f.name}`;
      items.push(`<option value="${esc(value)}"${value === chosen ? " selected" : ""}>${esc(pick(TEXT[op]))} · ${esc(f.name_zh || f.name)}</option>`);
    }
  }
  return items.join("");
}

function bbox(shapes: FeatureCollection<Geometry>, code: string): [number, number, number, number] | null {
  const f = shapes.features.find((x) => x.properties?.code === code);
  if (!f) return null;
  let w = 180, s = 90, e = -180, n = -90;
  const walk = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === "number") {
      const x = Number(c[0]);
      const y = Number(c[1]);
      w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y);
    } else if (Array.isArray(c)) c.forEach(walk);
  };
  walk((f.geometry as { coordinates?: unknown }).coordinates);
  return w <= e ? [w, s, e, n] : null;
}

function renderBlocks(el: HTMLElement, ctx: CockpitContext): void | (() => void) {
  const panel = el.closest<HTMLElement>(".panel");
  const map: MapLibreMap | null = ctx.map;
  if (!map || !ctx.me.permissions.includes("blocks:read")) {
    if (panel) panel.hidden = true;
    return;
  }
  el.classList.add("blocks-body");
  el.innerHTML = `
    <div class="blocks-controls">
      <select class="blocks-resource" data-testid="blocks-resource" aria-label="${esc(pick(TEXT.resource))}"></select>
      <select class="blocks-metric" data-testid="blocks-metric" aria-label="${esc(pick(TEXT.metric))}"></select>
      <label class="blocks-onmap"><input type="checkbox" data-testid="blocks-on-map"> ${esc(pick(TEXT.onMap))}</label>
    </div>
    <nav class="blocks-crumbs" data-testid="blocks-crumbs"></nav>
    <div class="blocks-legend" data-testid="blocks-legend"></div>
    <div class="blocks-status" data-testid="blocks-status"></div>
    <div class="blocks-chart" data-testid="blocks-chart"></div>
    <ul class="blocks-top" data-testid="blocks-top"></ul>`;
  const resourceEl = el.querySelector<HTMLSelectElement>(".blocks-resource")!;
  const metricEl = el.querySelector<HTMLSelectElement>(".blocks-metric")!;
  const crumbs = el.querySelector<HTMLElement>(".blocks-crumbs")!;
  const legend = el.querySelector<HTMLElement>(".blocks-legend")!;
  const status = el.querySelector<HTMLElement>(".blocks-status")!;
  const chartEl = el.querySelector<HTMLElement>(".blocks-chart")!;
  const list = el.querySelector<HTMLUListElement>(".blocks-top")!;
  const onMapEl = el.querySelector<HTMLInputElement>("[data-testid=blocks-on-map]")!;
  const names = new Map<string, string>();
  const shapeCache = new Map<string, FeatureCollection<Geometry>>();
  let resources: ResourceItem[] = [];
  let disposeChart: (() => void) | null = null;
  let seq = 0;
  // A link naming a resource (?blocks=<id>) asks for its map.
  const linked = new URLSearchParams(window.location.search).has("blocks");
  const state: State = { resource: "", within: "", op: "count", field: "", onMap: linked };
  onMapEl.checked = linked;
  const h = blocksHook();

  const shapesFor = async (level: BlockLevel, within: string): Promise<FeatureCollection<Geometry>> => {
    const parentLevel = within.length === 12 ? "community" : null;
    const box = parentLevel ? bbox(shapeCache.get("community") ?? { type: "FeatureCollection", features: [] }, within) : null;
    const key = level === "grid" ? `grid:${within}` : level;
    const hit = shapeCache.get(key);
    if (hit) return hit;
    const shapes = await fetchShapes(level, box);
    for (const f of shapes.features) {
      const code = String(f.properties?.code ?? "");
      if (f.properties?.name_zh) names.set(code, String(f.properties.name_zh));
    }
    shapeCache.set(key, shapes);
    return shapes;
  };

  const nameOf = (code: string): string => (code === "" ? pick(TEXT.city) : names.get(code) ?? code);

  const drill = (code: string): void => {
    if (childLevel(code) === null) return;
    state.within = code;
    void refresh();
  };

  const refresh = async (): Promise<void> => {
    const mine = ++seq;
    const level = childLevel(state.within);
    if (!state.resource || !level) return;
    status.textContent = "…";
    try {
      if (state.within.length >= 6) await shapesFor("county", "");
      if (state.within.length >= 9) await shapesFor("street", "");
      if (state.within.length >= 12) await shapesFor("community", "");
      const result = await fetchBlocks(state.resource, level, state.within, state.op, state.field);
      if (mine !== seq) return;
      // The server narrows to the caller's area: follow where it answered.
      state.within = result.within;
      const shown = childLevel(result.within) ?? level;
      const shapes = await shapesFor(shown, result.within);
      if (mine !== seq) return;
      const values = totals(result.blocks);
      const drawn = paint(shapes, result.within, values);
      if (state.onMap) show(map, drawn.data);
      else hide(map);
      Object.assign(h, { resource: state.resource, level: result.level, within: result.within, blocks: values.size, painted: drawn.painted });
      crumbs.innerHTML = pathOf(result.within)
        .filter((c) => c.startsWith(result.scope) || result.scope.startsWith(c))
        .map((c) => `<button type="button" data-code="${esc(c)}">${esc(nameOf(c))}</button>`)
        .join(" › ");
      legend.innerHTML = `<span>${esc(formatNum(drawn.min, 0))}</span>${RAMP.map((c) => `<i style="background:${c}"></i>`).join("")}<span>${esc(formatNum(drawn.max, 0))}</span>`;
      status.textContent = result.rows
        ? `${formatInt(result.rows)} ${pick(TEXT.rows)} · ${pick(TEXT.unlocated)} ${formatInt(result.unlocated)}`
        : pick(TEXT.none);
      const top = [...values.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP).reverse();
      disposeChart?.();
      disposeChart = mountChart(chartEl, {
        tooltip: { ...TOOLTIP_STYLE, trigger: "axis" },
        grid: { left: 90, right: 16, top: 6, bottom: 20 },
        xAxis: { type: "value", splitLine: { lineStyle: { color: "rgba(255,255,255,0.08)" } } },
        yAxis: { type: "category", data: top.map(([c]) => nameOf(c)) },
        series: [{
          type: "bar",
          data: top.map(([code, v]) => ({ value: v, code, itemStyle: { color: colorOf(v, drawn.min, drawn.max) } })),
        }],
      });
      // The bars drill too: ECharts reports the clicked bar's code.
      echarts.getInstanceByDom(chartEl)?.on("click", (p) => {
        const code = (p.data as { code?: string } | undefined)?.code;
        if (code) drill(code);
      });
      const drillable = childLevel(result.within) !== "grid" || result.level !== "grid";
      list.innerHTML = [...top].reverse().slice(0, 5)
        .map(([code, v]) => `<li><button type="button" data-code="${esc(code)}"${drillable ? "" : " disabled"}><i style="background:${colorOf(v, drawn.min, drawn.max)}"></i>${esc(nameOf(code))}<b>${esc(formatNum(v, 0))}</b></button></li>`)
        .join("");
    } catch (err) {
      if (mine !== seq) return;
      status.textContent = errorText(err);
      h.blocks = 0;
      h.painted = 0;
    }
  };

  resourceEl.addEventListener("change", () => {
    state.resource = resourceEl.value;
    state.within = "";
    state.op = "count";
    state.field = "";
    metricEl.innerHTML = metricOptions(resources.find((r) => r.id === state.resource), "count:");
    void refresh();
  });
  onMapEl.addEventListener("change", () => {
    state.onMap = onMapEl.checked;
    void refresh();
  });
  metricEl.addEventListener("change", () => {
    const [op, field] = metricEl.value.split(":");
    state.op = op || "count";
    state.field = field ?? "";
    void refresh();
  });
  crumbs.addEventListener("click", (e) => {
    const code = (e.target as HTMLElement).closest<HTMLElement>("[data-code]")?.dataset.code;
    if (code !== undefined) drill(code);
  });
  const offClick = onRegionClick(map, drill);
  list.addEventListener("click", (e) => {
    const code = (e.target as HTMLElement).closest<HTMLElement>("[data-code]")?.dataset.code;
    if (code) drill(code);
  });

  const wantedId = new URLSearchParams(window.location.search).get("blocks");
  const canList = ctx.me.permissions.includes("catalog:read");
  if (!canList && !wantedId) {
    // Without the catalogue there is nothing to pick from (a link may still name one).
    if (panel) panel.hidden = true;
    return () => {
      seq += 1;
      offClick();
    };
  }
  void (canList ? fetchResources() : Promise.resolve([] as ResourceItem[]))
    .then((list) => {
      // A link may name a resource (?blocks=<id>): shown first even if the catalogue
      // search does not list it.
      const wanted = new URLSearchParams(window.location.search).get("blocks");
      if (wanted && !list.some((r) => r.id === wanted)) {
        list.unshift({ id: wanted, name_zh: wanted, name_en: wanted, fields: [] });
      }
      resources = list;
      if (!list.length) {
        status.textContent = pick(TEXT.noResources);
        return;
      }
      state.resource = list.find((r) => r.id === wanted)?.id ?? "";
      const start = async (): Promise<void> => {
        // Without a link, start on the first resource that has rows loaded.
        for (const r of list.slice(0, PROBE)) {
          if (state.resource) break;
          const probe = await fetchBlocks(r.id, "county", "", "count", "");
          if (probe.rows > 0) state.resource = r.id;
        }
        state.resource ||= list[0]?.id ?? "";
        resourceEl.innerHTML = options(list, state.resource);
        metricEl.innerHTML = metricOptions(list.find((r) => r.id === state.resource), "count:");
        await refresh();
      };
      return start();
    })
    .catch((err: unknown) => {
      status.textContent = errorText(err);
    });

  return () => {
    seq += 1;
    offClick();
    disposeChart?.();
    hide(map);
  };
}

registerPanel({ id: "blocks.choropleth", side: "right", order: 70, title: TEXT.title, render: renderBlocks });

// 「区县路网」: road kilometres and signalised intersections per district (ECharts bars).

import { mountChart, TOOLTIP_STYLE } from "../charts";
import type { CockpitContext } from "../context";
import { bi, placeName, t } from "../i18n";
import { COLORS } from "../theme";
import { registerPanel } from "./registry";

function renderCountyRoads(el: HTMLElement, ctx: CockpitContext): () => void {
  // Busiest district on top: ECharts draws category axes bottom-up, so sort ascending.
  const rows = [...ctx.city.counties].sort((a, b) => a.road_km - b.road_km);
  const chartEl = document.createElement("div");
  chartEl.className = "chart";
  el.append(chartEl);
  const axisLine = { lineStyle: { color: COLORS.grid } };
  return mountChart(chartEl, {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, ...TOOLTIP_STYLE },
    legend: {
      top: 0,
      textStyle: { color: COLORS.textDim },
      itemWidth: 12,
      itemHeight: 8,
    },
    grid: { left: 8, right: 16, top: 44, bottom: 8, containLabel: true },
    xAxis: [
      {
        type: "value",
        name: "km",
        nameTextStyle: { color: COLORS.textDim },
        axisLine,
        splitLine: { lineStyle: { color: COLORS.grid } },
        axisLabel: { color: COLORS.textDim },
      },
      {
        type: "value",
        position: "top",
        splitLine: { show: false },
        axisLine,
        axisLabel: { color: COLORS.textDim },
      },
    ],
    yAxis: {
      type: "category",
      data: rows.map((r) => placeName(r)),
      axisLine,
      axisTick: { show: false },
      axisLabel: { color: COLORS.text, interval: 0 },
    },
    series: [
      {
        name: t("roadKmSeries"),
        type: "bar",
        xAxisIndex: 0,
        data: rows.map((r) => Math.round(r.road_km * 10) / 10),
        barWidth: 7,
        itemStyle: { color: COLORS.accent, borderRadius: [0, 4, 4, 0] },
      },
      {
        name: t("signalizedSeries"),
        type: "bar",
        xAxisIndex: 1,
        data: rows.map((r) => r.signalized),
        barWidth: 7,
        itemStyle: { color: COLORS.signal, borderRadius: [0, 4, 4, 0] },
      },
    ],
  });
}

registerPanel({
  id: "city.county_roads",
  title: bi("panelCountyRoads"),
  side: "left",
  order: 20,
  grow: 1,
  render: renderCountyRoads,
});

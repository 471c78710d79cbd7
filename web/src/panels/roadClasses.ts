// 「道路等级」: kilometres of road per class (ECharts donut), coloured like the map.

import { mountChart, TOOLTIP_STYLE } from "../charts";
import type { CockpitContext } from "../context";
import { formatNum } from "../format";
import { bi, roadClassName, t } from "../i18n";
import { COLORS, ROAD_CLASS_ORDER, ROAD_COLORS } from "../theme";
import { registerPanel } from "./registry";

function renderRoadClasses(el: HTMLElement, ctx: CockpitContext): () => void {
  const rows = [...ctx.city.road_classes].sort(
    (a, b) => ROAD_CLASS_ORDER.indexOf(a.class) - ROAD_CLASS_ORDER.indexOf(b.class),
  );
  const total = rows.reduce((sum, r) => sum + r.km, 0);
  const wrap = document.createElement("div");
  wrap.className = "chart";
  const chartEl = document.createElement("div");
  chartEl.className = "chart-fill";
  // The total sits in the donut's hole as HTML: crisper than a canvas label.
  const totalEl = document.createElement("div");
  totalEl.className = "donut-center";
  totalEl.innerHTML = `<b>${formatNum(total, 0)}</b><span>${t("unitKm")}</span>`;
  wrap.append(chartEl, totalEl);
  el.append(wrap);
  return mountChart(chartEl, {
    tooltip: { trigger: "item", formatter: "{b}: {c} km ({d}%)", ...TOOLTIP_STYLE },
    legend: {
      bottom: 0,
      left: "center",
      itemWidth: 10,
      itemHeight: 10,
      itemGap: 14,
      textStyle: { color: COLORS.text },
      formatter: (name: string) => {
        const row = rows.find((r) => roadClassName(r) === name);
        return row ? `${name}  ${formatNum(row.km, 0)} km` : name;
      },
    },
    series: [
      {
        type: "pie",
        radius: ["46%", "66%"],
        center: ["50%", "45%"],
        avoidLabelOverlap: true,
        label: { show: false },
        labelLine: { show: false },
        itemStyle: { borderColor: COLORS.background, borderWidth: 2 },
        data: rows.map((r) => ({
          name: roadClassName(r),
          value: Math.round(r.km * 10) / 10,
          itemStyle: { color: ROAD_COLORS[r.class] },
        })),
      },
    ],
  });
}

registerPanel({
  id: "city.road_classes",
  title: bi("panelRoadClasses"),
  side: "right",
  order: 10,
  grow: 1,
  render: renderRoadClasses,
});

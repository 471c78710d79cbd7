// ECharts, imported piece by piece to keep the bundle small, with the cockpit's dark look.

import { BarChart, PieChart } from "echarts/charts";
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
} from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { COLORS } from "./theme";

echarts.use([BarChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export type ChartOption = echarts.EChartsCoreOption;

/** Text and axis styles every cockpit chart shares. */
export const CHART_TEXT = {
  color: COLORS.textDim,
  fontFamily: "inherit",
  fontSize: 12,
};

export const TOOLTIP_STYLE = {
  backgroundColor: "rgba(6, 18, 38, 0.95)",
  borderColor: "rgba(58, 215, 255, 0.5)",
  textStyle: { color: COLORS.text, fontSize: 12 },
};

/** Create a chart in `el` that follows its container's size; returns its disposer. */
export function mountChart(el: HTMLElement, option: ChartOption): () => void {
  const chart = echarts.init(el, undefined, { renderer: "canvas" });
  chart.setOption({ textStyle: CHART_TEXT, animationDuration: 600, ...option });
  const observer = new ResizeObserver(() => chart.resize());
  observer.observe(el);
  return () => {
    observer.disconnect();
    chart.dispose();
  };
}

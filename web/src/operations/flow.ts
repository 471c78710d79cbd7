// The 「业务流程」 tab: each department's business flow, i.e. how many of its open cases
// stand at each stage after dispatch (派遣 → 处置 → 挂起 → 处置反馈 → 核查), as stacked
// bars, so a department whose cases pile up at one stage shows at a glance.

import { mountChart, TOOLTIP_STYLE } from "../charts";
import { pick } from "../i18n";
import { COLORS } from "../theme";
import { STATUS_COLORS, STATUS_NAMES } from "./colors";
import { FLOW_STAGES, flowByDepartment } from "./figures";
import { opsHook } from "./hook";
import type { OpsStore } from "./store";

const TEXT = {
  none: { zh: "暂无已派遣的在办案件", en: "No open dispatched cases" },
  note: { zh: "各部门在办案件所处环节（最新 {n} 件在办案件）", en: "Where each department's open cases stand (newest {n} open cases)" },
};

export function renderFlow(el: HTMLElement, store: OpsStore): () => void {
  el.classList.add("ops-dept-body");
  const note = document.createElement("div");
  note.className = "ops-note";
  note.dataset.testid = "ops-flow-note";
  const wrap = document.createElement("div");
  wrap.className = "chart ops-chart";
  const chartEl = document.createElement("div");
  chartEl.className = "chart-fill";
  wrap.append(chartEl);
  el.append(note, wrap);
  let dispose: (() => void) | null = null;
  let drawn = "";

  const update = (): void => {
    const v = store.view();
    const flow = flowByDepartment(v.cases);
    opsHook().flow = flow.departments;
    note.textContent = flow.departments.length
      ? pick(TEXT.note).replace("{n}", String(v.cases.length))
      : pick(TEXT.none);
    const key = JSON.stringify(flow);
    if (key === drawn || flow.departments.length === 0) return;
    drawn = key;
    dispose?.();
    dispose = mountChart(chartEl, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, ...TOOLTIP_STYLE },
      legend: { top: 0, textStyle: { color: COLORS.text }, itemWidth: 10, itemHeight: 10 },
      grid: { left: 8, right: 12, top: 28, bottom: 4, containLabel: true },
      xAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: COLORS.grid } }, axisLabel: { color: COLORS.textDim } },
      yAxis: {
        type: "category",
        inverse: true,
        data: flow.departments,
        axisLabel: { color: COLORS.textDim, fontSize: 10 },
        axisLine: { lineStyle: { color: COLORS.grid } },
      },
      series: FLOW_STAGES.map((s) => ({
        name: pick(STATUS_NAMES[s]),
        type: "bar",
        stack: "flow",
        data: flow.counts[s],
        itemStyle: { color: STATUS_COLORS[s] },
      })),
    });
  };
  update();
  const off = store.subscribe(update);
  return () => {
    off();
    dispose?.();
  };
}

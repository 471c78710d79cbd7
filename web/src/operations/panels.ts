// The operations (一网统管) panel, three tabs: 「案件态势」 (legend, heat-map toggle, the
// newest open cases; a click opens the case's timeline), 「部门考核」 (per-department
// on-time rate, handling time, reopen rate and satisfaction as an ECharts bar chart) and
// 「业务流程」 (each department's open cases by workflow stage, see flow.ts).
// Hidden while the API answers 403/404 or the operator lacks cases:read.

import { mountChart, TOOLTIP_STYLE } from "../charts";
import type { CockpitContext } from "../context";
import { esc, formatInt, formatNum, formatPct } from "../format";
import { pick } from "../i18n";
import { registerPanel } from "../panels/registry";
import { COLORS } from "../theme";
import { caseColors, LATENESS_COLORS, LATENESS_NAMES, STATUS_COLORS, STATUS_NAMES } from "./colors";
import { openCaseDrawer } from "./drawer";
import { renderFlow } from "./flow";
import { opsHook } from "./hook";
import { opsStoreFor, type OpsStore } from "./store";
import { OPEN_STATUSES } from "./types";
import "../styles/operations.css";

const TEXT = {
  cases: { zh: "案件态势", en: "Cases" },
  departments: { zh: "部门考核", en: "Departments" },
  flow: { zh: "业务流程", en: "Business flow" },
  heat: { zh: "网格热力", en: "Grid heat map" },
  open: { zh: "在办", en: "open" },
  none: { zh: "暂无在办案件", en: "No open cases" },
  fromCases: { zh: "按最近 {n} 件已派遣案件估算", en: "Estimated from the latest {n} dispatched cases" },
  onTime: { zh: "按期率 %", en: "On time %" },
  hours: { zh: "平均处置 h", en: "Avg handling h" },
  reopen: { zh: "返工率 %", en: "Reopen %" },
  satisfaction: { zh: "满意度", en: "Satisfaction" },
  failed: { zh: "刷新失败", en: "Refresh failed" },
  noDepartments: { zh: "暂无已派遣案件", en: "No dispatched cases yet" },
};

const LIST_MAX = 50;

function hidePanel(el: HTMLElement, hidden: boolean): void {
  const panel = el.closest<HTMLElement>(".panel");
  if (panel) panel.hidden = hidden;
}

function storeOf(el: HTMLElement, ctx: CockpitContext): OpsStore | null {
  if (!ctx.map) {
    hidePanel(el, true);
    return null;
  }
  return opsStoreFor(ctx.map, ctx.me.permissions);
}

function legendHtml(): string {
  const statuses = OPEN_STATUSES.map(
    (s) => `<span class="ops-legend-item"><i class="ops-dot" style="background:${STATUS_COLORS[s]}"></i>${esc(pick(STATUS_NAMES[s]))}</span>`,
  ).join("");
  const late = (["warning", "overdue"] as const)
    .map(
      (l) => `<span class="ops-legend-item"><i class="ops-dot ops-ring" style="border-color:${LATENESS_COLORS[l]}"></i>${esc(pick(LATENESS_NAMES[l]))}</span>`,
    )
    .join("");
  return `<div class="ops-legend" data-testid="ops-legend">${statuses}${late}</div>`;
}

function renderCases(el: HTMLElement, ctx: CockpitContext): void | (() => void) {
  const store = storeOf(el, ctx);
  if (!store) return;
  el.classList.add("ops-body");
  el.innerHTML = `
    <div class="ops-bar">
      <span class="ops-total"></span>
      <span class="ops-error" hidden>⚠ ${esc(pick(TEXT.failed))}</span>
      <label class="ops-heat-toggle"><input type="checkbox" data-testid="ops-heat"> ${esc(pick(TEXT.heat))}</label>
    </div>
    ${legendHtml()}
    <ul class="ops-list" data-testid="ops-cases" aria-label="${esc(pick(TEXT.cases))}"></ul>`;
  const total = el.querySelector<HTMLElement>(".ops-total");
  const error = el.querySelector<HTMLElement>(".ops-error");
  const heat = el.querySelector<HTMLInputElement>("[data-testid=ops-heat]");
  const list = el.querySelector<HTMLUListElement>(".ops-list");
  if (!total || !error || !heat || !list) return;
  const open = (id: string): void => {
    const v = store.view();
    openCaseDrawer(id, v.nowMs, v.timeZone);
  };
  store.onCaseClick = open;
  heat.addEventListener("change", () => store.setHeat(heat.checked));

  const update = (): void => {
    const v = store.view();
    hidePanel(el, v.availability !== "available");
    heat.checked = v.heat;
    error.hidden = v.error === null;
    error.title = v.error ?? "";
    total.textContent = v.openTotal === null ? "" : `${formatInt(v.openTotal)} ${pick(TEXT.open)}`;
    const shown = v.cases.slice(0, LIST_MAX);
    opsHook().listed = shown.map((c) => c.id);
    if (shown.length === 0) {
      list.innerHTML = `<li class="ops-empty">${esc(pick(TEXT.none))}</li>`;
      return;
    }
    list.innerHTML = shown
      .map((c) => {
        const col = caseColors(c, v.nowMs);
        const late =
          col.lateness === "overdue" || col.lateness === "warning"
            ? `<span class="ops-tag ops-late-${col.lateness}">${esc(pick(LATENESS_NAMES[col.lateness]))}</span>`
            : "";
        return `<li><button type="button" class="ops-case" data-case="${esc(c.id)}">
          <i class="ops-dot" style="background:${col.fill};border-color:${col.ring}"></i>
          <span class="ops-case-title">${esc(c.title || c.class_code)}</span>
          ${late}
          <span class="ops-case-status">${esc(pick(STATUS_NAMES[c.status]))}</span>
        </button></li>`;
      })
      .join("");
  };
  list.addEventListener("click", (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLElement>("[data-case]");
    if (btn?.dataset.case) open(btn.dataset.case);
  });
  update();
  const off = store.subscribe(update);
  return () => {
    off();
    if (store.onCaseClick === open) store.onCaseClick = null;
  };
}

function renderDepartments(el: HTMLElement, ctx: CockpitContext): void | (() => void) {
  const store = storeOf(el, ctx);
  if (!store) return;
  el.classList.add("ops-dept-body");
  const note = document.createElement("div");
  note.className = "ops-note";
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
    hidePanel(el, v.availability !== "available");
    const rows = v.departments.slice(0, 8);
    const counted = v.departments.reduce((s, d) => s + d.cases, 0);
    if (rows.length === 0) note.textContent = pick(TEXT.noDepartments);
    else note.textContent = v.departmentsFrom === "cases" ? pick(TEXT.fromCases).replace("{n}", formatInt(counted)) : "";
    const key = JSON.stringify(rows);
    if (key === drawn || rows.length === 0) return;
    drawn = key;
    dispose?.();
    const names = rows.map((r) => r.key);
    const pct = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 10);
    dispose = mountChart(chartEl, {
      tooltip: {
        trigger: "axis",
        ...TOOLTIP_STYLE,
        formatter: (params: unknown) => {
          const first = (params as { dataIndex: number }[])[0];
          const r = first ? rows[first.dataIndex] : undefined;
          if (!r) return "";
          return [
            `<b>${esc(r.key)}</b> · ${formatInt(r.cases)}`,
            `${esc(pick(TEXT.onTime))}: ${r.on_time_rate === null ? "—" : formatPct(r.on_time_rate)}`,
            `${esc(pick(TEXT.hours))}: ${r.avg_handling_hours === null ? "—" : formatNum(r.avg_handling_hours, 1)}`,
            `${esc(pick(TEXT.reopen))}: ${r.reopen_rate === null ? "—" : formatPct(r.reopen_rate)}`,
            `${esc(pick(TEXT.satisfaction))}: ${r.avg_satisfaction === null ? "—" : formatNum(r.avg_satisfaction, 2)}`,
          ].join("<br>");
        },
      },
      legend: { top: 0, textStyle: { color: COLORS.text }, itemWidth: 10, itemHeight: 10 },
      grid: { left: 8, right: 12, top: 28, bottom: 4, containLabel: true },
      xAxis: {
        type: "category",
        data: names,
        axisLabel: { color: COLORS.textDim, interval: 0, rotate: names.length > 4 ? 30 : 0, fontSize: 10 },
        axisLine: { lineStyle: { color: COLORS.grid } },
      },
      yAxis: [
        { type: "value", max: 100, splitLine: { lineStyle: { color: COLORS.grid } }, axisLabel: { color: COLORS.textDim } },
        { type: "value", splitLine: { show: false }, axisLabel: { color: COLORS.textDim } },
      ],
      series: [
        { name: pick(TEXT.onTime), type: "bar", data: rows.map((r) => pct(r.on_time_rate)), itemStyle: { color: "#17c3b2" } },
        { name: pick(TEXT.reopen), type: "bar", data: rows.map((r) => pct(r.reopen_rate)), itemStyle: { color: "#ffa62b" } },
        {
          name: pick(TEXT.hours),
          type: "bar",
          yAxisIndex: 1,
          data: rows.map((r) => (r.avg_handling_hours === null ? null : Math.round(r.avg_handling_hours * 10) / 10)),
          itemStyle: { color: COLORS.accent },
        },
      ],
    });
  };
  update();
  const off = store.subscribe(update);
  return () => {
    off();
    dispose?.();
  };
}

type Tab = "cases" | "depts" | "flow";
const TABS: Tab[] = ["cases", "depts", "flow"];
// The tab chosen survives the panel's redraw on a language change.
let currentTab: Tab = "cases";

function renderOperations(el: HTMLElement, ctx: CockpitContext): void | (() => void) {
  el.classList.add("ops-panel");
  el.innerHTML = `
    <div class="ops-tabs" role="tablist">
      <button type="button" role="tab" id="ops-tab-cases" aria-controls="ops-pane-cases" data-tab="cases">${esc(pick(TEXT.cases))}</button>
      <button type="button" role="tab" id="ops-tab-depts" aria-controls="ops-pane-depts" data-tab="depts">${esc(pick(TEXT.departments))}</button>
      <button type="button" role="tab" id="ops-tab-flow" aria-controls="ops-pane-flow" data-tab="flow">${esc(pick(TEXT.flow))}</button>
    </div>
    <div class="ops-pane" role="tabpanel" id="ops-pane-cases" aria-labelledby="ops-tab-cases" data-pane="cases"></div>
    <div class="ops-pane ops-pane-depts" role="tabpanel" id="ops-pane-depts" aria-labelledby="ops-tab-depts" data-pane="depts"></div>
    <div class="ops-pane ops-pane-depts" role="tabpanel" id="ops-pane-flow" aria-labelledby="ops-tab-flow" data-pane="flow"></div>`;
  const tabs = [...el.querySelectorAll<HTMLButtonElement>("[data-tab]")];
  const panes = [...el.querySelectorAll<HTMLElement>("[data-pane]")];
  const show = (tab: Tab): void => {
    currentTab = tab;
    for (const b of tabs) {
      const on = b.dataset.tab === tab;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;
    }
    for (const p of panes) p.hidden = p.dataset.pane !== tab;
  };
  const tabOf = (name: string | undefined): Tab => TABS.find((t) => t === name) ?? "cases";
  for (const b of tabs) b.addEventListener("click", () => show(tabOf(b.dataset.tab)));
  el.querySelector(".ops-tabs")?.addEventListener("keydown", (e) => {
    const key = (e as KeyboardEvent).key;
    if (key !== "ArrowLeft" && key !== "ArrowRight") return;
    const step = key === "ArrowRight" ? 1 : TABS.length - 1;
    const next = TABS[(TABS.indexOf(currentTab) + step) % TABS.length] ?? "cases";
    show(next);
    tabs.find((b) => b.dataset.tab === next)?.focus();
  });
  show(currentTab);
  const [casesPane, deptsPane, flowPane] = panes;
  if (!casesPane || !deptsPane || !flowPane) return;
  const stops = [renderCases(casesPane, ctx), renderDepartments(deptsPane, ctx)];
  const store = ctx.map ? opsStoreFor(ctx.map, ctx.me.permissions) : null;
  if (store) stops.push(renderFlow(flowPane, store));
  return () => {
    for (const stop of stops) stop?.();
  };
}

registerPanel({
  id: "operations.cases",
  title: { zh: "一网统管", en: "Unified operations" },
  side: "right",
  order: 40,
  grow: 1.4,
  render: renderOperations,
});

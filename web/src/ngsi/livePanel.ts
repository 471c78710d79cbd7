// 「实时图层」: the NGSI-LD entity types with a checkbox, a colour and a count each, and a
// refresh button. The panel stays hidden until the broker's /types answers with a list.

import type { CockpitContext } from "../context";
import { esc, formatInt } from "../format";
import { bi, t } from "../i18n";
import { registerPanel } from "../panels/registry";
import { liveLayersFor, type LiveLayers } from "./liveLayers";
import type { LiveTypeView } from "./liveTypes";

interface Row {
  li: HTMLLIElement;
  box: HTMLInputElement;
  count: HTMLElement;
  flag: HTMLElement;
}

function createRow(v: LiveTypeView, live: LiveLayers): Row {
  const li = document.createElement("li");
  li.className = "live-row";
  li.dataset.type = v.type;
  const label = document.createElement("label");
  label.className = "live-toggle";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.dataset.liveType = v.type;
  box.dataset.liveKey = v.key;
  box.addEventListener("change", () => live.setOn(v.type, box.checked));
  const dot = document.createElement("i");
  dot.className = "live-dot";
  dot.style.background = v.color;
  const name = document.createElement("span");
  name.className = "live-label";
  name.textContent = v.label;
  name.title = v.type;
  label.append(box, dot, name);
  const flag = document.createElement("span");
  flag.className = "live-flag";
  const count = document.createElement("span");
  count.className = "live-count";
  li.append(label, flag, count);
  return { li, box, count, flag };
}

function updateRow(row: Row, v: LiveTypeView): void {
  row.box.checked = v.on;
  row.li.classList.toggle("is-on", v.on);
  row.li.classList.toggle("is-busy", v.refreshing);
  const n = v.loaded ?? v.total;
  if (v.status === "loading") row.count.textContent = t("loading");
  else row.count.textContent = n === null ? "—" : formatInt(n);
  const notes: string[] = [];
  if (v.truncated && v.loaded !== null) notes.push(t("liveTruncatedTitle").replace("{n}", formatInt(v.loaded)));
  if (v.unlocated > 0) notes.push(t("liveNoLocation").replace("{n}", formatInt(v.unlocated)));
  row.count.title = notes.join("\n");
  if (v.error) {
    row.flag.className = "live-flag live-flag-error";
    row.flag.textContent = "⚠";
    row.flag.title = v.error;
  } else if (v.truncated) {
    row.flag.className = "live-flag live-flag-truncated";
    row.flag.textContent = t("liveTruncated");
    row.flag.title = notes[0] ?? "";
  } else {
    row.flag.className = "live-flag";
    row.flag.textContent = "";
    row.flag.title = "";
  }
}

function renderLiveLayers(el: HTMLElement, ctx: CockpitContext): void | (() => void) {
  const panel = el.closest<HTMLElement>(".panel");
  if (!ctx.map) {
    if (panel) panel.hidden = true;
    return;
  }
  const live = liveLayersFor(ctx.map);
  el.classList.add("live-body");
  el.innerHTML = `
    <div class="live-bar">
      <span class="live-source"></span>
      <span class="live-error" hidden>⚠ ${esc(t("liveRefreshFailed"))}</span>
      <button type="button" class="btn btn-ghost live-refresh" data-testid="live-refresh"
        title="${esc(t("liveAutoRefresh"))}"><span class="live-refresh-icon">↻</span>${esc(t("liveRefresh"))}</button>
    </div>
    <div class="live-empty"></div>
    <ul class="live-list" data-testid="live-layers"></ul>`;
  const source = el.querySelector<HTMLElement>(".live-source");
  const error = el.querySelector<HTMLElement>(".live-error");
  const button = el.querySelector<HTMLButtonElement>(".live-refresh");
  const empty = el.querySelector<HTMLElement>(".live-empty");
  const list = el.querySelector<HTMLUListElement>(".live-list");
  if (!source || !error || !button || !empty || !list) return;
  button.addEventListener("click", () => void live.refresh(true));
  const rows = new Map<string, Row>();

  const update = (): void => {
    const view = live.view();
    // Shown once /types has answered with a list: no flash of a panel that a 404 hides.
    if (panel) panel.hidden = view.availability !== "available";
    const n = view.types.length;
    const howMany = t(n === 1 ? "liveTypesCountOne" : "liveTypesCount").replace("{n}", String(n));
    source.textContent =
      view.availability === "available" ? `${t("liveSource")} · ${howMany}` : t("liveSource");
    error.hidden = view.error === null;
    error.title = view.error ?? "";
    button.disabled = view.refreshing;
    button.classList.toggle("is-spinning", view.refreshing);
    empty.textContent =
      view.availability === "unknown" ? t("loading") : view.types.length === 0 ? t("liveNoTypes") : "";
    empty.hidden = empty.textContent === "";

    const seen = new Set<string>();
    const ordered: HTMLLIElement[] = [];
    for (const v of view.types) {
      seen.add(v.type);
      let row = rows.get(v.type);
      if (!row) {
        row = createRow(v, live);
        rows.set(v.type, row);
      }
      updateRow(row, v);
      ordered.push(row.li);
    }
    for (const [type, row] of rows) {
      if (!seen.has(type)) {
        row.li.remove();
        rows.delete(type);
      }
    }
    // Re-append only when the order changed, so a focused checkbox keeps its focus.
    const current = [...list.children];
    if (current.length !== ordered.length || ordered.some((li, i) => current[i] !== li)) {
      list.replaceChildren(...ordered);
    }
  };

  update();
  return live.subscribe(update);
}

registerPanel({
  id: "ngsi.live_layers",
  title: bi("panelLiveLayers"),
  side: "right",
  order: 30,
  grow: 0,
  render: renderLiveLayers,
});

// The KPI strip: a registry of cards (label + value) that the shell and later
// capabilities fill. A capability registers a card once and sets its value when it knows it:
//
//   const card = registerKpi({ id: "parking.free", label: { zh: "空闲泊位", en: "Free berths" } });
//   card.set(12345);

import { formatNum } from "./format";
import { onLangChange, pick } from "./i18n";
import type { Bilingual } from "./types";

export interface KpiSpec {
  /** Stable id, namespaced by capability, e.g. "city.roads_km". */
  id: string;
  label: Bilingual;
  unit?: Bilingual;
  /** Cards are sorted by order, then by registration. */
  order?: number;
  /** Decimals shown for numeric values (default 0). */
  digits?: number;
  /** Accent colour of the card's value. */
  color?: string;
}

export interface KpiHandle {
  /** Show a value; null shows a dash. */
  set(value: number | string | null): void;
  /** Take the card off the strip. */
  remove(): void;
}

interface KpiEntry {
  spec: KpiSpec;
  seq: number;
  value: number | string | null;
  el: HTMLElement | null;
}

const entries = new Map<string, KpiEntry>();
let seq = 0;
let host: HTMLElement | null = null;

function valueText(entry: KpiEntry): string {
  const v = entry.value;
  if (v === null) return "—";
  if (typeof v === "number") return formatNum(v, entry.spec.digits ?? 0);
  return v;
}

function renderCard(entry: KpiEntry): HTMLElement {
  const el = entry.el ?? document.createElement("div");
  el.className = "kpi-card";
  el.dataset.kpi = entry.spec.id;
  el.replaceChildren();
  const label = document.createElement("div");
  label.className = "kpi-label";
  label.textContent = pick(entry.spec.label);
  const value = document.createElement("div");
  value.className = "kpi-value";
  if (entry.spec.color) value.style.color = entry.spec.color;
  value.textContent = valueText(entry);
  if (entry.spec.unit) {
    const unit = document.createElement("span");
    unit.className = "kpi-unit";
    unit.textContent = pick(entry.spec.unit);
    value.append(unit);
  }
  el.append(label, value);
  entry.el = el;
  return el;
}

function sorted(): KpiEntry[] {
  return [...entries.values()].sort(
    (a, b) => (a.spec.order ?? 100) - (b.spec.order ?? 100) || a.seq - b.seq,
  );
}

function renderAll(): void {
  if (!host) return;
  host.replaceChildren(...sorted().map(renderCard));
}

/** Add a card to the KPI strip (or replace the spec of the card with the same id). */
export function registerKpi(spec: KpiSpec): KpiHandle {
  const existing = entries.get(spec.id);
  const entry: KpiEntry = existing ?? { spec, seq: seq++, value: null, el: null };
  entry.spec = spec;
  entries.set(spec.id, entry);
  renderAll();
  return {
    set(value) {
      entry.value = value;
      if (entry.el && host?.contains(entry.el)) renderCard(entry);
    },
    remove() {
      entries.delete(spec.id);
      entry.el?.remove();
      entry.el = null;
    },
  };
}

/** Show the KPI strip inside `el`; returns a function that detaches it. */
export function mountKpiStrip(el: HTMLElement): () => void {
  host = el;
  renderAll();
  const off = onLangChange(renderAll);
  return () => {
    off();
    if (host === el) host = null;
    for (const e of entries.values()) e.el = null;
  };
}

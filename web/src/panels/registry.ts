// The side-panel framework. Each capability registers its panels once; the shell mounts
// them into the left and right columns and re-renders them when the language changes.
//
//   registerPanel({
//     id: "parking.occupancy", side: "right", order: 30,
//     title: { zh: "停车态势", en: "Parking" },
//     render(el, ctx) { el.textContent = "…"; return () => { /* cleanup */ }; },
//   });

import type { CockpitContext } from "../context";
import { onLangChange, pick } from "../i18n";
import type { Bilingual, Lang } from "../types";

export type PanelSide = "left" | "right";
export type PanelCleanup = () => void;

export interface PanelSpec {
  /** Stable id, namespaced by capability, e.g. "city.overview". */
  id: string;
  title: Bilingual;
  side: PanelSide;
  /** Panels are sorted by order within a side (default 100). */
  order?: number;
  /** Share of the column height relative to the other panels (default 1). */
  grow?: number;
  /** Fill the panel body; may return a cleanup called on unmount and re-render. */
  render(el: HTMLElement, ctx: CockpitContext): void | PanelCleanup;
}

interface Mounted {
  spec: PanelSpec;
  root: HTMLElement;
  title: HTMLElement;
  body: HTMLElement;
  cleanup: PanelCleanup | null;
  abort: AbortController;
}

type BaseContext = Omit<CockpitContext, "lang" | "signal">;

const specs = new Map<string, PanelSpec>();
let columns: Record<PanelSide, HTMLElement> | null = null;
let baseCtx: BaseContext | null = null;
let mounted: Mounted[] = [];
let offLang: (() => void) | null = null;
let currentLang: Lang = "zh";

/** Register a panel (a second registration with the same id replaces the first). */
export function registerPanel(spec: PanelSpec): void {
  specs.set(spec.id, spec);
  if (columns) layout();
}

/** Return the registered panel ids in display order (for tests and diagnostics). */
export function panelIds(): string[] {
  return sortedSpecs().map((s) => s.id);
}

function sortedSpecs(): PanelSpec[] {
  return [...specs.values()].sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
}

function renderBody(m: Mounted): void {
  if (!baseCtx) return;
  m.cleanup?.();
  m.abort.abort();
  m.abort = new AbortController();
  m.body.replaceChildren();
  m.title.textContent = pick(m.spec.title);
  try {
    const ctx: CockpitContext = { ...baseCtx, lang: currentLang, signal: m.abort.signal };
    m.cleanup = m.spec.render(m.body, ctx) ?? null;
  } catch (err) {
    m.cleanup = null;
    m.body.textContent = err instanceof Error ? err.message : String(err);
    m.body.classList.add("panel-error");
  }
}

function createPanel(spec: PanelSpec): Mounted {
  const root = document.createElement("section");
  root.className = "panel";
  root.dataset.panel = spec.id;
  root.style.flexGrow = String(spec.grow ?? 1);
  const head = document.createElement("header");
  head.className = "panel-head";
  const title = document.createElement("h2");
  title.className = "panel-title";
  head.append(title);
  const body = document.createElement("div");
  body.className = "panel-body";
  root.append(head, body);
  return { spec, root, title, body, cleanup: null, abort: new AbortController() };
}

function unmountAll(): void {
  for (const m of mounted) {
    m.cleanup?.();
    m.abort.abort();
    m.root.remove();
  }
  mounted = [];
}

function layout(): void {
  if (!columns) return;
  unmountAll();
  for (const spec of sortedSpecs()) {
    const m = createPanel(spec);
    columns[spec.side].append(m.root);
    mounted.push(m);
  }
  for (const m of mounted) renderBody(m);
}

/** Mount every registered panel into the two columns with the given context. */
export function mountPanels(
  left: HTMLElement,
  right: HTMLElement,
  ctx: BaseContext,
  lang: Lang,
): void {
  columns = { left, right };
  baseCtx = ctx;
  currentLang = lang;
  layout();
  offLang?.();
  offLang = onLangChange((next) => {
    currentLang = next;
    for (const m of mounted) renderBody(m);
  });
}

/** Unmount every panel (on logout). */
export function unmountPanels(): void {
  offLang?.();
  offLang = null;
  unmountAll();
  columns = null;
  baseCtx = null;
}

// The popup of a live-layer feature: its id, type and up to 8 keyValues attributes,
// every value escaped (entity attributes are data from the field, never markup).

import { esc, formatNum } from "../format";
import { t } from "../i18n";
import { shortName } from "./names";

export const MAX_POPUP_PROPS = 8;
const MAX_VALUE_CHARS = 120;

/** Keys that are not attributes worth listing: the type, JSON-LD keywords, the geometry. */
const SKIPPED = new Set(["type", "id", "location"]);

function isGeometry(v: unknown): boolean {
  if (!v || typeof v !== "object" || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o.type === "string" && ("coordinates" in o || "geometries" in o);
}

/** Render an attribute value as short plain text. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return t("none");
  if (typeof v === "number") return Number.isFinite(v) ? formatNum(v, 3) : String(v);
  if (typeof v === "string") return clip(v);
  if (typeof v === "boolean") return String(v);
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return clip(s);
}

function clip(s: string): string {
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}

/** The attributes listed in the popup, in the broker's order, and how many were left off. */
export function popupAttributes(props: Record<string, unknown> | null): {
  rows: [string, unknown][];
  more: number;
} {
  const all = Object.entries(props ?? {}).filter(
    ([k, v]) => !SKIPPED.has(k) && !k.startsWith("@") && !isGeometry(v),
  );
  return { rows: all.slice(0, MAX_POPUP_PROPS), more: Math.max(0, all.length - MAX_POPUP_PROPS) };
}

export interface PopupEntity {
  id: string;
  type: string;
  label: string;
  color: string;
  properties: Record<string, unknown> | null;
}

/** Build the popup's HTML (everything that comes from the broker is escaped). */
export function livePopupHtml(e: PopupEntity): string {
  const { rows, more } = popupAttributes(e.properties);
  const attrs = rows
    .map(
      ([k, v]) =>
        `<tr><th title="${esc(k)}">${esc(shortName(k))}</th><td>${esc(valueText(v))}</td></tr>`,
    )
    .join("");
  const moreRow = more > 0 ? `<div class="live-pop-more">${esc(t("liveMoreAttrs").replace("{n}", String(more)))}</div>` : "";
  return `<div class="loc-title live-pop-title"><i class="live-dot" style="background:${esc(e.color)}"></i>${esc(e.label)}</div>
    <table class="loc-table live-pop-table">
      <tr class="live-pop-id"><th>${esc(t("liveEntityId"))}</th><td><code class="loc-code">${esc(e.id)}</code></td></tr>
      <tr class="live-pop-type"><th>${esc(t("liveEntityType"))}</th><td><code class="live-iri">${esc(e.type)}</code></td></tr>
      ${attrs}
    </table>${moreRow}`;
}

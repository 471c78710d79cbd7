// Block data's pure parts: levels and drill-down, the colour scale, region names.

export type BlockLevel = "county" | "street" | "community" | "grid";

export interface Block {
  code: string;
  value: number | null;
  category: string | null;
  bucket: string | null;
}

export interface BlocksResult {
  resource_id: string;
  level: string;
  within: string;
  parent: string | null;
  next_level: string | null;
  metric: string;
  version: string;
  rows: number;
  unlocated: number;
  cached: boolean;
  scope: string;
  blocks: Block[];
}

export const CODE_WIDTH: Record<BlockLevel, number> = { county: 6, street: 9, community: 12, grid: 15 };
const ORDER: BlockLevel[] = ["county", "street", "community", "grid"];

/** The level a region code is at ("" is the city). */
export function levelOf(code: string): BlockLevel | "city" {
  if (code === "") return "city";
  return ORDER.find((l) => CODE_WIDTH[l] === code.length) ?? "grid";
}

/** The level one click below a region (null below the grid). */
export function childLevel(within: string): BlockLevel | null {
  const level = levelOf(within);
  if (level === "city") return "county";
  const i = ORDER.indexOf(level);
  return ORDER[i + 1] ?? null;
}

/** The chain of region codes from the city down to `code`, for the breadcrumb. */
export function pathOf(code: string): string[] {
  const out = [""];
  for (const level of ORDER) {
    const width = CODE_WIDTH[level];
    if (code.length >= width) out.push(code.slice(0, width));
  }
  return out;
}

/** Sum each block's value over categories (a "count by category" query has several rows). */
export function totals(blocks: readonly Block[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const b of blocks) out.set(b.code, (out.get(b.code) ?? 0) + (b.value ?? 0));
  return out;
}

// A sequential ramp (dark blue → cyan → yellow → red), readable on the dark map.
export const RAMP = ["#12325c", "#1f5fbf", "#17c3b2", "#ffd166", "#ff7b39", "#ff3b5c"];

/** The ramp colour of a value between min and max. */
export function colorOf(value: number, min: number, max: number): string {
  const last = RAMP.length - 1;
  if (!(max > min)) return RAMP[last] ?? "#ff3b5c";
  const t = Math.min(1, Math.max(0, (value - min) / (max - min)));
  return RAMP[Math.min(last, Math.floor(t * RAMP.length))] ?? "#ff3b5c";
}

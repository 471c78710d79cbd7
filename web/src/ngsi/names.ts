// Short names for NGSI-LD types and attributes. Without a Link header the broker answers
// with full IRIs for everything outside the core @context; the cockpit shows the last
// path or fragment segment and keeps the full IRI as the value (and in tooltips).

/** "https://opencitybrain.org/ns/TrafficSignal" → "TrafficSignal"; compact names unchanged. */
export function shortName(iri: string): string {
  const trimmed = iri.replace(/[/#:]+$/, "");
  const m = /[^/#:]+$/.exec(trimmed);
  return m ? m[0] : iri;
}

/** Give each type a unique label (the short name, then "~2", "~3" on a clash). */
export function uniqueLabels(
  types: readonly string[],
  taken: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const out = new Map<string, string>(taken);
  const used = new Set(out.values());
  for (const type of types) {
    if (out.has(type)) continue;
    const base = shortName(type);
    let label = base;
    for (let n = 2; used.has(label); n++) label = `${base}~${n}`;
    used.add(label);
    out.set(type, label);
  }
  return out;
}

/** Colours for live layers, one per type in order of appearance: none of them is the
 *  red of signalised junctions or a road-class colour. */
export const LIVE_PALETTE = [
  "#37e6a0",
  "#c77dff",
  "#ff7ab6",
  "#a3e635",
  "#f0f4ff",
  "#2dd4bf",
  "#818cf8",
  "#ffb547",
] as const;

/** The palette colour of the n-th type. */
export function liveColor(index: number): string {
  return LIVE_PALETTE[index % LIVE_PALETTE.length] ?? LIVE_PALETTE[0];
}

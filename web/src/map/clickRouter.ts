// One click on the map goes to one consumer: handlers are asked in priority order and
// the first that returns true takes the click (a live-layer feature opens its popup);
// click-to-locate is the fallback at priority 0.

import type { Map as MapLibreMap, MapMouseEvent } from "maplibre-gl";

/** Return true to take the click (no lower-priority handler sees it). */
export type ClickHandler = (e: MapMouseEvent) => boolean;

interface Entry {
  handler: ClickHandler;
  priority: number;
  seq: number;
}

const routes = new WeakMap<MapLibreMap, Entry[]>();
let seq = 0;

/** Add a click handler to the map; returns a function that removes it. */
export function onMapClick(map: MapLibreMap, handler: ClickHandler, priority = 0): () => void {
  let entries = routes.get(map);
  if (!entries) {
    const list: Entry[] = [];
    entries = list;
    routes.set(map, list);
    map.on("click", (e: MapMouseEvent) => {
      const ordered = [...list].sort((a, b) => b.priority - a.priority || a.seq - b.seq);
      for (const entry of ordered) if (entry.handler(e)) return;
    });
  }
  const entry: Entry = { handler, priority, seq: seq++ };
  entries.push(entry);
  const list = entries;
  return () => {
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
  };
}

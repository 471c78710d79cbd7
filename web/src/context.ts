// What the shell hands to every panel and capability when it renders them.

import type { Map as MapLibreMap } from "maplibre-gl";
import type { City, Lang, Me } from "./types";

export interface CockpitContext {
  /** The city summary from /api/v1/city. */
  city: City;
  /** The signed-in user. */
  me: Me;
  /** The UI language the panel is rendered in (panels are re-rendered on a change). */
  lang: Lang;
  /** The map, once created; null before. */
  map: MapLibreMap | null;
  /** Aborted when the panel is unmounted: stop timers and fetches on it. */
  signal: AbortSignal;
}

// Colours shared by the map, the charts and the legend, so a road class has one colour
// everywhere on the screen.

import type { RoadClass } from "./types";

export const COLORS = {
  background: "#040a16",
  text: "#d6e6ff",
  textDim: "#7f95b8",
  accent: "#3ad7ff",
  grid: "rgba(90, 140, 210, 0.18)",
  district: "#48c9ff",
  street: "#7d8cff",
  community: "#b58bff",
  signal: "#ff4f6d",
  signalHalo: "rgba(255, 79, 109, 0.25)",
  junction: "#8ea6c8",
};

export const ROAD_COLORS: Record<RoadClass, string> = {
  expressway: "#ff8a3d",
  arterial: "#ffd166",
  collector: "#39c5ff",
  local: "#4a6e9e",
};

export const ROAD_CLASS_ORDER: RoadClass[] = ["expressway", "arterial", "collector", "local"];

/** Fill colours cycled over districts so neighbours are told apart. */
export const DISTRICT_PALETTE = [
  "#1f8fff",
  "#17c3b2",
  "#6c63ff",
  "#00a6d6",
  "#2ec4ff",
  "#3d7bff",
  "#12b5a5",
  "#8a6cff",
  "#1aa3ff",
  "#2bd3c6",
];

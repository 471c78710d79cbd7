// How a case looks on the map and in lists: its fill by workflow status, its ring by
// lateness (overdue beats near-due beats on time), with Chinese and English names.

import type { Bilingual } from "../types";
import type { CaseItem, CaseStatus } from "./types";

export const STATUS_COLORS: Record<CaseStatus, string> = {
  reported: "#3ad7ff",
  filed: "#8a7dff",
  dispatched: "#2e8bff",
  in_progress: "#17c3b2",
  handled: "#7ee081",
  verified: "#4cc38a",
  closed: "#6b7d99",
  evaluated: "#6b7d99",
  suspended: "#b58bff",
  rejected: "#4a5568",
};

export const STATUS_NAMES: Record<CaseStatus, Bilingual> = {
  reported: { zh: "信息采集", en: "Reported" },
  filed: { zh: "立案", en: "Filed" },
  dispatched: { zh: "派遣", en: "Dispatched" },
  in_progress: { zh: "处置中", en: "In progress" },
  handled: { zh: "处置反馈", en: "Handled" },
  verified: { zh: "核查", en: "Verified" },
  closed: { zh: "结案", en: "Closed" },
  evaluated: { zh: "已评价", en: "Evaluated" },
  suspended: { zh: "挂起", en: "Suspended" },
  rejected: { zh: "不予立案", en: "Rejected" },
};

export type Lateness = "overdue" | "warning" | "on_time" | "done";

export const LATENESS_COLORS: Record<Lateness, string> = {
  overdue: "#ff3b5c",
  warning: "#ffa62b",
  on_time: "#04101f",
  done: "#04101f",
};

export const LATENESS_NAMES: Record<Lateness, Bilingual> = {
  overdue: { zh: "超期", en: "Overdue" },
  warning: { zh: "临期", en: "Due soon" },
  on_time: { zh: "按期", en: "On time" },
  done: { zh: "已办结", en: "Finished" },
};

const FINISHED = new Set<CaseStatus>(["handled", "verified", "closed", "evaluated", "rejected"]);

/** Tell how late a case is at `nowMs`: finished cases are never late. */
export function lateness(c: Pick<CaseItem, "status" | "overdue" | "warn_at" | "due_at">, nowMs: number): Lateness {
  if (FINISHED.has(c.status)) return "done";
  if (c.overdue) return "overdue";
  if (c.due_at !== null && Date.parse(c.due_at) <= nowMs) return "overdue";
  if (c.warn_at !== null && Date.parse(c.warn_at) <= nowMs) return "warning";
  return "on_time";
}

/** Return the fill (status) and ring (lateness) colours of a case. */
export function caseColors(
  c: Pick<CaseItem, "status" | "overdue" | "warn_at" | "due_at">,
  nowMs: number,
): { fill: string; ring: string; lateness: Lateness } {
  const late = lateness(c, nowMs);
  return { fill: STATUS_COLORS[c.status] ?? "#8ea6c8", ring: LATENESS_COLORS[late], lateness: late };
}

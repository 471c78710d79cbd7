// Pure helpers of the sharing panel: whose inbox a request is in, how long is left.

import type { SharingRequest } from "./client";

/** Tell whether a request waits for this user's decision. */
export function decidable(r: SharingRequest, department: string | null, bureau: boolean): boolean {
  if (r.status !== "pending" && r.status !== "escalated") return false;
  if (bureau) return true;
  return r.decider === "provider" && department === r.provider_department;
}

/** Return the time left until a due instant as days and hours ("-" when overdue). */
export function countdown(dueAt: string | null, now: number): { text: string; overdue: boolean } {
  if (!dueAt) return { text: "", overdue: false };
  const ms = Date.parse(dueAt) - now;
  const overdue = ms < 0;
  const hours = Math.floor(Math.abs(ms) / 3_600_000);
  const days = Math.floor(hours / 24);
  const text = `${overdue ? "-" : ""}${days}d ${hours % 24}h`;
  return { text, overdue };
}

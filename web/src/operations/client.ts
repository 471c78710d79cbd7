// Reads of the operations API at /api/v1/operations (cases, a case's timeline, KPIs).

import { getJson, type Answer } from "./http";
import type { CaseDetail, CaseList, CaseStatus, DeptKpi } from "./types";

export const OPS_BASE = "/api/v1/operations";

/** Build the query of GET /cases. */
export function casesQuery(opts: { status?: CaseStatus[]; overdue?: boolean; limit?: number }): string {
  const q = new URLSearchParams();
  for (const s of opts.status ?? []) q.append("status", s);
  if (opts.overdue) q.set("overdue", "true");
  q.set("limit", String(opts.limit ?? 500));
  return q.toString();
}

/** List cases, newest first. */
export function fetchCases(
  opts: { status?: CaseStatus[]; overdue?: boolean; limit?: number },
  signal?: AbortSignal,
): Promise<Answer<CaseList>> {
  return getJson<CaseList>(`${OPS_BASE}/cases?${casesQuery(opts)}`, signal);
}

/** Read one case with its timeline. */
export function fetchCase(id: string, signal?: AbortSignal): Promise<Answer<CaseDetail>> {
  return getJson<CaseDetail>(`${OPS_BASE}/cases/${encodeURIComponent(id)}`, signal);
}

/** Read the supervision figures per department (needs cases:supervise). */
export function fetchDeptKpis(signal?: AbortSignal): Promise<Answer<DeptKpi[]>> {
  return getJson<DeptKpi[]>(`${OPS_BASE}/kpis?by=department`, signal);
}

// HTTP calls of the sharing panel (requests, decisions, grants, the audit chain).

import { ApiError, fetchAuthorized, readProblem } from "../api";

export interface StatusChange {
  status: string;
  at: string;
  actor: string;
  note: string;
}

export interface SharingRequest {
  id: string;
  resource_id: string;
  fields: string[];
  purpose: string;
  scenario: string;
  requester_department: string;
  provider_department: string;
  decider: "auto" | "provider" | "bureau";
  status: "pending" | "escalated" | "granted" | "refused";
  created_at: string;
  due_at: string | null;
  reason: string;
  grant_id: string | null;
  history: StatusChange[];
}

export interface SharingGrant {
  id: string;
  resource_id: string;
  department_id: string;
  provider_department: string;
  fields: string[];
  cleared: string[];
  purpose: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface Verdict {
  ok: boolean;
  records: number;
  checkpoints: number;
  head_seq: number;
  head_hash: string;
  first_bad_seq: number | null;
  reason: string;
  reason_zh: string;
}

async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  if (init.body) headers.set("Content-Type", "application/json");
  const res = await fetchAuthorized(path, { ...init, headers });
  if (!res.ok) throw new ApiError(res.status, await readProblem(res));
  return (await res.json()) as T;
}

const BASE = "/api/v1/sharing";

export const fetchRequests = (): Promise<SharingRequest[]> => json(`${BASE}/requests?limit=100`);
export const fetchGrants = (): Promise<SharingGrant[]> => json(`${BASE}/grants?limit=100`);
export const verifyAudit = (): Promise<Verdict> => json(`${BASE}/audit/verify`);

export interface AuditRecord {
  seq: number;
  at: string;
  kind: string;
  actor: string;
  department: string;
  purpose: string;
  resource_id: string;
  fields: string;
  row_count: number;
}

export const fetchAudit = (limit = 20): Promise<AuditRecord[]> =>
  json(`${BASE}/audit?limit=${limit}`);

/** Approve a request (the provider or the bureau). */
export function approve(id: string, reason: string): Promise<SharingRequest> {
  return json(`${BASE}/requests/${encodeURIComponent(id)}/approve`, {
    method: "POST",
    body: JSON.stringify({ reason }),
  });
}

/** Refuse a request with reasons. */
export function refuse(id: string, reason: string): Promise<SharingRequest> {
  return json(`${BASE}/requests/${encodeURIComponent(id)}/refuse`, {
    method: "POST",
    body: JSON.stringify({ reason }),
  });
}

/** Revoke a grant with reasons. */
export function revoke(id: string, reason: string): Promise<SharingGrant> {
  return json(`${BASE}/grants/${encodeURIComponent(id)}/revoke`, {
    method: "POST",
    body: JSON.stringify({ reason }),
  });
}
